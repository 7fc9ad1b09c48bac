package io.shmflux.internal.layout;

import org.junit.jupiter.api.Test;

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
}
