package io.shmflux;

import io.shmflux.testing.NoLeftovers;
import io.shmflux.testing.TestNames;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import reactor.core.publisher.Flux;
import reactor.test.StepVerifier;

import java.io.IOException;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

@ExtendWith(NoLeftovers.class)
class ChangeFeedTest {

    private static final Duration WAIT = Duration.ofSeconds(10);

    private FileMapping mapping;

    @BeforeEach
    void create() {
        mapping = SharedMemory.create(TestNames.unique("feed"), 4096,
                MappingOptions.DEFAULT.withChangeRingCapacity(8));
    }

    @AfterEach
    void close() {
        mapping.close();
    }

    @Test
    void publishedChangesArriveInOrderWithTheirRanges() {
        StepVerifier.create(mapping.changes().take(3))
                .then(() -> {
                    mapping.publish(0, new byte[]{1});
                    mapping.publish(100, new byte[]{2, 3});
                    mapping.publish(4000, 96, range -> range.fill((byte) 4));
                })
                .assertNext(e -> assertChange(e, 1, 0, 1))
                .assertNext(e -> assertChange(e, 2, 100, 2))
                .assertNext(e -> assertChange(e, 3, 4000, 96))
                .expectComplete()
                .verify(WAIT);
        assertEquals(3, mapping.sequence());
        assertArrayEquals(new byte[]{1, 0, 0}, mapping.read(0, 3));
    }

    private static void assertChange(ChangeEvent e, long sequence, long offset, long length) {
        assertEquals(sequence, e.sequence());
        assertEquals(offset, e.offset());
        assertEquals(length, e.length());
        assertEquals(ProcessHandle.current().pid(), e.writerPid());
        assertEquals(0, e.missed());
        assertFalse(e.torn());
        assertTrue(e.timestamp() <= System.nanoTime());
    }

    @Test
    void requestIsHonouredAndNothingIsBufferedBeyondIt() {
        StepVerifier.create(mapping.changes(), 0)
                .then(() -> {
                    mapping.publish(0, new byte[]{1});
                    mapping.publish(0, new byte[]{2});
                    mapping.publish(0, new byte[]{3});
                })
                .expectNoEvent(Duration.ofMillis(200))
                .thenRequest(2)
                .assertNext(e -> assertEquals(1, e.sequence()))
                .assertNext(e -> assertEquals(2, e.sequence()))
                .expectNoEvent(Duration.ofMillis(200))
                .thenRequest(1)
                .assertNext(e -> assertEquals(3, e.sequence()))
                .thenCancel()
                .verify(WAIT);
    }

    @Test
    void aLappedSubscriberIsToldExactlyHowManyChangesItMissed() {
        // the ring holds 8 changes: 20 published while nothing was requested laps the subscriber by 12
        StepVerifier.create(mapping.changes(), 0)
                .then(() -> {
                    for (int i = 0; i < 20; i++) {
                        mapping.publish(0, new byte[]{(byte) i});
                    }
                })
                .thenRequest(8)
                .assertNext(e -> {
                    assertEquals(13, e.sequence());
                    assertEquals(12, e.missed());
                })
                .assertNext(e -> {
                    assertEquals(14, e.sequence());
                    assertEquals(0, e.missed());
                })
                .expectNextCount(6)
                .thenCancel()
                .verify(WAIT);
    }

