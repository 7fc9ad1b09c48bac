package io.shmflux

import io.shmflux.testing.NoLeftovers
import io.shmflux.testing.TestNames
import kotlinx.coroutines.flow.map
import kotlinx.coroutines.flow.take
import kotlinx.coroutines.flow.toList
import kotlinx.coroutines.launch
import kotlinx.coroutines.reactive.asFlow
import kotlinx.coroutines.runBlocking
import kotlinx.coroutines.withTimeout
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.extension.ExtendWith
import java.lang.foreign.ValueLayout
import kotlin.test.assertContentEquals
import kotlin.test.assertEquals

@ExtendWith(NoLeftovers::class)
class ChangeFeedKotlinTest {

    @Test
    fun `changes read naturally as a Kotlin Flow`() = runBlocking {
        SharedMemory.create(TestNames.unique("kt-flow"), 4096).use { mapping ->
            val sequences = launch {
                val seen = withTimeout(10_000) {
                    mapping.changes().asFlow().map { it.sequence }.take(3).toList()
                }
                assertEquals(listOf(1L, 2L, 3L), seen)
            }
            kotlinx.coroutines.delay(200) // let the collector subscribe before publishing
            mapping.publish(0, byteArrayOf(1))
            // a trailing lambda writes the range in place
            mapping.publish(8, 8) { range -> range.set(ValueLayout.JAVA_LONG, 0, 42L) }
            mapping.publish(16, byteArrayOf(3))
            sequences.join()
            assertContentEquals(byteArrayOf(1, 0), mapping.read(0, 2))
            val answer: Long = mapping.read(8, 8) { it.get(ValueLayout.JAVA_LONG, 0) }
            assertEquals(42L, answer)
        }
    }
}
