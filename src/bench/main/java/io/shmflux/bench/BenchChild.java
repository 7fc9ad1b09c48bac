package io.shmflux.bench;

import io.shmflux.Access;
import io.shmflux.ChangeEvent;
import io.shmflux.ChangeOptions;
import io.shmflux.FileMapping;
import io.shmflux.SharedMemory;
import io.shmflux.aeron.EmbeddedDriver;
import io.shmflux.aeron.MappingReplica;
import io.shmflux.aeron.ReplicaStatus;
import io.shmflux.internal.linux.Futex;
import static io.shmflux.bench.Wire.INT;
import static io.shmflux.bench.Wire.LONG;
import static io.shmflux.bench.Wire.WORD_OFFSET;
import static io.shmflux.bench.Wire.timestampOffset;
import org.HdrHistogram.Histogram;
import reactor.core.Disposable;
import reactor.core.publisher.BaseSubscriber;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.VarHandle;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;

/**
 * The receiving process of each benchmark scenario. It sets up, prints {@code ready}, receives until
 * the last expected message, prints one {@code result ...} line, and stays alive (idle, still
 * subscribed, waiting the way its scenario waits) until {@code exit} arrives on stdin or stdin closes
 * (the benchmark died). Every wait and every spin is bounded by that and by {@link #MAX_WAIT_MINUTES}.
 *
 * <pre>
 * shmflux NAME BLOCKING|LOW_LATENCY WARMUP SAMPLES  latency of changes() onNext: nanoTime - event.timestamp()
 * futex   PATH WARMUP SAMPLES                      latency of a raw futex wake on a word in a /dev/shm file
 * socket  PATH WARMUP SAMPLES                      latency of a 16-byte Unix-domain-socket message
 * poll    TRANSPORT WHERE WARMUP SAMPLES            latency through a polled transport (see {@link Transport})
 * burst   NAME WARMUP EVENTS REPORT|BACK_PRESSURE [MAX_BATCH]  delivered events/s and missed counts of a
 *                                                  publish burst (through changeBatches with MAX_BATCH)
 * drain   TRANSPORT WHERE WARMUP EVENTS            the same through a polled transport
 * replica NAME DATA CONTROL STREAM WARMUP SAMPLES   a MappingReplica over Aeron UDP into mapping NAME (an
 *                                                  embedded driver of its own); latency of a changes() onNext
 *                                                  of NAME: nanoTime - the source's stamp in the change's bytes
 * replicaburst NAME DATA CONTROL STREAM WARMUP EVENTS  the same replica; a burst's delivered events/s and
 *                                                  missed counts at a BACK_PRESSURE subscriber of NAME
 * ping|pong TRANSPORT WHERE WARMUP ROUND_TRIPS      busy-polling ping-pong (ping reports the mean half round-trip)
 * </pre>
 */
public final class BenchChild {

    private static final long MAX_WAIT_MINUTES = 20;
    private static final CountDownLatch exitRequested = new CountDownLatch(1);
    private static final CountDownLatch go = new CountDownLatch(1);

    private BenchChild() {
    }

    public static void main(String[] args) throws Exception {
        Thread.ofPlatform().daemon().name("stdin").start(BenchChild::watchStdin);
        switch (args[0]) {
            case "shmflux" -> shmflux(args[1], ChangeOptions.WaitStrategy.valueOf(args[2]), Long.parseLong(args[3]),
                    Long.parseLong(args[4]));
            case "futex" -> futex(Path.of(args[1]), Long.parseLong(args[2]), Long.parseLong(args[3]));
            case "socket" -> socket(Path.of(args[1]), Long.parseLong(args[2]), Long.parseLong(args[3]));
            case "burst" -> burst(args[1], Long.parseLong(args[2]), Long.parseLong(args[3]),
                    ChangeOptions.Overflow.valueOf(args[4]), args.length > 5 ? Integer.parseInt(args[5]) : 0);
            case "poll" -> {
                try (Transport.Receiver receiver = Transport.valueOf(args[1]).receiver(args[2], false)) {
                    poll(receiver, Long.parseLong(args[3]), Long.parseLong(args[4]));
                }
            }
            case "drain" -> {
                try (Transport.Receiver receiver = Transport.valueOf(args[1]).receiver(args[2], true)) {
                    drain(receiver, Long.parseLong(args[3]), Long.parseLong(args[4]));
                }
            }
            case "replica" -> replicaLatency(args[1], args[2], args[3], Integer.parseInt(args[4]),
                    Long.parseLong(args[5]), Long.parseLong(args[6]));
            case "replicaburst" -> replicaBurst(args[1], args[2], args[3], Integer.parseInt(args[4]),
                    Long.parseLong(args[5]), Long.parseLong(args[6]));
            case "ping", "pong" -> PingPong.run(args[0].equals("ping"), args[1], args[2], Long.parseLong(args[3]),
                    Long.parseLong(args[4]));
            default -> throw new IllegalArgumentException("unknown role: " + args[0]);
        }
        System.out.println("bye");
        System.exit(0);
    }

