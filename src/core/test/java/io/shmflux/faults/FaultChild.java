package io.shmflux.faults;

import io.shmflux.Access;
import io.shmflux.ChangeEvent;
import io.shmflux.ChangeOptions;
import io.shmflux.FileMapping;
import io.shmflux.MappedView;
import io.shmflux.SharedMemory;
import io.shmflux.sync.EventReset;
import io.shmflux.sync.NamedEvent;
import io.shmflux.sync.NamedMutex;
import io.shmflux.sync.NamedSemaphore;
import io.shmflux.sync.WaitResult;
import reactor.core.Disposable;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;

/**
 * A child process of the fault campaign: one role per process, given by the arguments. Roles that are
 * killed print {@code ready} once they are in their loop; roles that hold print {@code holding} and
 * keep everything open until stdin says {@code exit} (or closes); roles that finish print a result
 * line and {@code bye}.
 *
 * <pre>
 * writer NAME                    publish checksummed records forever, pausing inside the writer lambda
 * create NAME SIZE               on "go": create NAME (committed) of SIZE bytes, print "created", hold
 * mutex MUTEX DATA               forever: lock, write a, pause, write b, unlock (half-updated when killed)
 * wait-event NAME | wait-semaphore NAME   wait on it forever, printing "taken" for each signal or unit
 * churn NAME                     forever: open, map, publish, unmap, close (killed during close)
 * make KIND NAME [PATH]          create the object for "hold KIND" with known contents, print "made",
 *                                hold it until "exit"
 * hold KIND NAME                 hold the object by one means: view, read, subscriber, file (a READ
 *                                handle of a file-backed object), mutex, event, semaphore
 * ack EVENT SEMAPHORE ACK        forever: wait for either (awaitAny), then set ACK
 * full-dir                       in a small name-space directory (-Dshmflux.dir): fill it, print
 *                                "rows ROW=OUTCOME ..."
 * race NAME ROUNDS SLOT          createOrOpen, check, write, close; print "gen INODE created=B" per round
 * lag NAME LAST STALL_MICROS      a slow subscriber (request(1), random stalls up to STALL_MICROS) from
 *                                the oldest change until LAST: "seen FIRST", then "done received=R
 *                                missed=M orderErrors=E"
 * follow NAME STRATEGY LAST      subscribe (BLOCKING or LOW_LATENCY) until sequence LAST, printing
 *                                "seen N" for each change and then "reached N"
 * </pre>
 */
public final class FaultChild {

    private static final Duration LONG_WAIT = Duration.ofSeconds(30);

    public static void main(String[] args) throws Exception {
        switch (args[0]) {
            case "writer" -> writer(args[1]);
            case "create" -> create(args[1], Long.parseLong(args[2]));
            case "mutex" -> mutex(args[1], args[2]);
            case "wait-event" -> waitEvent(args[1]);
            case "wait-semaphore" -> waitSemaphore(args[1]);
            case "churn" -> churn(args[1]);
            case "make" -> make(args[1], args[2], args.length > 3 ? args[3] : null);
            case "hold" -> hold(args[1], args[2]);
            case "ack" -> ack(args[1], args[2], args[3]);
            case "full-dir" -> fullDirectory();
            case "race" -> race(args[1], Integer.parseInt(args[2]), Integer.parseInt(args[3]));
            case "lag" -> lag(args[1], Long.parseLong(args[2]), Long.parseLong(args[3]));
            case "follow" -> follow(args[1], ChangeOptions.WaitStrategy.valueOf(args[2]), Long.parseLong(args[3]));
            default -> throw new IllegalArgumentException("unknown role: " + args[0]);
        }
        System.out.println("bye");
    }