    @Test
    void theChangeARecordInProgressOverwritesIsCountedLostWhileTheWriterRuns() throws Exception {
        // the ring holds 8: change 9 takes the record of change 1 before its writer runs, so a subscriber
        // still wanting change 1 must count it lost and go on at once, not wait for the writer
        for (int i = 1; i <= 8; i++) {
            mapping.publish(0, new byte[]{(byte) i});
        }
        CountDownLatch inWriter = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        Thread writer = Thread.ofPlatform().start(() -> mapping.publish(0, 8, range -> {
            inWriter.countDown();
            try {
                release.await(WAIT.toMillis(), TimeUnit.MILLISECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }));
        try {
            assertTrue(inWriter.await(WAIT.toMillis(), TimeUnit.MILLISECONDS));
            StepVerifier.create(mapping.changes(ChangeOptions.DEFAULT.withStart(ChangeOptions.Start.OLDEST)).take(7))
                    .assertNext(e -> {
                        assertEquals(2, e.sequence());
                        assertEquals(1, e.missed(), "change 1's record is being overwritten by change 9");
                    })
                    .expectNextCount(6)
                    .expectComplete()
                    .verify(WAIT);
            assertTrue(writer.isAlive(), "all of this happened while change 9's writer ran");
        } finally {
            release.countDown();
            writer.join(WAIT.toMillis());
        }
        assertEquals(9, mapping.sequence());
    }

    @Test
    void aFeedWhoseDemandComesFromAnotherThreadGetsTheLastChangeOfEveryBurst() {
        // publishOn(1) requests from its own thread, one at a time: the change thread often finds the feed
        // with no demand, and the feed then catches up on the requesting thread. The last change of each
        // burst must still arrive although nothing is published after it (without the counter read before
        // the announcement, a round in a few hundred stalled here)
        try (FileMapping big = SharedMemory.create(TestNames.unique("feed-demand"), 4096,
                MappingOptions.DEFAULT.withChangeRingCapacity(1 << 16))) {
            reactor.core.scheduler.Scheduler single = reactor.core.scheduler.Schedulers.newSingle("feed-demand");
            try {
                for (int round = 0; round < 500; round++) {
                    long first = big.sequence() + 1;
                    int changes = 1 + round % 50;
                    StepVerifier.create(big.changes().publishOn(single, 1).map(ChangeEvent::sequence)
                                    .takeUntil(s -> s == first + changes - 1))
                            .then(() -> {
                                for (int i = 0; i < changes; i++) {
                                    big.publish(0, new byte[]{(byte) i});
                                }
                            })
                            .expectNextCount(changes)
                            .expectComplete()
                            .verify(WAIT);
                }
            } finally {
                single.dispose();
            }
        }
    }

    @Test
    void theChangeThreadDoesNotSpinWhileAnotherThreadIsInsideASubscribersOnNext() throws Exception {
        // the feed has demand and changes it has not taken, but another thread is inside its onNext,
        // holding its drain: the change thread must wait for new changes, not announce in a loop
        CountDownLatch inOnNext = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        AtomicReference<org.reactivestreams.Subscription> subscription = new AtomicReference<>();
        java.util.concurrent.atomic.AtomicLong last = new java.util.concurrent.atomic.AtomicLong();
        reactor.core.publisher.BaseSubscriber<ChangeEvent> slow = new reactor.core.publisher.BaseSubscriber<>() {
            @Override
            protected void hookOnSubscribe(org.reactivestreams.Subscription s) {
                subscription.set(s); // no demand yet
            }

            @Override
            protected void hookOnNext(ChangeEvent e) {
                last.set(e.sequence());
                if (e.sequence() == 1) {
                    inOnNext.countDown();
                    try {
                        release.await(WAIT.toMillis(), TimeUnit.MILLISECONDS);
                    } catch (InterruptedException interrupted) {
                        Thread.currentThread().interrupt();
                    }
                }
            }
        };
        mapping.changes().subscribe(slow);
        mapping.publish(0, new byte[]{1});
        Thread holder = Thread.ofPlatform().start(() -> subscription.get().request(1)); // drains, blocks in onNext
        try {
            assertTrue(inOnNext.await(WAIT.toMillis(), TimeUnit.MILLISECONDS));
            subscription.get().request(100); // demand, but the drain is the holder's
            java.lang.management.ThreadMXBean threads = java.lang.management.ManagementFactory.getThreadMXBean();
            Thread changeThread = Thread.getAllStackTraces().keySet().stream()
                    .filter(t -> t.getName().startsWith("shmflux-changes-")).findFirst().orElseThrow();
            long cpuBefore = threads.getThreadCpuTime(changeThread.threadId());
            long start = System.nanoTime();
            for (int i = 2; i <= 5; i++) { // within the ring of 8: nothing is lapped
                mapping.publish(0, new byte[]{(byte) i});
                Thread.sleep(100);
            }
            long cpu = threads.getThreadCpuTime(changeThread.threadId()) - cpuBefore;
            long wall = System.nanoTime() - start;
            assertTrue(cpu < wall / 4, "the change thread used " + cpu / 1_000_000 + " ms of CPU in "
                    + wall / 1_000_000 + " ms while the subscriber was held");
        } finally {
            release.countDown();
            holder.join(WAIT.toMillis());
        }
        // once the holder returns, its drain delivers what came meanwhile
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (last.get() != 5) {
            assertTrue(System.nanoTime() < deadline, "delivered up to " + last.get() + " of 5");
            Thread.sleep(1);
        }
        slow.dispose();
    }

    @Test
    void startingAtTheOldestReplaysWhatTheRingStillHolds() {
        for (int i = 0; i < 10; i++) {
            mapping.publish(0, new byte[]{(byte) i});
        }
        StepVerifier.create(mapping.changes(ChangeOptions.DEFAULT.withStart(ChangeOptions.Start.OLDEST)).take(8))
                .assertNext(e -> {
                    assertEquals(3, e.sequence());
                    assertEquals(0, e.missed(), "a replay that starts at the oldest held change loses nothing");
                })
                .expectNextCount(7)
                .expectComplete()
                .verify(WAIT);
    }

    @Test
    void everySubscriberSeesEveryChange() {
        mapping.close();
        mapping = SharedMemory.create(TestNames.unique("feed"), 4096); // a ring large enough for no lapping
        Flux<Long> a = mapping.changes().map(ChangeEvent::sequence).take(50).collectList().flatMapIterable(l -> l);
        Flux<Long> b = mapping.changes(ChangeOptions.DEFAULT.withWaitStrategy(ChangeOptions.WaitStrategy.LOW_LATENCY))
                .map(ChangeEvent::sequence).take(50);
        StepVerifier.create(Flux.merge(a, b).count())
                .then(() -> {
                    for (int i = 0; i < 50; i++) {
                        mapping.publish(i, new byte[]{(byte) i});
                    }
                })
                .expectNext(100L)
                .expectComplete()
                .verify(WAIT);
    }

    @Test
    void aSilentPublisherTripsASubscribersTimeoutInVirtualTime() {
        StepVerifier.withVirtualTime(() -> mapping.changes().timeout(Duration.ofMinutes(5)))
                .expectSubscription()
                .then(() -> mapping.publish(0, new byte[]{1}))
                .assertNext(e -> assertEquals(1, e.sequence()))
                .thenAwait(Duration.ofMinutes(4))
                .expectNoEvent(Duration.ofSeconds(59))
                .thenAwait(Duration.ofSeconds(1))
                .expectError(java.util.concurrent.TimeoutException.class)
                .verify(WAIT);
    }

    @Test
    void closingTheMappingCompletesItsFeeds() {
        StepVerifier.create(mapping.changes())
                .then(() -> mapping.publish(0, new byte[]{1}))
                .assertNext(e -> assertEquals(1, e.sequence()))
                .then(mapping::close)
                .expectComplete()
                .verify(WAIT);
        assertThrows(HandleClosedException.class, () -> mapping.changes());
        assertThrows(HandleClosedException.class, () -> mapping.publish(0, new byte[]{1}));
    }

    @Test
    void aWriterThatThrowsStillPublishesItsChangeFlaggedTorn() {
        StepVerifier.create(mapping.changes().take(1))
                .then(() -> assertThrows(IllegalStateException.class, () -> mapping.publish(8, 8, range -> {
                    range.set(ValueLayout.JAVA_BYTE, 0, (byte) 9);
                    throw new IllegalStateException("half way");
                })))
                .assertNext(e -> {
                    assertEquals(1, e.sequence());
                    assertTrue(e.torn());
                })
                .expectComplete()
                .verify(WAIT);
        // readers are told too, until a whole change rewrites the range
        TornDataException torn = assertThrows(TornDataException.class, () -> mapping.read(0, 16));
        assertTrue(torn.getMessage().startsWith("range holds a torn change: object="), torn.getMessage());
        assertThrows(TornDataException.class, () -> mapping.read(12, 1, r -> r.get(ValueLayout.JAVA_BYTE, 0)));
        assertArrayEquals(new byte[]{0, 0}, mapping.read(0, 2), "outside the torn range reads are fine");
        Snapshot flagged = mapping.snapshot(8, 8);
        assertTrue(flagged.torn());
        assertEquals(9, flagged.data()[0]);
        mapping.publish(8, new byte[4]); // covers only half: still torn
        assertTrue(mapping.snapshot(8, 8).torn());
        mapping.publish(0, new byte[32]); // covers all of it: repaired
        assertFalse(mapping.snapshot(8, 8).torn());
        assertArrayEquals(new byte[8], mapping.read(8, 8));
    }

    @Test
    void aSnapshotSaysWhichPartOfItIsTorn() {
        try {
            mapping.publish(8, 8, range -> {
                range.set(ValueLayout.JAVA_BYTE, 0, (byte) 7);
                throw new IllegalStateException("a writer that fails half way");
            });
        } catch (IllegalStateException expected) {
            // published, flagged torn
        }
        Snapshot whole = mapping.snapshot(0, 4096);
        assertTrue(whole.torn());
        assertEquals(8, whole.tornStart());
        assertEquals(8, whole.tornLength());
        Snapshot overlapping = mapping.snapshot(12, 100);
        assertEquals(0, overlapping.tornStart(), "relative to the copy");
        assertEquals(4, overlapping.tornLength(), "only the part of the copy that is torn");
        Snapshot clean = mapping.snapshot(0, 8);
        assertFalse(clean.torn());
        assertEquals(0, clean.tornLength());
        InvalidParameterException e = assertThrows(InvalidParameterException.class,
                () -> new Snapshot(1, new byte[4], true, 2, 3));
        assertEquals("snapshot torn part out of its data: tornStart=2, tornLength=3, torn=true, length=4",
                e.getMessage());
        assertThrows(InvalidParameterException.class, () -> new Snapshot(1, new byte[4], false, 0, 1));
        assertEquals(new Snapshot(1, new byte[4], true, 0, 4), new Snapshot(1, new byte[4], true));
    }

    @Test
    void badRangesAndReadOnlyHandlesAreClearErrors() {
        InvalidParameterException e = assertThrows(InvalidParameterException.class,
                () -> mapping.publish(4090, new byte[10]));
        assertEquals("publish range out of object: offset=4090, length=10, size=4096", e.getMessage());
        assertThrows(InvalidParameterException.class, () -> mapping.read(-1, 4));
        assertThrows(InvalidParameterException.class, () -> mapping.read(0, 0));
        try (FileMapping reader = SharedMemory.open(mapping.name(), Access.READ)) {
            assertThrows(AccessDeniedException.class, () -> reader.publish(0, new byte[1]));
            mapping.publish(0, new byte[]{42});
            assertEquals(42, reader.read(0, 1)[0]);
        }
    }

    @Test
    void zeroCopyReadsSeeOnlyWholeChanges() {
        mapping.publish(0, 16, r -> {
            r.set(ValueLayout.JAVA_LONG, 0, 7);
            r.set(ValueLayout.JAVA_LONG, 8, 7);
        });
        long sum = mapping.read(0, 16, r -> r.get(ValueLayout.JAVA_LONG, 0) + r.get(ValueLayout.JAVA_LONG, 8));
        assertEquals(14, sum);
    }

    @Test
    void snapshotsStartWithTheCurrentStateAndFollowChangesToTheirRange() {
        mapping.publish(0, new byte[]{5});
        StepVerifier.create(mapping.snapshots(0, 2).take(3))
                .assertNext(s -> assertArrayEquals(new byte[]{5, 0}, s.data()))
                .then(() -> {
                    mapping.publish(100, new byte[]{1}); // elsewhere: no snapshot
                    mapping.publish(1, new byte[]{6});
                })
                .assertNext(s -> {
                    assertArrayEquals(new byte[]{5, 6}, s.data());
                    assertEquals(3, s.sequence());
                    assertFalse(s.torn());
                })
                .then(() -> mapping.publish(0, new byte[]{7, 8}))
                .assertNext(s -> assertArrayEquals(new byte[]{7, 8}, s.data()))
                .expectComplete()
                .verify(WAIT);
        // snapshots are values: equal by their bytes, not by the arrays' identity
        assertEquals(mapping.snapshot(0, 2), mapping.snapshot(0, 2));
        assertEquals(mapping.snapshot(0, 2).hashCode(), mapping.snapshot(0, 2).hashCode());
        assertFalse(mapping.snapshot(0, 2).equals(mapping.snapshot(0, 3)));
        assertEquals("Snapshot[sequence=4, length=2, torn=false]", mapping.snapshot(0, 2).toString());
    }

    @Test
    void cancellingAFeedOpenedWithWithMappingUnmapsItsViewsAndClosesTheObject() throws Exception {
        String name = TestNames.unique("using");
        CountDownLatch subscribed = new CountDownLatch(1);
        AtomicReference<Path> data = new AtomicReference<>();
        Flux<ChangeEvent> feed = SharedMemory.withMapping(() -> SharedMemory.create(name, 8192), m -> {
            data.set(m.dataPath());
            return m.changes().doOnSubscribe(s -> subscribed.countDown());
        });
        var disposable = feed.subscribe();
        assertTrue(subscribed.await(10, TimeUnit.SECONDS));
        try (FileMapping other = SharedMemory.open(name, Access.READ_WRITE)) {
            other.publish(0, new byte[]{1});
            assertTrue(mappedInThisProcess(data.get()) >= 2, "the feed's mapping and ours");
            disposable.dispose();
            // usingWhen may run the cleanup on the thread that opened the mapping if cancel races its set-up
            assertEquals(1, awaitMappings(data.get(), 1), "cancel unmapped the feed's view, ours remains");
        }
        assertEquals(0, mappedInThisProcess(data.get()));
        assertFalse(Files.exists(data.get()), "the last close destroyed the object");
    }

    @Test
    void theFinalReleaseOfAFileBackedMappingUsedAsAResourceLeavesThePublishedDataInTheFile(
            @org.junit.jupiter.api.io.TempDir Path dir) throws Exception {
        Path file = dir.resolve("state.bin");
        Files.write(file, new byte[4096]);
        StepVerifier.create(SharedMemory.withMapping(() -> SharedMemory.createFromFile(file, null, 0),
                        m -> m.changes(ChangeOptions.DEFAULT.withStart(ChangeOptions.Start.OLDEST))
                                .doOnSubscribe(s -> m.publish(10, new byte[]{7, 7, 7}))))
                .assertNext(e -> assertEquals(3, e.length()))
                .thenCancel()
                .verify(WAIT);
        byte[] content = Files.readAllBytes(file);
        assertArrayEquals(new byte[]{7, 7, 7}, java.util.Arrays.copyOfRange(content, 10, 13));
        // the cancel ran on the change thread (StepVerifier cancels from the thread of the last signal),
        // which lets go of the object when that callback returns: the file is then free again
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (true) {
            try {
                SharedMemory.createFromFile(file, null, 0).close();
                break;
            } catch (SharingViolationException e) {
                if (System.nanoTime() > deadline) {
                    throw e;
                }
                Thread.sleep(10);
            }
        }
    }

    @Test
    void withViewUnmapsOnCompleteAndOnError() throws Exception {
        Path data = mapping.dataPath();
        StepVerifier.create(SharedMemory.withView(mapping, Access.READ_WRITE, 0, 64,
                        view -> Flux.just(view.segment().get(ValueLayout.JAVA_BYTE, 0))))
                .then(() -> assertEquals(0, 0))
                .expectNext((byte) 0)
                .expectComplete()
                .verify(WAIT);
        assertEquals(0, mappedInThisProcess(data));
        StepVerifier.create(SharedMemory.withView(mapping, Access.READ, 0, 64,
                        view -> Flux.error(new IllegalStateException("boom"))))
                .expectErrorMessage("boom")
                .verify(WAIT);
        assertEquals(0, mappedInThisProcess(data));
    }

    /** Polls (bounded, sleeping) until the file has {@code expected} mappings; {@return the last count} */
    static long awaitMappings(Path file, long expected) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        long count = mappedInThisProcess(file);
        while (count != expected && System.nanoTime() < deadline) {
            Thread.sleep(10);
            count = mappedInThisProcess(file);
        }
        return count;
    }

    /** {@return how many mappings of the file /proc/self/maps lists} */
    static long mappedInThisProcess(Path file) throws IOException {
        List<String> maps = new ArrayList<>(Files.readAllLines(Path.of("/proc/self/maps")));
        return maps.stream().filter(line -> line.endsWith(" " + file)).count();
    }
}
