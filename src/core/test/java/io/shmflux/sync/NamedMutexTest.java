package io.shmflux.sync;

import io.shmflux.AbandonedMutexException;
import io.shmflux.HandleClosedException;
import io.shmflux.InvalidParameterException;
import io.shmflux.NotOwnerException;
import io.shmflux.ObjectAlreadyExistsException;
import io.shmflux.ObjectNotFoundException;
import io.shmflux.WaitInterruptedException;
import io.shmflux.WaitTimeoutException;
import io.shmflux.testing.NoLeftovers;
import io.shmflux.testing.TestNames;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.time.Duration;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

@ExtendWith(NoLeftovers.class)
class NamedMutexTest {

    @Test
    void theOwnerMayLockAgainAndMustUnlockAsOften() throws Exception {
        try (NamedMutex mutex = NamedMutex.createOrOpen(TestNames.unique("recursive"))) {
            assertEquals(WaitResult.SIGNALED, mutex.lock(Duration.ZERO));
            assertEquals(WaitResult.SIGNALED, mutex.lock(Duration.ZERO));
            mutex.unlock();
            assertEquals(WaitResult.TIMEOUT, onOtherThread(() -> mutex.lock(Duration.ZERO)), "still held once");
            mutex.unlock();
            assertEquals(WaitResult.SIGNALED, onOtherThread(() -> {
                WaitResult r = mutex.lock(Duration.ZERO);
                mutex.unlock();
                return r;
            }));
        }
    }

    @Test
    void ownershipBelongsToTheThreadAcrossHandlesOfTheSameProcess() {
        String name = TestNames.unique("two-handles");
        try (NamedMutex a = NamedMutex.createOrOpen(name); NamedMutex b = NamedMutex.open(name)) {
            assertTrue(a.created());
            assertFalse(b.created());
            assertEquals(WaitResult.SIGNALED, a.lock(Duration.ZERO));
            assertEquals(WaitResult.SIGNALED, b.lock(Duration.ZERO), "recursive through another handle");
            assertTrue(b.isHeldByCurrentThread());
            b.unlock();
            a.unlock();
            assertFalse(a.isHeldByCurrentThread());
        }
    }

    @Test
    void unlockingAMutexThisThreadDoesNotOwnIsAnErrorAndChangesNothing() throws Exception {
        String name = TestNames.unique("not-owner");
        try (NamedMutex mutex = NamedMutex.createOrOpen(name)) {
            NotOwnerException free = assertThrows(NotOwnerException.class, mutex::unlock);
            assertEquals("mutex not owned by this thread: object=mutex \"" + name + "\", thread="
                    + Thread.currentThread().getName() + ", owner=none", free.getMessage());
            assertEquals(WaitResult.SIGNALED, mutex.lock(Duration.ZERO));
            NotOwnerException other = onOtherThread(() -> assertThrows(NotOwnerException.class, mutex::unlock));
            assertTrue(other.getMessage().contains("owner=thread " + Thread.currentThread().getName()), other.getMessage());
            assertTrue(mutex.isHeldByCurrentThread(), "still owned");
            mutex.unlock();
        }
    }

    @Test
    void aZeroTimeoutTestsAndReturnsAtOnceAndANegativeOneIsAnError() throws Exception {
        try (NamedMutex mutex = NamedMutex.createOrOpen(TestNames.unique("timeouts"), InitialOwner.CALLING_THREAD)) {
            assertTrue(mutex.isHeldByCurrentThread(), "initial owner");
            long start = System.nanoTime();
            assertEquals(WaitResult.TIMEOUT, onOtherThread(() -> mutex.lock(Duration.ZERO)));
            assertTrue(System.nanoTime() - start < TimeUnit.MILLISECONDS.toNanos(500));
            assertEquals(WaitResult.TIMEOUT, onOtherThread(() -> mutex.lock(Duration.ofMillis(150))));
            InvalidParameterException e = assertThrows(InvalidParameterException.class,
                    () -> mutex.lock(Duration.ofMillis(-1)));
            assertEquals("negative timeout: timeout=PT-0.001S", e.getMessage());
            mutex.unlock();
            assertFalse(mutex.isHeldByCurrentThread(), "the rejected call changed nothing");
        }
    }

    @Test
    void createNewAndOpenExistingFailClearly() {
        String name = TestNames.unique("dispositions");
        assertThrows(ObjectNotFoundException.class, () -> NamedMutex.open(name));
        try (NamedMutex mutex = NamedMutex.create(name)) {
            assertThrows(ObjectAlreadyExistsException.class, () -> NamedMutex.create(name));
            NamedMutex opened = NamedMutex.createOrOpen(name, InitialOwner.CALLING_THREAD);
            assertFalse(opened.isHeldByCurrentThread(), "initial ownership only for the creator, as in Win32");
            opened.close();
            assertTrue(mutex.isOpen());
        }
        assertThrows(ObjectNotFoundException.class, () -> NamedMutex.open(name), "the last close destroyed it");
    }

    @Test
    void aThreadThatDiesHoldingTheMutexAbandonsIt() throws Exception {
        try (NamedMutex mutex = NamedMutex.createOrOpen(TestNames.unique("thread-death"))) {
            Thread owner = Thread.ofPlatform().start(() -> mutex.lock(Duration.ZERO));
            owner.join();
            assertEquals(WaitResult.ABANDONED, mutex.lock(Duration.ofSeconds(1)));
            assertTrue(mutex.isHeldByCurrentThread());
            mutex.unlock();
        }
    }

