package io.shmflux.testing;

import io.shmflux.ChangeEvent;
import io.shmflux.ChangeOptions;
import io.shmflux.FileMapping;
import io.shmflux.SharedMemory;
import reactor.core.publisher.BaseSubscriber;
import reactor.core.scheduler.Schedulers;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

/**
 * A child process for change-feed tests, on an object the test created. One role per process, given
 * by the arguments; it prints
 * {@code ready}, waits for {@code go} on stdin where the role needs a start signal, and prints one
 * result line.
 *
 * <pre>
 * subscribe NAME COUNT [SLOW_MICROS]  follow changes until sequence COUNT; check order and missed counts
 * publish NAME COUNT                  publish COUNT changes of 8 bytes
 * write-records NAME MILLIS           publish checksummed 64-byte records for MILLIS
 * read-records NAME READS             read the record READS times, count torn copies
 * hang-in-publish NAME                start a change, write half of it, then sleep (to be killed)
 * subscribe-bp NAME COUNT EVERY MICROS a BACK_PRESSURE subscriber that pauses MICROS after every EVERY
 *                                     changes; prints "at N" at each pause and a done line at COUNT
 * publish-timed NAME COUNT            publish COUNT changes unpaced; count publishes that took over 1 ms
 * until-complete NAME                 follow changes from the oldest until the stream completes
 * race NAME                           commands on stdin: "race N C" runs N subscribe rounds (more, up to
 *                                     10 N, until C rounds caught a change in the window) against a
 *                                     publisher in another process, checking each round's first event;
 *                                     "exit" ends
 * </pre>
 */
public final class FeedChild {

    /** A record is 8 longs: a counter, then counter * (i + 1) for i in 1..7: torn copies break that. */
    public static final int RECORD = 64;

    public static void main(String[] args) throws Exception {
        String role = args[0];
        String name = args[1];
        try (FileMapping mapping = SharedMemory.open(name, io.shmflux.Access.READ_WRITE)) {
            switch (role) {
                case "subscribe" -> subscribe(mapping, Long.parseLong(args[2]), args.length > 3 ? Long.parseLong(args[3]) : 0);
                case "publish" -> publish(mapping, Long.parseLong(args[2]));
                case "write-records" -> writeRecords(mapping, Long.parseLong(args[2]));
                case "read-records" -> readRecords(mapping, Long.parseLong(args[2]));
                case "hang-in-publish" -> hang(mapping);
                case "subscribe-bp" -> subscribeBackPressure(mapping, Long.parseLong(args[2]), Long.parseLong(args[3]),
                        Long.parseLong(args[4]));
                case "publish-timed" -> publishTimed(mapping, Long.parseLong(args[2]));
                case "until-complete" -> untilComplete(mapping);
                case "race" -> race(mapping);
                default -> throw new IllegalArgumentException("unknown role: " + role);
            }
        }
        System.out.println("bye");
    }

    private static void awaitGo() throws Exception {
        System.out.println("ready");
        String line = new java.io.BufferedReader(new java.io.InputStreamReader(System.in)).readLine();
        if (!"go".equals(line)) {
            throw new IllegalStateException("expected go, got " + line);
        }
    }

    private static void subscribe(FileMapping mapping, long last, long slowMicros) throws Exception {
        follow(mapping, ChangeOptions.DEFAULT.withStart(ChangeOptions.Start.OLDEST), last, slowMicros, 0, 0);
    }

    /**
     * Sleeps the whole time: a bare {@code parkNanos} on a Reactor worker returns early whenever the
     * scheduler unparks the worker to hand it more work, which would cut a planned stall short.
     */
    private static void pause(long nanos) {
        long deadline = System.nanoTime() + nanos;
        for (long left = nanos; left > 0; left = deadline - System.nanoTime()) {
            LockSupport.parkNanos(left);
        }
    }

    private static void subscribeBackPressure(FileMapping mapping, long last, long every, long pauseMicros)
            throws Exception {
        follow(mapping, ChangeOptions.DEFAULT.withStart(ChangeOptions.Start.OLDEST)
                .withOverflow(ChangeOptions.Overflow.BACK_PRESSURE), last, 0, every, pauseMicros);
    }

