package io.shmflux.kotlin

import kotlinx.coroutines.CoroutineDispatcher
import kotlinx.coroutines.ExecutorCoroutineDispatcher
import kotlinx.coroutines.asCoroutineDispatcher
import java.util.concurrent.ConcurrentLinkedDeque
import java.util.concurrent.Executors
import java.util.concurrent.atomic.AtomicInteger

/**
 * The threads that own mutexes for [withOwnership]: each serves one call at a time, from its lock
 * to its unlock, so that every resumption of the call's block comes back to the thread that holds
 * the mutex. A few idle ones are kept, asleep, so that a call rarely starts a thread.
 */
internal object OwnerThreads {

    private const val MAX_IDLE = 4

    private val idle = ConcurrentLinkedDeque<ExecutorCoroutineDispatcher>()
    private val idleCount = AtomicInteger()
    private val numbers = AtomicInteger()

    /** Runs [body] with an owner thread of its own, as a dispatcher; the thread serves no one else meanwhile. */
    suspend fun <T> borrow(body: suspend (CoroutineDispatcher) -> T): T {
        val owner = idle.pollFirst()?.also { idleCount.decrementAndGet() } ?: start()
        try {
            return body(owner)
        } finally {
            giveBack(owner)
        }
    }

    private fun start(): ExecutorCoroutineDispatcher = Executors.newSingleThreadScheduledExecutor { task ->
        Thread(task, "shmflux-mutex-owner-${numbers.incrementAndGet()}").apply { isDaemon = true }
    }.asCoroutineDispatcher()

    private fun giveBack(owner: ExecutorCoroutineDispatcher) {
        if (idleCount.incrementAndGet() <= MAX_IDLE) {
            idle.offerFirst(owner)
        } else {
            idleCount.decrementAndGet()
            owner.close()
        }
    }
}