    @Test
    void aWaiterBlockedOnAThreadThatDiesIsToldAbandoned() throws Exception {
        try (NamedMutex mutex = NamedMutex.createOrOpen(TestNames.unique("thread-death-asleep"))) {
            java.util.concurrent.CountDownLatch locked = new java.util.concurrent.CountDownLatch(1);
            java.util.concurrent.CountDownLatch die = new java.util.concurrent.CountDownLatch(1);
            Thread owner = Thread.ofPlatform().start(() -> {
                mutex.lock(Duration.ZERO);
                locked.countDown();
                try {
                    die.await();
                } catch (InterruptedException ignored) {
                    // ends the thread
                }
            });
            locked.await();
            ExecutorService waiter = Executors.newSingleThreadExecutor();
            try {
                Future<WaitResult> result = waiter.submit(() -> mutex.lock(Duration.ofSeconds(10)));
                Thread.sleep(200);
                assertFalse(result.isDone());
                die.countDown();
                owner.join();
                assertEquals(WaitResult.ABANDONED, result.get(2, TimeUnit.SECONDS));
                waiter.submit(mutex::unlock).get();
            } finally {
                waiter.shutdownNow();
            }
        }
    }

    @Test
    void withLockRunsTheBodyHoldingTheMutexAndReportsTimeoutsAndAbandonment() throws Exception {
        String name = TestNames.unique("with-lock");
        try (NamedMutex mutex = NamedMutex.createOrOpen(name)) {
            assertEquals("done", mutex.withLock(Duration.ofSeconds(1), () -> {
                assertTrue(mutex.isHeldByCurrentThread());
                return "done";
            }));
            assertFalse(mutex.isHeldByCurrentThread());
            assertThrows(IllegalStateException.class, () -> mutex.withLock(Duration.ofSeconds(1), () -> {
                throw new IllegalStateException("body failed");
            }));
            assertFalse(mutex.isHeldByCurrentThread(), "unlocked when the body throws");
            mutex.lock(Duration.ZERO);
            WaitTimeoutException timeout = onOtherThread(() -> assertThrows(WaitTimeoutException.class,
                    () -> mutex.withLock(Duration.ofMillis(50), () -> "never")));
            assertEquals("mutex lock timed out: object=mutex \"" + name + "\", timeout=PT0.05S", timeout.getMessage());
            mutex.unlock();
            Thread.ofPlatform().start(() -> mutex.lock(Duration.ZERO)).join();
            assertThrows(AbandonedMutexException.class, () -> mutex.withLock(Duration.ofSeconds(1), () -> "never"));
            assertFalse(mutex.isHeldByCurrentThread(), "released again");
        }
    }

    @Test
    void interruptingAWaitingThreadEndsItsWaitPromptlyAndKeepsTheFlag() throws Exception {
        try (NamedMutex mutex = NamedMutex.createOrOpen(TestNames.unique("interrupt"))) {
            mutex.lock(Duration.ZERO);
            AtomicReference<Throwable> thrown = new AtomicReference<>();
            AtomicReference<Boolean> flag = new AtomicReference<>();
            Thread waiter = Thread.ofPlatform().start(() -> {
                try {
                    mutex.lock(Duration.ofSeconds(30));
                } catch (Throwable t) {
                    thrown.set(t);
                    flag.set(Thread.currentThread().isInterrupted());
                }
            });
            Thread.sleep(200);
            long start = System.nanoTime();
            waiter.interrupt();
            waiter.join(5000);
            long millis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
            System.out.println("interrupted wait ended after " + millis + " ms");
            assertFalse(waiter.isAlive());
            assertTrue(thrown.get() instanceof WaitInterruptedException, String.valueOf(thrown.get()));
            assertTrue(flag.get(), "interrupt status stays set");
            assertTrue(millis < 1000, "ended after " + millis + " ms");
            mutex.unlock();
            assertEquals(WaitResult.SIGNALED, onOtherThread(() -> {
                WaitResult r = mutex.lock(Duration.ofSeconds(1));
                mutex.unlock();
                return r;
            }), "no wake-up was lost to the interrupted waiter");
        }
    }

    @Test
    void closeIsIdempotentAndUseAfterCloseIsAClearError() throws Exception {
        String name = TestNames.unique("closed");
        NamedMutex mutex = NamedMutex.createOrOpen(name);
        mutex.close();
        mutex.close();
        assertFalse(mutex.isOpen());
        HandleClosedException e = assertThrows(HandleClosedException.class, () -> mutex.lock(Duration.ZERO));
        assertEquals("handle closed: object=mutex \"" + name + "\"", e.getMessage());
        assertThrows(HandleClosedException.class, mutex::unlock);
        assertThrows(HandleClosedException.class, mutex::isHeldByCurrentThread);
    }

    @Test
    void closingAHandleWhileAnotherThreadWaitsOnItEndsThatWait() throws Exception {
        String name = TestNames.unique("close-while-waiting");
        try (NamedMutex owner = NamedMutex.createOrOpen(name)) {
            owner.lock(Duration.ZERO);
            NamedMutex other = NamedMutex.open(name);
            ExecutorService waiter = Executors.newSingleThreadExecutor();
            try {
                Future<WaitResult> result = waiter.submit(() -> other.lock(Duration.ofSeconds(30)));
                Thread.sleep(200);
                other.close();
                java.util.concurrent.ExecutionException e = assertThrows(java.util.concurrent.ExecutionException.class,
                        () -> result.get(2, TimeUnit.SECONDS));
                assertTrue(e.getCause() instanceof HandleClosedException, String.valueOf(e.getCause()));
            } finally {
                waiter.shutdownNow();
            }
            owner.unlock();
        }
    }

    static <T> T onOtherThread(java.util.concurrent.Callable<T> task) throws Exception {
        ExecutorService thread = Executors.newSingleThreadExecutor();
        try {
            return thread.submit(task).get(30, TimeUnit.SECONDS);
        } finally {
            thread.shutdownNow();
        }
    }
}
