package io.shmflux.kotlin

import io.shmflux.ChangeEvent
import io.shmflux.ChangeOptions
import io.shmflux.HandleClosedException
import io.shmflux.MappingOptions
import io.shmflux.SharedMemory
import io.shmflux.SharedMemoryException
import io.shmflux.testing.ChildJvm
import io.shmflux.testing.MappingChild
import io.shmflux.testing.NoLeftovers
import io.shmflux.testing.TestNames
import kotlinx.coroutines.CompletableDeferred
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.async
import kotlinx.coroutines.awaitCancellation
import kotlinx.coroutines.cancelAndJoin
import kotlinx.coroutines.flow.collect
import kotlinx.coroutines.flow.first
import kotlinx.coroutines.flow.takeWhile
import kotlinx.coroutines.flow.onEach
import kotlinx.coroutines.flow.take
import kotlinx.coroutines.flow.toList
import kotlinx.coroutines.launch
import kotlinx.coroutines.runBlocking
import kotlinx.coroutines.withTimeout
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.extension.ExtendWith
import java.util.concurrent.CompletableFuture
import java.util.concurrent.TimeUnit
import kotlin.test.assertEquals
import kotlin.test.assertFailsWith
import kotlin.test.assertFalse
import kotlin.test.assertTrue
import kotlin.time.Duration.Companion.seconds

@ExtendWith(NoLeftovers::class)
class ChangeFlowTest {

    private val lossless = ChangeOptions.DEFAULT.withOverflow(ChangeOptions.Overflow.BACK_PRESSURE)

    @Test
    fun `changeBatchFlow delivers every change in order, in batches no larger than asked`() = runBlocking {
        val name = TestNames.unique("kt-batch-flow")
        SharedMemory.create(name, 4096).use { mapping ->
            val subscribed = CompletableDeferred<Unit>()
            val batches = async(Dispatchers.Default) {
                val seen = mutableListOf<Long>()
                mapping.changeBatchFlow(16, lossless, onSubscribed = { subscribed.complete(Unit) })
                    .takeWhile { batch ->
                        assertTrue(batch.size() in 1..16, "batch of ${batch.size()}")
                        (0 until batch.size()).forEach { seen += batch.sequence(it) }
                        seen.last() < 500L
                    }.collect()
                seen
            }
            subscribed.await()
            repeat(500) { mapping.publish(0, byteArrayOf(it.toByte())) }
            assertEquals((1L..500L).toList(), withTimeout(20.seconds) { batches.await() })
            assertFailsWith<io.shmflux.InvalidParameterException> { mapping.changeBatchFlow(0) }
        }
        Unit // a JUnit test returns nothing
    }

    @Test
    fun `changeFlow delivers every change another process publishes, in order`() = runBlocking {
        val name = TestNames.unique("kt-flow-order")
        SharedMemory.create(name, 4096).use { mapping ->
            ChildJvm.start(MappingChild::class.java).use { child ->
                child.nextLine()
                child.call("open $name READ_WRITE")
                val subscribed = CompletableDeferred<Unit>()
                val events = async {
                    mapping.changeFlow(lossless, onSubscribed = { subscribed.complete(Unit) }).take(300).toList()
                }
                subscribed.await()
                assertEquals("ok 300", child.call("publishMany $name 300"))
                val seen = withTimeout(20.seconds) { events.await() }
                assertEquals((1L..300L).toList(), seen.map { it.sequence })
                assertTrue(seen.all { it.missed == 0L && !it.torn && it.writerPid == child.pid() })
                child.send("exit").awaitBye(ChildJvm.DEFAULT_WAIT)
            }
        }
    }

