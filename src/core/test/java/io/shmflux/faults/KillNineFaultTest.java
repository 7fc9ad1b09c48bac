package io.shmflux.faults;

import io.shmflux.Access;
import io.shmflux.ChangeEvent;
import io.shmflux.FileMapping;
import io.shmflux.MappedView;
import io.shmflux.ObjectNotFoundException;
import io.shmflux.SharedMemory;
import io.shmflux.SharedMemoryException;
import io.shmflux.Snapshot;
import io.shmflux.sync.EventReset;
import io.shmflux.sync.NamedEvent;
import io.shmflux.sync.NamedMutex;
import io.shmflux.sync.NamedSemaphore;
import io.shmflux.sync.WaitResult;
import io.shmflux.testing.ChildJvm;
import io.shmflux.testing.NoLeftovers;
import io.shmflux.testing.TestNames;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import reactor.core.Disposable;

import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * kill -9 at random points: during create, inside a writer lambda, while owning a mutex mid-update,
 * while waiting on an event or a semaphore, and during close. After each kill: no torn value is
 * returned unflagged, nobody waits past a bound, an abandoned mutex is reported, the name can be
 * created afresh, and once every holder is gone nothing is left in {@code /dev/shm}.
 */
@Tag("fault")
@Tag("cross-process")
@ExtendWith(NoLeftovers.class)
class KillNineFaultTest {

    /** How long anyone may wait after a kill for the survivors to see it. */
    private static final Duration BOUND = Duration.ofSeconds(2);

    private static ChildJvm child(String... args) {
        return ChildJvm.start(Campaign.CHILD_OPTIONS, FaultChild.class, args);
    }

    @Test
    void killedDuringCreateLeavesANameThatCanBeCreatedAfreshAndNeverAHalfBuiltObject() throws Exception {
        int rounds = Campaign.rounds(8);
        int opened = 0;
        int failures = 0;
        for (int round = 0; round < rounds; round++) {
            String name = TestNames.unique("kill-create");
            long size = Campaign.between(1, 257) << 20;
            AtomicBoolean stop = new AtomicBoolean();
            AtomicLong halfBuilt = new AtomicLong();
            AtomicLong opens = new AtomicLong();
            Thread opener = Thread.ofPlatform().start(() -> {
                while (!stop.get()) {
                    try (FileMapping mapping = SharedMemory.open(name, Access.READ)) {
                        opens.incrementAndGet();
                        try (MappedView view = mapping.map(Access.READ, mapping.byteSize() - 8, 8)) {
                            view.segment().get(ValueLayout.JAVA_LONG_UNALIGNED, 0); // committed: no fault
                        }
                        if (mapping.byteSize() != size) {
                            halfBuilt.incrementAndGet();
                        }
                    } catch (ObjectNotFoundException expected) {
                        // not there yet, or gone with its creator
                    } catch (SharedMemoryException busy) {
                        // the creator holds it exclusively for longer than the open waits
                    }
                    LockSupport.parkNanos(200_000);
                }
            });
            try (ChildJvm creator = child("create", name, Long.toString(size))) {
                creator.awaitLine("ready"::equals, ChildJvm.DEFAULT_WAIT);
                creator.send("go");
                Thread.sleep(Campaign.between(0, 200));
                creator.kill9();
            } finally {
                stop.set(true);
                opener.join(30_000);
            }
            opened += (int) opens.get();
            failures += (int) halfBuilt.get();
            try (FileMapping fresh = SharedMemory.create(name, 4096)) {
                assertTrue(fresh.created());
                assertEquals(0, fresh.read(0, 8)[0]);
            }
            assertGone(name);
        }
        Campaign.report("kill9.create", "rounds=" + rounds + " kills=" + rounds + " opensDuringCreate=" + opened
                + " failures=" + failures);
        assertEquals(0, failures, "an open saw a half-built object");
    }

