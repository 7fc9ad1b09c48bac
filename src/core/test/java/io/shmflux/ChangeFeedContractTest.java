package io.shmflux;

import io.shmflux.testing.NoLeftovers;
import io.shmflux.testing.TestNames;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import reactor.core.publisher.Flux;
import reactor.test.StepVerifier;

import java.lang.foreign.ValueLayout;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The change feed's contract, one rule after another (the guarantees listed in change-feed.md). */
@ExtendWith(NoLeftovers.class)
class ChangeFeedContractTest {

    private static final Duration WAIT = Duration.ofSeconds(10);

    private FileMapping mapping;

    @BeforeEach
    void create() {
        mapping = SharedMemory.create(TestNames.unique("contract"), 4096,
                MappingOptions.DEFAULT.withChangeRingCapacity(8).withPublishTimeout(Duration.ofMillis(300)));
    }

    @AfterEach
    void close() {
        mapping.close();
    }

    // ---- 1. no window --------------------------------------------------------------------------

    @Test
    void aChangePublishedFromDoOnSubscribeIsDelivered() {
        StepVerifier.create(mapping.changes().doOnSubscribe(s -> mapping.publish(0, new byte[]{1})).take(1))
                .assertNext(e -> {
                    assertEquals(1, e.sequence());
                    assertEquals(0, e.missed());
                })
                .expectComplete()
                .verify(WAIT);
    }

    @Test
    void aChangePublishedByAnotherThreadToldSubscribedIsDelivered() throws Exception {
        CountDownLatch subscribed = new CountDownLatch(1);
        CompletableFuture<Long> published = CompletableFuture.supplyAsync(() -> {
            try {
                assertTrue(subscribed.await(10, TimeUnit.SECONDS));
            } catch (InterruptedException e) {
                throw new IllegalStateException(e);
            }
            return mapping.publish(0, new byte[]{1});
        });
        StepVerifier.create(mapping.changes().doOnSubscribe(s -> subscribed.countDown()).take(1))
                .assertNext(e -> assertEquals(1, e.sequence()))
                .expectComplete()
                .verify(WAIT);
        assertEquals(1, published.get(10, TimeUnit.SECONDS));
    }

    @Test
    void snapshotsRegisterBeforeTheirFirstCopySoTheNextChangeIsNeverLost() {
        mapping.publish(0, new byte[]{5});
        AtomicBoolean first = new AtomicBoolean(true);
        // a change published as soon as the first copy is out (here: from its onNext) must lead to another
        StepVerifier.create(mapping.snapshots(0, 1).doOnNext(s -> {
                    if (first.getAndSet(false)) {
                        mapping.publish(0, new byte[]{6});
                    }
                }))
                .assertNext(s -> assertArrayEquals(new byte[]{5}, s.data()))
                .assertNext(s -> {
                    assertArrayEquals(new byte[]{6}, s.data());
                    assertEquals(2, s.sequence());
                })
                .then(() -> mapping.publish(0, new byte[]{7}))
                .assertNext(s -> assertArrayEquals(new byte[]{7}, s.data()))
                .thenCancel()
                .verify(WAIT);
    }

    // ---- 2. re-entrancy ------------------------------------------------------------------------

    @Test
    void callsInsideAWriterOfTheSameObjectAreRefusedAndTheOuterChangeCompletes() {
        List<Throwable> refused = new ArrayList<>();
        StepVerifier.create(mapping.changes().take(2))
                .then(() -> {
                    try (FileMapping other = SharedMemory.open(mapping.name(), Access.READ_WRITE)) {
                        mapping.publish(0, 8, range -> {
                            range.set(ValueLayout.JAVA_LONG, 0, 1L);
                            refused.add(catching(() -> mapping.publish(8, new byte[]{1})));
                            refused.add(catching(() -> mapping.read(0, 8)));
                            refused.add(catching(() -> mapping.snapshot(0, 8)));
                            refused.add(catching(() -> mapping.read(0, 8, r -> r.get(ValueLayout.JAVA_LONG, 0))));
                            refused.add(catching(() -> other.read(0, 8))); // another handle of the object
                            refused.add(catching(() -> other.publish(0, new byte[]{1})));
                            refused.add(catching(mapping::completeChanges));
                        });
                        mapping.publish(8, new byte[]{2});
                    }
                })
                .assertNext(e -> {
                    assertEquals(1, e.sequence());
                    assertFalse(e.torn(), "the outer change completed normally");
                })
                .assertNext(e -> assertEquals(2, e.sequence(), "numbers stay gap-free and increasing"))
                .expectComplete()
                .verify(WAIT);
        assertEquals(7, refused.size());
        for (Throwable t : refused) {
            ReentrantChangeException e = assertInstanceOf(ReentrantChangeException.class, t);
            assertTrue(e.getMessage().startsWith("called inside a writer of the same object: object="), e.getMessage());
        }
        assertEquals(1L, (long) mapping.read(0, 8, r -> r.get(ValueLayout.JAVA_LONG, 0)));
        assertEquals(2, mapping.sequence());
    }

