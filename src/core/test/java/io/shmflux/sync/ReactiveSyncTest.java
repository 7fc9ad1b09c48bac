package io.shmflux.sync;

import io.shmflux.WaitTimeoutException;
import io.shmflux.testing.NoLeftovers;
import io.shmflux.testing.TestNames;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Schedulers;
import reactor.test.StepVerifier;

import java.time.Duration;
import java.util.concurrent.Callable;

import static io.shmflux.sync.NamedMutexTest.onOtherThread;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

@ExtendWith(NoLeftovers.class)
class ReactiveSyncTest {

    @Test
    void usingLockHoldsTheMutexOnADedicatedThreadForTheBodyAndUnlocksOnComplete() throws Exception {
        try (NamedMutex mutex = NamedMutex.createOrOpen(TestNames.unique("rx-lock"))) {
            StepVerifier.create(mutex.usingLock(Duration.ofSeconds(1), result -> Mono.fromCallable(() ->
                            result + " on " + Thread.currentThread().getName() + ", others see " + mutex.lock(Duration.ZERO))))
                    .assertNext(s -> assertTrue(s.matches("SIGNALED on shmflux-mutex-\\d+, others see SIGNALED"), s))
                    .verifyComplete();
            // the body ran on the locking thread (recursive lock above); from elsewhere it is held while the body runs:
            StepVerifier.create(mutex.usingLock(Duration.ofSeconds(1), result ->
                            Mono.fromCallable(() -> onOtherThread(() -> mutex.lock(Duration.ZERO))).subscribeOn(Schedulers.parallel())))
                    .expectNext(WaitResult.TIMEOUT)
                    .verifyComplete();
            awaitFree(mutex);
        }
    }

    @Test
    void usingLockUnlocksWhenTheBodyFailsOrIsCancelled() throws Exception {
        try (NamedMutex mutex = NamedMutex.createOrOpen(TestNames.unique("rx-fail"))) {
            StepVerifier.create(mutex.usingLock(Duration.ofSeconds(1), result -> Mono.error(new IllegalStateException("boom"))))
                    .expectErrorMessage("boom")
                    .verify(Duration.ofSeconds(5));
            awaitFree(mutex);
            StepVerifier.create(mutex.usingLockMany(Duration.ofSeconds(1), result -> Flux.never()))
                    .thenAwait(Duration.ofMillis(200))
                    .then(() -> assertEquals(WaitResult.TIMEOUT, call(() -> onOtherThread(() -> mutex.lock(Duration.ZERO)))))
                    .thenCancel()
                    .verify(Duration.ofSeconds(5));
            awaitFree(mutex);
        }
    }

    @Test
    void usingLockFailsWithWaitTimeoutAndACancelledAcquisitionLeavesNothingLocked() throws Exception {
        try (NamedMutex mutex = NamedMutex.createOrOpen(TestNames.unique("rx-timeout"))) {
            mutex.lock(Duration.ZERO);
            StepVerifier.create(mutex.usingLock(Duration.ofMillis(100), result -> Mono.just("never")))
                    .expectError(WaitTimeoutException.class)
                    .verify(Duration.ofSeconds(5));
            StepVerifier.create(mutex.usingLock(Duration.ofSeconds(30), result -> Mono.just("never")))
                    .thenAwait(Duration.ofMillis(200))
                    .thenCancel()
                    .verify(Duration.ofSeconds(5));
            mutex.unlock();
            Thread.sleep(300);
            awaitFree(mutex);
        }
    }

    @Test
    void usingPermitHoldsOneUnitUntilTheBodyEnds() throws Exception {
        try (NamedSemaphore semaphore = NamedSemaphore.createOrOpen(TestNames.unique("rx-permit"), 1, 1)) {
            StepVerifier.create(semaphore.usingPermitMany(Duration.ofSeconds(1), () -> Flux.range(1, 3)
                            .map(i -> i + ":" + semaphore.acquire(Duration.ZERO))))
                    .expectNext("1:TIMEOUT", "2:TIMEOUT", "3:TIMEOUT")
                    .verifyComplete();
            assertEquals(WaitResult.SIGNALED, semaphore.acquire(Duration.ZERO));
            StepVerifier.create(semaphore.usingPermit(Duration.ofMillis(100), () -> Mono.just("never")))
                    .expectError(WaitTimeoutException.class)
                    .verify(Duration.ofSeconds(5));
            semaphore.release();
            StepVerifier.create(semaphore.usingPermit(Duration.ofSeconds(1), Mono::never))
                    .thenAwait(Duration.ofMillis(100))
                    .thenCancel()
                    .verify(Duration.ofSeconds(5));
            assertEquals(WaitResult.SIGNALED, semaphore.acquire(Duration.ofSeconds(1)), "released on cancel");
            semaphore.release();
        }
    }

    @Test
    void anAutoResetEventStreamsOneElementPerSetOffTheNonBlockingThreads() {
        try (NamedEvent event = NamedEvent.createOrOpen(TestNames.unique("rx-auto"), EventReset.AUTO)) {
            StepVerifier.create(event.signals()
                            .doOnNext(n -> assertFalse(Schedulers.isInNonBlockingThread(), "waits off Reactor's non-blocking threads"))
                            .take(3))
                    .thenAwait(Duration.ofMillis(100))
                    .then(event::set)
                    .expectNext(1L)
                    .then(event::set)
                    .expectNext(2L)
                    .then(event::set)
                    .expectNext(3L)
                    .verifyComplete();
        }
    }

    @Test
    void aManualResetEventStreamsOneElementPerSetNotPerLook() {
        try (NamedEvent event = NamedEvent.createOrOpen(TestNames.unique("rx-manual"), EventReset.MANUAL, EventState.SIGNALED)) {
            StepVerifier.create(event.signals())
                    .expectNext(1L)
                    .expectNoEvent(Duration.ofMillis(300))
                    .then(event::reset)
                    .then(event::set)
                    .expectNext(2L)
                    .thenCancel()
                    .verify(Duration.ofSeconds(5));
            assertEquals(WaitResult.SIGNALED, event.await(Duration.ZERO), "the stream consumed nothing");
        }
    }

    private static void awaitFree(NamedMutex mutex) throws Exception {
        assertEquals(WaitResult.SIGNALED, onOtherThread(() -> {
            WaitResult r = mutex.lock(Duration.ofSeconds(2));
            if (r != WaitResult.TIMEOUT) {
                mutex.unlock();
            }
            return r;
        }), "the mutex is free again");
    }

    private static <T> T call(Callable<T> task) {
        try {
            return task.call();
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }
}