    private static void writer(String name) {
        try (FileMapping mapping = SharedMemory.open(name, Access.READ_WRITE)) {
            long counter = mapping.sequence() * 1_000;
            System.out.println("ready");
            ThreadLocalRandom random = ThreadLocalRandom.current();
            while (true) {
                long c = ++counter;
                long pause = random.nextInt(4) == 0 ? random.nextLong(1, 200_000) : 0;
                mapping.publish(0, Records.SIZE, r -> Records.fill(r, c, () -> {
                    if (pause > 0) {
                        LockSupport.parkNanos(pause);
                    }
                }));
            }
        }
    }

    private static void create(String name, long size) throws Exception {
        BufferedReader in = stdin();
        try (FileMapping warmUp = SharedMemory.create(name + "-warm", 4096)) {
            warmUp.publish(0, new byte[]{1}); // the first calls of a JVM link their downcalls: not what is measured
        }
        System.out.println("ready");
        if (!"go".equals(in.readLine())) {
            return;
        }
        try (FileMapping mapping = SharedMemory.create(name, size)) {
            System.out.println("created size=" + mapping.byteSize());
            in.readLine();
        }
    }

    private static void mutex(String mutexName, String dataName) {
        try (NamedMutex mutex = NamedMutex.open(mutexName);
             FileMapping data = SharedMemory.open(dataName, Access.READ_WRITE);
             MappedView view = data.map(Access.READ_WRITE)) {
            ThreadLocalRandom random = ThreadLocalRandom.current();
            System.out.println("ready");
            for (long i = 1; ; i++) {
                if (mutex.lock(LONG_WAIT) == WaitResult.TIMEOUT) {
                    throw new IllegalStateException("mutex lock timed out");
                }
                view.segment().set(ValueLayout.JAVA_LONG, 0, i);
                LockSupport.parkNanos(random.nextLong(1, 500_000));
                view.segment().set(ValueLayout.JAVA_LONG, 8, i);
                mutex.unlock();
                LockSupport.parkNanos(random.nextLong(1, 200_000));
            }
        }
    }

    private static void waitEvent(String name) throws Exception {
        try (NamedEvent event = NamedEvent.open(name)) {
            takeForever(event::await);
        }
    }

    private static void waitSemaphore(String name) throws Exception {
        try (NamedSemaphore semaphore = NamedSemaphore.open(name)) {
            takeForever(semaphore::acquire);
        }
    }

    /** Waits forever, printing "taken" for every signal or unit the wait takes. */
    private static void takeForever(java.util.function.Function<Duration, WaitResult> await) {
        System.out.println("ready");
        while (true) {
            if (await.apply(LONG_WAIT) == WaitResult.SIGNALED) {
                System.out.println("taken");
            }
        }
    }

    private static void churn(String name) {
        System.out.println("ready");
        for (long i = 1; ; i++) {
            try (FileMapping mapping = SharedMemory.open(name, Access.READ_WRITE);
                 MappedView view = mapping.map(Access.READ_WRITE, 0, 4096)) {
                view.segment().set(ValueLayout.JAVA_LONG, 128, i);
                mapping.publish(64, new byte[]{(byte) i});
            }
        }
    }

    /** The value a made mapping holds at offset 0. */
    static final long MADE = 0x5eedL;

    private static void make(String kind, String name, String path) throws Exception {
        AutoCloseable made = switch (kind) {
            case "view", "read", "subscriber" -> {
                FileMapping mapping = SharedMemory.create(name, 4096);
                mapping.publish(0, 8, r -> r.set(ValueLayout.JAVA_LONG, 0, MADE));
                yield mapping;
            }
            case "file" -> {
                FileMapping mapping = SharedMemory.createFromFile(Path.of(path), name, 0);
                mapping.publish(0, 8, r -> r.set(ValueLayout.JAVA_LONG, 0, MADE));
                yield mapping;
            }
            case "mutex" -> NamedMutex.create(name);
            case "event" -> NamedEvent.create(name, EventReset.MANUAL, io.shmflux.sync.EventState.SIGNALED);
            case "semaphore" -> NamedSemaphore.create(name, 2, 5);
            default -> throw new IllegalArgumentException("unknown kind: " + kind);
        };
        System.out.println("made");
        holdUntilExit(made);
    }