    @Test
    fun `a lapped collector is told exactly how many changes it missed`() = runBlocking {
        SharedMemory.create(TestNames.unique("kt-flow-lapped"), 4096,
            MappingOptions.DEFAULT.withChangeRingCapacity(16)).use { mapping ->
            val first = CompletableDeferred<Unit>()
            val resume = CompletableDeferred<Unit>()
            val events = async(start = kotlinx.coroutines.CoroutineStart.UNDISPATCHED) {
                mapping.changeFlow().onEach {
                    if (it.sequence == 1L) {
                        first.complete(Unit)
                        resume.await() // a slow collector: the publisher laps it meanwhile
                    }
                }.take(5).toList()
            }
            mapping.publish(0, byteArrayOf(0))
            first.await()
            repeat(99) { mapping.publish(0, byteArrayOf(it.toByte())) }
            resume.complete(Unit)
            repeat(10) { mapping.publish(0, byteArrayOf(it.toByte())) }
            val seen = withTimeout(10.seconds) { events.await() }
            assertEquals(1L, seen[0].sequence)
            assertTrue(seen.any { it.missed > 0 }, "lapped: $seen")
            seen.zipWithNext().forEach { (before, after) ->
                assertEquals(before.sequence + 1 + after.missed, after.sequence, "no loss unreported: $seen")
            }
        }
    }

    @Test
    fun `a change whose writer failed arrives flagged torn`() = runBlocking {
        SharedMemory.create(TestNames.unique("kt-flow-torn"), 4096).use { mapping ->
            val events = async(start = kotlinx.coroutines.CoroutineStart.UNDISPATCHED) {
                mapping.changeFlow().take(2).toList()
            }
            assertFailsWith<IllegalStateException> { mapping.publish(0, 8) { error("writer failed") } }
            mapping.publish(0, byteArrayOf(1))
            val seen = withTimeout(10.seconds) { events.await() }
            assertEquals(listOf(true, false), seen.map { it.torn })
        }
    }

    @Test
    fun `cancelling the collector frees its back-pressure slot and releases a waiting publisher`() = runBlocking {
        SharedMemory.create(TestNames.unique("kt-flow-cancel"), 4096,
            MappingOptions.DEFAULT.withChangeRingCapacity(8)).use { mapping ->
            val took = CompletableDeferred<ChangeEvent>()
            val collector = launch(start = kotlinx.coroutines.CoroutineStart.UNDISPATCHED) {
                mapping.changeFlow(lossless).collect {
                    took.complete(it)
                    awaitCancellation() // a stuck collector: it takes nothing more
                }
            }
            val publisher = CompletableFuture.supplyAsync {
                (1..20).map { mapping.publish(0, byteArrayOf(it.toByte())) }.last()
            }
            assertEquals(1L, withTimeout(10.seconds) { took.await() }.sequence)
            Thread.sleep(300)
            assertFalse(publisher.isDone, "the stuck collector holds the publisher back at ${mapping.sequence()}")
            val start = System.nanoTime()
            collector.cancelAndJoin()
            assertEquals(20L, publisher.get(5, TimeUnit.SECONDS))
            assertTrue(System.nanoTime() - start < TimeUnit.SECONDS.toNanos(1), "released at once")
        }
    }

    @Test
    fun `an error ends the flow with its exception, and a cancelled collector's slot is reused`() = runBlocking {
        SharedMemory.create(TestNames.unique("kt-flow-error"), 4096).use { mapping ->
            val started = CompletableDeferred<Unit>()
            var subscribed = 0
            val holders = (1..64).map {
                launch(Dispatchers.Default) {
                    mapping.changeFlow(lossless, onSubscribed = {
                        synchronized(this@ChangeFlowTest) { if (++subscribed == 64) started.complete(Unit) }
                    }).collect { }
                }
            }
            started.await()
            val e = assertFailsWith<SharedMemoryException> { mapping.changeFlow(lossless).first() }
            assertTrue(e.message!!.startsWith("no free slot: object="), e.message)
            holders[0].cancelAndJoin()
            val next = async(start = kotlinx.coroutines.CoroutineStart.UNDISPATCHED) { mapping.changeFlow(lossless).first() }
            mapping.publish(0, byteArrayOf(1))
            assertEquals(1L, withTimeout(10.seconds) { next.await() }.sequence)
            holders.forEach { it.cancelAndJoin() }
        }
        val closed = SharedMemory.create(TestNames.unique("kt-flow-closed"), 4096)
        closed.close()
        assertFailsWith<HandleClosedException> { closed.changeFlow().first() }
        Unit
    }
}