    @Test
    void killedInsideAWriterLambdaNeverHandsOutATornValueUnflaggedAndNobodyWaitsPastTheBound() throws Exception {
        int rounds = Campaign.rounds(10);
        String name = TestNames.unique("kill-writer");
        long reads = 0;
        long tornFlagged = 0;
        int failures = 0;
        long slowestAfterKill = 0;
        try (FileMapping mapping = SharedMemory.create(name, 4096)) {
            AtomicLong delivered = new AtomicLong();
            AtomicLong tornEvents = new AtomicLong();
            Disposable feed = mapping.changes().subscribe((ChangeEvent e) -> {
                delivered.set(e.sequence());
                if (e.torn()) {
                    tornEvents.incrementAndGet();
                }
            });
            for (int round = 0; round < rounds; round++) {
                AtomicBoolean stop = new AtomicBoolean();
                long[] verifier = new long[3]; // reads, torn flagged, unflagged torn
                Thread reader = Thread.ofPlatform().start(() -> {
                    int n = 0;
                    while (!stop.get()) {
                        Snapshot s = mapping.snapshot(0, Records.SIZE);
                        verifier[0]++;
                        if (s.torn()) {
                            verifier[1]++;
                        } else if (!Records.whole(s.data())) {
                            verifier[2]++;
                        }
                        if (++n % 64 == 0) {
                            LockSupport.parkNanos(20_000);
                        }
                    }
                });
                try (ChildJvm writer = child("writer", name)) {
                    writer.awaitLine("ready"::equals, ChildJvm.DEFAULT_WAIT);
                    Thread.sleep(Campaign.between(5, 120));
                    writer.kill9();
                }
                long killedAt = System.nanoTime();
                Snapshot after = mapping.snapshot(0, Records.SIZE); // must not wait for the dead writer for good
                long took = System.nanoTime() - killedAt;
                slowestAfterKill = Math.max(slowestAfterKill, took);
                long target = mapping.sequence();
                long deadline = System.nanoTime() + BOUND.toNanos();
                while (delivered.get() < target && System.nanoTime() < deadline) {
                    Thread.sleep(5);
                }
                stop.set(true);
                reader.join(30_000);
                reads += verifier[0];
                tornFlagged += verifier[1];
                if (verifier[2] != 0 || took > BOUND.toNanos() || delivered.get() < target
                        || (!after.torn() && !Records.whole(after.data()))) {
                    failures++;
                }
                mapping.publish(0, Records.SIZE, r -> Records.fill(r, 0, () -> { })); // repair for the next round
            }
            feed.dispose();
            Campaign.report("kill9.writer", "rounds=" + rounds + " kills=" + rounds + " reads=" + reads
                    + " tornFlagged=" + tornFlagged + " tornEvents=" + tornEvents.get() + " slowestReadAfterKillMs="
                    + TimeUnit.NANOSECONDS.toMillis(slowestAfterKill) + " failures=" + failures);
        }
        assertGone(name);
        assertEquals(0, failures);
    }

    @Test
    void killedWhileOwningAMutexMidUpdateIsAlwaysReportedAbandoned() throws Exception {
        int rounds = Campaign.rounds(10);
        String name = TestNames.unique("kill-mutex");
        int abandoned = 0;
        int halfUpdated = 0;
        int failures = 0;
        try (NamedMutex mutex = NamedMutex.create(name + "-m");
             FileMapping data = SharedMemory.create(name, 4096);
             MappedView view = data.map(Access.READ_WRITE)) {
            for (int round = 0; round < rounds; round++) {
                try (ChildJvm owner = child("mutex", name + "-m", name)) {
                    owner.awaitLine("ready"::equals, ChildJvm.DEFAULT_WAIT);
                    Thread.sleep(Campaign.between(5, 100));
                    owner.kill9();
                }
                WaitResult result = mutex.lock(BOUND);
                long a = view.segment().get(ValueLayout.JAVA_LONG, 0);
                long b = view.segment().get(ValueLayout.JAVA_LONG, 8);
                if (result == WaitResult.ABANDONED) {
                    abandoned++;
                }
                if (a != b) {
                    halfUpdated++;
                    if (result != WaitResult.ABANDONED) {
                        failures++;
                    }
                    view.segment().set(ValueLayout.JAVA_LONG, 8, a);
                }
                if (result == WaitResult.TIMEOUT) {
                    failures++;
                } else {
                    mutex.unlock();
                }
            }
        }
        Campaign.report("kill9.mutex", "rounds=" + rounds + " kills=" + rounds + " abandoned=" + abandoned
                + " halfUpdated=" + halfUpdated + " failures=" + failures);
        assertEquals(0, failures, "half-updated data behind a mutex that was not reported abandoned, or a lock timed out");
        assertGone(name);
    }

