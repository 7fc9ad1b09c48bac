package io.shmflux;

import io.shmflux.testing.ChildJvm;
import io.shmflux.testing.FeedChild;
import io.shmflux.testing.NoLeftovers;
import io.shmflux.testing.TestNames;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.lang.foreign.ValueLayout;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The change feed's contract across processes (the guarantees listed in change-feed.md). */
@Tag("cross-process")
@ExtendWith(NoLeftovers.class)
class CrossProcessFeedContractTest {

    private static final Duration LONG_WAIT = Duration.ofSeconds(60);

    @Test
    void twoThousandSubscribeRacesAgainstAPublisherInAnotherProcessLoseNoChange() throws Exception {
        String name = TestNames.unique("race");
        try (FileMapping mapping = SharedMemory.create(name, 4096,
                MappingOptions.DEFAULT.withChangeRingCapacity(1 << 16));
             ChildJvm child = ChildJvm.start(FeedChild.class, "race", name)) {
            assertEquals("ready", child.nextLine());
            AtomicBoolean stop = new AtomicBoolean();
            CompletableFuture<Void> publisher = CompletableFuture.runAsync(() -> {
                long i = 0;
                while (!stop.get()) {
                    long value = ++i;
                    mapping.publish(0, 8, r -> r.set(ValueLayout.JAVA_LONG, 0, value));
                }
            });
            try {
                child.send("race 2000 100");
                Matcher m = Pattern.compile("raced rounds=(\\d+) violations=(\\d+) caught=(\\d+)")
                        .matcher(child.nextLine(LONG_WAIT));
                assertTrue(m.matches(), m.toString());
                assertTrue(Long.parseLong(m.group(1)) >= 2000);
                assertEquals(0, Long.parseLong(m.group(2)), "rounds whose first event came after a lost change");
                // rounds whose first change was published after the feed started but before doOnSubscribe
                // ran: the window in which the old feed lost it; without any the race was not exercised
                assertTrue(Long.parseLong(m.group(3)) >= 100,
                        "the publisher must have raced the subscriptions: rounds with a change in the window="
                                + m.group(3) + " of " + m.group(1));
                System.out.println("subscribe races: " + m.group(3) + " of " + m.group(1)
                        + " rounds had a change in the window; published " + mapping.sequence());
            } finally {
                stop.set(true);
                publisher.get(10, TimeUnit.SECONDS);
            }
            child.send("exit");
            child.awaitBye(LONG_WAIT);
        }
    }

    @Test
    void aSlowedBackPressureSubscriberProcessGetsAMillionChangesThroughARingOf1024() {
        String name = TestNames.unique("bp");
        int changes = 1_000_000;
        try (FileMapping mapping = SharedMemory.create(name, 4096, MappingOptions.DEFAULT.withChangeRingCapacity(1024));
             // pauses 5 ms after every 50,000 changes: an unpaced publisher would lap it each time
             ChildJvm subscriber = ChildJvm.start(FeedChild.class, "subscribe-bp", name, String.valueOf(changes),
                     "50000", "5000");
             ChildJvm publisher = ChildJvm.start(FeedChild.class, "publish-timed", name, String.valueOf(changes))) {
            assertEquals("ready", subscriber.nextLine());
            assertEquals("ready", publisher.nextLine());
            publisher.send("go");
            Matcher p = Pattern.compile("published " + changes + " stalls=(\\d+) longestMillis=(\\d+) millis=(\\d+)")
                    .matcher(publisher.awaitLine(l -> l.startsWith("published"), LONG_WAIT));
            assertTrue(p.matches(), p.toString());
            assertEquals("done received=" + changes + " missed=0 orderErrors=0 torn=0",
                    subscriber.awaitLine(l -> l.startsWith("done") || l.startsWith("timeout"), LONG_WAIT));
            assertTrue(Long.parseLong(p.group(1)) >= 10,
                    "the publisher waited for the subscriber's pauses (19 of 5 ms): publishes over 1 ms=" + p.group(1));
            System.out.println("back pressure, 1,000,000 changes through 1024 records: " + p.group(3) + " ms, "
                    + p.group(1) + " publishes waited over 1 ms, longest " + p.group(2) + " ms");
            assertEquals(changes, mapping.sequence());
            subscriber.awaitBye(LONG_WAIT);
            publisher.awaitBye(LONG_WAIT);
        }
    }

