package io.shmflux;

import io.shmflux.testing.NoLeftovers;
import io.shmflux.testing.TestNames;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.reactivestreams.Subscription;
import reactor.core.publisher.BaseSubscriber;
import reactor.test.StepVerifier;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The batch feed keeps every promise of the plain feed per change: in order, each at most once, loss
 * counted exactly, torn flagged, back pressure lossless, the end of the stream; demand counts batches.
 */
@ExtendWith(NoLeftovers.class)
class ChangeBatchTest {

    private static final Duration WAIT = Duration.ofSeconds(30);

    /** Changes published while the subscriber requests 1 to 4 batches at random times: 1..N, once each. */
    @Test
    void everyChangeArrivesOnceInOrderInBatchesNoLargerThanAskedWhateverTheDemand() throws Exception {
        SplittableRandom random = new SplittableRandom(7);
        for (int round = 0; round < 50; round++) {
            int maxBatch = 1 + random.nextInt(32);
            int changes = 1 + random.nextInt(400);
            try (FileMapping mapping = SharedMemory.create(TestNames.unique("batch"), 4096,
                    MappingOptions.DEFAULT.withChangeRingCapacity(1024))) {
                Collector collector = new Collector(random.nextLong());
                mapping.changeBatches(ChangeOptions.DEFAULT, maxBatch).subscribe(collector);
                collector.subscribed.get(30, TimeUnit.SECONDS);
                for (int i = 0; i < changes; i++) {
                    mapping.publish(i % 4000, new byte[]{(byte) i});
                }
                collector.awaitSequence(changes);
                List<Long> seen = collector.sequences();
                assertEquals(changes, seen.size(), "round " + round);
                for (int i = 0; i < changes; i++) {
                    assertEquals(i + 1, seen.get(i), "round " + round);
                }
                assertTrue(collector.largest <= maxBatch, "batch of " + collector.largest + " > " + maxBatch);
                assertEquals(0, collector.missed);
                assertTrue(collector.batches <= collector.requestedBatches, "demand counts batches");
                collector.cancel();
            }
        }
    }

    @Test
    void aLappedBatchSubscriberIsToldExactlyHowManyChangesItMissed() throws Exception {
        try (FileMapping mapping = SharedMemory.create(TestNames.unique("batch-lap"), 4096,
                MappingOptions.DEFAULT.withChangeRingCapacity(16))) {
            List<ChangeBatch> batches = new ArrayList<>();
            CountDownLatch inFirst = new CountDownLatch(1);
            CountDownLatch release = new CountDownLatch(1);
            CompletableFuture<Void> last = new CompletableFuture<>();
            mapping.changeBatches(ChangeOptions.DEFAULT, 8).subscribe(batch -> {
                synchronized (batches) {
                    batches.add(batch);
                }
                if (batch.firstSequence() == 1) {
                    inFirst.countDown();
                    awaitQuietly(release);
                }
                if (batch.lastSequence() == 101) {
                    last.complete(null);
                }
            });
            mapping.publish(0, new byte[]{1});
            assertTrue(inFirst.await(30, TimeUnit.SECONDS));
            for (int i = 0; i < 100; i++) {
                mapping.publish(0, new byte[]{2});
            }
            release.countDown();
            last.get(30, TimeUnit.SECONDS);
            long delivered = 0;
            long missed = 0;
            long previous = 0;
            synchronized (batches) {
                for (ChangeBatch batch : batches) {
                    for (int i = 0; i < batch.size(); i++) {
                        assertEquals(previous + 1 + batch.missed(i), batch.sequence(i), "gaps are the missed counts");
                        previous = batch.sequence(i);
                        missed += batch.missed(i);
                        delivered++;
                    }
                }
            }
            assertEquals(101, delivered + missed);
            assertTrue(missed >= 101 - 16 - 1, "missed=" + missed);
        }
    }