    @Test
    void aWriterMayReadAndPublishOtherObjects() {
        try (FileMapping other = SharedMemory.create(TestNames.unique("other"), 4096)) {
            mapping.publish(0, 1, range -> {
                other.publish(0, new byte[]{3});
                range.set(ValueLayout.JAVA_BYTE, 0, other.read(0, 1)[0]);
            });
            assertArrayEquals(new byte[]{3}, mapping.read(0, 1));
        }
    }

    @Test
    void anotherThreadsReadWaitsForTheWriterAndSeesTheWholeChange() throws Exception {
        CountDownLatch writing = new CountDownLatch(1);
        CompletableFuture<Snapshot> read = new CompletableFuture<>();
        Thread reader = Thread.ofPlatform().start(() -> {
            try {
                assertTrue(writing.await(10, TimeUnit.SECONDS));
                read.complete(mapping.snapshot(0, 16));
            } catch (Throwable t) {
                read.completeExceptionally(t);
            }
        });
        mapping.publish(0, 16, range -> {
            range.set(ValueLayout.JAVA_LONG, 0, 7L);
            writing.countDown();
            sleep(100); // the reader is now waiting for this change
            range.set(ValueLayout.JAVA_LONG, 8, 7L);
        });
        Snapshot snapshot = read.get(10, TimeUnit.SECONDS);
        reader.join(10_000);
        assertEquals(1, snapshot.sequence());
        assertEquals(7L, java.lang.foreign.MemorySegment.ofArray(snapshot.data()).get(ValueLayout.JAVA_LONG_UNALIGNED, 8));
    }

    // ---- 3. bounded reads (the dead-writer case: CrossUserAccessTest) ------------------------------

    @Test
    void aReadWaitsForALiveWritersOpenChangeAtMostThePublishTimeout() throws Exception {
        CountDownLatch writing = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        CompletableFuture<Long> publish = CompletableFuture.supplyAsync(() -> mapping.publish(0, 8, range -> {
            writing.countDown();
            try {
                assertTrue(release.await(10, TimeUnit.SECONDS));
            } catch (InterruptedException e) {
                throw new IllegalStateException(e);
            }
        }));
        try {
            assertTrue(writing.await(10, TimeUnit.SECONDS));
            long start = System.nanoTime();
            WaitTimeoutException e = assertThrows(WaitTimeoutException.class, () -> mapping.read(0, 8));
            long millis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
            assertTrue(millis >= 290 && millis < 3000, "waited the object's timeout (300 ms): " + millis);
            assertTrue(e.getMessage().startsWith("read timed out waiting for a change in progress: object="),
                    e.getMessage());
            assertTrue(e.getMessage().contains("writerPid=" + ProcessHandle.current().pid()), e.getMessage());
        } finally {
            release.countDown();
        }
        assertEquals(1, publish.get(10, TimeUnit.SECONDS));
        assertArrayEquals(new byte[8], mapping.read(0, 8), "once the change ends, reads go on");
    }

    // ---- 4. resume -----------------------------------------------------------------------------

    @Test
    void aFeedResumesAfterASequenceAndCountsExactlyWhatTheRingNoLongerHolds() {
        for (int i = 0; i < 10; i++) {
            mapping.publish(0, new byte[]{(byte) i}); // the ring of 8 holds 3..10
        }
        StepVerifier.create(mapping.changes(ChangeOptions.DEFAULT.withStartAfter(5)).take(5))
                .assertNext(e -> {
                    assertEquals(6, e.sequence());
                    assertEquals(0, e.missed());
                })
                .expectNextCount(4)
                .expectComplete()
                .verify(WAIT);
        StepVerifier.create(mapping.changes(ChangeOptions.DEFAULT.withStartAfter(0)).take(1))
                .assertNext(e -> {
                    assertEquals(3, e.sequence());
                    assertEquals(2, e.missed(), "changes 1 and 2 are gone");
                })
                .expectComplete()
                .verify(WAIT);
        StepVerifier.create(mapping.changes(ChangeOptions.DEFAULT.withStartAfter(10)).take(1))
                .then(() -> mapping.publish(0, new byte[]{1}))
                .assertNext(e -> assertEquals(11, e.sequence()))
                .expectComplete()
                .verify(WAIT);
        assertThrows(InvalidParameterException.class, () -> ChangeOptions.DEFAULT.withStartAfter(-1));
    }

