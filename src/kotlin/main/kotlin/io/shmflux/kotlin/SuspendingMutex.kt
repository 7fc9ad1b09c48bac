package io.shmflux.kotlin

import io.shmflux.AbandonedMutexException
import io.shmflux.WaitTimeoutException
import io.shmflux.sync.NamedMutex
import io.shmflux.sync.WaitResult
import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.NonCancellable
import kotlinx.coroutines.coroutineScope
import kotlinx.coroutines.reactor.asCoroutineDispatcher
import kotlinx.coroutines.withContext
import reactor.core.scheduler.Scheduler
import reactor.core.scheduler.Schedulers
import java.time.Duration as JavaDuration
import kotlin.time.Duration

/**
 * Runs [block] holding the mutex, and unlocks it however [block] ends (completes, throws or is
 * cancelled); [NamedMutex.withLock] for suspending code, safe across suspension points.
 *
 * ## Threads
 * A named mutex is owned by a thread: the thread that locks it must be the one that unlocks it,
 * and only it may lock it again. A coroutine may resume on any thread of its dispatcher, so this
 * function gives each acquisition a dedicated owner thread (a `Schedulers.newSingle` daemon thread
 * named `shmflux-mutex-owner`, as [NamedMutex.usingLock] does in Java):
 * 1. The owner thread locks the mutex, waiting at most [timeout]; the caller suspends meanwhile.
 * 2. [block] runs in the caller's context with the owner thread as its dispatcher, so every
 *    resumption of [block] (after a `delay`, a `yield`, or a `withContext` that switched to
 *    another dispatcher) comes back to the owner thread, which holds the mutex the whole time.
 *    Code inside a nested `withContext(...)` runs elsewhere: the mutex stays held, but
 *    [NamedMutex.isHeldByCurrentThread] is false there. Coroutines that [block] launches run on the
 *    owner thread too.
 * 3. The owner thread unlocks the mutex, then ends.
 *
 * Cost: one platform thread started and ended per call (some 50 to 100 µs), and a thread switch
 * at the start, at the end and at every resumption of [block]. Code that locks often and never
 * suspends while holding the lock may prefer [NamedMutex.withLock] on a thread of its own.
 *
 * A nested call on the owner thread (from inside [block]) counts one more hold on that thread, as
 * the Java mutex is recursive; it starts no other thread.
 *
 * ## Cancellation
 * Cancelling the coroutine while it waits for the lock resumes it at once with the cancellation;
 * the owner thread's wait ends within one wait slice (100 ms) and, if it got the lock in a race
 * with the cancel, unlocks it. A cancel while [block] runs ends [block] the usual way, and the
 * mutex is then unlocked by its owner thread. The mutex is never left locked.
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
        // inside a block of ours, on the owner thread: recursion, on this thread
        val result = lock(JavaDuration.ZERO)
        try {
            return coroutineScope { block(result) }
        } finally {
            unlock()
        }
    }
    val owner = OwnerThread(this)
    val start = System.nanoTime()
    val result = awaitOn(owner.scheduler, { lock(remaining(javaTimeout, start)) }, owner::unlockAndEnd,
        owner::end)
    if (result == WaitResult.TIMEOUT) {
        owner.end()
        throw WaitTimeoutException("mutex lock timed out: object=${name()}, timeout=$timeout")
    }
    val dispatcher = owner.scheduler.asCoroutineDispatcher()
    try {
        return withContext(dispatcher) { block(result) }
    } finally {
        withContext(NonCancellable + dispatcher) { owner.unlockHere() }
        owner.end()
    }
}

/** The thread that owns one acquisition of a mutex: it locks, runs the holder's code, unlocks, and ends. */
private class OwnerThread(private val mutex: NamedMutex) {

    val scheduler: Scheduler = Schedulers.newSingle("shmflux-mutex-owner", true)

    /** If [result] says the mutex was taken, unlocks it on the owner thread; then ends the thread. */
    fun unlockAndEnd(result: WaitResult) {
        if (result == WaitResult.TIMEOUT) {
            end()
            return
        }
        scheduler.schedule {
            try {
                unlockHere()
            } finally {
                end()
            }
        }
    }

    /** Unlocks the mutex; must run on the owner thread. A closed handle has abandoned it already. */
    fun unlockHere() {
        if (mutex.isOpen) {
            mutex.unlock()
        }
    }

    /** Ends the thread once what was handed to it has run. Idempotent. */
    fun end() {
        scheduler.disposeGracefully().subscribe()
    }
}