    /**
     * Follows changes until sequence {@code last}, checking order and missed counts. With
     * {@code slowMicros} it requests one change at a time and sleeps after each; with {@code every} it
     * requests all and sleeps {@code pauseMicros} after every {@code every} changes, printing "at N".
     */
    private static void follow(FileMapping mapping, ChangeOptions options, long last, long slowMicros, long every,
                               long pauseMicros) throws Exception {
        CountDownLatch done = new CountDownLatch(1);
        long[] counts = new long[4]; // received, missed, order errors, torn
        BaseSubscriber<ChangeEvent> subscriber = new BaseSubscriber<>() {
            long expected = 1;

            @Override
            protected void hookOnSubscribe(org.reactivestreams.Subscription s) {
                System.out.println("ready");
                s.request(slowMicros > 0 ? 1 : Long.MAX_VALUE);
            }

            @Override
            protected void hookOnNext(ChangeEvent e) {
                counts[0]++;
                counts[1] += e.missed();
                counts[3] += e.torn() ? 1 : 0;
                if (e.sequence() != expected + e.missed()) {
                    counts[2]++;
                }
                expected = e.sequence() + 1;
                if (slowMicros > 0) {
                    pause(slowMicros * 1000);
                    request(1);
                }
                if (e.sequence() >= last) {
                    done.countDown();
                    dispose();
                } else if (every > 0 && counts[0] % every == 0) {
                    System.out.println("at " + counts[0]);
                    pause(pauseMicros * 1000);
                }
            }
        };
        mapping.changes(options)
                .publishOn(Schedulers.single(), 256)
                .subscribe(subscriber);
        if (!done.await(120, TimeUnit.SECONDS)) {
            System.out.println("timeout received=" + counts[0]);
            return;
        }
        System.out.println("done received=" + counts[0] + " missed=" + counts[1] + " orderErrors=" + counts[2]
                + " torn=" + counts[3]);
    }

    private static void publishTimed(FileMapping mapping, long count) throws Exception {
        awaitGo();
        long stalls = 0;
        long longest = 0;
        long start = System.nanoTime();
        for (long i = 1; i <= count; i++) {
            long value = i;
            long before = System.nanoTime();
            mapping.publish((i % 64) * 8, 8, r -> r.set(ValueLayout.JAVA_LONG, 0, value));
            long took = System.nanoTime() - before;
            if (took > 1_000_000) {
                stalls++;
            }
            longest = Math.max(longest, took);
        }
        long millis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
        System.out.println("published " + count + " stalls=" + stalls + " longestMillis="
                + TimeUnit.NANOSECONDS.toMillis(longest) + " millis=" + millis);
    }

    private static void untilComplete(FileMapping mapping) throws Exception {
        long[] counts = new long[3]; // received, missed, order errors
        long[] expected = {1};
        CountDownLatch subscribed = new CountDownLatch(1);
        reactor.core.publisher.Mono<Void> completion = mapping.changes(ChangeOptions.DEFAULT.withStart(ChangeOptions.Start.OLDEST))
                .doOnSubscribe(s -> subscribed.countDown())
                .doOnNext(e -> {
                    counts[0]++;
                    counts[1] += e.missed();
                    if (e.sequence() != expected[0] + e.missed()) {
                        counts[2]++;
                    }
                    expected[0] = e.sequence() + 1;
                })
                .then();
        CountDownLatch done = new CountDownLatch(1);
        completion.subscribe(null, e -> System.out.println("error " + e), done::countDown);
        subscribed.await();
        System.out.println("ready");
        if (!done.await(60, TimeUnit.SECONDS)) {
            System.out.println("timeout received=" + counts[0]);
            return;
        }
        System.out.println("completed received=" + counts[0] + " missed=" + counts[1] + " orderErrors=" + counts[2]);
    }

