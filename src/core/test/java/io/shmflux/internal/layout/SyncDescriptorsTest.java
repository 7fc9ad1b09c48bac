package io.shmflux.internal.layout;

import org.junit.jupiter.api.Test;

import java.lang.foreign.ValueLayout;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** The offsets in the descriptors' diagrams and tables are the ones their layouts produce. */
class SyncDescriptorsTest {

    @Test
    void mutexWordsSitWhereTheDiagramSays() {
        assertEquals(0, MutexDescriptor.LOCK_WORD_OFFSET);
        assertEquals(64, MutexDescriptor.SLOT_GENERATIONS_OFFSET);
        assertEquals(64 + 4 * 1024, MutexDescriptor.REGION_LENGTH);
        assertEquals(64 + 4 * 1023, MutexDescriptor.slotGenerationOffset(MutexDescriptor.SLOTS - 1));
        int token = MutexDescriptor.token(1023, MutexDescriptor.GENERATION_MASK);
        assertEquals(0, token & MutexDescriptor.WAITERS_BIT, "a token never has the waiters bit");
        assertEquals(1023, MutexDescriptor.slotOf(token | MutexDescriptor.WAITERS_BIT));
        assertEquals(MutexDescriptor.GENERATION_MASK, MutexDescriptor.generationOf(token));
    }

    @Test
    void eventWordsSitWhereTheDiagramSays() {
        assertEquals(0, EventDescriptor.STATE_OFFSET);
        assertEquals(4, EventDescriptor.WAITERS_OFFSET);
        assertEquals(8, EventDescriptor.RESET_MODE_OFFSET);
        assertEquals(12, EventDescriptor.REGION_LENGTH);
    }

    @Test
    void semaphoreWordsSitWhereTheDiagramSays() {
        assertEquals(0, SemaphoreDescriptor.COUNT_OFFSET);
        assertEquals(4, SemaphoreDescriptor.WAITERS_OFFSET);
        assertEquals(8, SemaphoreDescriptor.MAXIMUM_OFFSET);
        assertEquals(12, SemaphoreDescriptor.REGION_LENGTH);
    }

    @Test
    void checkRegionRefusesShortRegionsAndValuesNoCreatorWrites() {
        try (java.lang.foreign.Arena arena = java.lang.foreign.Arena.ofConfined()) {
            java.lang.foreign.MemorySegment region = arena.allocate(MutexDescriptor.REGION_LENGTH, 64);
            MutexDescriptor.checkRegion(region, "p");
            assertCorrupt("corrupt object: field=mutex.regionLength, value=64, expected=at least 4160 bytes after the "
                    + "header (the file is shorter than its structure), path=p",
                    () -> MutexDescriptor.checkRegion(region.asSlice(0, 64), "p"));
            assertCorrupt("corrupt object: field=event.resetMode, value=0, expected=1 or 2, path=p",
                    () -> EventDescriptor.checkRegion(region, "p"));
            region.set(ValueLayout.JAVA_INT, EventDescriptor.RESET_MODE_OFFSET, EventDescriptor.MODE_AUTO);
            EventDescriptor.checkRegion(region, "p");
            region.set(ValueLayout.JAVA_INT, SemaphoreDescriptor.MAXIMUM_OFFSET, 0);
            assertCorrupt("corrupt object: field=semaphore.maximum, value=0, expected=at least 1, path=p",
                    () -> SemaphoreDescriptor.checkRegion(region, "p"));
            region.set(ValueLayout.JAVA_INT, SemaphoreDescriptor.MAXIMUM_OFFSET, 2);
            region.set(ValueLayout.JAVA_INT, SemaphoreDescriptor.COUNT_OFFSET, 3);
            assertCorrupt("corrupt object: field=semaphore.count, value=3, expected=0 to 2, path=p",
                    () -> SemaphoreDescriptor.checkRegion(region, "p"));
            region.set(ValueLayout.JAVA_INT, SemaphoreDescriptor.COUNT_OFFSET, 2);
            SemaphoreDescriptor.checkRegion(region, "p");
        }
    }

    private static void assertCorrupt(String message, org.junit.jupiter.api.function.Executable check) {
        assertEquals(message, org.junit.jupiter.api.Assertions.assertThrows(io.shmflux.CorruptObjectException.class,
                check).getMessage());
    }
}
