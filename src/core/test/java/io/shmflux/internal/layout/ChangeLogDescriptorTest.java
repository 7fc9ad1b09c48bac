package io.shmflux.internal.layout;

import io.shmflux.InvalidParameterException;
import org.junit.jupiter.api.Test;

import static io.shmflux.internal.layout.ChangeLogDescriptor.*;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The numbers in the class Javadoc's diagram and table, checked against the layout they are derived from. */
class ChangeLogDescriptorTest {

    @Test
    void theDocumentedOffsetsAreTheLayoutsOffsets() {
        assertEquals(0, SEQUENCE_OFFSET);
        assertEquals(64, NOTIFY_OFFSET);
        assertEquals(128, WRITER_LOCK_OFFSET);
        assertEquals(132, LOCK_OWNER_PID_OFFSET);
        assertEquals(136, RECOVERED_OFFSET);
        assertEquals(192, TORN_OFFSET_OFFSET);
        assertEquals(200, TORN_LENGTH_OFFSET);
        assertEquals(208, TORN_SEQUENCE_OFFSET);
        assertEquals(256, RING_CAPACITY_OFFSET);
        assertEquals(260, HOLDER_SLOTS_OFFSET);
        assertEquals(264, SUBSCRIBER_SLOTS_OFFSET);
        assertEquals(268, SUBSCRIBER_SLOTS_USED_OFFSET);
        assertEquals(272, END_SEQUENCE_OFFSET);
        assertEquals(280, PUBLISH_TIMEOUT_OFFSET);
        assertEquals(288, SUBSCRIBER_CLAIMS_OFFSET);
        assertEquals(320, SLEEPERS_OFFSET);
        assertEquals(384, HOLDER_TABLE_OFFSET);
    }

    @Test
    void aSubscriberSlotIsOneCacheLineAndTheTableFollowsTheHolderTable() {
        assertEquals(64, SUBSCRIBER_LENGTH);
        assertEquals(0, SUBSCRIBER_POSITION_OFFSET);
        assertEquals(8, SUBSCRIBER_PID_OFFSET);
        assertEquals(16, SUBSCRIBER_WAKE_AT_OFFSET);
        assertEquals(24, SUBSCRIBER_TOKEN_OFFSET);
        assertEquals(28, SUBSCRIBER_PROGRESS_OFFSET);
        assertEquals(2432, subscriberTableOffset(HOLDER_SLOTS));
        assertEquals(2432 + 64, subscriberOffset(HOLDER_SLOTS, 1));
        assertEquals(6528, ringOffset(HOLDER_SLOTS, SUBSCRIBER_SLOTS));
        assertTrue(SUBSCRIBER_LOCK_BASE >= HOLDER_LOCK_BASE + HOLDER_SLOTS, "lock byte ranges must not overlap");
    }

    @Test
    void hotWordsEachHaveTheirOwnCacheLine() {
        assertEquals(0, SEQUENCE_OFFSET / 64);
        assertEquals(1, NOTIFY_OFFSET / 64);
        assertEquals(2, WRITER_LOCK_OFFSET / 64);
        assertEquals(3, TORN_OFFSET_OFFSET / 64, "read by every reader, written only for a torn change");
        assertEquals(5, SLEEPERS_OFFSET / 64, "sleepers move on every sleep: not on the line every publish reads");
        assertEquals(4, END_SEQUENCE_OFFSET / 64);
        assertEquals(4, SUBSCRIBER_SLOTS_USED_OFFSET / 64);
    }

    @Test
    void aChangeRecordIsOneCacheLine() {
        assertEquals(64, RECORD_LENGTH);
        assertEquals(0, RECORD_SEQUENCE_OFFSET);
        assertEquals(8, RECORD_OFFSET_OFFSET);
        assertEquals(16, RECORD_LENGTH_OFFSET);
        assertEquals(24, RECORD_WRITER_PID_OFFSET);
        assertEquals(32, RECORD_TIMESTAMP_OFFSET);
        assertEquals(40, RECORD_FLAGS_OFFSET);
        assertEquals(48, RECORD_WRITER_THREAD_OFFSET);
    }

