package io.shmflux.sync;

import io.shmflux.Access;
import io.shmflux.FileMapping;
import io.shmflux.HandleClosedException;
import io.shmflux.InvalidParameterException;
import io.shmflux.SharedMemory;
import io.shmflux.WrongObjectKindException;
import io.shmflux.testing.NoLeftovers;
import io.shmflux.testing.TestNames;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

@ExtendWith(NoLeftovers.class)
class WaitableTest {

    @ParameterizedTest(name = "futex_waitv={0}")
    @ValueSource(booleans = {true, false})
    void waitAnyReturnsTheIndexOfTheObjectThatBecameAvailable(boolean useWaitv) throws Exception {
        try (NamedEvent stop = NamedEvent.createOrOpen(TestNames.unique("any-stop"), EventReset.MANUAL);
             NamedSemaphore work = NamedSemaphore.createOrOpen(TestNames.unique("any-work"), 0, 10);
             NamedMutex mutex = NamedMutex.createOrOpen(TestNames.unique("any-mutex"), InitialOwner.CALLING_THREAD)) {
            List<Waitable> objects = List.of(stop, work, mutex);
            ExecutorService pool = Executors.newSingleThreadExecutor();
            try {
                Future<WaitAnyResult> first = pool.submit(() -> Waitable.awaitAny(Duration.ofSeconds(10), objects, useWaitv));
                Thread.sleep(200);
                assertFalse(first.isDone());
                work.release(1);
                assertEquals(new WaitAnyResult(1, WaitResult.SIGNALED), first.get(2, TimeUnit.SECONDS));

                Future<WaitAnyResult> second = pool.submit(() -> Waitable.awaitAny(Duration.ofSeconds(10), objects, useWaitv));
                Thread.sleep(200);
                mutex.unlock();
                assertEquals(new WaitAnyResult(2, WaitResult.SIGNALED), second.get(2, TimeUnit.SECONDS));
                assertTrue(pool.submit(mutex::isHeldByCurrentThread).get(), "the waiter owns the mutex it was given");
                pool.submit(mutex::unlock).get();

                WaitAnyResult none = Waitable.awaitAny(Duration.ofMillis(150), stop, work);
                assertTrue(none.timedOut());
                assertEquals(-1, none.index());
                stop.set();
                work.release(1);
                assertEquals(new WaitAnyResult(0, WaitResult.SIGNALED), Waitable.awaitAny(Duration.ZERO, objects),
                        "the lowest available index wins");
                assertEquals(WaitResult.SIGNALED, work.acquire(Duration.ZERO), "and nothing else was taken");
            } finally {
                pool.shutdownNow();
            }
        }
    }

    @Test
    void waitAnyReportsAnAbandonedMutex() throws Exception {
        try (NamedEvent event = NamedEvent.createOrOpen(TestNames.unique("any-ev"), EventReset.AUTO);
             NamedMutex mutex = NamedMutex.createOrOpen(TestNames.unique("any-abandon"))) {
            Thread.ofPlatform().start(() -> mutex.lock(Duration.ZERO)).join();
            assertEquals(new WaitAnyResult(1, WaitResult.ABANDONED), Waitable.awaitAny(Duration.ofSeconds(1), event, mutex));
            mutex.unlock();
        }
    }

    @Test
    void waitAnyRejectsBadInput() {
        try (NamedEvent event = NamedEvent.createOrOpen(TestNames.unique("any-bad"), EventReset.AUTO)) {
            assertThrows(InvalidParameterException.class, () -> Waitable.awaitAny(Duration.ofMillis(-1), event));
            assertEquals("wait-any takes 1 to 64 objects: count=0",
                    assertThrows(InvalidParameterException.class, () -> Waitable.awaitAny(Duration.ZERO)).getMessage());
            NamedEvent closed = NamedEvent.createOrOpen(TestNames.unique("any-closed"), EventReset.AUTO);
            closed.close();
            assertThrows(HandleClosedException.class, () -> Waitable.awaitAny(Duration.ZERO, event, closed));
            event.set();
            assertEquals(WaitResult.SIGNALED, event.await(Duration.ZERO), "a failed wait-any took nothing");
        }
    }

    @Test
    void syncObjectsAndMappingsShareOneNameSpace() {
        String eventName = TestNames.unique("kind-event");
        try (NamedEvent event = NamedEvent.createOrOpen(eventName, EventReset.AUTO)) {
            WrongObjectKindException e = assertThrows(WrongObjectKindException.class, () -> NamedMutex.createOrOpen(eventName));
            assertTrue(e.getMessage().endsWith("kind=event, requested=mutex"), e.getMessage());
            assertThrows(WrongObjectKindException.class, () -> NamedSemaphore.createOrOpen(eventName, 0, 1));
            assertThrows(WrongObjectKindException.class, () -> SharedMemory.createOrOpen(eventName, 4096));
            assertTrue(event.isOpen());
        }
        String mutexName = TestNames.unique("kind-mutex");
        try (NamedMutex mutex = NamedMutex.createOrOpen(mutexName)) {
            assertThrows(WrongObjectKindException.class, () -> SharedMemory.open(mutexName, Access.READ));
            assertThrows(WrongObjectKindException.class, () -> NamedEvent.open(mutexName));
        }
        String mapName = TestNames.unique("kind-map");
        try (FileMapping mapping = SharedMemory.createOrOpen(mapName, 4096)) {
            assertThrows(WrongObjectKindException.class, () -> NamedMutex.open(mapName));
            assertThrows(WrongObjectKindException.class, () -> NamedSemaphore.createOrOpen(mapName, 1, 1));
        }
    }
}
