package io.shmflux.kotlin

import io.shmflux.InvalidParameterException
import io.shmflux.WaitTimeoutException
import io.shmflux.sync.EventReset
import io.shmflux.sync.NamedEvent
import io.shmflux.sync.NamedSemaphore
import io.shmflux.sync.WaitResult
import io.shmflux.testing.ChildJvm
import io.shmflux.testing.NoLeftovers
import io.shmflux.testing.SyncChild
import io.shmflux.testing.TestNames
import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.Job
import kotlinx.coroutines.async
import kotlinx.coroutines.cancelAndJoin
import kotlinx.coroutines.delay
import kotlinx.coroutines.launch
import kotlinx.coroutines.test.runTest
import kotlinx.coroutines.withContext
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.extension.ExtendWith
import java.time.Duration as JavaDuration
import java.util.concurrent.atomic.AtomicInteger
import kotlin.test.assertEquals
import kotlin.test.assertFailsWith
import kotlin.test.assertTrue
import kotlin.time.Duration.Companion.milliseconds
import kotlin.time.Duration.Companion.seconds

/** Suspending waits on events and semaphores: off the dispatcher, woken across processes, cancelled cleanly. */
@ExtendWith(NoLeftovers::class)
class SuspendingWaitsTest {

    @Test
    fun `a suspended event wait leaves its single-threaded dispatcher free and a set in another process wakes it`() =
        runTest(timeout = 60.seconds) {
            val name = TestNames.unique("kt-await")
            NamedEvent.createOrOpen(name, EventReset.AUTO).use { event ->
                ChildJvm.start(SyncChild::class.java).use { child ->
                    child.nextLine()
                    child.call("event $name AUTO")
                    val waiter = async { event.await(30.seconds) }
                    assertTicksWhile(waiter)
                    child.call("set $name")
                    assertEquals(WaitResult.SIGNALED, waiter.await())
                    assertEquals(WaitResult.TIMEOUT, event.await(JavaDuration.ZERO), "the waiter consumed the signal")
                    child.send("exit").awaitBye(ChildJvm.DEFAULT_WAIT)
                }
            }
        }

    @Test
    fun `a suspended acquire leaves its single-threaded dispatcher free and a release in another process wakes it`() =
        runTest(timeout = 60.seconds) {
            val name = TestNames.unique("kt-acquire")
            NamedSemaphore.createOrOpen(name, 0, 1).use { semaphore ->
                ChildJvm.start(SyncChild::class.java).use { child ->
                    child.nextLine()
                    child.call("semaphore $name 0 1")
                    val waiter = async { semaphore.withPermit(30.seconds) { "rendered" } }
                    assertTicksWhile(waiter)
                    assertEquals("ok 0", child.call("release $name 1"))
                    assertEquals("rendered", waiter.await())
                    assertEquals("ok SIGNALED", child.call("acquire $name 0"), "withPermit released its unit")
                    child.send("exit").awaitBye(ChildJvm.DEFAULT_WAIT)
                }
            }
        }

    @Test
    fun `cancelling acquires ends them at once and never leaks a unit, even when a release races the cancel`() =
        runTest(timeout = 60.seconds) {
            NamedSemaphore.create(TestNames.unique("kt-cancel-sem"), 0, 100).use { semaphore ->
                val acquired = AtomicInteger()
                var released = 0
                repeat(13) { round -> // the last round has no release: its wait can only end by the interrupt
                    val waiter = launch(Dispatchers.Default) {
                        if (semaphore.acquire(kotlin.time.Duration.INFINITE) == WaitResult.SIGNALED) {
                            acquired.incrementAndGet()
                        }
                    }
                    realDelay(20 + round * 5L) // into its futex wait, mostly
                    if (round % 2 == 1) {
                        semaphore.release(1) // races the cancel
                        released++
                    }
                    val start = System.nanoTime()
                    waiter.cancelAndJoin()
                    val millis = (System.nanoTime() - start) / 1_000_000
                    assertTrue(millis < 200, "cancel took $millis ms")
                }
                // the cancelled waits end within one slice; what they took in a race comes back
                var left = 0
                val deadline = System.nanoTime() + 5_000_000_000
                while (left != released - acquired.get() && System.nanoTime() < deadline) {
                    realDelay(100)
                    while (semaphore.acquire(JavaDuration.ZERO) == WaitResult.SIGNALED) {
                        left++
                    }
                }
                assertEquals(released - acquired.get(), left, "units taken by cancelled waits came back")
                realDelay(300) // the last cancelled wait ends within one slice
                assertEquals(emptyList(), threadsInAWait(), "the cancelled waits' threads were interrupted and freed")
                assertEquals(WaitResult.TIMEOUT, semaphore.acquire(JavaDuration.ZERO), "and no more than that")
            }
        }

