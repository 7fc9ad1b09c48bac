package io.shmflux.kotlin

import io.shmflux.AbandonedMutexException
import io.shmflux.WaitTimeoutException
import io.shmflux.sync.NamedMutex
import io.shmflux.sync.WaitResult
import io.shmflux.testing.ChildJvm
import io.shmflux.testing.NoLeftovers
import io.shmflux.testing.SyncChild
import io.shmflux.testing.TestNames
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.async
import kotlinx.coroutines.cancelAndJoin
import kotlinx.coroutines.delay
import kotlinx.coroutines.launch
import kotlinx.coroutines.test.runTest
import kotlinx.coroutines.withContext
import kotlinx.coroutines.yield
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.extension.ExtendWith
import kotlin.test.assertEquals
import kotlin.test.assertFailsWith
import kotlin.test.assertFalse
import kotlin.test.assertNotSame
import kotlin.test.assertSame
import kotlin.test.assertTrue
import kotlin.time.Duration.Companion.milliseconds
import kotlin.time.Duration.Companion.seconds

/** withLock and withOwnership: the lock held by one owner thread across suspensions, waits off the dispatcher. */
@ExtendWith(NoLeftovers::class)
class SuspendingMutexTest {

    @Test
    fun `withLock stays held across delay, yield and a dispatcher switch, and its owner thread unlocks it`() =
        runTest(timeout = 60.seconds) {
            withMutexSharedWithChild("kt-withlock") { mutex, child, name ->
                var owner: Thread? = null
                val answer = mutex.withLock(5.seconds) {
                    owner = Thread.currentThread()
                    assertTrue(owner!!.name.startsWith("shmflux-mutex-owner"), owner!!.name)
                    assertTrue(mutex.isHeldByCurrentThread)
                    delay(50)
                    assertSame(owner, Thread.currentThread())
                    yield()
                    assertSame(owner, Thread.currentThread())
                    withContext(Dispatchers.IO) {
                        assertNotSame(owner, Thread.currentThread())
                        assertFalse(mutex.isHeldByCurrentThread) // held, by the owner thread
                        assertEquals("ok TIMEOUT", child.call("lock $name 100"), "held while the block runs elsewhere")
                    }
                    assertSame(owner, Thread.currentThread())
                    assertTrue(mutex.isHeldByCurrentThread)
                    realDelay(50)
                    assertEquals("ok TIMEOUT", child.call("lock $name 0"))
                    42
            }
            assertEquals(42, answer)
            assertEquals("ok SIGNALED", child.call("lock $name 0"), "unlocked when withLock returned")
            child.call("unlock $name")
            }
        }

    @Test
    fun `a suspended withLock leaves its single-threaded dispatcher free and an unlock in another process wakes it`() =
        runTest(timeout = 60.seconds) {
            withMutexSharedWithChild("kt-lockwait") { mutex, child, name ->
                assertEquals("ok SIGNALED", child.call("lock $name 0"))
                val waiter = async { mutex.withOwnership(30.seconds) { result -> result } }
                assertTicksWhile(waiter)
                child.call("unlock $name")
                assertEquals(WaitResult.SIGNALED, waiter.await())
                assertEquals("ok SIGNALED", child.call("lock $name 0"))
                child.call("unlock $name")
            }
        }

    @Test
    fun `cancelling a lock wait ends it within a slice and never leaves the mutex held, even when an unlock races the cancel`() =
        runTest(timeout = 60.seconds) {
            withMutexSharedWithChild("kt-lockcancel") { mutex, child, name ->
                var ran = 0
                repeat(6) { round ->
                    assertEquals("ok SIGNALED", child.call("lock $name 5000"))
                    val waiter = launch(Dispatchers.Default) { mutex.withLock(30.seconds) { ran++ } }
                    realDelay(150)
                    if (round % 2 == 1) {
                        child.send("unlock $name") // races the cancel
                    }
                    val start = System.nanoTime()
                    waiter.cancelAndJoin()
                    val millis = (System.nanoTime() - start) / 1_000_000
                    assertTrue(millis < 400, "cancel took $millis ms (one 100 ms slice, on a busy machine)")
                    if (round % 2 == 1) {
                        assertEquals("ok", child.nextLine())
                    } else {
                        child.call("unlock $name")
                    }
                }
                // a wait that won the race unlocks within one slice: the child gets the mutex each time
                assertEquals("ok SIGNALED", child.call("lock $name 2000"), "never left held (ran $ran)")
                child.call("unlock $name")
            }
        }

    @Test
    fun `timeouts, abandonment, recursion and failures of the block`() = runTest(timeout = 60.seconds) {
        val name = TestNames.unique("kt-abandon")
        NamedMutex.createOrOpen(name).use { mutex ->
            ChildJvm.start(SyncChild::class.java).use { child ->
                child.nextLine()
                child.call("mutex $name")
                assertEquals("ok SIGNALED", child.call("lock $name 0"))
                val timedOut = assertFailsWith<WaitTimeoutException> { mutex.withLock(100.milliseconds) { } }
                assertTrue(timedOut.message!!.startsWith("mutex lock timed out: object="), timedOut.message)
                child.kill9() // dies holding it
            }
            assertFailsWith<AbandonedMutexException> { mutex.withLock(5.seconds) { error("must not run") } }
            assertEquals(WaitResult.SIGNALED, mutex.withOwnership(5.seconds) { it }, "withLock released it again")
            val nested = mutex.withLock(1.seconds) {
                mutex.withLock(1.seconds) { mutex.isHeldByCurrentThread } // recursive, no deadlock
            }
            assertTrue(nested)
            assertFailsWith<IllegalStateException> { mutex.withLock(1.seconds) { error("boom") } }
            assertEquals(WaitResult.SIGNALED, mutex.lock(java.time.Duration.ZERO), "unlocked after the failure")
            mutex.unlock()
        }
    }

    /** Runs [body] with a mutex that a child process has open too (as "mutex NAME" of [SyncChild]); the child then exits cleanly. */
    private suspend fun withMutexSharedWithChild(hint: String, body: suspend (NamedMutex, ChildJvm, String) -> Unit) {
        val name = TestNames.unique(hint)
        NamedMutex.createOrOpen(name).use { mutex ->
            ChildJvm.start(SyncChild::class.java).use { child ->
                child.nextLine()
                child.call("mutex $name")
                body(mutex, child, name)
                child.send("exit").awaitBye(ChildJvm.DEFAULT_WAIT)
            }
        }
    }
}