    @Test
    void killedWhileWaitingOnAnEventOrASemaphoreTakesNothingAndWakesNobodyLate() throws Exception {
        int rounds = Campaign.rounds(6);
        String name = TestNames.unique("kill-wait");
        int failures = 0;
        try (NamedEvent event = NamedEvent.createOrOpen(name + "-e", EventReset.AUTO);
             NamedSemaphore semaphore = NamedSemaphore.create(name + "-s", 0, 1)) {
            for (int round = 0; round < rounds; round++) {
                List<ChildJvm> waiters = new ArrayList<>();
                try {
                    waiters.add(child("wait-event", name + "-e"));
                    waiters.add(child("wait-semaphore", name + "-s"));
                    for (ChildJvm waiter : waiters) {
                        waiter.awaitLine("ready"::equals, ChildJvm.DEFAULT_WAIT);
                    }
                    Thread.sleep(Campaign.between(1, 60));
                    for (ChildJvm waiter : waiters) {
                        waiter.kill9();
                    }
                } finally {
                    waiters.forEach(ChildJvm::close);
                }
                event.set();
                if (event.await(BOUND) != WaitResult.SIGNALED) {
                    failures++;
                }
                semaphore.release();
                if (semaphore.acquire(BOUND) != WaitResult.SIGNALED) {
                    failures++;
                }
            }
        }
        Campaign.report("kill9.waiters", "rounds=" + rounds + " kills=" + 2 * rounds + " failures=" + failures);
        assertEquals(0, failures, "a signal or a unit was lost with a killed waiter");
    }

    @Test
    void killedDuringCloseNeverTakesTheObjectFromAnotherHolder() throws Exception {
        int rounds = Campaign.rounds(8);
        String name = TestNames.unique("kill-close");
        int failures = 0;
        try (FileMapping mapping = SharedMemory.create(name, 4096);
             MappedView view = mapping.map(Access.READ_WRITE)) {
            view.segment().set(ValueLayout.JAVA_LONG, 1024, 0x5eedL);
            Path data = mapping.dataPath();
            for (int round = 0; round < rounds; round++) {
                try (ChildJvm churn = child("churn", name)) {
                    churn.awaitLine("ready"::equals, ChildJvm.DEFAULT_WAIT);
                    Thread.sleep(Campaign.between(5, 150));
                    churn.kill9();
                }
                long before = mapping.sequence();
                mapping.publish(2048, new byte[]{7});
                try (FileMapping other = SharedMemory.open(name, Access.READ)) {
                    if (view.segment().get(ValueLayout.JAVA_LONG, 1024) != 0x5eedL || !Files.exists(data)
                            || other.sequence() <= before || other.read(2048, 1)[0] != 7) {
                        failures++;
                    }
                }
            }
        }
        Campaign.report("kill9.close", "rounds=" + rounds + " kills=" + rounds + " failures=" + failures);
        assertEquals(0, failures, "a killed closer took the object from a live holder");
        assertGone(name);
    }

    /** The object's files are gone (its holders all closed). */
    static void assertGone(String name) {
        for (String file : NoLeftovers.ours()) {
            assertFalse(file.contains(name), "left behind: " + file);
        }
    }

    static void assertNotSame(long a, long b) {
        assertNotEquals(a, b);
    }
}