    @Test
    fun `a cancelled event wait never eats a signal, even when a set races the cancel`() = runTest(timeout = 60.seconds) {
        NamedEvent.create(TestNames.unique("kt-cancel-event"), EventReset.AUTO,
            io.shmflux.sync.EventState.NOT_SIGNALED).use { event ->
            repeat(6) { round ->
                var got: WaitResult? = null
                val waiter = launch(Dispatchers.Default) { got = event.await(kotlin.time.Duration.INFINITE) }
                realDelay(50 + round * 10L)
                val start = System.nanoTime()
                event.set() // races the cancel: a waiter that takes the signal after it must give it back
                waiter.cancelAndJoin()
                assertTrue(System.nanoTime() - start < 200_000_000, "cancelled at once")
                realDelay(300) // the cancelled wait ends within one slice
                val expected = if (got == WaitResult.SIGNALED) WaitResult.TIMEOUT else WaitResult.SIGNALED
                assertEquals(expected, event.await(JavaDuration.ZERO), "the signal went to the waiter or stayed: $got")
            }
        }
    }

    @Test
    fun `timeouts are kotlin Durations, bad ones are refused, and withPermit gives up with WaitTimeoutException`() =
        runTest(timeout = 60.seconds) {
            NamedSemaphore.create(TestNames.unique("kt-timeout"), 0, 1).use { semaphore ->
                val start = System.nanoTime()
                assertEquals(WaitResult.TIMEOUT, semaphore.acquire(150.milliseconds))
                assertTrue(System.nanoTime() - start >= 150_000_000, "waited the timeout, in real time")
                val e = assertFailsWith<WaitTimeoutException> { semaphore.withPermit(10.milliseconds) { } }
                assertTrue(e.message!!.startsWith("semaphore acquire timed out: object="), e.message)
                assertFailsWith<InvalidParameterException> { semaphore.acquire((-1).seconds) }
                semaphore.release(1)
                assertFailsWith<IllegalStateException> { semaphore.withPermit(1.seconds) { error("boom") } }
                assertEquals(WaitResult.SIGNALED, semaphore.acquire(JavaDuration.ZERO), "released after the failure")
            }
        }
}

/**
 * Asserts that the test's single thread runs other coroutines while [waiter] is suspended in its
 * wait: 50 ticks of (virtual) delay all happen before [waiter] is done.
 */
internal suspend fun CoroutineScope.assertTicksWhile(waiter: Job) {
    realDelay(200) // the waiter is asleep in the kernel by now
    val ticks = AtomicInteger()
    launch {
        repeat(50) {
            delay(10)
            ticks.incrementAndGet()
        }
    }.join()
    assertEquals(50, ticks.get())
    assertTrue(waiter.isActive, "the waiter is still waiting")
}

/** A delay in real time, even under runTest's virtual clock. */
internal suspend fun realDelay(millis: Long) = withContext(Dispatchers.Default) { delay(millis) }

/** The threads now inside a futex wait of the Java API. */
internal fun threadsInAWait(): List<String> = Thread.getAllStackTraces()
    .filter { (_, stack) -> stack.any { it.className == "io.shmflux.internal.sync.Waits" } }
    .map { (thread, _) -> thread.name }
