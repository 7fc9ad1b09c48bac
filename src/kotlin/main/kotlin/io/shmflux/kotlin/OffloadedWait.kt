package io.shmflux.kotlin

import io.shmflux.InvalidParameterException
import kotlinx.coroutines.suspendCancellableCoroutine
import reactor.core.scheduler.Scheduler
import java.util.concurrent.atomic.AtomicInteger
import kotlin.coroutines.resumeWithException
import java.time.Duration as JavaDuration
import kotlin.time.Duration
import kotlin.time.toJavaDuration

private const val PENDING = 0
private const val DELIVERED = 1
private const val CANCELLED = 2

/**
 * Runs [wait], a blocking wait of the Java API that takes what it waits for (a permit, a signal, a
 * lock), on a thread of [scheduler], and suspends the caller until it ends: the caller's dispatcher
 * thread never blocks.
 *
 * The Kotlin side of the Java API's `Leases.acquireOn`, with the same three outcomes:
 * 1. The wait ends first: its value (or exception) resumes the caller.
 * 2. The caller is cancelled first: it resumes at once with the cancellation; the wait's thread is
 *    interrupted, so the wait ends within one wait slice (100 ms) having taken nothing, or, if it
 *    took something in a race with the cancel, [giveBack] gets it, on the wait's thread.
 * 3. The wait ends, but the caller is cancelled before it runs again: [giveBack] gets the value
 *    (on the thread that cancels or resumes; see `CancellableContinuation.resume`).
 * So nothing taken is ever lost to a cancel.
 */
internal suspend fun <T> awaitOn(
    scheduler: Scheduler,
    wait: () -> T,
    giveBack: (T) -> Unit,
): T = suspendCancellableCoroutine { continuation ->
    val state = AtomicInteger(PENDING)
    val task = scheduler.schedule {
        val value = try {
            wait()
        } catch (e: Throwable) {
            if (state.compareAndSet(PENDING, DELIVERED)) {
                continuation.resumeWithException(e)
            }
            return@schedule
        }
        if (state.compareAndSet(PENDING, DELIVERED)) {
            continuation.resume(value) { _, taken, _ -> giveBack(taken) }
        } else {
            giveBack(value)
        }
    }
    continuation.invokeOnCancellation {
        if (state.compareAndSet(PENDING, CANCELLED)) {
            task.dispose() // interrupts the wait: it ends within one slice
        }
    }
}

/**
 * Returns what is left of [timeout] since [startNanos]: a wait queued for a thread does not get
 * its timeout extended by the time in the queue.
 */
internal fun remaining(timeout: JavaDuration, startNanos: Long): JavaDuration {
    val left = timeout.minusNanos(System.nanoTime() - startNanos)
    return if (left.isNegative) JavaDuration.ZERO else left
}

/** [Duration.toJavaDuration], refusing a negative timeout the way the Java API does. */
internal fun Duration.toTimeout(): JavaDuration {
    if (isNegative()) {
        throw InvalidParameterException("negative timeout: timeout=$this")
    }
    return toJavaDuration()
}
