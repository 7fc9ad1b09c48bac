package io.shmflux.kotlin

import io.shmflux.WaitTimeoutException
import io.shmflux.sync.EventReset
import io.shmflux.sync.NamedEvent
import io.shmflux.sync.NamedSemaphore
import io.shmflux.sync.WaitResult
import reactor.core.scheduler.Schedulers
import java.time.Duration as JavaDuration
import kotlin.time.Duration

// Suspending waits on events and semaphores. They are not owned by a thread, so any thread may wait
// for them and any thread may give back what a cancelled wait took: the wait runs on Reactor's
// boundedElastic scheduler, as the Java API's reactive forms (signals(), usingPermit) do: one bounded
// pool for every blocking wait of shmflux in the process, rather than a second one of our own.

/**
 * Waits until the event is signaled, at most [timeout], suspending the coroutine (Win32
 * `WaitForSingleObject`); [NamedEvent.await] without blocking the caller's thread. An auto-reset
 * event is reset by the waiter it releases.
 *
 * A signaled event is taken at once on the caller's thread (a test that never sleeps). Otherwise
 * the futex wait runs on a thread of `Schedulers.boundedElastic()`, never on the caller's
 * dispatcher; [timeout] counts from the call, time spent queued for a thread included.
 * Cancelling the coroutine resumes it at once with the cancellation; the wait ends within one wait
 * slice (100 ms), and an auto-reset signal it took in a race with the cancel is given back with
 * [NamedEvent.set], so no other waiter misses it.
 *
 * @return `SIGNALED` or `TIMEOUT`
 * @throws io.shmflux.InvalidParameterException if the timeout is negative
 * @throws io.shmflux.HandleClosedException if the handle is or gets closed
 */
public suspend fun NamedEvent.await(timeout: Duration): WaitResult {
    val auto = resetMode() == EventReset.AUTO
    return awaitTaking(timeout, { await(it) }, giveBack = {
        if (auto && isOpen) {
            set()
        }
    })
}

/**
 * Takes one unit, waiting at most [timeout] while the count is 0, suspending the coroutine;
 * [NamedSemaphore.acquire] without blocking the caller's thread.
 *
 * A free unit is taken at once on the caller's thread (a test that never sleeps). Otherwise the
 * futex wait runs on a thread of `Schedulers.boundedElastic()`, never on the caller's dispatcher;
 * [timeout] counts from the call, time spent queued for a thread included. Cancelling the
 * coroutine resumes it at once with the cancellation; the wait ends within one wait slice
 * (100 ms), and a unit it took in a race with the cancel is released, so the count is as if the
 * wait never happened.
 *
 * @return `SIGNALED` (one unit taken: [NamedSemaphore.release] it) or `TIMEOUT`
 * @throws io.shmflux.InvalidParameterException if the timeout is negative
 * @throws io.shmflux.HandleClosedException if the handle is or gets closed
 */
public suspend fun NamedSemaphore.acquire(timeout: Duration): WaitResult =
    awaitTaking(timeout, { acquire(it) }, giveBack = {
        if (isOpen) {
            release(1)
        }
    })

/**
 * The suspending form of a Java wait that takes what it waits for: [wait] with a zero timeout on
 * the caller's thread first (it never sleeps: the common case costs no thread switch), then, if
 * that found nothing, on `Schedulers.boundedElastic()` with what is left of [timeout]. [giveBack]
 * returns what a wait took (a `SIGNALED` result) in a race with a cancel; see [awaitOn].
 */
private suspend fun awaitTaking(timeout: Duration, wait: (JavaDuration) -> WaitResult, giveBack: () -> Unit): WaitResult {
    val javaTimeout = timeout.toTimeout()
    val start = System.nanoTime()
    val now = wait(JavaDuration.ZERO)
    if (now == WaitResult.SIGNALED || javaTimeout.isZero) {
        return now
    }
    return awaitOn(Schedulers.boundedElastic(), { wait(remaining(javaTimeout, start)) }, { result ->
        if (result == WaitResult.SIGNALED) {
            giveBack()
        }
    })
}

/**
 * Runs [block] holding one unit, and releases it however [block] ends (completes, throws or is
 * cancelled); [NamedSemaphore.withPermit] for suspending code. The unit is acquired as by
 * [acquire]; [block] runs in the caller's context and may suspend and switch threads freely (a
 * semaphore unit belongs to no thread).
 *
 * @throws WaitTimeoutException if no unit was acquired within [timeout]
 */
public suspend fun <T> NamedSemaphore.withPermit(timeout: Duration, block: suspend () -> T): T {
    if (acquire(timeout) == WaitResult.TIMEOUT) {
        throw WaitTimeoutException("semaphore acquire timed out: object=${name()}, timeout=$timeout")
    }
    try {
        return block()
    } finally {
        release(1)
    }
}
