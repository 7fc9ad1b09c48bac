package io.shmflux.bench;

import io.aeron.Aeron;
import io.aeron.Publication;
import io.aeron.Subscription;
import io.shmflux.aeron.EmbeddedDriver;
import net.openhft.chronicle.bytes.Bytes;
import net.openhft.chronicle.queue.ChronicleQueue;
import net.openhft.chronicle.queue.ExcerptAppender;
import net.openhft.chronicle.queue.ExcerptTailer;
import net.openhft.chronicle.wire.DocumentContext;
import org.agrona.CloseHelper;
import org.agrona.concurrent.BackoffIdleStrategy;
import org.agrona.concurrent.BusySpinIdleStrategy;
import org.agrona.concurrent.IdleStrategy;
import org.agrona.concurrent.UnsafeBuffer;
import org.agrona.concurrent.broadcast.BroadcastReceiver;
import org.agrona.concurrent.broadcast.BroadcastTransmitter;
import org.agrona.concurrent.broadcast.CopyBroadcastReceiver;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

import static io.shmflux.bench.Wire.LONG;

/**
 * The polled transports of the baseline and peer scenarios, sender and receiver side by side. Each
 * message is (sequence, sender's nanoTime). {@code where} names the shared thing: a file, a queue
 * directory, {@code AERON_DIR:STREAM}, or {@code HOST:PORT:STREAM} for UDP.
 */
enum Transport {
    /** The physical floor: the sender stores the sequence word, the receiver spins on it. */
    RAW_SPIN,
    /** What a naive user writes: the same word, checked after every {@code parkNanos(1 µs)}. */
    PARK_POLL,
    /** The burst baseline: a 2^20-slot ring of (sequence, timestamp) in a shared file, spun on. */
    RAW_RING,
    /** Agrona's broadcast buffer over a mapped file; the receiver spins. */
    AGRONA,
    /** Aeron IPC through the benchmark's embedded media driver; the subscriber busy-spins. */
    AERON_SPIN,
    /** The same with {@link BackoffIdleStrategy}: what Aeron users run when they cannot burn a core. */
    AERON_BACKOFF,
    /** Chronicle Queue: an appender and a spinning tailer on one queue directory in /dev/shm. */
    CHRONICLE,
    /**
     * Aeron UDP unicast, 64-byte messages, each side with an {@code EmbeddedDriver} of its own (as the
     * replication scenarios run), both the receiver's poll and the sender's back-pressure retries idling
     * as shmflux-aeron's threads do ({@link Wire#replicaIdle()}): the replication scenarios' baseline.
     */
    AERON_UDP;

    private static final long CONNECT_NANOS = TimeUnit.SECONDS.toNanos(20);

    /** The sending side. */
    interface Sender extends AutoCloseable {
        void send(long sequence, long timestamp);

        @Override
        default void close() {
        }
    }

    /** The receiving side: {@link #poll} fills {@code message} when one is there. */
    interface Receiver extends AutoCloseable {
        boolean poll(long[] message);

        /** Called when {@link #poll} found nothing. */
        default void idle() {
            Thread.onSpinWait();
        }

        @Override
        void close();
    }

