package io.shmflux.sync;

import io.shmflux.HandleClosedException;
import io.shmflux.InvalidParameterException;
import io.shmflux.ObjectNotFoundException;
import io.shmflux.TooManyPostsException;
import io.shmflux.testing.NoLeftovers;
import io.shmflux.testing.TestNames;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.time.Duration;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

@ExtendWith(NoLeftovers.class)
class NamedSemaphoreTest {

    @Test
    void acquireTakesUnitsAndReleaseReturnsThePreviousCount() throws Exception {
        try (NamedSemaphore semaphore = NamedSemaphore.createOrOpen(TestNames.unique("count"), 2, 3)) {
            assertEquals(3, semaphore.maximum());
            assertEquals(WaitResult.SIGNALED, semaphore.acquire(Duration.ZERO));
            assertEquals(WaitResult.SIGNALED, semaphore.acquire(Duration.ZERO));
            assertEquals(WaitResult.TIMEOUT, semaphore.acquire(Duration.ZERO));
            assertEquals(0, semaphore.release(2));
            assertEquals(2, semaphore.release());
            ExecutorService pool = Executors.newSingleThreadExecutor();
            try {
                for (int i = 0; i < 3; i++) {
                    semaphore.acquire(Duration.ZERO);
                }
                Future<WaitResult> waiter = pool.submit(() -> semaphore.acquire(Duration.ofSeconds(10)));
                Thread.sleep(150);
                assertFalse(waiter.isDone());
                assertEquals(0, semaphore.release(1), "any thread may release");
                assertEquals(WaitResult.SIGNALED, waiter.get(2, TimeUnit.SECONDS));
            } finally {
                pool.shutdownNow();
            }
        }
    }

    @Test
    void releasingPastTheMaximumIsAnErrorAndChangesNothing() {
        String name = TestNames.unique("too-many");
        try (NamedSemaphore semaphore = NamedSemaphore.createOrOpen(name, 1, 2)) {
            TooManyPostsException e = assertThrows(TooManyPostsException.class, () -> semaphore.release(2));
            assertEquals("semaphore count would exceed its maximum: object=semaphore \"" + name
                    + "\", count=1, release=2, maximum=2", e.getMessage());
            assertThrows(TooManyPostsException.class, () -> semaphore.release(Integer.MAX_VALUE), "no overflow");
            assertEquals(1, semaphore.release(1), "count was unchanged by the failed releases");
        }
    }

    @Test
    void badCountsAndTimeoutsAreClearErrors() {
        String name = TestNames.unique("bad");
        assertEquals("semaphore initial count out of range: initial=-1, maximum=3",
                assertThrows(InvalidParameterException.class, () -> NamedSemaphore.createOrOpen(name, -1, 3)).getMessage());
        assertEquals("semaphore maximum must be at least 1: maximum=0",
                assertThrows(InvalidParameterException.class, () -> NamedSemaphore.createOrOpen(name, 0, 0)).getMessage());
        assertThrows(InvalidParameterException.class, () -> NamedSemaphore.createOrOpen(name, 0, -4));
        assertEquals("semaphore initial count out of range: initial=5, maximum=3",
                assertThrows(InvalidParameterException.class, () -> NamedSemaphore.createOrOpen(name, 5, 3)).getMessage());
        assertThrows(ObjectNotFoundException.class, () -> NamedSemaphore.open(name), "nothing was created");
        try (NamedSemaphore semaphore = NamedSemaphore.createOrOpen(name, 1, 1)) {
            assertThrows(InvalidParameterException.class, () -> semaphore.release(0));
            assertThrows(InvalidParameterException.class, () -> semaphore.release(-3));
            assertThrows(InvalidParameterException.class, () -> semaphore.acquire(Duration.ofNanos(-1)));
            assertEquals(WaitResult.SIGNALED, semaphore.acquire(Duration.ZERO), "nothing changed");
            assertEquals(0, semaphore.release());
        }
    }

    @Test
    void withPermitHoldsOneUnitForTheBody() {
        try (NamedSemaphore semaphore = NamedSemaphore.createOrOpen(TestNames.unique("permit"), 1, 1)) {
            assertEquals(WaitResult.TIMEOUT, semaphore.withPermit(Duration.ofSeconds(1), () -> semaphore.acquire(Duration.ZERO)));
            assertEquals(WaitResult.SIGNALED, semaphore.acquire(Duration.ZERO), "released after the body");
            semaphore.release();
        }
    }

    @Test
    void closeIsIdempotentAndUseAfterCloseIsAClearError() {
        NamedSemaphore semaphore = NamedSemaphore.createOrOpen(TestNames.unique("closed"), 0, 1);
        semaphore.close();
        semaphore.close();
        assertThrows(HandleClosedException.class, () -> semaphore.acquire(Duration.ZERO));
        assertThrows(HandleClosedException.class, () -> semaphore.release(1));
    }
}
