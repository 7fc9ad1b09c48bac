package io.shmflux.kotlin

import io.shmflux.AbandonedMutexException
import io.shmflux.WaitTimeoutException
import io.shmflux.sync.NamedMutex
import io.shmflux.sync.WaitResult
import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.coroutineScope
import kotlinx.coroutines.ensureActive
import kotlinx.coroutines.withContext
import java.time.Duration as JavaDuration
import kotlin.time.Duration

/** How long the owner thread sleeps in one lock attempt before it checks for a cancel: the Java wait's own slice. */
private val LOCK_SLICE: JavaDuration = JavaDuration.ofMillis(100)

/**
 * Runs [block] holding the mutex, and unlocks it however [block] ends (completes, throws or is
 * cancelled); [NamedMutex.withLock] for suspending code, safe across suspension points.
 *
 * ## Threads
 * A named mutex is owned by a thread: the thread that locks it must be the one that unlocks it,
 * and only it may lock it again. A coroutine may resume on any thread of its dispatcher, so each
 * call borrows an owner thread of its own, a daemon thread named `shmflux-mutex-owner-N` that
 * serves no one else until the call returns, and runs everything on it:
 * 1. The owner thread locks the mutex, waiting at most [timeout]; the caller is suspended and its
 *    dispatcher free meanwhile.
 * 2. [block] runs in the caller's context with the owner thread as its dispatcher, so every
 *    resumption of [block] (after a `delay`, a `yield`, or a `withContext` that switched to
 *    another dispatcher) comes back to the owner thread, which holds the mutex the whole time.
 *    Code inside a nested `withContext(...)` runs elsewhere: the mutex stays held, but
 *    [NamedMutex.isHeldByCurrentThread] is false there. Coroutines that [block] launches run on the
 *    owner thread too.
 * 3. The owner thread unlocks the mutex, and the caller resumes in its own context.
 *
 * Cost: two thread switches per call, plus one per resumption of [block]; a thread is started
 * only when no idle owner thread is left (up to four idle ones are kept, asleep). Code that
 * locks very often and never suspends while holding the lock may prefer [NamedMutex.withLock] on
 * a thread of its own.
 *
 * A nested call from inside [block] (on the owner thread) counts one more hold on that thread, as
 * the Java mutex is recursive; it borrows no other thread.
 *
 * ## Cancellation
 * The owner thread waits for the lock in slices of 100 ms (the Java wait's own) and checks for a
 * cancel between them: cancelling the coroutine while it waits ends the wait within one slice,
 * with nothing held. A cancel while [block] runs ends [block] the usual way, and the owner thread
 * then unlocks. Lock, block and unlock run on the owner thread with no suspension between the lock
 * and the start of [block], so no cancel can come between them and leave the mutex held.
 *
 * @apiNote As in Java, abandonment is not a normal outcome here: if the previous owner died
 * holding the mutex, the data it guards may be half-updated, and [block] does not run. Use
 * [withOwnership] to take over and repair.
 * @throws WaitTimeoutException if the mutex was not acquired within [timeout]
 * @throws AbandonedMutexException if the previous owner died holding it (the mutex is released
 *                                 again and [block] did not run)
 */
public suspend fun <T> NamedMutex.withLock(timeout: Duration, block: suspend CoroutineScope.() -> T): T =
    withOwnership(timeout) { result ->
        if (result == WaitResult.ABANDONED) {
            throw AbandonedMutexException("mutex abandoned: object=${name()}, reason=previous owner died holding it; "
                    + "use withOwnership() to take over and repair")
        }
        block()
    }

/**
 * Runs [block] holding the mutex and tells it how the mutex was gained: `SIGNALED`, or `ABANDONED`
 * (the previous owner died holding it, and the data it guards may need repair); unlocks it
 * however [block] ends. The suspending form of [NamedMutex.lock]: threads, cost and cancellation
 * as for [withLock].
 *
 * @throws WaitTimeoutException if the mutex was not acquired within [timeout]
 */
public suspend fun <T> NamedMutex.withOwnership(timeout: Duration, block: suspend CoroutineScope.(WaitResult) -> T): T {
    val javaTimeout = timeout.toTimeout()
    if (isHeldByCurrentThread) {
        // inside a block of ours, on its owner thread: one more hold, on this thread
        val result = lock(JavaDuration.ZERO)
        try {
            return coroutineScope { block(result) }
        } finally {
            unlock()
        }
    }
    val start = System.nanoTime()
    return OwnerThreads.borrow { owner ->
        withContext(owner) {
            val result = lockInSlices(this@withOwnership, javaTimeout, start)
            if (result == WaitResult.TIMEOUT) {
                throw WaitTimeoutException("mutex lock timed out: object=${name()}, timeout=$timeout")
            }
            try {
                block(result)
            } finally {
                if (isOpen) { // a closed handle has abandoned it already
                    unlock()
                }
            }
        }
    }
}

/** Locks [mutex] on this (the owner) thread, one slice at a time, checking for a cancel between slices. */
private fun CoroutineScope.lockInSlices(mutex: NamedMutex, timeout: JavaDuration, start: Long): WaitResult {
    while (true) {
        val left = remaining(timeout, start)
        val result = mutex.lock(minOf(left, LOCK_SLICE))
        if (result != WaitResult.TIMEOUT || left <= LOCK_SLICE) {
            return result
        }
        ensureActive()
    }
}