    Sender sender(String where) {
        return switch (this) {
            case RAW_SPIN, PARK_POLL -> {
                Arena arena = Arena.ofShared();
                MemorySegment shared = Wire.map(Path.of(where), Wire.FILE_SIZE, arena);
                yield new Sender() {
                    @Override
                    public void send(long sequence, long timestamp) {
                        LONG.set(shared, Wire.timestampOffset(sequence), timestamp);
                        LONG.setRelease(shared, Wire.WORD_OFFSET, sequence);
                    }

                    @Override
                    public void close() {
                        arena.close();
                    }
                };
            }
            case RAW_RING -> {
                Arena arena = Arena.ofShared();
                MemorySegment shared = Wire.map(Path.of(where), Wire.FILE_SIZE, arena);
                yield new Sender() {
                    @Override
                    public void send(long sequence, long timestamp) {
                        long slot = Wire.ringOffset(sequence);
                        LONG.set(shared, slot + 8, timestamp);
                        LONG.setRelease(shared, slot, sequence);
                    }

                    @Override
                    public void close() {
                        arena.close();
                    }
                };
            }
            case AGRONA -> {
                Arena arena = Arena.ofShared();
                BroadcastTransmitter transmitter = new BroadcastTransmitter(Wire.broadcastBuffer(Path.of(where), arena));
                UnsafeBuffer message = new UnsafeBuffer(ByteBuffer.allocateDirect(Wire.MESSAGE_LENGTH));
                yield new Sender() {
                    @Override
                    public void send(long sequence, long timestamp) {
                        message.putLong(0, sequence);
                        message.putLong(8, timestamp);
                        transmitter.transmit(Wire.MESSAGE_TYPE, message, 0, Wire.MESSAGE_LENGTH);
                    }

                    @Override
                    public void close() {
                        arena.close();
                    }
                };
            }
            case AERON_SPIN, AERON_BACKOFF, AERON_UDP -> {
                AeronEnd end = aeronEnd(where);
                Publication publication = end.aeron().addPublication(end.channel(), end.streamId());
                int length = this == AERON_UDP ? Wire.CHANGE_LENGTH : Wire.MESSAGE_LENGTH;
                UnsafeBuffer message = new UnsafeBuffer(ByteBuffer.allocateDirect(length));
                IdleStrategy backPressure = this == AERON_UDP ? Wire.replicaIdle() : BusySpinIdleStrategy.INSTANCE;
                awaitConnected(publication, end.owner());
                yield new Sender() {
                    @Override
                    public void send(long sequence, long timestamp) {
                        message.putLong(0, sequence);
                        message.putLong(8, timestamp);
                        offer(publication, message, length, backPressure);
                    }

                    @Override
                    public void close() {
                        CloseHelper.quietClose(end.owner());
                    }
                };
            }
            case CHRONICLE -> {
                ChronicleQueue queue = Wire.chronicle(Path.of(where));
                ExcerptAppender appender = queue.createAppender();
                yield new Sender() {
                    @Override
                    public void send(long sequence, long timestamp) {
                        try (DocumentContext document = appender.writingDocument()) {
                            document.wire().bytes().writeLong(sequence).writeLong(timestamp);
                        }
                    }

                    @Override
                    public void close() {
                        appender.close();
                        queue.close();
                    }
                };
            }
        };
    }

    /** The receiving side; {@code burst} picks Agrona's non-copying receiver, which survives being lapped. */
    Receiver receiver(String where, boolean burst) {
        return switch (this) {
            case RAW_SPIN, PARK_POLL -> {
                Arena arena = Arena.ofShared();
                MemorySegment shared = Wire.map(Path.of(where), Wire.FILE_SIZE, arena);
                boolean park = this == PARK_POLL;
                yield new Receiver() {
                    long seen = (long) LONG.getAcquire(shared, Wire.WORD_OFFSET);

                    @Override
                    public boolean poll(long[] message) {
                        long sequence = (long) LONG.getAcquire(shared, Wire.WORD_OFFSET);
                        if (sequence == seen) {
                            return false;
                        }
                        seen = sequence;
                        message[0] = sequence;
                        message[1] = (long) LONG.get(shared, Wire.timestampOffset(sequence));
                        return true;
                    }

                    @Override
                    public void idle() {
                        if (park) {
                            LockSupport.parkNanos(1_000);
                        } else {
                            Thread.onSpinWait();
                        }
                    }

                    @Override
                    public void close() {
                        arena.close();
                    }
                };
            }
            case RAW_RING -> {
                Arena arena = Arena.ofShared();
                MemorySegment shared = Wire.map(Path.of(where), Wire.FILE_SIZE, arena);
                yield new Receiver() {
                    long expected = 1;

                    @Override
                    public boolean poll(long[] message) {
                        long slot = Wire.ringOffset(expected);
                        long sequence = (long) LONG.getAcquire(shared, slot);
                        if (sequence < expected) {
                            return false;
                        }
                        // lapped: this slot holds a later sequence; take it (the gap counts as missed)
                        message[0] = sequence;
                        message[1] = (long) LONG.get(shared, slot + 8);
                        expected = sequence + 1;
                        return true;
                    }

                    @Override
                    public void close() {
                        arena.close();
                    }
                };
            }
            case AGRONA -> {
                Arena arena = Arena.ofShared();
                UnsafeBuffer buffer = Wire.broadcastBuffer(Path.of(where), arena);
                if (burst) {
                    BroadcastReceiver receiver = new BroadcastReceiver(buffer);
                    yield new Receiver() {
                        @Override
                        public boolean poll(long[] message) {
                            if (!receiver.receiveNext()) {
                                return false;
                            }
                            int offset = receiver.offset();
                            message[0] = receiver.buffer().getLong(offset);
                            message[1] = receiver.buffer().getLong(offset + 8);
                            return receiver.validate();
                        }

                        @Override
                        public void close() {
                            arena.close();
                        }
                    };
                }
                CopyBroadcastReceiver receiver = new CopyBroadcastReceiver(new BroadcastReceiver(buffer),
                        new UnsafeBuffer(ByteBuffer.allocateDirect(4096)));
                long[][] target = new long[1][];
                yield new Receiver() {
                    @Override
                    public boolean poll(long[] message) {
                        target[0] = message;
                        return receiver.receive((type, b, offset, length) -> {
                            target[0][0] = b.getLong(offset);
                            target[0][1] = b.getLong(offset + 8);
                        }) > 0;
                    }

                    @Override
                    public void close() {
                        arena.close();
                    }
                };
            }
            case AERON_SPIN, AERON_BACKOFF, AERON_UDP -> {
                AeronEnd end = aeronEnd(where);
                Subscription subscription = end.aeron().addSubscription(end.channel(), end.streamId());
                IdleStrategy backoff = this == AERON_BACKOFF ? new BackoffIdleStrategy()
                        : this == AERON_UDP ? Wire.replicaIdle() : null;
                long[][] target = new long[1][];
                yield new Receiver() {
                    @Override
                    public boolean poll(long[] message) {
                        target[0] = message;
                        boolean got = subscription.poll((b, offset, length, header) -> {
                            target[0][0] = b.getLong(offset);
                            target[0][1] = b.getLong(offset + 8);
                        }, 1) > 0;
                        if (got && backoff != null) {
                            backoff.reset();
                        }
                        return got;
                    }

                    @Override
                    public void idle() {
                        if (backoff != null) {
                            backoff.idle();
                        } else {
                            Thread.onSpinWait();
                        }
                    }

                    @Override
                    public void close() {
                        CloseHelper.quietClose(end.owner());
                    }
                };
            }
            case CHRONICLE -> {
                ChronicleQueue queue = Wire.chronicle(Path.of(where));
                ExcerptTailer tailer = queue.createTailer();
                yield new Receiver() {
                    @Override
                    public boolean poll(long[] message) {
                        try (DocumentContext document = tailer.readingDocument()) {
                            if (!document.isPresent()) {
                                return false;
                            }
                            Bytes<?> bytes = document.wire().bytes();
                            message[0] = bytes.readLong();
                            message[1] = bytes.readLong();
                            return true;
                        }
                    }

                    @Override
                    public void close() {
                        tailer.close();
                        queue.close();
                    }
                };
            }
        };
    }

