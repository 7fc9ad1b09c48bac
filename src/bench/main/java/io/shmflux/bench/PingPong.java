package io.shmflux.bench;

import io.shmflux.Access;
import io.shmflux.ChangeOptions;
import io.shmflux.FileMapping;
import io.shmflux.SharedMemory;
import reactor.core.Disposable;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * The half round-trip the way iceoryx2 publishes it: two processes (pinned to cores 0 and 1 by the
 * benchmark), ping sends, pong echoes, both busy-poll; ping reports the mean half round-trip over the
 * measured round-trips. {@code where} is {@code A,B}: ping sends on A and receives on B. Transport
 * {@code SHMFLUX} uses two mappings and {@code changes()} in {@code LOW_LATENCY}; the others are
 * {@link Transport}s.
 */
final class PingPong {

    private static final long MAX_NANOS = TimeUnit.MINUTES.toNanos(5);

    private PingPong() {
    }

    static void run(boolean ping, String transport, String where, long warmup, long roundTrips) throws Exception {
        String[] ends = where.split(",");
        String out = ping ? ends[0] : ends[1];
        String in = ping ? ends[1] : ends[0];
        long total = warmup + roundTrips;
        if (transport.equals("SHMFLUX")) {
            shmflux(ping, out, in, warmup, total, roundTrips);
            return;
        }
        Transport t = Transport.valueOf(transport);
        try (Transport.Receiver receiver = t.receiver(in, false)) {
            System.out.println("ready"); // the receiver first: the other side's sender waits for it (Aeron)
            BenchChild.awaitGo();
            try (Transport.Sender sender = t.sender(out)) {
                long[] message = new long[2];
                long deadline = System.nanoTime() + MAX_NANOS;
                long start = 0;
                if (ping) {
                    for (long i = 1; i <= total; i++) {
                        if (i == warmup + 1) {
                            start = System.nanoTime();
                        }
                        sender.send(i, 0);
                        await(receiver, message, i, deadline);
                    }
                    report(start, roundTrips);
                } else {
                    for (long i = 1; i <= total; i++) {
                        await(receiver, message, i, deadline);
                        sender.send(i, 0);
                    }
                }
            }
        }
        BenchChild.awaitExit();
    }

    /** Spins until message {@code sequence} arrives; bounded by the deadline and by an exit request. */
    private static void await(Transport.Receiver receiver, long[] message, long sequence, long deadline) {
        for (long spins = 0; !receiver.poll(message) || message[0] != sequence; spins++) {
            if ((spins & 0xfffff) == 0 && (System.nanoTime() > deadline || BenchChild.exitRequested())) {
                throw new IllegalStateException("ping-pong stalled: waiting for=" + sequence);
            }
            Thread.onSpinWait();
        }
    }

    private static void report(long start, long roundTrips) {
        long nanos = System.nanoTime() - start;
        System.out.printf(java.util.Locale.ROOT, "result roundTrips=%d nanos=%d halfRoundTripNanos=%.1f%n", roundTrips,
                nanos, nanos / 2.0 / roundTrips);
    }

    private static void shmflux(boolean ping, String out, String in, long warmup, long total, long roundTrips)
            throws InterruptedException {
        CountDownLatch done = new CountDownLatch(1);
        long[] start = new long[1];
        try (FileMapping send = SharedMemory.open(out, Access.READ_WRITE);
             FileMapping receive = SharedMemory.open(in, Access.READ_WRITE)) {
            long[] value = new long[1];
            Consumer<MemorySegment> writer = range -> range.set(ValueLayout.JAVA_LONG, 0, value[0]);
            // onNext runs on the change thread, which spins (LOW_LATENCY) and answers at once
            Disposable subscription = receive.changes(ChangeOptions.DEFAULT.withWaitStrategy(
                    ChangeOptions.WaitStrategy.LOW_LATENCY)).subscribe(event -> {
                long sequence = event.sequence();
                if (ping && sequence == warmup) {
                    start[0] = System.nanoTime();
                }
                if (sequence >= total) {
                    if (ping) {
                        report(start[0], roundTrips);
                    } else {
                        value[0] = sequence;
                        send.publish(0, 8, writer);
                    }
                    done.countDown();
                    return;
                }
                value[0] = sequence;
                send.publish(0, 8, writer);
            });
            System.out.println("ready");
            BenchChild.awaitGo();
            if (ping) {
                value[0] = 0;
                send.publish(0, 8, writer);
            }
            BenchChild.awaitDone(done);
            BenchChild.awaitExit();
            subscription.dispose();
        }
    }
}