    private static void hold(String kind, String name) throws Exception {
        AutoCloseable held = switch (kind) {
            case "view" -> {
                FileMapping mapping = SharedMemory.open(name, Access.READ);
                MappedView view = mapping.map(Access.READ);
                mapping.close(); // only the view keeps the object
                yield view;
            }
            case "read", "file" -> SharedMemory.open(name, Access.READ);
            case "subscriber" -> {
                FileMapping mapping = SharedMemory.open(name, Access.READ_WRITE);
                CountDownLatch subscribed = new CountDownLatch(1);
                Disposable feed = mapping.changes().doOnSubscribe(s -> subscribed.countDown()).subscribe();
                subscribed.await(30, TimeUnit.SECONDS);
                yield () -> {
                    feed.dispose();
                    mapping.close();
                };
            }
            case "mutex" -> NamedMutex.open(name);
            case "event" -> NamedEvent.open(name);
            case "semaphore" -> NamedSemaphore.open(name);
            default -> throw new IllegalArgumentException("unknown kind: " + kind);
        };
        System.out.println("holding");
        holdUntilExit(held);
    }

    private static void holdUntilExit(AutoCloseable held) throws Exception {
        BufferedReader in = stdin();
        String line;
        while ((line = in.readLine()) != null && !line.equals("exit")) {
            // hold on
        }
        held.close();
    }

    private static void ack(String eventName, String semaphoreName, String ackName) {
        try (NamedEvent event = NamedEvent.open(eventName);
             NamedSemaphore semaphore = NamedSemaphore.open(semaphoreName);
             NamedEvent ack = NamedEvent.open(ackName)) {
            System.out.println("ready");
            while (true) {
                if (!io.shmflux.sync.Waitable.awaitAny(LONG_WAIT, event, semaphore).timedOut()) {
                    ack.set();
                }
            }
        }
    }

    private static void race(String name, int rounds, int slot) throws Exception {
        BufferedReader in = stdin();
        System.out.println("ready");
        if (!"go".equals(in.readLine())) {
            return;
        }
        long offset = slot * 8L;
        int unzeroed = 0;
        int moved = 0;
        StringBuilder out = new StringBuilder();
        for (int round = 0; round < rounds; round++) {
            try (FileMapping mapping = SharedMemory.createOrOpen(name, 4096);
                 MappedView view = mapping.map(Access.READ_WRITE)) {
                long inode = inode(mapping.dataPath());
                // every value written is tagged with its generation's inode: a value of another
                // generation means the object did not start zeroed (or two generations share memory)
                for (long i = 0; i < 4096; i += 8) {
                    long value = view.segment().get(ValueLayout.JAVA_LONG, i);
                    if (value != 0 && value >>> 24 != inode) {
                        unzeroed++;
                        break;
                    }
                }
                long mine = inode << 24 | (round + 1);
                view.segment().set(ValueLayout.JAVA_LONG, offset, mine);
                if (ThreadLocalRandom.current().nextBoolean()) {
                    Thread.onSpinWait();
                }
                if (view.segment().get(ValueLayout.JAVA_LONG, offset) != mine
                        || inode(mapping.dataPath()) != inode) {
                    moved++; // our object was destroyed or replaced while we held it
                }
                out.append("gen ").append(inode).append(' ').append(mapping.created() ? 1 : 0).append('\n');
                if (out.length() > 4096) {
                    System.out.print(out);
                    out.setLength(0);
                }
            }
        }
        System.out.print(out);
        System.out.println("done rounds=" + rounds + " unzeroed=" + unzeroed + " moved=" + moved);
    }

    private static long inode(Path path) {
        try {
            return ((Number) Files.getAttribute(path, "unix:ino")).longValue();
        } catch (java.io.IOException e) {
            return -1; // gone: counted as moved
        }
    }