    @Test
    void aKilledBackPressureSubscriberStopsHoldingThePublisherBackWithinASecond() throws Exception {
        String name = TestNames.unique("bpkill");
        try (FileMapping mapping = SharedMemory.create(name, 4096, MappingOptions.DEFAULT.withChangeRingCapacity(1024));
             // takes 2000 changes, then sleeps a minute: the ring fills and the publisher waits
             ChildJvm subscriber = ChildJvm.start(FeedChild.class, "subscribe-bp", name, "1000000", "2000",
                     "60000000")) {
            assertEquals("ready", subscriber.nextLine());
            AtomicBoolean stop = new AtomicBoolean();
            CompletableFuture<Void> publisher = CompletableFuture.runAsync(() -> {
                while (!stop.get()) {
                    mapping.publish(0, new byte[]{1});
                }
            });
            try {
                assertEquals("at 2000", subscriber.awaitLine(l -> l.startsWith("at"), LONG_WAIT));
                long stuck = awaitStuck(mapping);
                assertTrue(stuck < 2000 + 256 + 1024 + 2, "held back by the subscriber: sequence=" + stuck);
                long killed = System.nanoTime();
                subscriber.kill9();
                long deadline = killed + TimeUnit.SECONDS.toNanos(1);
                while (mapping.sequence() <= stuck) {
                    assertTrue(System.nanoTime() < deadline, "the publisher did not go on within 1 s of the kill");
                    Thread.sleep(1);
                }
                System.out.println("publisher went on " + TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - killed)
                        + " ms after kill -9 of its back-pressure subscriber");
            } finally {
                stop.set(true);
                publisher.get(10, TimeUnit.SECONDS);
            }
        }
    }

    @Test
    void aStoppedBackPressureSubscriberTimesPublishOutAndCatchesUpAfterContinuing() throws Exception {
        String name = TestNames.unique("bpstop");
        int changes = 5000;
        try (FileMapping mapping = SharedMemory.create(name, 4096, MappingOptions.DEFAULT.withChangeRingCapacity(1024)
                .withPublishTimeout(Duration.ofMillis(500)));
             ChildJvm subscriber = ChildJvm.start(FeedChild.class, "subscribe-bp", name, String.valueOf(changes), "0",
                     "0")) {
            assertEquals("ready", subscriber.nextLine());
            for (int i = 0; i < 100; i++) {
                mapping.publish(0, new byte[]{1});
            }
            signal("STOP", subscriber.pid());
            try {
                long start = 0;
                PublishTimeoutException timeout = null;
                while (timeout == null) {
                    start = System.nanoTime();
                    try {
                        mapping.publish(0, new byte[]{2});
                    } catch (PublishTimeoutException e) {
                        timeout = e;
                    }
                    // held back within a ring of the position the subscriber had when the signal landed
                    assertTrue(mapping.sequence() < 20_000, "never held back: " + mapping.sequence());
                }
                long millis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
                assertTrue(millis >= 490 && millis < 5000, "threw after the 500 ms timeout: " + millis);
                assertEquals(subscriber.pid(), timeout.subscriberPid());
                assertTrue(timeout.getMessage().contains("subscriberPid=" + subscriber.pid()), timeout.getMessage());
                long held = mapping.sequence();
                assertThrows(PublishTimeoutException.class, () -> mapping.publish(0, new byte[]{3}));
                assertEquals(held, mapping.sequence(), "a timed-out publish publishes nothing");
            } finally {
                signal("CONT", subscriber.pid());
            }
            while (mapping.sequence() < changes) {
                mapping.publish(0, new byte[]{4});
            }
            assertEquals("done received=" + changes + " missed=0 orderErrors=0 torn=0",
                    subscriber.awaitLine(l -> l.startsWith("done") || l.startsWith("timeout"), LONG_WAIT));
            subscriber.awaitBye(LONG_WAIT);
        }
    }

    @Test
    void completeChangesCompletesSubscribersInTwoOtherProcessesAfterEveryChange() {
        String name = TestNames.unique("end");
        int changes = 10_000;
        try (FileMapping mapping = SharedMemory.create(name, 4096, MappingOptions.DEFAULT.withChangeRingCapacity(1 << 14));
             ChildJvm a = ChildJvm.start(FeedChild.class, "until-complete", name);
             ChildJvm b = ChildJvm.start(FeedChild.class, "until-complete", name)) {
            assertEquals("ready", a.nextLine());
            assertEquals("ready", b.nextLine());
            for (int i = 0; i < changes; i++) {
                mapping.publish(0, new byte[]{(byte) i});
            }
            assertEquals(changes + 1, mapping.completeChanges());
            for (ChildJvm child : List.of(a, b)) {
                assertEquals("completed received=" + changes + " missed=0 orderErrors=0", child.nextLine(LONG_WAIT));
                child.awaitBye(LONG_WAIT);
            }
        }
    }

    @Test
    void aWriterKilledMidChangeIsDeliveredFlaggedTornWithinASecond() {
        String name = TestNames.unique("killtorn");
        try (FileMapping mapping = SharedMemory.create(name, 4096);
             ChildJvm writer = ChildJvm.start(FeedChild.class, "hang-in-publish", name)) {
            assertEquals("mid-update", writer.nextLine());
            reactor.test.StepVerifier.create(mapping.changes().take(1))
                    .expectSubscription()
                    .then(writer::kill9)
                    .assertNext(e -> {
                        assertEquals(1, e.sequence());
                        assertTrue(e.torn());
                    })
                    .expectComplete()
                    .verify(Duration.ofSeconds(1));
            assertTrue(mapping.snapshot(0, 8).torn());
        }
    }

    /** Waits until the sequence has not moved for 200 ms; {@return it} */
    private static long awaitStuck(FileMapping mapping) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        long last = -1;
        while (System.nanoTime() < deadline) {
            long now = mapping.sequence();
            if (now == last) {
                return now;
            }
            last = now;
            Thread.sleep(200);
        }
        throw new AssertionError("the publisher was never held back: sequence=" + last);
    }

    private static void signal(String signal, long pid) throws Exception {
        Process kill = new ProcessBuilder("kill", "-" + signal, String.valueOf(pid)).inheritIO().start();
        assertTrue(kill.waitFor(10, TimeUnit.SECONDS) && kill.exitValue() == 0, "kill -" + signal + " " + pid);
    }
}
