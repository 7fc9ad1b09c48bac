package io.shmflux.sync

import io.shmflux.NotOwnerException
import io.shmflux.TooManyPostsException
import io.shmflux.testing.NoLeftovers
import io.shmflux.testing.TestNames
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.extension.ExtendWith
import java.time.Duration
import kotlin.test.assertEquals
import kotlin.test.assertFailsWith
import kotlin.test.assertFalse
import kotlin.test.assertTrue

/** The Java API read from Kotlin: trailing lambdas, `use {}`, enums instead of booleans, non-null types. */
@ExtendWith(NoLeftovers::class)
class NamedMutexKotlinTest {

    @Test
    fun `withLock reads like Kotlin's own`() {
        NamedMutex.createOrOpen(TestNames.unique("kt-mutex")).use { mutex ->
            val total = mutex.withLock(Duration.ofSeconds(1)) {
                assertTrue(mutex.isHeldByCurrentThread)
                40 + 2
            }
            assertEquals(42, total)
            assertFalse(mutex.isHeldByCurrentThread)
            assertFailsWith<NotOwnerException> { mutex.unlock() }
        }
    }

    @Test
    fun `lock results are an enum a when can be exhaustive over`() {
        NamedMutex.createOrOpen(TestNames.unique("kt-when"), InitialOwner.CALLING_THREAD).use { mutex ->
            val said = when (mutex.lock(Duration.ZERO)) {
                WaitResult.SIGNALED -> "mine, twice"
                WaitResult.ABANDONED -> "mine, repair the data"
                WaitResult.TIMEOUT -> "not mine"
            }
            assertEquals("mine, twice", said)
            mutex.unlock()
            mutex.unlock()
        }
    }

    @Test
    fun `events and semaphores read naturally too`() {
        NamedEvent.createOrOpen(TestNames.unique("kt-event"), EventReset.MANUAL, EventState.SIGNALED).use { event ->
            NamedSemaphore.createOrOpen(TestNames.unique("kt-sem"), 1, 1).use { slots ->
                val r = Waitable.awaitAny(Duration.ofMillis(100), slots, event)
                assertEquals(0, r.index)
                assertEquals(WaitResult.SIGNALED, r.result)
                assertEquals(0, slots.release(1)) // awaitAny took the unit: give it back
                assertEquals("rendered", slots.withPermit(Duration.ofSeconds(1)) { "rendered" })
                assertFailsWith<TooManyPostsException> { slots.release(2) }
                assertEquals(WaitResult.SIGNALED, event.await(Duration.ZERO))
            }
        }
    }
}
