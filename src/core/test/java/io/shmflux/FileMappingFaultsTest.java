package io.shmflux;

import io.shmflux.internal.namespace.NameSpace;
import io.shmflux.internal.namespace.ObjectName;
import io.shmflux.testing.NoLeftovers;
import io.shmflux.testing.TestNames;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import reactor.core.publisher.BaseSubscriber;
import reactor.test.StepVerifier;

import java.io.RandomAccessFile;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Faults of a mapping's own handle: closing it under a running call or feed, and its files changed under it. */
@ExtendWith(NoLeftovers.class)
class FileMappingFaultsTest {

    @Test
    void aPublishInFlightWhenTheHandleClosesCompletesAndLaterCallsAreRefused() throws Exception {
        String name = TestNames.unique("inflight");
        FileMapping mapping = SharedMemory.create(name, 4096);
        try (FileMapping other = SharedMemory.open(name, Access.READ)) {
            CountDownLatch inside = new CountDownLatch(1);
            CountDownLatch closed = new CountDownLatch(1);
            AtomicReference<Throwable> thrown = new AtomicReference<>();
            AtomicReference<Long> sequence = new AtomicReference<>();
            Thread writer = Thread.ofPlatform().start(() -> {
                try {
                    sequence.set(mapping.publish(0, 8, range -> {
                        inside.countDown();
                        awaitQuietly(closed);
                        range.set(ValueLayout.JAVA_LONG, 0, 42L);
                    }));
                } catch (Throwable e) {
                    thrown.set(e);
                }
            });
            assertTrue(inside.await(10, TimeUnit.SECONDS));
            mapping.close();
            assertThrows(HandleClosedException.class, () -> mapping.publish(0, new byte[]{1}));
            assertThrows(HandleClosedException.class, () -> mapping.read(0, 8));
            assertThrows(HandleClosedException.class, mapping::sequence);
            closed.countDown();
            writer.join(10_000);
            assertNull(thrown.get());
            assertEquals(1L, sequence.get());
            assertEquals(1L, other.sequence());
            assertArrayEquals(new byte[]{42, 0, 0, 0, 0, 0, 0, 0}, other.read(0, 8));
        }
    }

    @Test
    void readOfMoreThanAnArrayCanHoldIsAnInvalidParameter() {
        try (FileMapping mapping = SharedMemory.create(TestNames.unique("huge"), 3L << 30,
                MappingOptions.DEFAULT.withPageCommit(PageCommit.RESERVE))) {
            InvalidParameterException e = assertThrows(InvalidParameterException.class,
                    () -> mapping.read(0, Integer.MAX_VALUE));
            assertTrue(e.getMessage().contains("length=" + Integer.MAX_VALUE), e.getMessage());
            assertThrows(InvalidParameterException.class, () -> mapping.snapshot(0, Integer.MAX_VALUE));
        }
    }

    @Test
    void anObjectTooLargeToMapWholeStillPublishesReadsAndFeeds() {
        long size = 1L << 48; // beyond the 47-bit user address space of x86_64: no whole-object view fits
        try (FileMapping mapping = SharedMemory.create(TestNames.unique("vast"), size,
                MappingOptions.DEFAULT.withPageCommit(PageCommit.RESERVE))) {
            assertThrows(OutOfSpaceException.class, () -> mapping.map(Access.READ_WRITE));
            long far = size - 4096;
            StepVerifier.create(mapping.changes().take(2))
                    .then(() -> {
                        mapping.publish(0, new byte[]{1, 2});
                        mapping.publish(far, new byte[]{3});
                    })
                    .assertNext(e -> assertEquals(0, e.offset()))
                    .assertNext(e -> assertEquals(far, e.offset()))
                    .expectComplete()
                    .verify(java.time.Duration.ofSeconds(10));
            assertArrayEquals(new byte[]{1, 2}, mapping.read(0, 2));
            assertArrayEquals(new byte[]{3}, mapping.read(far, 1));
            assertEquals(3, (byte) mapping.read(far, 1, segment -> segment.get(ValueLayout.JAVA_BYTE, 0)));
        }
    }

    @Test
    void closeWhileASubscriberIsBlockedInOnNextReturnsWithinASlice() throws Exception {
        FileMapping mapping = SharedMemory.create(TestNames.unique("blocked"), 4096);
        CountDownLatch inOnNext = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        CountDownLatch terminated = new CountDownLatch(1);
        mapping.changes().doFinally(signal -> terminated.countDown()).subscribe(new BaseSubscriber<>() {
            @Override
            protected void hookOnNext(ChangeEvent value) {
                inOnNext.countDown();
                awaitQuietly(release);
            }
        });
        mapping.publish(0, new byte[]{1});
        assertTrue(inOnNext.await(10, TimeUnit.SECONDS));
        long start = System.nanoTime();
        mapping.close();
        long tookMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
        assertTrue(tookMillis < 1_500, "close took " + tookMillis + " ms");
        release.countDown();
        assertTrue(terminated.await(10, TimeUnit.SECONDS), "the feed ends once onNext returns");
        awaitGone(mapping.dataPath());
    }

