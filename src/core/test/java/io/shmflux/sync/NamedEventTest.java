package io.shmflux.sync;

import io.shmflux.HandleClosedException;
import io.shmflux.InvalidParameterException;
import io.shmflux.testing.NoLeftovers;
import io.shmflux.testing.TestNames;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

@ExtendWith(NoLeftovers.class)
class NamedEventTest {

    @Test
    void anAutoResetEventReleasesOneWaiterPerSetAndResetsItself() throws Exception {
        try (NamedEvent event = NamedEvent.createOrOpen(TestNames.unique("auto"), EventReset.AUTO)) {
            assertEquals(EventReset.AUTO, event.resetMode());
            ExecutorService pool = Executors.newFixedThreadPool(3);
            try {
                List<Future<WaitResult>> waits = new ArrayList<>();
                for (int i = 0; i < 3; i++) {
                    waits.add(pool.submit(() -> event.await(Duration.ofSeconds(10))));
                }
                Thread.sleep(200);
                for (int set = 1; set <= 3; set++) {
                    event.set();
                    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
                    while (waits.stream().filter(Future::isDone).count() < set && System.nanoTime() < deadline) {
                        Thread.sleep(10);
                    }
                    Thread.sleep(200);
                    assertEquals(set, waits.stream().filter(Future::isDone).count(), "after set " + set);
                }
                for (Future<WaitResult> wait : waits) {
                    assertEquals(WaitResult.SIGNALED, wait.get());
                }
            } finally {
                pool.shutdownNow();
            }
            assertEquals(WaitResult.TIMEOUT, event.await(Duration.ZERO));
            event.set();
            event.set();
            assertEquals(WaitResult.SIGNALED, event.await(Duration.ZERO), "a set with no waiter stays");
            assertEquals(WaitResult.TIMEOUT, event.await(Duration.ZERO), "and sets do not accumulate");
        }
    }

    @Test
    void aManualResetEventReleasesEveryWaiterUntilReset() throws Exception {
        try (NamedEvent event = NamedEvent.createOrOpen(TestNames.unique("manual"), EventReset.MANUAL)) {
            ExecutorService pool = Executors.newFixedThreadPool(3);
            try {
                List<Future<WaitResult>> waits = new ArrayList<>();
                for (int i = 0; i < 3; i++) {
                    waits.add(pool.submit(() -> event.await(Duration.ofSeconds(10))));
                }
                Thread.sleep(200);
                event.set();
                event.reset(); // a set-then-reset still releases everyone who was waiting
                for (Future<WaitResult> wait : waits) {
                    assertEquals(WaitResult.SIGNALED, wait.get(2, TimeUnit.SECONDS));
                }
            } finally {
                pool.shutdownNow();
            }
            assertEquals(WaitResult.TIMEOUT, event.await(Duration.ZERO));
            event.set();
            assertEquals(WaitResult.SIGNALED, event.await(Duration.ZERO));
            assertEquals(WaitResult.SIGNALED, event.await(Duration.ZERO), "stays signaled");
            event.reset();
            assertEquals(WaitResult.TIMEOUT, event.await(Duration.ofMillis(120)));
        }
    }

    @Test
    void theInitialStateAndModeApplyOnlyWhenTheEventIsCreated() {
        String name = TestNames.unique("initial");
        try (NamedEvent event = NamedEvent.create(name, EventReset.MANUAL, EventState.SIGNALED);
             NamedEvent opened = NamedEvent.createOrOpen(name, EventReset.AUTO, EventState.NOT_SIGNALED)) {
            assertEquals(EventReset.MANUAL, opened.resetMode());
            assertEquals(WaitResult.SIGNALED, opened.await(Duration.ZERO));
            assertEquals(WaitResult.SIGNALED, event.await(Duration.ZERO));
        }
    }

    @Test
    void badInputAndClosedHandlesAreClearErrors() {
        NamedEvent event = NamedEvent.createOrOpen(TestNames.unique("bad"), EventReset.AUTO, EventState.SIGNALED);
        assertThrows(InvalidParameterException.class, () -> event.await(Duration.ofSeconds(-5)));
        assertEquals(WaitResult.SIGNALED, event.await(Duration.ZERO), "the rejected wait consumed nothing");
        event.close();
        event.close();
        assertThrows(HandleClosedException.class, event::set);
        assertThrows(HandleClosedException.class, event::reset);
        assertThrows(HandleClosedException.class, () -> event.await(Duration.ZERO));
    }

    @Test
    void pingPongBetweenTwoAutoResetEventsLosesNoWakeUp() throws Exception {
        try (NamedEvent ping = NamedEvent.createOrOpen(TestNames.unique("ping"), EventReset.AUTO);
             NamedEvent pong = NamedEvent.createOrOpen(TestNames.unique("pong"), EventReset.AUTO)) {
            int rounds = 20_000;
            Thread echo = Thread.ofPlatform().start(() -> {
                for (int i = 0; i < rounds; i++) {
                    if (ping.await(Duration.ofSeconds(10)) != WaitResult.SIGNALED) {
                        return;
                    }
                    pong.set();
                }
            });
            int slow = 0;
            long start = System.nanoTime();
            for (int i = 0; i < rounds; i++) {
                long t0 = System.nanoTime();
                ping.set();
                assertEquals(WaitResult.SIGNALED, pong.await(Duration.ofSeconds(10)), "round " + i);
                if (System.nanoTime() - t0 > TimeUnit.MILLISECONDS.toNanos(90)) {
                    slow++; // a lost wake-up would show as a round that waited out a 100 ms slice
                }
            }
            echo.join();
            System.out.printf("%d ping-pong rounds over two auto-reset events: %d ms, rounds over 90 ms: %d%n",
                    rounds, TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start), slow);
            assertTrue(slow <= 5, "rounds that waited out a slice: " + slow);
        }
    }
}
