package io.shmflux

import io.shmflux.kotlin.await
import io.shmflux.kotlin.changeFlow
import io.shmflux.kotlin.withLock
import io.shmflux.sync.EventReset
import io.shmflux.sync.NamedEvent
import io.shmflux.sync.NamedMutex
import io.shmflux.sync.WaitResult
import io.shmflux.testing.NoLeftovers
import io.shmflux.testing.TestNames
import kotlinx.coroutines.CoroutineStart
import kotlinx.coroutines.async
import kotlinx.coroutines.delay
import kotlinx.coroutines.flow.first
import kotlinx.coroutines.launch
import kotlinx.coroutines.runBlocking
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.extension.ExtendWith
import org.junit.jupiter.api.io.TempDir
import java.lang.foreign.ValueLayout
import java.nio.file.Files
import java.nio.file.Path
import kotlin.test.assertEquals
import kotlin.test.assertFailsWith
import kotlin.test.assertFalse
import kotlin.test.assertNull
import kotlin.test.assertTrue
import kotlin.time.Duration.Companion.seconds

/** The public API as a Kotlin user writes it: `use {}`, null-safety the compiler can see, shmflux-kotlin's coroutines. */
@ExtendWith(NoLeftovers::class)
class KotlinUsageTest {

    @Test
    fun `createOrOpen and map compose with use blocks`() {
        val name = TestNames.unique("kotlin")
        val read = SharedMemory.createOrOpen(name, 4096).use { mapping ->
            assertTrue(mapping.created())
            mapping.map(Access.READ_WRITE).use { view ->
                view.segment().set(ValueLayout.JAVA_LONG, 0, 42L)
            }
            SharedMemory.open(name, Access.READ).use { again ->
                again.map(Access.READ).use { view -> view.segment().get(ValueLayout.JAVA_LONG, 0) }
            }
        }
        assertEquals(42L, read)
        assertFailsWith<ObjectNotFoundException> { SharedMemory.open(name, Access.READ) }
    }

    @Test
    fun `createOrOpen on an existing name keeps its size`() {
        val name = TestNames.unique("kotlin-existing")
        SharedMemory.create(name, 8192).use { first ->
            SharedMemory.createOrOpen(name, 1).use { second ->
                assertFalse(second.created())
                assertEquals(first.byteSize(), second.byteSize())
            }
        }
    }

    @Test
    fun `an unnamed file-backed object has a null name`(@TempDir dir: Path) {
        val file = Files.write(dir.resolve("data.bin"), ByteArray(4096))
        SharedMemory.createFromFile(file, null, 0).use { mapping ->
            val n: String? = mapping.name()
            assertNull(n)
            assertEquals(4096L, mapping.byteSize())
            val length = mapping.name()?.length ?: -1
            assertEquals(-1, length)
            mapping.map(Access.READ_WRITE, 100, 0).use { view ->
                assertEquals(3996L, view.byteSize())
                view.segment().set(ValueLayout.JAVA_BYTE, 0, 7.toByte())
            }
        }
        assertEquals(7.toByte(), Files.readAllBytes(file)[100])
    }

    @Test
    fun `a named mapping has a non-null name`() {
        val name = TestNames.unique("kotlin-named")
        SharedMemory.create(name, 4096, MappingOptions.DEFAULT.withPageCommit(PageCommit.RESERVE)).use { mapping ->
            val n: String = mapping.name() ?: error("a named mapping has a name")
            assertEquals(name, n)
        }
    }

    @Test
    fun `errors are exceptions rooted in SharedMemoryException`() {
        val e = assertFailsWith<SharedMemoryException> { SharedMemory.create(TestNames.unique("zero"), 0) }
        assertTrue(e is InvalidParameterException)
        assertTrue(e.message!!.startsWith("invalid size: size=0"))
    }

    @Test
    fun `the README quick start runs`() = runBlocking {
        val name = TestNames.unique("kotlin-quickstart")
        val layout = RecordLayout.of(Price::class.java)
        // README kotlin begins
        val price = SharedMemory.createOrOpen(name, 4096).use { prices ->
            // subscribe (in any process): collecting the Flow subscribes, cancelling it unsubscribes
            val next = async(start = CoroutineStart.UNDISPATCHED) { prices.changeFlow().first() }

            // publish (in any process): write a value under the protocol and announce it
            prices.publish(0, layout, Price(10125L, 300L))

            val change = next.await()          // suspends until it comes: sequence 1, offset 0, length 16
            prices.read(change.offset, layout) // never half written
        } // the last close removed the object

        val signaled = NamedEvent.createOrOpen("$name-ready", EventReset.MANUAL).use { ready ->
            launch { ready.set() }             // (from any process)
            ready.await(5.seconds)             // suspends; the thread runs other coroutines meanwhile
        }

        val total = NamedMutex.createOrOpen("$name-lock").use { lock ->
            lock.withLock(5.seconds) {         // held by one owner thread across suspensions
                delay(10)
                price.price * price.quantity
            }
        }
        // README kotlin ends
        assertEquals(Price(10125L, 300L), price)
        assertEquals(WaitResult.SIGNALED, signaled)
        assertEquals(3_037_500L, total)
    }
}

/** The README's record (declared in its set-up lines). */
@JvmRecord
data class Price(val price: Long, val quantity: Long)
