package io.shmflux.internal.protocol;


import java.lang.foreign.MemorySegment;
import java.lang.invoke.VarHandle;
import java.util.ArrayList;
import java.util.List;

import static io.shmflux.internal.layout.ChangeLogDescriptor.*;

/**
 * A read-only reader of a change log: the published sequence, the ring's records, the lap arithmetic
 * and the back-pressure subscribers' positions. It never writes, so the library's feeds
 * ({@link ChangeCursor}) and the tool's {@code inspect} read the log with the same code and cannot
 * disagree about what the ring holds. Layout: {@link io.shmflux.internal.layout.ChangeLogDescriptor}.
 */
public final class ChangeRing {

    private final MemorySegment region;
    private final int capacity;
    private final int holderSlots;
    private final int subscriberSlots;
    private final long ringOffset;

    /**
     * @param region the change-log region, already checked with
     *               {@link io.shmflux.internal.layout.ChangeLogDescriptor#checkRegion}
     */
    public ChangeRing(MemorySegment region) {
        this.region = region;
        this.capacity = (int) INT.get(region, RING_CAPACITY_OFFSET);
        this.holderSlots = (int) INT.get(region, HOLDER_SLOTS_OFFSET);
        this.subscriberSlots = (int) INT.get(region, SUBSCRIBER_SLOTS_OFFSET);
        this.ringOffset = io.shmflux.internal.layout.ChangeLogDescriptor.ringOffset(holderSlots, subscriberSlots);
    }

    public int capacity() {
        return capacity;
    }

    int holderSlots() {
        return holderSlots;
    }

    int subscriberSlots() {
        return subscriberSlots;
    }

    MemorySegment region() {
        return region;
    }

    long ringOffset() {
        return ringOffset;
    }

    /** {@return how many changes were published so far: the sequence of the latest} */
    public long published() {
        return ((long) LONG.getAcquire(region, SEQUENCE_OFFSET)) >>> 1;
    }

    /** {@return true while a writer is between making the sequence odd and publishing} */
    public boolean writing() {
        return (((long) LONG.getAcquire(region, SEQUENCE_OFFSET)) & 1) != 0;
    }

    /** {@return the sequence of the end-of-stream marker, or 0 while the stream is open} */
    public long endSequence() {
        return (long) LONG.getVolatile(region, END_SEQUENCE_OFFSET);
    }

    /** {@return the oldest change the ring still holds when {@code published} changes were published, or 0 if none} */
    public long oldestRetained(long published) {
        return published == 0 ? 0 : Math.max(1, published - capacity + 1);
    }

    /** {@return the first change a feed asking to start after {@code sequence} gets} */
    public static long startAfter(long sequence) {
        return sequence + 1;
    }

    /**
     * {@return the sequence of the change that the record where change {@code n} goes holds now} 0 if
     * never written or being written; {@code n} once it is published, until a later lap overwrites it.
     */
    long recordSequence(long n) {
        return (long) LONG.getAcquire(region, recordOffset(ringOffset, capacity, n) + RECORD_SEQUENCE_OFFSET);
    }

    /**
     * Reads change record {@code n} into {@code into}, allocating nothing. {@return false if the ring
     * no longer holds it (lapped), does not hold it yet, or it is being overwritten}
     */
    boolean read(long n, TakenChange into) {
        long record = recordOffset(ringOffset, capacity, n);
        long before = (long) LONG.getAcquire(region, record + RECORD_SEQUENCE_OFFSET);
        if (before != n) {
            return false;
        }
        long offset = (long) LONG.get(region, record + RECORD_OFFSET_OFFSET);
        long length = (long) LONG.get(region, record + RECORD_LENGTH_OFFSET);
        long writerPid = (long) LONG.get(region, record + RECORD_WRITER_PID_OFFSET);
        long timestamp = (long) LONG.get(region, record + RECORD_TIMESTAMP_OFFSET);
        int flags = (int) INT.get(region, record + RECORD_FLAGS_OFFSET);
        VarHandle.loadLoadFence();
        if ((long) LONG.getOpaque(region, record + RECORD_SEQUENCE_OFFSET) != n) {
            return false;
        }
        into.set(n, offset, length, writerPid, timestamp, (flags & FLAG_TORN) != 0, (flags & FLAG_END) != 0);
        return true;
    }

    /**
     * How far a cursor at {@code cursor} (the next change it wants) must skip because the ring lapped
     * it, given that the record there is missing although {@code published >= cursor}: to the oldest
     * record still held, or by one if that record is being overwritten right now.
     */
    long lapSkip(long cursor, long published) {
        long oldest = oldestRetained(published);
        return oldest > cursor ? oldest - cursor : 1;
    }

    /**
     * {@return the position a back-pressure subscriber must have reached (every earlier change taken)
     * before change {@code n} may be written} Record {@code n} overwrites change {@code n - capacity}.
     */
    long positionNeededFor(long n) {
        return n - capacity + 1;
    }

    long subscriberOffset(int slot) {
        return io.shmflux.internal.layout.ChangeLogDescriptor.subscriberOffset(holderSlots, slot);
    }

    /** {@return how many subscriber slots were ever claimed: the ones a publisher scans} */
    int subscriberSlotsUsed() {
        return Math.min((int) INT.getVolatile(region, SUBSCRIBER_SLOTS_USED_OFFSET), subscriberSlots);
    }

    /**
     * A back-pressure subscriber's slot as read (diagnostics: the liveness lock is checked by the
     * caller).
     *
     * @param slot     the slot index
     * @param token    0 if never claimed
     * @param pid      the subscriber's process
     * @param position the next change it takes; it has taken every earlier one
     */
    public record SubscriberState(int slot, int token, long pid, long position) {
    }

    /** {@return every subscriber slot with a token} */
    public List<SubscriberState> subscribers() {
        List<SubscriberState> states = new ArrayList<>();
        for (int slot = 0; slot < subscriberSlotsUsed(); slot++) {
            long at = subscriberOffset(slot);
            int token = (int) INT.getAcquire(region, at + SUBSCRIBER_TOKEN_OFFSET);
            if (token != 0) {
                states.add(new SubscriberState(slot, token, (long) LONG.get(region, at + SUBSCRIBER_PID_OFFSET),
                        (long) LONG.getVolatile(region, at + SUBSCRIBER_POSITION_OFFSET)));
            }
        }
        return states;
    }
}