    private static void watchStdin() {
        try (BufferedReader in = new BufferedReader(new InputStreamReader(System.in))) {
            String line;
            while ((line = in.readLine()) != null && !line.equals("exit")) {
                if (line.equals("go")) {
                    go.countDown();
                }
            }
        } catch (IOException ignored) {
            // treat as closed
        }
        exitRequested.countDown();
    }

    /** Waits (bounded) until the benchmark says {@code go}: both ends of a ping-pong are set up. */
    static void awaitGo() throws InterruptedException {
        if (!awaitDone(go)) {
            throw new IllegalStateException("no go from the benchmark");
        }
    }

    static boolean exitRequested() {
        return exitRequested.getCount() == 0;
    }

    static void awaitExit() throws InterruptedException {
        exitRequested.await(MAX_WAIT_MINUTES, TimeUnit.MINUTES);
    }

    /** Waits for {@code done}, or gives up when the benchmark asks to exit or is gone. */
    static boolean awaitDone(CountDownLatch done) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(MAX_WAIT_MINUTES);
        while (!done.await(100, TimeUnit.MILLISECONDS)) {
            if (exitRequested.getCount() == 0 || System.nanoTime() > deadline) {
                return false;
            }
        }
        return true;
    }

    private static void shmflux(String name, ChangeOptions.WaitStrategy strategy, long warmup, long samples)
            throws InterruptedException {
        Histogram histogram = Latencies.histogram();
        CountDownLatch done = new CountDownLatch(1);
        long[] counts = new long[3]; // received, missed, torn
        // READ_WRITE: a handle that may write the control file sleeps on the futex; a read-only one polls
        try (FileMapping mapping = SharedMemory.open(name, Access.READ_WRITE)) {
            BaseSubscriber<ChangeEvent> subscriber = new BaseSubscriber<>() {
                @Override
                protected void hookOnNext(ChangeEvent event) {
                    long now = System.nanoTime();
                    if (done.getCount() == 0) {
                        return; // the sender goes on until it sees the result; the histogram is being sent
                    }
                    if (event.sequence() > warmup) {
                        Latencies.record(histogram, now - event.timestamp());
                    }
                    counts[0]++;
                    counts[1] += event.missed();
                    counts[2] += event.torn() ? 1 : 0;
                    if (histogram.getTotalCount() >= samples) {
                        done.countDown();
                    }
                }
            };
            mapping.changes(ChangeOptions.DEFAULT.withWaitStrategy(strategy)).subscribe(subscriber);
            System.out.println("ready");
            if (awaitDone(done)) {
                // onNext ran on the change thread; the latch orders its writes before these reads
                System.out.println("result received=" + counts[0] + " missed=" + counts[1] + " torn=" + counts[2]
                        + " hist=" + Latencies.encode(histogram));
            }
            awaitExit(); // idle and still subscribed: the benchmark measures this process's CPU now
            subscriber.dispose();
        }
    }

    private static void futex(Path path, long warmup, long samples) throws Exception {
        Histogram histogram = Latencies.histogram();
        long received = 0;
        long missed = 0;
        long wakeups = 0;
        long futileWakeups = 0;
        try (Arena arena = Arena.ofShared();
             FileChannel channel = FileChannel.open(path, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            MemorySegment shared = channel.map(FileChannel.MapMode.READ_WRITE, 0, Wire.FILE_SIZE, arena);
            MemorySegment word = shared.asSlice(WORD_OFFSET, 4);
            // link the futex downcall now (a wait on a value the word cannot hold returns at once with EAGAIN),
            // not while the first messages arrive
            Futex.await(word, -1, 0);
            System.out.println("ready");
            int seen = 0;
            boolean reported = false;
            // after the result, go on waiting the same way (in 100 ms slices) until told to exit: the
            // benchmark measures this idle waiter's CPU as the baseline of the idle subscriber's
            while (exitRequested.getCount() != 0) {
                if (!reported && histogram.getTotalCount() >= samples) {
                    reported = true;
                    System.out.println("result received=" + received + " missed=" + missed + " wakeups=" + wakeups
                            + " futile=" + futileWakeups + " hist=" + Latencies.encode(histogram));
                }
                int value = (int) INT.getVolatile(shared, WORD_OFFSET);
                int sequence = value >>> 1;
                if (sequence != seen) {
                    long now = System.nanoTime();
                    long timestamp = (long) LONG.getAcquire(shared, timestampOffset(sequence));
                    if (sequence > warmup && !reported) {
                        Latencies.record(histogram, now - timestamp);
                    }
                    received++;
                    missed += sequence - seen - 1;
                    seen = sequence;
                    continue;
                }
                // the waiter-bit handshake: put the waiter bit on the exact value seen, wait on that value
                int sleeping = value | 1;
                if (value != sleeping && !INT.compareAndSet(shared, WORD_OFFSET, value, sleeping)) {
                    continue;
                }
                Futex.WaitResult result = Futex.await(word, sleeping, TimeUnit.MILLISECONDS.toNanos(100));
                wakeups++;
                if (result == Futex.WaitResult.WOKEN && (int) INT.getVolatile(shared, WORD_OFFSET) >>> 1 == seen) {
                    futileWakeups++;
                }
            }
        }
    }

    private static void socket(Path path, long warmup, long samples) throws Exception {
        long last = warmup + samples;
        Histogram histogram = Latencies.histogram();
        long received = 0;
        try (ServerSocketChannel server = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
            server.bind(UnixDomainSocketAddress.of(path));
            System.out.println("ready");
            try (SocketChannel channel = server.accept()) {
                ByteBuffer buffer = ByteBuffer.allocateDirect(16);
                while (received < last) {
                    buffer.clear();
                    while (buffer.hasRemaining()) {
                        if (channel.read(buffer) < 0) {
                            throw new IllegalStateException("socket closed after " + received + " messages");
                        }
                    }
                    long now = System.nanoTime();
                    long sequence = buffer.getLong(0);
                    long timestamp = buffer.getLong(8);
                    if (sequence > warmup) {
                        Latencies.record(histogram, now - timestamp);
                    }
                    received++;
                }
                System.out.println("result received=" + received + " missed=0 hist=" + Latencies.encode(histogram));
                awaitExit(); // with the connection open: the sender may still be writing
            }
        }
    }

    /** Counts a burst's changes as they arrive, however they arrive (one by one or in batches). */
    private static final class BurstCount {
        final long warmup;
        final long last;
        final CountDownLatch warm = new CountDownLatch(1);
        final CountDownLatch done = new CountDownLatch(1);
        final long[] counts = new long[6]; // delivered, missed, torn, first timestamp, last receive time, order errors
        long expected = 1;

        BurstCount(long warmup, long events) {
            this.warmup = warmup;
            this.last = warmup + events;
        }

        void accept(long sequence, long missed, boolean torn, long timestamp) {
            if (sequence != expected + missed) {
                counts[5]++;
            }
            expected = sequence + 1;
            if (sequence >= warmup) {
                warm.countDown();
            }
            if (sequence <= warmup) {
                return;
            }
            if (counts[0] == 0) {
                counts[3] = timestamp;
            }
            counts[0]++;
            counts[1] += missed;
            counts[2] += torn ? 1 : 0;
            if (sequence >= last) {
                counts[4] = System.nanoTime();
                done.countDown();
            }
        }

        /** Says {@code warm} once the warm-up arrived, then the {@code result} line once the burst did. */
        void report() throws InterruptedException {
            if (awaitDone(warm)) {
                System.out.println("warm");
                if (awaitDone(done)) {
                    System.out.println("result delivered=" + counts[0] + " missed=" + counts[1] + " torn=" + counts[2]
                            + " nanos=" + (counts[4] - counts[3]) + " orderErrors=" + counts[5]);
                }
            }
        }
    }

    /** A burst through {@code changes()}, or through {@code changeBatches(options, maxBatch)} when {@code maxBatch > 0}. */
    private static void burst(String name, long warmup, long events, ChangeOptions.Overflow overflow, int maxBatch)
            throws InterruptedException {
        BurstCount count = new BurstCount(warmup, events);
        try (FileMapping mapping = SharedMemory.open(name, Access.READ_WRITE)) {
            ChangeOptions options = ChangeOptions.DEFAULT.withOverflow(overflow);
            Disposable subscription = maxBatch > 0
                    ? mapping.changeBatches(options, maxBatch).subscribe(batch -> {
                        for (int i = 0, n = batch.size(); i < n; i++) {
                            count.accept(batch.sequence(i), batch.missed(i), batch.torn(i), batch.timestamp(i));
                        }
                    })
                    : mapping.changes(options).subscribe(
                            event -> count.accept(event.sequence(), event.missed(), event.torn(), event.timestamp()));
            System.out.println("ready");
            count.report();
            awaitExit();
            subscription.dispose();
        }
    }

    /**
     * Runs a replica of the source on {@code data} (snapshot requests on {@code control}) into the
     * mapping {@code name}, with an embedded media driver of this process's own: {@code subscribe}
     * subscribes to the target first (so its subscriber sees every change the replica applies, the
     * snapshot first), then the replica starts; once it is {@code LIVE} this prints {@code ready} and
     * runs {@code body}. A replica state other than the usual way to LIVE is printed as a
     * {@code status} line (a gap would show up in the log as well as in the counts).
     */
    private static void replica(String name, String data, String control, int stream,
                                Function<FileMapping, Disposable> subscribe, Body body) throws InterruptedException {
        try (FileMapping target = SharedMemory.open(name, Access.READ_WRITE)) {
            Disposable subscription = subscribe.apply(target);
            CountDownLatch live = new CountDownLatch(1);
            try (EmbeddedDriver driver = EmbeddedDriver.launch();
                 MappingReplica replica = MappingReplica.start(target, driver.aeron(), data, stream, control)) {
                replica.status().subscribe(status -> {
                    if (status.state() == ReplicaStatus.State.LIVE) {
                        live.countDown();
                    } else if (status.state() != ReplicaStatus.State.CONNECTING
                            && status.state() != ReplicaStatus.State.CATCHING_UP) {
                        System.out.println("status " + status);
                    }
                }, error -> System.out.println("status-error " + error));
                if (awaitDone(live)) {
                    System.out.println("ready");
                    body.run();
                }
            } finally {
                subscription.dispose();
            }
        }
    }

    /** What a replica scenario does once its replica is live. */
    private interface Body {
        void run() throws InterruptedException;
    }

    /** {@return the sequence and the stamp the source wrote into the first 16 bytes of the change at {@code offset}} */
    private static long[] stamp(FileMapping target, long offset, long[] into) {
        return target.read(offset, 16, range -> {
            into[0] = range.get(ValueLayout.JAVA_LONG, 0);
            into[1] = range.get(ValueLayout.JAVA_LONG, 8);
            return into;
        });
    }

    /**
     * Latency through a replica: the default feed of the target ({@code BLOCKING}, {@code REPORT}); the
     * stamp is the source's, read back from the change's bytes in {@code onNext} (the target's own event
     * timestamp is the replica's publish, not the source's). The snapshot (an event of the whole
     * mapping) is not a sample.
     */
    private static void replicaLatency(String name, String data, String control, int stream, long warmup,
                                       long samples) throws InterruptedException {
        Histogram histogram = Latencies.histogram();
        CountDownLatch done = new CountDownLatch(1);
        long[] counts = new long[3]; // received, missed, torn
        long[] fields = new long[2];
        long[] seen = new long[1];
        replica(name, data, control, stream, target -> target.changes().subscribe(event -> {
            long now = System.nanoTime();
            if (done.getCount() == 0 || event.length() != Wire.CHANGE_LENGTH) {
                return; // after the result (the histogram is being sent), or the snapshot
            }
            long sequence = stamp(target, event.offset(), fields)[0];
            if (sequence > warmup) {
                Latencies.record(histogram, now - fields[1]);
            }
            counts[0]++;
            // lost locally (the target's ring lapped this subscriber) or on the way (a jump in the source's sequence)
            counts[1] += Math.max(event.missed(), sequence - seen[0] - 1);
            counts[2] += event.torn() ? 1 : 0;
            seen[0] = sequence;
            if (histogram.getTotalCount() >= samples) {
                done.countDown();
            }
        }), () -> {
            if (awaitDone(done)) {
                System.out.println("result received=" + counts[0] + " missed=" + counts[1] + " torn=" + counts[2]
                        + " hist=" + Latencies.encode(histogram));
            }
            awaitExit(); // idle, still replicating and subscribed: the benchmark measures this process's CPU now
        });
    }

    /**
     * A burst through a replica, at a {@code BACK_PRESSURE} subscriber of the target: nothing may be
     * lost anywhere between the source's {@code publish} and this {@code onNext}, so {@code missed}
     * (a jump in the source's sequence) must be 0.
     */
    private static void replicaBurst(String name, String data, String control, int stream, long warmup, long events)
            throws InterruptedException {
        BurstCount count = new BurstCount(warmup, events);
        long[] fields = new long[2];
        replica(name, data, control, stream, target -> target.changes(
                ChangeOptions.DEFAULT.withOverflow(ChangeOptions.Overflow.BACK_PRESSURE)).subscribe(event -> {
                    if (event.length() == Wire.CHANGE_LENGTH) { // not the snapshot
                        long sequence = stamp(target, event.offset(), fields)[0];
                        count.accept(sequence, Math.max(0, sequence - count.expected), event.torn(), fields[1]);
                    }
                }), () -> {
                    count.report();
                    awaitExit();
                });
    }

    /** Polls, idling the receiver's way, until a message arrives: false when told to exit or past the deadline. */
    private static boolean next(Transport.Receiver receiver, long[] message, long deadline) {
        for (long spins = 0; !exitRequested(); spins++) {
            if (receiver.poll(message)) {
                return true;
            }
            receiver.idle();
            if ((spins & 0xffff) == 0 && System.nanoTime() > deadline) {
                return false;
            }
        }
        return false;
    }

    /** One-way latency through a polled transport: the receiver's own idle strategy between messages. */
    private static void poll(Transport.Receiver receiver, long warmup, long samples) {
        Histogram histogram = Latencies.histogram();
        long[] message = new long[2];
        long received = 0;
        long missed = 0;
        long seen = 0;
        boolean reported = false;
        long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(MAX_WAIT_MINUTES);
        System.out.println("ready");
        // after the result, go on polling the same way until told to exit: the benchmark measures this idle CPU
        while (next(receiver, message, deadline)) {
            long now = System.nanoTime();
            if (reported) {
                continue;
            }
            if (message[0] > warmup) {
                Latencies.record(histogram, now - message[1]);
            }
            received++;
            missed += Math.max(0, message[0] - seen - 1);
            seen = message[0];
            if (histogram.getTotalCount() >= samples) {
                reported = true;
                System.out.println("result received=" + received + " missed=" + missed + " hist="
                        + Latencies.encode(histogram));
            }
        }
    }

    /** A burst through a polled transport: counts what arrives after the warm-up, up to the last sequence. */
    private static void drain(Transport.Receiver receiver, long warmup, long events) {
        long last = warmup + events;
        long[] message = new long[2];
        long delivered = 0;
        long missed = 0;
        long seen = 0;
        long first = 0;
        boolean warm = false;
        long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(MAX_WAIT_MINUTES);
        System.out.println("ready");
        while (next(receiver, message, deadline)) {
            long sequence = message[0];
            if (!warm && sequence >= warmup) {
                warm = true;
                System.out.println("warm");
            }
            if (sequence > warmup) {
                if (delivered == 0) {
                    first = message[1];
                }
                delivered++;
                missed += Math.max(0, sequence - Math.max(seen, warmup) - 1);
            }
            seen = sequence;
            if (sequence >= last) {
                System.out.println("result delivered=" + delivered + " missed=" + missed + " torn=0 nanos="
                        + (System.nanoTime() - first) + " orderErrors=0");
                break;
            }
        }
        awaitExitQuietly();
    }

    private static void awaitExitQuietly() {
        try {
            awaitExit();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