    @Test
    void theRingStartsOnACacheLineAfterTheHolderTableAndWrapsAtItsCapacity() {
        long ring = ringOffset(HOLDER_SLOTS, SUBSCRIBER_SLOTS);
        assertEquals(0, ring % 64);
        assertEquals(384 + 8 * 256 + 64 * 64, ring);
        assertEquals(ring + 64L * 1024, regionLength(1024, HOLDER_SLOTS, SUBSCRIBER_SLOTS));
        assertEquals(ring, recordOffset(ring, 1024, 1));
        assertEquals(ring + 64, recordOffset(ring, 1024, 2));
        assertEquals(ring, recordOffset(ring, 1024, 1025));
    }

    @Test
    void ringCapacitiesMustBePowersOfTwoInRange() {
        assertEquals(2, checkRingCapacity(2));
        assertEquals(1 << 24, checkRingCapacity(1 << 24));
        InvalidParameterException e = assertThrows(InvalidParameterException.class, () -> checkRingCapacity(1000));
        assertEquals("invalid change ring capacity: capacity=1000, expected=a power of two from 2 to 16777216",
                e.getMessage());
        assertThrows(InvalidParameterException.class, () -> checkRingCapacity(1));
        assertThrows(InvalidParameterException.class, () -> checkRingCapacity(1 << 25));
        assertThrows(InvalidParameterException.class, () -> checkRingCapacity(-2));
    }

    @Test
    void checkRegionRefusesARingOrHolderTableTheRegionCannotHoldAndOutOfRangeCreatorFields() {
        try (java.lang.foreign.Arena arena = java.lang.foreign.Arena.ofConfined()) {
            long bytes = regionLength(2, HOLDER_SLOTS, SUBSCRIBER_SLOTS);
            java.lang.foreign.MemorySegment region = arena.allocate(bytes, 64);
            INT.set(region, RING_CAPACITY_OFFSET, 2);
            INT.set(region, HOLDER_SLOTS_OFFSET, HOLDER_SLOTS);
            INT.set(region, SUBSCRIBER_SLOTS_OFFSET, SUBSCRIBER_SLOTS);
            LONG.set(region, PUBLISH_TIMEOUT_OFFSET, MIN_PUBLISH_TIMEOUT_NANOS);
            checkRegion(region, "p");
            INT.set(region, RING_CAPACITY_OFFSET, 4);
            assertTrue(message(region).startsWith("corrupt object: field=changeLog.regionLength, value=" + bytes
                    + ", expected=at least " + regionLength(4, HOLDER_SLOTS, SUBSCRIBER_SLOTS)), message(region));
            INT.set(region, RING_CAPACITY_OFFSET, 3);
            assertTrue(message(region).startsWith("corrupt object: field=changeLog.ringCapacity, value=3"), message(region));
            INT.set(region, RING_CAPACITY_OFFSET, 2);
            INT.set(region, HOLDER_SLOTS_OFFSET, 0);
            assertTrue(message(region).startsWith("corrupt object: field=changeLog.holderSlots, value=0, expected=1 to "
                    + HOLDER_SLOTS), message(region));
            INT.set(region, HOLDER_SLOTS_OFFSET, HOLDER_SLOTS);
            INT.set(region, SUBSCRIBER_SLOTS_OFFSET, -1);
            assertTrue(message(region).startsWith("corrupt object: field=changeLog.subscriberSlots, value=-1, expected="
                    + SUBSCRIBER_SLOTS), message(region));
            INT.set(region, SUBSCRIBER_SLOTS_OFFSET, SUBSCRIBER_SLOTS);
            LONG.set(region, PUBLISH_TIMEOUT_OFFSET, 0L);
            assertTrue(message(region).startsWith("corrupt object: field=changeLog.publishTimeout, value=0"), message(region));
        }
    }

    private static String message(java.lang.foreign.MemorySegment region) {
        return assertThrows(io.shmflux.CorruptObjectException.class, () -> checkRegion(region, "p")).getMessage();
    }
}