    @Test
    void backPressureBatchesLoseNothingThroughASmallRing() throws Exception {
        try (FileMapping mapping = SharedMemory.create(TestNames.unique("batch-bp"), 4096,
                MappingOptions.DEFAULT.withChangeRingCapacity(16))) {
            int changes = 20_000;
            Collector collector = new Collector(3);
            mapping.changeBatches(ChangeOptions.DEFAULT.withOverflow(ChangeOptions.Overflow.BACK_PRESSURE), 64)
                    .subscribe(collector);
            collector.subscribed.get(30, TimeUnit.SECONDS);
            for (int i = 0; i < changes; i++) {
                mapping.publish(0, new byte[]{(byte) i});
            }
            collector.awaitSequence(changes);
            assertEquals(0, collector.missed);
            assertEquals(changes, collector.sequences().size());
            collector.cancel();
        }
    }

    @Test
    void tornChangesAndTheEndOfTheStreamAreKept() {
        try (FileMapping mapping = SharedMemory.create(TestNames.unique("batch-end"), 4096)) {
            StepVerifier.create(mapping.changeBatches(ChangeOptions.DEFAULT, 100))
                    .then(() -> {
                        mapping.publish(0, new byte[]{1});
                        assertThrows(IllegalStateException.class, () -> mapping.publish(8, 8, range -> {
                            throw new IllegalStateException("half way");
                        }));
                        mapping.completeChanges();
                    })
                    .thenConsumeWhile(batch -> true, batch -> {
                        for (int i = 0; i < batch.size(); i++) {
                            assertEquals(batch.sequence(i) == 2, batch.torn(i), batch.toString());
                            assertEquals(batch.event(i), batch.events().get(i));
                        }
                    })
                    .expectComplete()
                    .verify(WAIT);
        }
    }

    @Test
    void aBatchLimitOutOfRangeIsAClearError() {
        try (FileMapping mapping = SharedMemory.create(TestNames.unique("batch-bad"), 4096)) {
            for (int bad : new int[]{0, -1, 65_537}) {
                InvalidParameterException e = assertThrows(InvalidParameterException.class,
                        () -> mapping.changeBatches(ChangeOptions.DEFAULT, bad));
                assertTrue(e.getMessage().startsWith("batch size out of range: maxBatch=" + bad), e.getMessage());
            }
            StepVerifier.create(mapping.changeBatches(ChangeOptions.DEFAULT, 1).take(1))
                    .then(() -> mapping.publish(0, new byte[]{1}))
                    .assertNext(batch -> {
                        assertEquals(1, batch.size());
                        assertThrows(IndexOutOfBoundsException.class, () -> batch.sequence(1));
                    })
                    .expectComplete()
                    .verify(WAIT);
        }
    }

    private static void awaitQuietly(CountDownLatch latch) {
        try {
            latch.await(30, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Requests 1 to 4 batches at a time, from the subscriber's thread, and records every change. */
    private static final class Collector extends BaseSubscriber<ChangeBatch> {
        final CompletableFuture<Subscription> subscribed = new CompletableFuture<>();
        private final SplittableRandom random;
        private final List<Long> sequences = new ArrayList<>();
        private long outstanding;
        long requestedBatches;
        long batches;
        long missed;
        int largest;

        Collector(long seed) {
            random = new SplittableRandom(seed);
        }

        @Override
        protected void hookOnSubscribe(Subscription subscription) {
            more();
            subscribed.complete(subscription);
        }

        private void more() {
            int n = 1 + random.nextInt(4);
            outstanding += n;
            requestedBatches += n;
            request(n);
        }

        @Override
        protected synchronized void hookOnNext(ChangeBatch batch) {
            batches++;
            largest = Math.max(largest, batch.size());
            for (int i = 0; i < batch.size(); i++) {
                sequences.add(batch.sequence(i));
                missed += batch.missed(i);
            }
            notifyAll();
            if (--outstanding == 0) {
                more();
            }
        }

        synchronized List<Long> sequences() {
            return List.copyOf(sequences);
        }

        synchronized void awaitSequence(long last) throws InterruptedException {
            long deadline = System.nanoTime() + WAIT.toNanos();
            while (sequences.isEmpty() || sequences.getLast() < last) {
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    throw new AssertionError("timed out at " + (sequences.isEmpty() ? 0 : sequences.getLast())
                            + " of " + last);
                }
                TimeUnit.NANOSECONDS.timedWait(this, left);
            }
        }
    }
}
