package io.shmflux.faults;

import io.shmflux.ChangeEvent;
import io.shmflux.ChangeOptions;
import io.shmflux.FileMapping;
import io.shmflux.MappingOptions;
import io.shmflux.SharedMemory;
import io.shmflux.testing.ChildJvm;
import io.shmflux.testing.NoLeftovers;
import io.shmflux.testing.TestNames;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import reactor.core.publisher.BaseSubscriber;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Slow subscribers on a tiny ring, stalling at random: they are lapped, and every change is either
 * delivered or counted in {@code missed}, exactly, in this process and in another one.
 */
@Tag("fault")
@Tag("cross-process")
@ExtendWith(NoLeftovers.class)
class SlowSubscriberFaultTest {

    @Test
    void aStallingSubscriberInThisProcessAccountsForEveryChange() throws Exception {
        int published = Campaign.rounds(20_000);
        try (FileMapping mapping = SharedMemory.create(TestNames.unique("slow-in"), 4096,
                MappingOptions.DEFAULT.withChangeRingCapacity(8))) {
            long[] counts = new long[3]; // received, missed, order errors
            CountDownLatch done = new CountDownLatch(1);
            CountDownLatch subscribed = new CountDownLatch(1);
            mapping.changes().subscribe(new BaseSubscriber<ChangeEvent>() {
                long expected = 1;

                @Override
                protected void hookOnSubscribe(org.reactivestreams.Subscription s) {
                    subscribed.countDown();
                    s.request(1);
                }

                @Override
                protected void hookOnNext(ChangeEvent e) {
                    counts[0]++;
                    counts[1] += e.missed();
                    if (e.sequence() != expected + e.missed()) {
                        counts[2]++;
                    }
                    expected = e.sequence() + 1;
                    if (Campaign.between(0, 16) == 0) {
                        LockSupport.parkNanos(Campaign.between(1_000, 300_000));
                    }
                    if (e.sequence() == published) {
                        done.countDown();
                    } else {
                        request(1);
                    }
                }
            });
            assertTrue(subscribed.await(10, TimeUnit.SECONDS));
            for (int i = 1; i <= published; i++) {
                mapping.publish(0, new byte[]{(byte) i});
                if (i % 512 == 0) {
                    LockSupport.parkNanos(Campaign.between(0, 500_000));
                }
            }
            assertTrue(done.await(30, TimeUnit.SECONDS), "the last change arrives");
            Campaign.report("slow.inProcess", "ring=8 published=" + published + " received=" + counts[0] + " missed="
                    + counts[1] + " failures=" + (counts[0] + counts[1] == published && counts[2] == 0 ? 0 : 1));
            assertEquals(published, counts[0] + counts[1], "received + missed");
            assertEquals(0, counts[2], "order");
            assertTrue(counts[1] > 0, "the subscriber was lapped at least once");
        }
    }

    @Test
    void aStallingSubscriberProcessAccountsForEveryChange() {
        int published = Campaign.rounds(20_000);
        String name = TestNames.unique("slow-x");
        try (FileMapping mapping = SharedMemory.create(name, 4096, MappingOptions.DEFAULT.withChangeRingCapacity(16))) {
            mapping.publish(0, new byte[]{1}); // change 1: the subscriber starts from it (the oldest)
            try (ChildJvm subscriber = ChildJvm.start(Campaign.CHILD_OPTIONS, FaultChild.class, "lag", name,
                    Integer.toString(published), "300")) {
                subscriber.awaitLine("seen 1"::equals, ChildJvm.DEFAULT_WAIT); // it holds its place: race on
                for (int i = 2; i <= published; i++) {
                    long value = i;
                    mapping.publish((i % 64) * 8L, 8, r -> r.set(java.lang.foreign.ValueLayout.JAVA_LONG, 0, value));
                }
                assertLapAccounted(subscriber, published);
            }
        }
    }

    private static void assertLapAccounted(ChildJvm subscriber, int published) {
        String result = subscriber.awaitLine(l -> l.startsWith("done ") || l.startsWith("timeout "),
                ChildJvm.DEFAULT_WAIT.multipliedBy(4));
        long received = Long.parseLong(result.replaceAll(".*received=(\\d+).*", "$1"));
        long missed = Long.parseLong(result.replaceAll(".*missed=(\\d+).*", "$1"));
        long orderErrors = Long.parseLong(result.replaceAll(".*orderErrors=(\\d+).*", "$1"));
        Campaign.report("slow.crossProcess", "ring=16 published=" + published + " received=" + received + " missed="
                + missed + " failures=" + (received + missed == published && orderErrors == 0 ? 0 : 1));
        assertTrue(result.startsWith("done "), result);
        assertEquals(published, received + missed, result);
        assertEquals(0, orderErrors, result);
        assertTrue(missed > 0, "the subscriber process was lapped: " + result);
    }
}