    // ---- 5. back pressure ----------------------------------------------------------------------

    @Test
    void aBackPressureSubscriberLosesNothingItsDemandPacesThePublisher() throws Exception {
        ChangeOptions lossless = ChangeOptions.DEFAULT.withOverflow(ChangeOptions.Overflow.BACK_PRESSURE);
        AtomicReference<CompletableFuture<Void>> publisher = new AtomicReference<>();
        StepVerifier.create(mapping.changes(lossless), 0)
                .then(() -> publisher.set(CompletableFuture.runAsync(() -> {
                    for (int i = 0; i < 30; i++) {
                        mapping.publish(0, new byte[]{(byte) i});
                    }
                })))
                .then(() -> awaitSequence(8))
                .expectNoEvent(Duration.ofMillis(100))
                .then(() -> assertEquals(8, mapping.sequence(), "the ring of 8 is full: the 9th publish waits"))
                .thenRequest(5)
                .expectNextCount(5)
                .then(() -> awaitSequence(13))
                .thenRequest(25)
                .expectNextCount(24)
                .assertNext(e -> {
                    assertEquals(30, e.sequence());
                    assertEquals(0, e.missed());
                })
                .thenCancel()
                .verify(WAIT);
        publisher.get().get(10, TimeUnit.SECONDS);
    }

    @Test
    void aStuckBackPressureSubscriberMakesPublishTimeOutWithNothingPublishedAndReportSubscribersGoOn() {
        ChangeOptions lossless = ChangeOptions.DEFAULT.withOverflow(ChangeOptions.Overflow.BACK_PRESSURE);
        AtomicBoolean writerRan = new AtomicBoolean();
        StepVerifier.create(mapping.changes(lossless), 0)
                .then(() -> {
                    StepVerifier.create(mapping.changes().take(8)) // a REPORT subscriber is not held back
                            .then(() -> {
                                for (int i = 0; i < 8; i++) {
                                    mapping.publish(0, new byte[]{(byte) i});
                                }
                            })
                            .expectNextCount(8)
                            .expectComplete()
                            .verify(WAIT);
                    long start = System.nanoTime();
                    PublishTimeoutException e = assertThrows(PublishTimeoutException.class,
                            () -> mapping.publish(0, 1, r -> writerRan.set(true)));
                    long millis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
                    assertTrue(millis >= 290 && millis < 3000, "waited the publish timeout (300 ms): " + millis);
                    assertEquals(ProcessHandle.current().pid(), e.subscriberPid());
                    assertTrue(e.getMessage().contains("subscriberPid=" + ProcessHandle.current().pid()), e.getMessage());
                    assertFalse(writerRan.get(), "the writer did not run");
                    assertEquals(8, mapping.sequence(), "nothing was published");
                })
                .thenRequest(8)
                .expectNextCount(8)
                .then(() -> assertEquals(9, mapping.publish(0, new byte[]{9}), "room again once it took them"))
                .thenRequest(1)
                .assertNext(e -> assertEquals(9, e.sequence()))
                .thenCancel()
                .verify(WAIT);
    }

    @Test
    void cancellingABackPressureSubscriberReleasesAWaitingPublisherAtOnce() throws Exception {
        ChangeOptions lossless = ChangeOptions.DEFAULT.withOverflow(ChangeOptions.Overflow.BACK_PRESSURE);
        mapping.close();
        mapping = SharedMemory.create(TestNames.unique("contract"), 4096,
                MappingOptions.DEFAULT.withChangeRingCapacity(8)); // the default timeout: 10 s
        var subscription = mapping.changes(lossless).subscribe(e -> { }, e -> { }, () -> { },
                s -> { /* no demand */ });
        for (int i = 0; i < 8; i++) {
            mapping.publish(0, new byte[]{(byte) i});
        }
        CompletableFuture<Long> ninth = CompletableFuture.supplyAsync(() -> mapping.publish(0, new byte[]{9}));
        Thread.sleep(100);
        assertFalse(ninth.isDone(), "the 9th change waits for the subscriber");
        long start = System.nanoTime();
        subscription.dispose();
        assertEquals(9, ninth.get(5, TimeUnit.SECONDS));
        assertTrue(System.nanoTime() - start < TimeUnit.SECONDS.toNanos(1));
    }