    /**
     * One side's Aeron client, channel and stream; {@code owner} is what closing that side closes: the
     * client of the benchmark's IPC driver, or (UDP) an embedded driver of this process's own.
     */
    private record AeronEnd(Aeron aeron, String channel, int streamId, AutoCloseable owner) {
    }

    private AeronEnd aeronEnd(String where) {
        String[] parts = where.split(":");
        if (this == AERON_UDP) {
            EmbeddedDriver driver = EmbeddedDriver.launch();
            return new AeronEnd(driver.aeron(), Wire.udpChannel(parts[0] + ":" + parts[1]), Integer.parseInt(parts[2]),
                    driver);
        }
        Aeron aeron = Wire.aeron(parts[0]);
        return new AeronEnd(aeron, Wire.AERON_CHANNEL, Integer.parseInt(parts[1]), aeron);
    }

    private static void awaitConnected(Publication publication, AutoCloseable owner) {
        long deadline = System.nanoTime() + CONNECT_NANOS;
        while (!publication.isConnected()) {
            if (System.nanoTime() > deadline) {
                CloseHelper.quietClose(owner);
                throw new IllegalStateException("Aeron publication not connected: channel=" + publication.channel()
                        + ", stream=" + publication.streamId());
            }
            LockSupport.parkNanos(1_000_000);
        }
    }

    /**
     * Offers until the publication takes the message, idling by {@code backPressure} between tries:
     * Aeron back-pressures rather than drops.
     */
    static void offer(Publication publication, UnsafeBuffer message, int length, IdleStrategy backPressure) {
        long deadline = 0;
        long result;
        backPressure.reset();
        while ((result = publication.offer(message, 0, length)) < 0) {
            if (result == Publication.CLOSED || result == Publication.MAX_POSITION_EXCEEDED) {
                throw new IllegalStateException("Aeron offer failed: result=" + result);
            }
            if (deadline == 0) {
                deadline = System.nanoTime() + CONNECT_NANOS;
            } else if (System.nanoTime() > deadline) {
                throw new IllegalStateException("Aeron offer back-pressured for 20 s: result=" + result);
            }
            backPressure.idle();
        }
    }
}
