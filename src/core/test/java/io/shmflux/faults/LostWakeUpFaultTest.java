package io.shmflux.faults;

import io.shmflux.FileMapping;
import io.shmflux.SharedMemory;
import io.shmflux.sync.EventReset;
import io.shmflux.sync.NamedEvent;
import io.shmflux.sync.NamedSemaphore;
import io.shmflux.sync.WaitResult;
import io.shmflux.testing.ChildJvm;
import io.shmflux.testing.NoLeftovers;
import io.shmflux.testing.TestNames;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Lost wake-ups: subscriber processes in both wait strategies, and a process waiting on an event and
 * a semaphore at once, are signalled at random moments (bursts, short and long pauses, so that each
 * signal may land before, during or after the waiter goes to sleep). Every one must see every signal
 * within a bound shorter than the sleep slice that would otherwise hide a lost wake-up.
 */
@Tag("fault")
@Tag("cross-process")
@ExtendWith(NoLeftovers.class)
class LostWakeUpFaultTest {

    /** Shorter than the change thread's 1 s sleep slice: a lost wake-up would show as a late change. */
    private static final Duration FEED_BOUND = Duration.ofMillis(500);

    @Test
    void everySubscriberProcessSeesEveryChangeWithinTheBound() {
        int rounds = Campaign.rounds(300);
        String name = TestNames.unique("wake-feed");
        List<ChildJvm> followers = new ArrayList<>();
        long slowestMicros = 0;
        try (FileMapping mapping = SharedMemory.create(name, 4096)) {
            for (String strategy : List.of("BLOCKING", "BLOCKING", "LOW_LATENCY")) {
                followers.add(ChildJvm.start(Campaign.CHILD_OPTIONS, FaultChild.class, "follow", name, strategy,
                        Integer.toString(rounds)));
            }
            for (ChildJvm follower : followers) {
                follower.awaitLine("ready"::equals, ChildJvm.DEFAULT_WAIT);
            }
            for (int round = 1; round <= rounds; round++) {
                pauseAtRandom();
                mapping.publish(0, new byte[]{(byte) round});
                long published = System.nanoTime();
                String expected = "seen " + round;
                for (ChildJvm follower : followers) {
                    follower.awaitLine(expected::equals, FEED_BOUND.multipliedBy(2));
                }
                slowestMicros = Math.max(slowestMicros, TimeUnit.NANOSECONDS.toMicros(System.nanoTime() - published));
                if (slowestMicros > FEED_BOUND.toNanos() / 1000) {
                    break;
                }
            }
            for (ChildJvm follower : followers) {
                follower.awaitLine(line -> line.startsWith("reached ") || line.startsWith("stuck "), ChildJvm.DEFAULT_WAIT);
                follower.awaitBye(ChildJvm.DEFAULT_WAIT);
            }
        } finally {
            followers.forEach(ChildJvm::close);
        }
        boolean late = slowestMicros > FEED_BOUND.toNanos() / 1000;
        Campaign.report("wakeups.feeds", "subscribers=3 rounds=" + rounds + " slowestMicros=" + slowestMicros
                + " failures=" + (late ? 1 : 0));
        assertEquals(false, late, "a change reached a subscriber after " + slowestMicros + " µs");
    }

    @Test
    void aProcessWaitingOnAnEventAndASemaphoreAtOnceTakesEverySignal() {
        int rounds = Campaign.rounds(500);
        String name = TestNames.unique("wake-sync");
        long slowestMicros = 0;
        int failures = 0;
        try (NamedEvent event = NamedEvent.create(name + "-e", EventReset.AUTO, io.shmflux.sync.EventState.NOT_SIGNALED);
             NamedSemaphore semaphore = NamedSemaphore.create(name + "-s", 0, 1);
             NamedEvent ack = NamedEvent.create(name + "-a", EventReset.AUTO, io.shmflux.sync.EventState.NOT_SIGNALED);
             ChildJvm waiter = ChildJvm.start(Campaign.CHILD_OPTIONS, FaultChild.class, "ack", name + "-e", name + "-s",
                     name + "-a")) {
            waiter.awaitLine("ready"::equals, ChildJvm.DEFAULT_WAIT);
            for (int round = 0; round < rounds; round++) {
                pauseAtRandom();
                long signalled = System.nanoTime();
                if (round % 2 == 0) {
                    event.set();
                } else {
                    semaphore.release();
                }
                if (ack.await(Duration.ofSeconds(2)) != WaitResult.SIGNALED) {
                    failures++;
                }
                slowestMicros = Math.max(slowestMicros, TimeUnit.NANOSECONDS.toMicros(System.nanoTime() - signalled));
            }
        }
        Campaign.report("wakeups.sync", "rounds=" + rounds + " slowestMicros=" + slowestMicros + " failures=" + failures);
        assertEquals(0, failures, "a signal was not taken within 2 s");
    }

    /** Nothing, a few microseconds, or up to 3 ms: signals land at every point of the waiter's loop. */
    private static void pauseAtRandom() {
        long choice = Campaign.between(0, 4);
        if (choice == 1) {
            LockSupport.parkNanos(Campaign.between(1_000, 50_000));
        } else if (choice >= 2) {
            LockSupport.parkNanos(Campaign.between(100_000, 3_000_000));
        }
    }
}
