package io.shmflux

import io.shmflux.testing.NoLeftovers
import io.shmflux.testing.TestNames
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.extension.ExtendWith
import java.lang.foreign.MemoryLayout.PathElement
import kotlin.test.assertEquals

@JvmRecord
data class Quote(val price: Long, val quantity: Int, @FixedLength(8) val symbol: String)

@ExtendWith(NoLeftovers::class)
class RecordLayoutKotlinTest {

    @Test
    fun `a JvmRecord class with a FixedLength property is laid out and round-trips`() {
        val layout = RecordLayout.of(Quote::class.java)
        assertEquals(24, layout.byteSize())
        assertEquals(12, layout.layout().byteOffset(PathElement.groupElement("symbol")))
        SharedMemory.create(TestNames.unique("kotlin-records"), 4096).use { mapping ->
            mapping.publish(0, layout, Quote(10125, 300, "ACME"))
            assertEquals(Quote(10125, 300, "ACME"), mapping.read(0, layout))
        }
    }
}
