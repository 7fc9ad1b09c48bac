package io.shmflux.internal.layout;

import io.shmflux.InvalidParameterException;

import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;

import static java.lang.foreign.MemoryLayout.PathElement.groupElement;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * Layout of a file mapping's change log: the region of its control file after the
 * {@linkplain ControlBlockDescriptor header} (control-file offset 8192, page-aligned). It carries the
 * seqlock counter, the writer lock, the subscribers' futex word, the holder table and a ring of
 * change records. Offsets below are relative to the region.
 *
 * <pre>
 *   0                   1                   2                   3
 *   0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *  |                   Sequence (seqlock, 64 bits)                 |  0   own cache line
 *  |                                                               |
 *  +---------------------------------------------------------------+
 *  |         Notify Word: wake count&lt;&lt;1 | waiter bit (futex)       |  64  own cache line
 *  +---------------------------------------------------------------+
 *  |        Writer Lock: holder slot + 1 | contended bit 31       |  128 own cache line
 *  +---------------------------------------------------------------+
 *  |                        Lock Owner PID                         |  132
 *  +---------------------------------------------------------------+
 *  |                    Recovered Changes (64 bits)                |  136
 *  +---------------------------------------------------------------+
 *  |         Torn Range: Offset, Length, Sequence (3 x 64)         |  192 own cache line
 *  +---------------------------------------------------------------+
 *  |            Ring Capacity             |     Holder Slots       |  256 read-mostly line
 *  +---------------------------------------------------------------+
 *  |          Subscriber Slots            | Subscriber Slots Used  |  264
 *  +---------------------------------------------------------------+
 *  |                  End Sequence (64 bits, 0 = open)             |  272
 *  +---------------------------------------------------------------+
 *  |                 Publish Timeout (nanoseconds, 64)             |  280
 *  +---------------------------------------------------------------+
 *  |                       Subscriber Claims                       |  288
 *  +---------------------------------------------------------------+
 *  |                     Sleeping Subscribers                      |  320 own cache line
 *  +---------------------------------------------------------------+
 *  |          Holder table: Holder Slots x (PID 64 bits)          ...  384
 *  +---------------------------------------------------------------+
 *  |  Subscriber table: Subscriber Slots x 64-byte slots          ...  384 + 8 * holder slots, 64-aligned
 *  +---------------------------------------------------------------+
 *  |     Ring: Ring Capacity x 64-byte change records             ...  subscriber table + 64 * slots
 *  +---------------------------------------------------------------+
 *
 *  Change record (64 bytes, one cache line):
 *  +---------------------------------------------------------------+
 *  |   Sequence (64)  |  Offset (64)  |  Length (64)  | Writer PID |
 *  |  Timestamp (64)  | Flags (32) pad|  Writer Thread (64) | pad  |
 *  +---------------------------------------------------------------+
 *
 *  Subscriber slot (64 bytes, one cache line; a BACK_PRESSURE subscriber's position):
 *  +---------------------------------------------------------------+
 *  |  Position (64)   |   PID (64)    |   Wake At (64)             |
 *  |  Token (32)      | Progress (32) |   padding ...              |
 *  +---------------------------------------------------------------+
 * </pre>
 *
 * <table class="striped">
 * <caption>Change-log fields (native byte order: the file never leaves the machine)</caption>
 * <thead><tr><th>Offset</th><th>Size</th><th>Field</th><th>Who writes it</th><th>Access mode</th></tr></thead>
 * <tbody>
 * <tr><td>0</td><td>8</td><td>sequence: 2 &times; published changes, odd while a write is in progress</td>
 *     <td>lock holder</td><td>opaque store + store-store fence (odd), release (even); readers acquire</td></tr>
 * <tr><td>64</td><td>4</td><td>notify word: wake count &lt;&lt; 1 | waiter bit; written only while
 *     somebody sleeps on it</td>
 *     <td>sleeping subscriber (CAS of the bit), writer or stopper finding the bit (CAS {@code w} to
 *     {@code w + 1})</td><td>volatile; futex</td></tr>
 * <tr><td>128</td><td>4</td><td>writer lock: 0 free, else owner's holder slot + 1, bit 31 = waiters</td>
 *     <td>writers</td><td>CAS, getAndSet; futex</td></tr>
 * <tr><td>132</td><td>4</td><td>lock owner pid (diagnostics)</td><td>lock holder</td><td>plain</td></tr>
 * <tr><td>136</td><td>8</td><td>changes recovered from writers that died mid-update</td><td>recoverer</td><td>plain, under the lock</td></tr>
 * <tr><td>192</td><td>24</td><td>torn range: offset, length (0 = none), sequence of the torn change that
 *     made it; the smallest range covering every change left torn and not wholly rewritten since</td>
 *     <td>lock holder, while the sequence is odd</td><td>plain; readers read it inside their seqlock read</td></tr>
 * <tr><td>256</td><td>4</td><td>ring capacity (power of two)</td><td>creator</td><td>plain</td></tr>
 * <tr><td>260</td><td>4</td><td>holder slots</td><td>creator</td><td>plain</td></tr>
 * <tr><td>264</td><td>4</td><td>subscriber slots (64)</td><td>creator</td><td>plain</td></tr>
 * <tr><td>268</td><td>4</td><td>subscriber slots used: one more than the highest slot ever claimed (what a
 *     publisher scans; 0: publishing reads this word and goes on)</td><td>claiming subscribers</td><td>CAS (max)</td></tr>
 * <tr><td>272</td><td>8</td><td>end sequence: 0 while the stream is open, else the sequence of the end
 *     marker written by {@code completeChanges}</td><td>lock holder, before the marker's record</td>
 *     <td>volatile</td></tr>
 * <tr><td>280</td><td>8</td><td>publish timeout: how long a publisher waits for a back-pressure subscriber,
 *     nanoseconds</td><td>creator</td><td>plain</td></tr>
 * <tr><td>288</td><td>4</td><td>subscriber claims: a counter that makes each claim's token unique</td>
 *     <td>claiming subscribers</td><td>getAndAdd</td></tr>
 * <tr><td>320</td><td>4</td><td>sleeping subscribers (diagnostics; on a line of its own, so that neither
 *     the notify word's line nor the read-mostly line that every publish reads moves when a subscriber
 *     sleeps or wakes)</td><td>subscribers</td><td>getAndAdd</td></tr>
 * <tr><td>384</td><td>8 / slot</td><td>holder table: pid of the handle in each slot, 0 if free</td>
 *     <td>the slot's owner</td><td>plain; the slot's liveness is an OFD lock, not this pid</td></tr>
 * <tr><td>2432</td><td>64 / slot</td><td>subscriber table: per slot position (next change the subscriber
 *     takes; it has taken every earlier one), pid (diagnostics, named in timeouts), wake-at (the position
 *     a waiting publisher needs), token (0 = never claimed; unique per claim), progress (futex word:
 *     generation &lt;&lt; 1 | publisher-waiting bit)</td>
 *     <td>the subscriber (position, pid, token), a waiting publisher (wake-at, waiting bit)</td>
 *     <td>position volatile; token release/acquire, CAS to 0 by a publisher that found its owner dead;
 *     progress CAS/getAndSet, futex; liveness is an OFD lock on byte {@code SUBSCRIBER_LOCK_BASE + slot}</td></tr>
 * <tr><td>ring</td><td>64 / record</td><td>change record for change {@code n} at index {@code (n - 1) & (capacity - 1)}:
 *     sequence, offset, length, writer pid, timestamp (of the publish), flags, writer thread
 *     ({@code Thread.threadId()}, so that a call on that thread from inside its writer is recognized, with
 *     the pid). While change {@code n} is in progress (the sequence odd) record {@code n} holds it as the
 *     pending change, its sequence 0: what a recoverer finishes</td>
 *     <td>lock holder</td><td>record sequence: opaque 0, store-store fence, fields plain (before the sequence
 *     turns odd), flags, release n; readers acquire, load-load fence, re-check</td></tr>
 * </tbody>
 * </table>
 */
public final class ChangeLogDescriptor {

    public static final StructLayout LAYOUT = MemoryLayout.structLayout(
            JAVA_LONG.withName("sequence"),
            MemoryLayout.paddingLayout(56),
            JAVA_INT.withName("notify"),
            MemoryLayout.paddingLayout(60),
            JAVA_INT.withName("writerLock"),
            JAVA_INT.withName("lockOwnerPid"),
            JAVA_LONG.withName("recovered"),
            MemoryLayout.paddingLayout(48),
            JAVA_LONG.withName("tornOffset"),
            JAVA_LONG.withName("tornLength"),
            JAVA_LONG.withName("tornSequence"),
            MemoryLayout.paddingLayout(40),
            JAVA_INT.withName("ringCapacity"),
            JAVA_INT.withName("holderSlots"),
            JAVA_INT.withName("subscriberSlots"),
            JAVA_INT.withName("subscriberSlotsUsed"),
            JAVA_LONG.withName("endSequence"),
            JAVA_LONG.withName("publishTimeout"),
            JAVA_INT.withName("subscriberClaims"),
            MemoryLayout.paddingLayout(28),
            JAVA_INT.withName("sleepers"),
            MemoryLayout.paddingLayout(60));

    public static final StructLayout RECORD = MemoryLayout.structLayout(
            JAVA_LONG.withName("sequence"),
            JAVA_LONG.withName("offset"),
            JAVA_LONG.withName("length"),
            JAVA_LONG.withName("writerPid"),
            JAVA_LONG.withName("timestamp"),
            JAVA_INT.withName("flags"),
            MemoryLayout.paddingLayout(4),
            JAVA_LONG.withName("writerThread"),
            MemoryLayout.paddingLayout(8));

    public static final StructLayout SUBSCRIBER = MemoryLayout.structLayout(
            JAVA_LONG.withName("position"),
            JAVA_LONG.withName("pid"),
            JAVA_LONG.withName("wakeAt"),
            JAVA_INT.withName("token"),
            JAVA_INT.withName("progress"),
            MemoryLayout.paddingLayout(32));

    public static final long SEQUENCE_OFFSET = LAYOUT.byteOffset(groupElement("sequence"));
    public static final long NOTIFY_OFFSET = LAYOUT.byteOffset(groupElement("notify"));
    public static final long SLEEPERS_OFFSET = LAYOUT.byteOffset(groupElement("sleepers"));
    public static final long WRITER_LOCK_OFFSET = LAYOUT.byteOffset(groupElement("writerLock"));
    public static final long LOCK_OWNER_PID_OFFSET = LAYOUT.byteOffset(groupElement("lockOwnerPid"));
    public static final long RECOVERED_OFFSET = LAYOUT.byteOffset(groupElement("recovered"));
    public static final long TORN_OFFSET_OFFSET = LAYOUT.byteOffset(groupElement("tornOffset"));
    public static final long TORN_LENGTH_OFFSET = LAYOUT.byteOffset(groupElement("tornLength"));
    public static final long TORN_SEQUENCE_OFFSET = LAYOUT.byteOffset(groupElement("tornSequence"));
    public static final long RING_CAPACITY_OFFSET = LAYOUT.byteOffset(groupElement("ringCapacity"));
    public static final long HOLDER_SLOTS_OFFSET = LAYOUT.byteOffset(groupElement("holderSlots"));
    public static final long SUBSCRIBER_SLOTS_OFFSET = LAYOUT.byteOffset(groupElement("subscriberSlots"));
    public static final long END_SEQUENCE_OFFSET = LAYOUT.byteOffset(groupElement("endSequence"));
    public static final long PUBLISH_TIMEOUT_OFFSET = LAYOUT.byteOffset(groupElement("publishTimeout"));
    public static final long SUBSCRIBER_SLOTS_USED_OFFSET = LAYOUT.byteOffset(groupElement("subscriberSlotsUsed"));
    public static final long SUBSCRIBER_CLAIMS_OFFSET = LAYOUT.byteOffset(groupElement("subscriberClaims"));
    public static final long HOLDER_TABLE_OFFSET = LAYOUT.byteSize();

    public static final long RECORD_LENGTH = RECORD.byteSize();
    public static final long RECORD_SEQUENCE_OFFSET = RECORD.byteOffset(groupElement("sequence"));
    public static final long RECORD_OFFSET_OFFSET = RECORD.byteOffset(groupElement("offset"));
    public static final long RECORD_LENGTH_OFFSET = RECORD.byteOffset(groupElement("length"));
    public static final long RECORD_WRITER_PID_OFFSET = RECORD.byteOffset(groupElement("writerPid"));
    public static final long RECORD_TIMESTAMP_OFFSET = RECORD.byteOffset(groupElement("timestamp"));
    public static final long RECORD_FLAGS_OFFSET = RECORD.byteOffset(groupElement("flags"));
    public static final long RECORD_WRITER_THREAD_OFFSET = RECORD.byteOffset(groupElement("writerThread"));

    public static final long SUBSCRIBER_LENGTH = SUBSCRIBER.byteSize();
    public static final long SUBSCRIBER_POSITION_OFFSET = SUBSCRIBER.byteOffset(groupElement("position"));
    public static final long SUBSCRIBER_PID_OFFSET = SUBSCRIBER.byteOffset(groupElement("pid"));
    public static final long SUBSCRIBER_WAKE_AT_OFFSET = SUBSCRIBER.byteOffset(groupElement("wakeAt"));
    public static final long SUBSCRIBER_TOKEN_OFFSET = SUBSCRIBER.byteOffset(groupElement("token"));
    public static final long SUBSCRIBER_PROGRESS_OFFSET = SUBSCRIBER.byteOffset(groupElement("progress"));

    /** Record flag: the change was recovered from a writer that died mid-update; the range may be torn. */
    public static final int FLAG_TORN = 1;

    /** Record flag: the end-of-stream marker written by {@code completeChanges}; never delivered as a change. */
    public static final int FLAG_END = 2;

    /** Bit 31 of the writer lock: somebody sleeps on it. */
    public static final int LOCK_CONTENDED = 0x8000_0000;

    public static final int MAX_RING_CAPACITY = 1 << 24;
    public static final int HOLDER_SLOTS = 256;
    public static final int SUBSCRIBER_SLOTS = 64;
    /** The publish timeout's range (1 ms to 1 hour, as {@code MappingOptions} accepts it). */
    public static final long MIN_PUBLISH_TIMEOUT_NANOS = 1_000_000L;
    public static final long MAX_PUBLISH_TIMEOUT_NANOS = 3_600_000_000_000L;

    /**
     * Control-file byte ranges locked with OFD locks: byte 0 is the object's liveness lock (see
     * {@code ControlFile}); byte {@code HOLDER_LOCK_BASE + slot} is held exclusively by the handle
     * that owns holder slot {@code slot}, so a slot whose byte nobody locks belongs to a dead handle.
     */
    public static final long HOLDER_LOCK_BASE = 1024;

    /** Byte {@code SUBSCRIBER_LOCK_BASE + slot} is held exclusively by the live back-pressure subscriber in that slot. */
    public static final long SUBSCRIBER_LOCK_BASE = 2048;

    /** Native order for the protocol words: atomics need it, and the file never leaves the machine. */
    public static final ByteOrder ORDER = ByteOrder.nativeOrder();

    public static final VarHandle LONG = JAVA_LONG.varHandle();
    public static final VarHandle INT = JAVA_INT.varHandle();

    static {
        if (LAYOUT.byteSize() != 384 || RECORD_LENGTH != 64 || SUBSCRIBER_LENGTH != 64) {
            throw new AssertionError("change-log layout drifted: " + LAYOUT.byteSize() + ", " + RECORD_LENGTH
                    + ", " + SUBSCRIBER_LENGTH);
        }
    }

    private ChangeLogDescriptor() {
    }

    /** {@return where the subscriber table starts, 64-byte aligned} */
    public static long subscriberTableOffset(int holderSlots) {
        long end = HOLDER_TABLE_OFFSET + 8L * holderSlots;
        return (end + 63) & ~63L;
    }

    /** {@return where the slot {@code slot} of the subscriber table starts} */
    public static long subscriberOffset(int holderSlots, int slot) {
        return subscriberTableOffset(holderSlots) + SUBSCRIBER_LENGTH * slot;
    }

    /** {@return where the ring starts, 64-byte aligned} */
    public static long ringOffset(int holderSlots, int subscriberSlots) {
        return subscriberTableOffset(holderSlots) + SUBSCRIBER_LENGTH * subscriberSlots;
    }

    /** {@return the bytes the change log needs} */
    public static long regionLength(int ringCapacity, int holderSlots, int subscriberSlots) {
        return ringOffset(holderSlots, subscriberSlots) + RECORD_LENGTH * ringCapacity;
    }

    /** {@return the offset of the record for change {@code sequence} (1-based)} */
    public static long recordOffset(long ringOffset, int capacity, long sequence) {
        return ringOffset + ((sequence - 1) & (capacity - 1)) * RECORD_LENGTH;
    }

    /**
     * Checks the fields of a change log its creator writes once (ring capacity, holder slots,
     * subscriber slots, publish timeout) and that the region holds the holder table, subscriber table
     * and ring they imply, before anyone uses them. The protocol
     * words that change later are each checked where they are used.
     */
    public static void checkRegion(MemorySegment region, String path) {
        CorruptField.checkRegionLength("changeLog", region.byteSize(), HOLDER_TABLE_OFFSET, path);
        int capacity = (int) INT.get(region, RING_CAPACITY_OFFSET);
        if (capacity < 2 || capacity > MAX_RING_CAPACITY || Integer.bitCount(capacity) != 1) {
            throw CorruptField.of("changeLog.ringCapacity", capacity, "a power of two from 2 to " + MAX_RING_CAPACITY,
                    path);
        }
        int slots = (int) INT.get(region, HOLDER_SLOTS_OFFSET);
        if (slots < 1 || slots > HOLDER_SLOTS) {
            throw CorruptField.of("changeLog.holderSlots", slots, "1 to " + HOLDER_SLOTS, path);
        }
        int subscribers = (int) INT.get(region, SUBSCRIBER_SLOTS_OFFSET);
        if (subscribers != SUBSCRIBER_SLOTS) {
            throw CorruptField.of("changeLog.subscriberSlots", subscribers, String.valueOf(SUBSCRIBER_SLOTS), path);
        }
        long timeout = (long) LONG.get(region, PUBLISH_TIMEOUT_OFFSET);
        if (timeout < MIN_PUBLISH_TIMEOUT_NANOS || timeout > MAX_PUBLISH_TIMEOUT_NANOS) {
            throw CorruptField.of("changeLog.publishTimeout", timeout, MIN_PUBLISH_TIMEOUT_NANOS + " to "
                    + MAX_PUBLISH_TIMEOUT_NANOS + " nanoseconds", path);
        }
        CorruptField.checkRegionLength("changeLog", region.byteSize(), regionLength(capacity, slots, subscribers), path);
    }

    /**
     * @throws InvalidParameterException unless the capacity is a power of two from 2 to {@value #MAX_RING_CAPACITY}
     */
    public static int checkRingCapacity(int capacity) {
        if (capacity < 2 || capacity > MAX_RING_CAPACITY || Integer.bitCount(capacity) != 1) {
            throw new InvalidParameterException("invalid change ring capacity: capacity=" + capacity
                    + ", expected=a power of two from 2 to " + MAX_RING_CAPACITY);
        }
        return capacity;
    }

}
