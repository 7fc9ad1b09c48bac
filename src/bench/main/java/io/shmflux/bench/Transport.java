package io.shmflux.bench;

import io.aeron.Aeron;
import io.aeron.Publication;
import io.aeron.Subscription;
import net.openhft.chronicle.bytes.Bytes;
import net.openhft.chronicle.queue.ChronicleQueue;
import net.openhft.chronicle.queue.ExcerptAppender;
import net.openhft.chronicle.queue.ExcerptTailer;
import net.openhft.chronicle.wire.DocumentContext;
import org.agrona.concurrent.BackoffIdleStrategy;
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
 * directory, or {@code AERON_DIR:STREAM}.
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
    CHRONICLE;

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
            case AERON_SPIN, AERON_BACKOFF -> {
                String[] parts = where.split(":");
                Aeron aeron = Wire.aeron(parts[0]);
                Publication publication = aeron.addPublication(Wire.AERON_CHANNEL, Integer.parseInt(parts[1]));
                UnsafeBuffer message = new UnsafeBuffer(ByteBuffer.allocateDirect(Wire.MESSAGE_LENGTH));
                awaitConnected(publication, aeron);
                yield new Sender() {
                    @Override
                    public void send(long sequence, long timestamp) {
                        message.putLong(0, sequence);
                        message.putLong(8, timestamp);
                        offer(publication, message);
                    }

                    @Override
                    public void close() {
                        aeron.close();
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
            case AERON_SPIN, AERON_BACKOFF -> {
                String[] parts = where.split(":");
                Aeron aeron = Wire.aeron(parts[0]);
                Subscription subscription = aeron.addSubscription(Wire.AERON_CHANNEL, Integer.parseInt(parts[1]));
                IdleStrategy backoff = this == AERON_BACKOFF ? new BackoffIdleStrategy() : null;
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
                        aeron.close();
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

    private static void awaitConnected(Publication publication, Aeron aeron) {
        long deadline = System.nanoTime() + CONNECT_NANOS;
        while (!publication.isConnected()) {
            if (System.nanoTime() > deadline) {
                aeron.close();
                throw new IllegalStateException("Aeron publication not connected: channel=" + publication.channel()
                        + ", stream=" + publication.streamId());
            }
            LockSupport.parkNanos(1_000_000);
        }
    }

    /** Offers until the publication takes the message: Aeron IPC back-pressures rather than drops. */
    static void offer(Publication publication, UnsafeBuffer message) {
        long deadline = 0;
        long result;
        while ((result = publication.offer(message, 0, Wire.MESSAGE_LENGTH)) < 0) {
            if (result == Publication.CLOSED || result == Publication.MAX_POSITION_EXCEEDED) {
                throw new IllegalStateException("Aeron offer failed: result=" + result);
            }
            if (deadline == 0) {
                deadline = System.nanoTime() + CONNECT_NANOS;
            } else if (System.nanoTime() > deadline) {
                throw new IllegalStateException("Aeron offer back-pressured for 20 s: result=" + result);
            }
            Thread.onSpinWait();
        }
    }
}