    private static void lag(String name, long last, long stallMicros) throws Exception {
        try (FileMapping mapping = SharedMemory.open(name, Access.READ_WRITE)) {
            long[] counts = new long[3]; // received, missed, order errors
            CountDownLatch done = new CountDownLatch(1);
            mapping.changes(ChangeOptions.DEFAULT.withStart(ChangeOptions.Start.OLDEST))
                    .subscribe(new reactor.core.publisher.BaseSubscriber<ChangeEvent>() {
                        long expected = -1;

                        @Override
                        protected void hookOnSubscribe(org.reactivestreams.Subscription s) {
                            s.request(1);
                        }

                        @Override
                        protected void hookOnNext(ChangeEvent e) {
                            if (expected < 0) {
                                System.out.println("seen " + e.sequence());
                                expected = e.sequence();
                            }
                            counts[0]++;
                            counts[1] += e.missed();
                            if (e.sequence() != expected + e.missed()) {
                                counts[2]++;
                            }
                            expected = e.sequence() + 1;
                            if (ThreadLocalRandom.current().nextInt(8) == 0) {
                                LockSupport.parkNanos(ThreadLocalRandom.current().nextLong(1, stallMicros * 1000 + 2));
                            }
                            if (e.sequence() >= last) {
                                done.countDown();
                                dispose();
                            } else {
                                request(1);
                            }
                        }
                    });
            boolean ok = done.await(120, TimeUnit.SECONDS);
            System.out.println((ok ? "done" : "timeout") + " received=" + counts[0] + " missed=" + counts[1]
                    + " orderErrors=" + counts[2]);
        }
    }

    private static void follow(String name, ChangeOptions.WaitStrategy strategy, long last) throws Exception {
        try (FileMapping mapping = SharedMemory.open(name, Access.READ_WRITE)) {
            AtomicLong seen = new AtomicLong();
            CountDownLatch reached = new CountDownLatch(1);
            CountDownLatch subscribed = new CountDownLatch(1);
            Disposable feed = mapping.changes(ChangeOptions.DEFAULT.withWaitStrategy(strategy))
                    .doOnSubscribe(s -> subscribed.countDown())
                    .subscribe((ChangeEvent e) -> {
                        seen.set(e.sequence());
                        System.out.println("seen " + e.sequence());
                        if (e.sequence() >= last) {
                            reached.countDown();
                        }
                    });
            subscribed.await(30, TimeUnit.SECONDS);
            System.out.println("ready");
            if (mapping.sequence() >= last) {
                reached.countDown(); // already there before we subscribed
            }
            boolean ok = reached.await(60, TimeUnit.SECONDS);
            feed.dispose();
            System.out.println((ok ? "reached " : "stuck ") + seen.get());
        }
    }

    private static void fullDirectory() {
        StringBuilder rows = new StringBuilder("rows");
        rows.append(" create-too-large=").append(outcome(() -> SharedMemory.create("full-a", 64L << 20).close()));
        try (FileMapping reserved = SharedMemory.create("full-b", 64L << 20,
                io.shmflux.MappingOptions.DEFAULT.withPageCommit(io.shmflux.PageCommit.RESERVE))) {
            rows.append(" commit-too-large=").append(outcome(() -> reserved.commit(0, 32L << 20)));
            rows.append(" publish-unbacked=").append(outcome(() -> reserved.publish(0, 16L << 20, r -> r.fill((byte) 1))));
        }
        rows.append(" after=").append(outcome(() -> {
            try (FileMapping small = SharedMemory.create("full-c", 4096)) {
                small.publish(0, new byte[]{1});
            }
        }));
        System.out.println(rows);
    }

    private static String outcome(Runnable call) {
        try {
            call.run();
            return "ok";
        } catch (RuntimeException e) {
            return e.getClass().getSimpleName();
        }
    }

    private static BufferedReader stdin() {
        return new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
    }
}
