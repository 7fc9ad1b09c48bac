package io.shmflux.bench;

import io.aeron.Aeron;
import io.shmflux.MappingOptions;
import net.openhft.chronicle.queue.ChronicleQueue;
import net.openhft.chronicle.queue.impl.single.SingleChronicleQueueBuilder;
import org.agrona.concurrent.BackoffIdleStrategy;
import org.agrona.concurrent.IdleStrategy;
import org.agrona.concurrent.UnsafeBuffer;
import org.agrona.concurrent.broadcast.BroadcastBufferDescriptor;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.VarHandle;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.concurrent.TimeUnit;

/**
 * What the sender and the receiver processes of the baseline and peer scenarios share: file layouts,
 * the Aeron channel and the Chronicle queue settings. Every message is two longs: the sequence (from
 * 1) and the sender's {@code System.nanoTime()}.
 */
final class Wire {

    /** Raw scenarios: the word ({@code seq << 1 | waiterBit}) at 0, the pong word at 64, timestamps from 128. */
    static final long WORD_OFFSET = 0;
    static final long PONG_OFFSET = 64;
    static final long TIMESTAMP_OFFSET = 128;
    static final int TIMESTAMP_SLOTS = 8;
    /**
     * The raw ring of the burst baseline, as large as the shmflux burst ring: 2^20 slots of two longs
     * (sequence, timestamp), from 4096 on.
     */
    static final long RING_OFFSET = 4096;
    static final int RING_SLOTS = 1 << 20;
    static final long FILE_SIZE = RING_OFFSET + RING_SLOTS * 16L;
    static final VarHandle INT = ValueLayout.JAVA_INT.varHandle();
    static final VarHandle LONG = ValueLayout.JAVA_LONG.varHandle();

    /** Agrona broadcast buffer: 1 MiB of records plus its trailer. */
    static final int BROADCAST_CAPACITY = 1 << 20;
    static final int BROADCAST_FILE_SIZE = BROADCAST_CAPACITY + BroadcastBufferDescriptor.TRAILER_LENGTH;
    static final int MESSAGE_TYPE = 1;
    static final int MESSAGE_LENGTH = 16;

    static final String AERON_CHANNEL = "aeron:ipc";

    /**
     * The replication scenarios and their raw Aeron UDP baseline: every change, and every raw message,
     * is 64 bytes, the sequence and the sender's {@code nanoTime} in its first 16.
     */
    static final int CHANGE_LENGTH = 64;
    /**
     * The replicated mappings hold twice the default ring's count of 64-byte slots, change {@code i}
     * in slot {@code i % REPLICA_SLOTS}: a feed (the replicator's, the replica subscriber's) at most a
     * ring behind reads the bytes of the change it was told about, not a later one's.
     */
    static final int REPLICA_SLOTS = 2 * MappingOptions.DEFAULT_CHANGE_RING_CAPACITY;
    static final long REPLICA_MAPPING_SIZE = (long) REPLICA_SLOTS * CHANGE_LENGTH;
    static final String LOOPBACK = "127.0.0.1";

    private Wire() {
    }

    static long timestampOffset(long sequence) {
        return TIMESTAMP_OFFSET + (sequence % TIMESTAMP_SLOTS) * 8;
    }

    static long ringOffset(long sequence) {
        return RING_OFFSET + (sequence & (RING_SLOTS - 1)) * 16;
    }

    static long replicaSlot(long sequence) {
        return (sequence % REPLICA_SLOTS) * CHANGE_LENGTH;
    }

    /** {@return the UDP unicast channel to {@code endpoint} ({@code host:port})} */
    static String udpChannel(String endpoint) {
        return "aeron:udp?endpoint=" + endpoint;
    }

    /**
     * {@return the idle strategy of shmflux-aeron's threads and of its {@code EmbeddedDriver}: 10
     * spins, 20 yields, then parks from 1 µs doubling up to 1 ms} The raw Aeron UDP baseline idles
     * the same way, so that its ratio compares like with like.
     */
    static IdleStrategy replicaIdle() {
        return new BackoffIdleStrategy(10, 20, 1_000, TimeUnit.MILLISECONDS.toNanos(1));
    }

    /** {@return {@code size} bytes of {@code file} mapped shared, read-write, for the arena's life} */
    static MemorySegment map(Path file, long size, Arena arena) {
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            return channel.map(FileChannel.MapMode.READ_WRITE, 0, size, arena);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot map: file=" + file, e);
        }
    }

    /** {@return an Agrona buffer over the broadcast file} The segment's arena keeps the mapping. */
    static UnsafeBuffer broadcastBuffer(Path file, Arena arena) {
        MemorySegment segment = map(file, BROADCAST_FILE_SIZE, arena);
        return new UnsafeBuffer(segment.address(), BROADCAST_FILE_SIZE);
    }

    static Aeron aeron(String directory) {
        return Aeron.connect(new Aeron.Context().aeronDirectoryName(directory));
    }

    static ChronicleQueue chronicle(Path directory) {
        return SingleChronicleQueueBuilder.single(directory.toFile()).build();
    }
}