    @Test
    void closeWakesTheChangeThreadWhereverItIsInItsSleepSoNoCloseWaitsForASlice() throws Exception {
        long slowestMillis = 0;
        for (int round = 0; round < 200; round++) {
            FileMapping mapping = SharedMemory.create(TestNames.unique("close-wake"), 4096);
            CountDownLatch subscribed = new CountDownLatch(1);
            mapping.changes().doOnSubscribe(s -> subscribed.countDown()).subscribe();
            assertTrue(subscribed.await(10, TimeUnit.SECONDS));
            java.util.concurrent.locks.LockSupport.parkNanos(java.util.concurrent.ThreadLocalRandom.current()
                    .nextLong(0, 2_000_000)); // the close lands anywhere in the thread's way to sleep
            long start = System.nanoTime();
            Path data = mapping.dataPath();
            mapping.close();
            slowestMillis = Math.max(slowestMillis, TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start));
            assertFalse(Files.exists(data), "the close released the object itself, not the change thread later");
        }
        // a lost wake-up would make a close wait for the thread's 1 s sleep slice
        assertTrue(slowestMillis < 800, "slowest close " + slowestMillis + " ms");
    }

    @Test
    void aControlFileTruncatedUnderTheHandleStillClosesEndsItsFeedsAndLeavesNothing() throws Exception {
        String name = TestNames.unique("trunc");
        FileMapping mapping = SharedMemory.create(name, 4096);
        mapping.publish(0, new byte[]{1});
        CountDownLatch ended = new CountDownLatch(1);
        AtomicReference<Throwable> error = new AtomicReference<>();
        CountDownLatch subscribed = new CountDownLatch(1);
        mapping.changes().doOnSubscribe(s -> subscribed.countDown())
                .subscribe(e -> { }, e -> { error.set(e); ended.countDown(); }, ended::countDown);
        assertTrue(subscribed.await(10, TimeUnit.SECONDS));
        mapping.publish(0, new byte[]{2}); // the change thread is up and running
        Path control = Path.of(NameSpace.get().controlPath(ObjectName.parse(name)));
        try (RandomAccessFile file = new RandomAccessFile(control.toFile(), "rw")) {
            file.setLength(100);
        }
        mapping.close();
        assertTrue(ended.await(10, TimeUnit.SECONDS), "the feed ends");
        if (error.get() != null) {
            assertInstanceOf(SharedMemoryException.class, error.get());
        }
        assertFalse(Files.exists(control));
        assertFalse(Files.exists(mapping.dataPath()));
    }

    @Test
    void theWriterSlotLimitGivesAClearErrorOnlyHandlesThatPublishTakeSlotsAndAClosedOnesIsReused() {
        String name = TestNames.unique("slots");
        java.util.List<FileMapping> writers = new java.util.ArrayList<>();
        try (FileMapping creator = SharedMemory.create(name, 4096)) { // never publishes: holds no writer slot
            for (int i = 0; i < 256; i++) {
                FileMapping writer = SharedMemory.open(name, Access.READ_WRITE);
                writers.add(writer);
                writer.publish(0, new byte[]{(byte) i}); // a handle takes its slot when it first uses the protocol
            }
            try (FileMapping reader = SharedMemory.open(name, Access.READ);
                 FileMapping readWriteReader = SharedMemory.open(name, Access.READ_WRITE)) {
                // handles that only read or subscribe take no writer slot, even when they could write
                assertEquals(1, reader.read(0, 1).length);
                assertEquals(1, readWriteReader.read(0, 1).length);
                StepVerifier.create(readWriteReader.changes().take(1))
                        .then(() -> writers.get(0).publish(0, new byte[]{9}))
                        .expectNextCount(1)
                        .expectComplete()
                        .verify(java.time.Duration.ofSeconds(10));
            }
            try (FileMapping oneTooMany = SharedMemory.open(name, Access.READ_WRITE)) {
                SharedMemoryException e = assertThrows(SharedMemoryException.class,
                        () -> oneTooMany.publish(0, new byte[]{1}));
                assertTrue(e.getMessage().startsWith("no free slot: object=")
                        && e.getMessage().contains("table=writer slots, slots=256"), e.getMessage());
                writers.remove(writers.size() - 1).close();
                assertEquals(258, oneTooMany.publish(0, new byte[]{2}), "the closed handle's slot is free again");
            }
            assertEquals(258, creator.sequence());
        } finally {
            writers.forEach(FileMapping::close);
        }
    }

    private static void awaitGone(Path path) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (Files.exists(path) && System.nanoTime() < deadline) {
            Thread.sleep(10);
        }
        assertFalse(Files.exists(path), path + " still exists");
    }

    private static void awaitQuietly(CountDownLatch latch) {
        try {
            if (!latch.await(30, TimeUnit.SECONDS)) {
                throw new IllegalStateException("test latch timed out");
            }
        } catch (InterruptedException e) {
            throw new IllegalStateException(e);
        }
    }
}