    /**
     * Each round subscribes (with a first {@code doOnSubscribe} that takes 20 µs, as a subscriber's
     * set-up may), notes in a second {@code doOnSubscribe} the latest sequence S, and takes the first
     * event: it must be change S + 1 or earlier (counting what it says it missed), or a change was lost
     * in the window between the callback and the feed's start. The other process publishes all along.
     */
    private static void race(FileMapping mapping) throws Exception {
        System.out.println("ready");
        java.io.BufferedReader in = new java.io.BufferedReader(new java.io.InputStreamReader(System.in));
        for (String line = in.readLine(); line != null && !line.equals("exit"); line = in.readLine()) {
            String[] words = line.split(" ");
            int minRounds = Integer.parseInt(words[1]);
            int minCaught = Integer.parseInt(words[2]);
            long violations = 0;
            long caught = 0;
            int rounds = 0;
            // at least minRounds; more (up to ten times) until minCaught rounds had a change in the window,
            // since on a loaded machine the two processes do not always run at the same time
            for (; rounds < minRounds || (caught < minCaught && rounds < 10 * minRounds); rounds++) {
                long[] seen = new long[1];
                ChangeEvent first = mapping.changes()
                        .doOnSubscribe(s -> spin(20_000)) // a subscriber's set-up: widens the window under test
                        .doOnSubscribe(s -> seen[0] = mapping.sequence())
                        .next()
                        .block(java.time.Duration.ofSeconds(10));
                if (first == null || first.sequence() - first.missed() > seen[0] + 1) {
                    violations++;
                }
                if (first != null && first.sequence() <= seen[0]) {
                    caught++; // published between the feed's start and the callback: the window that lost it
                }
            }
            System.out.println("raced rounds=" + rounds + " violations=" + violations + " caught=" + caught);
        }
    }

    /** Busy for {@code nanos} (bounded: microseconds, once per round). */
    private static void spin(long nanos) {
        long end = System.nanoTime() + nanos;
        while (System.nanoTime() - end < 0) {
            Thread.onSpinWait();
        }
    }

    private static void publish(FileMapping mapping, long count) throws Exception {
        awaitGo();
        for (long i = 1; i <= count; i++) {
            long value = i;
            mapping.publish((i % 64) * 8, 8, r -> r.set(ValueLayout.JAVA_LONG, 0, value));
        }
        System.out.println("published " + count);
    }

    private static void writeRecords(FileMapping mapping, long millis) throws Exception {
        awaitGo();
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(millis);
        long counter = 0;
        while (System.nanoTime() - deadline < 0) {
            long c = ++counter;
            mapping.publish(0, RECORD, r -> fill(r, c));
        }
        System.out.println("wrote " + counter);
    }

    static void fill(MemorySegment r, long c) {
        r.set(ValueLayout.JAVA_LONG, 0, c);
        for (int i = 1; i < 8; i++) {
            r.set(ValueLayout.JAVA_LONG, i * 8L, c * (i + 1));
        }
    }

    /** {@return true if the record is whole} */
    public static boolean whole(MemorySegment r) {
        long c = r.get(ValueLayout.JAVA_LONG_UNALIGNED, 0);
        for (int i = 1; i < 8; i++) {
            if (r.get(ValueLayout.JAVA_LONG_UNALIGNED, i * 8L) != c * (i + 1)) {
                return false;
            }
        }
        return true;
    }

    private static void readRecords(FileMapping mapping, long reads) throws Exception {
        awaitGo();
        long torn = 0;
        long distinct = 0;
        long previous = -1;
        for (long i = 0; i < reads; i++) {
            byte[] copy = mapping.read(0, RECORD);
            MemorySegment r = MemorySegment.ofArray(copy);
            if (!whole(r)) {
                torn++;
            }
            long c = r.get(ValueLayout.JAVA_LONG_UNALIGNED, 0);
            if (c != previous) {
                distinct++;
                previous = c;
            }
        }
        System.out.println("reads=" + reads + " torn=" + torn + " distinct=" + distinct);
    }

    private static void hang(FileMapping mapping) {
        mapping.publish(0, RECORD, r -> {
            r.set(ValueLayout.JAVA_LONG, 0, 999);
            System.out.println("mid-update");
            while (true) {
                LockSupport.parkNanos(TimeUnit.SECONDS.toNanos(1));
            }
        });
    }
}