    @Test
    void the65thBackPressureSubscriberGetsAClearErrorAndACancelledOnesSlotIsReused() {
        ChangeOptions lossless = ChangeOptions.DEFAULT.withOverflow(ChangeOptions.Overflow.BACK_PRESSURE);
        List<reactor.core.Disposable> held = new ArrayList<>();
        try {
            for (int i = 0; i < 64; i++) {
                held.add(mapping.changes(lossless).subscribe());
            }
            StepVerifier.create(mapping.changes(lossless))
                    .expectErrorSatisfies(e -> {
                        assertInstanceOf(SharedMemoryException.class, e);
                        assertTrue(e.getMessage().startsWith("no free slot: object="), e.getMessage());
                        assertTrue(e.getMessage().contains("table=back-pressure subscriber slots, slots=64"), e.getMessage());
                    })
                    .verify(WAIT);
            held.remove(0).dispose();
            StepVerifier.create(mapping.changes(lossless).take(1))
                    .then(() -> mapping.publish(0, new byte[]{1}))
                    .expectNextCount(1)
                    .expectComplete()
                    .verify(WAIT);
        } finally {
            held.forEach(reactor.core.Disposable::dispose);
        }
    }

    // ---- 6. end of stream ----------------------------------------------------------------------

    @Test
    void completeChangesCompletesFeedsAfterEveryEarlierChangeAndRefusesLaterPublishes() {
        StepVerifier.create(mapping.changes())
                .then(() -> {
                    mapping.publish(0, new byte[]{1});
                    mapping.publish(0, new byte[]{2});
                    mapping.publish(0, new byte[]{3});
                    assertEquals(4, mapping.completeChanges());
                    assertEquals(4, mapping.completeChanges(), "idempotent");
                })
                .expectNextCount(3)
                .expectComplete()
                .verify(WAIT);
        ChangesCompletedException e = assertThrows(ChangesCompletedException.class,
                () -> mapping.publish(0, new byte[]{4}));
        assertTrue(e.getMessage().startsWith("changes completed: object="), e.getMessage());
        StepVerifier.create(mapping.changes(ChangeOptions.DEFAULT.withStart(ChangeOptions.Start.OLDEST)))
                .expectNextCount(3)
                .expectComplete()
                .verify(WAIT);
        StepVerifier.create(mapping.changes(), 0)
                .expectComplete()
                .verify(WAIT);
        try (FileMapping other = SharedMemory.open(mapping.name(), Access.READ_WRITE)) {
            assertThrows(ChangesCompletedException.class, () -> other.publish(0, new byte[]{4}));
            StepVerifier.create(other.changes(ChangeOptions.DEFAULT.withStartAfter(1)))
                    .expectNextCount(2)
                    .expectComplete()
                    .verify(WAIT);
        }
    }

    // ---- 7. visible options --------------------------------------------------------------------

    @Test
    void createOrOpenOfAnExistingObjectKeepsItsRingCapacity() {
        try (FileMapping again = SharedMemory.createOrOpen(mapping.name(), 4096,
                MappingOptions.DEFAULT.withChangeRingCapacity(64))) {
            assertFalse(again.created());
            assertEquals(8, again.changeRingCapacity());
        }
        assertEquals(8, mapping.changeRingCapacity());
        try (FileMapping fresh = SharedMemory.create(TestNames.unique("default"), 4096)) {
            assertEquals(MappingOptions.DEFAULT_CHANGE_RING_CAPACITY, fresh.changeRingCapacity());
        }
        assertThrows(InvalidParameterException.class, () -> MappingOptions.DEFAULT.withPublishTimeout(Duration.ZERO));
    }

    private void awaitSequence(long sequence) {
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (mapping.sequence() < sequence) {
            assertTrue(System.nanoTime() < deadline, "sequence " + mapping.sequence() + " never reached " + sequence);
            sleep(1);
        }
    }

    private static Throwable catching(Runnable call) {
        try {
            call.run();
            return new AssertionError("not refused");
        } catch (Throwable t) {
            return t;
        }
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
