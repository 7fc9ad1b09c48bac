package io.shmflux.internal.protocol;

import io.shmflux.SharedMemoryException;
import io.shmflux.internal.linux.Futex;
import io.shmflux.internal.namespace.ControlFile;

import java.lang.foreign.MemorySegment;

import static io.shmflux.internal.layout.ChangeLogDescriptor.*;

/**
 * A {@code BACK_PRESSURE} subscriber's slot in the subscriber table: its position (the next change
 * it takes; it has taken every earlier one) in shared memory, where publishers in every process look
 * before they overwrite a record. The slot is proven alive by an exclusive OFD lock on control byte
 * {@code SUBSCRIBER_LOCK_BASE + slot}, which the kernel drops when the subscriber's handle closes or
 * its process dies: a dead subscriber stops holding publishers back at once, with no timeout.
 *
 * <h2>Claiming</h2>
 * <ol>
 * <li>Take the slot's lock byte (a slot this handle already uses is skipped: a lock never conflicts
 *     with its own open file description).</li>
 * <li>Store the position (volatile) and the pid, then a fresh token (release): from now on publishers
 *     respect the position.</li>
 * <li>Raise "slots used" to cover the slot, so that publishers scan it.</li>
 * </ol>
 *
 * <h2>Advancing (the subscriber's half of the wake-up handshake)</h2>
 * <ol>
 * <li>Store the new position (volatile: a full fence before the next load).</li>
 * <li>Load the progress word; if its waiting bit is set, load wake-at (what the waiting publisher
 *     needs).</li>
 * <li>If the position reached wake-at plus a batch, or reached wake-at at the end of a drain (no more
 *     demand, or caught up), swap the progress word to the next generation without the bit and
 *     FUTEX_WAKE if the old word had it. Waking in batches saves a system call and a context switch per
 *     change while the publisher is ahead.</li>
 * </ol>
 * The publisher's half is in {@link BackPressureGate}.
 */
final class SubscriberSlot {

    private final ControlFile control;
    private final MemorySegment region;
    private final MemorySegment progressWord;
    private final int slot;
    private final long at;
    private final long batch;
    private boolean released;

    private SubscriberSlot(ControlFile control, ChangeRing ring, int slot) {
        this.control = control;
        this.region = ring.region();
        this.slot = slot;
        this.at = ring.subscriberOffset(slot);
        this.progressWord = region.asSlice(at + SUBSCRIBER_PROGRESS_OFFSET, 4);
        this.batch = Math.max(1, ring.capacity() / 8);
    }

    /**
     * Claims a free slot for a subscriber whose next change is {@code position}.
     *
     * @param usedHere the slots this handle already uses (guarded by the caller)
     */
    static SubscriberSlot claim(ControlFile control, ChangeRing ring, long position, java.util.BitSet usedHere) {
        MemorySegment region = ring.region();
        for (int slot = 0; slot < ring.subscriberSlots(); slot++) {
            if (usedHere.get(slot) || !control.tryLockByte(SUBSCRIBER_LOCK_BASE + slot)) {
                continue;
            }
            usedHere.set(slot);
            SubscriberSlot claimed = new SubscriberSlot(control, ring, slot);
            LONG.setVolatile(region, claimed.at + SUBSCRIBER_POSITION_OFFSET, position);
            LONG.set(region, claimed.at + SUBSCRIBER_PID_OFFSET, ProcessHandle.current().pid());
            int token;
            do {
                token = (int) INT.getAndAdd(region, SUBSCRIBER_CLAIMS_OFFSET, 1) + 1;
            } while (token == 0);
            INT.setRelease(region, claimed.at + SUBSCRIBER_TOKEN_OFFSET, token);
            int used;
            do {
                used = (int) INT.getVolatile(region, SUBSCRIBER_SLOTS_USED_OFFSET);
            } while (used < slot + 1 && !INT.compareAndSet(region, SUBSCRIBER_SLOTS_USED_OFFSET, used, slot + 1));
            claimed.advance(position, true); // a publisher may wait on the slot's previous, dead owner
            return claimed;
        }
        throw new SharedMemoryException("too many back-pressure subscribers: object=" + control.name()
                + ", subscriberSlots=" + ring.subscriberSlots() + ", reason=every slot is held by a live subscriber");
    }

    int index() {
        return slot;
    }

    /**
     * Records that every change before {@code position} was taken (steps above).
     *
     * @param drainEnd true at the end of a drain: wake a waiting publisher as soon as it has room
     */
    void advance(long position, boolean drainEnd) {
        LONG.setVolatile(region, at + SUBSCRIBER_POSITION_OFFSET, position);
        int word = (int) INT.getVolatile(region, at + SUBSCRIBER_PROGRESS_OFFSET);
        if ((word & 1) == 0) {
            return;
        }
        long wakeAt = (long) LONG.getVolatile(region, at + SUBSCRIBER_WAKE_AT_OFFSET);
        if (position >= wakeAt + batch || (drainEnd && position >= wakeAt)) {
            wakePublisher(word);
        }
    }

    private void wakePublisher(int word) {
        int previous = (int) INT.getAndSet(region, at + SUBSCRIBER_PROGRESS_OFFSET, (word + 2) & ~1);
        if ((previous & 1) != 0) {
            Futex.wake(progressWord, Integer.MAX_VALUE);
        }
    }

    /** Gives the slot up: publishers stop looking at it, and one waiting for it goes on. Idempotent. */
    void release(java.util.BitSet usedHere) {
        if (released) {
            return;
        }
        released = true;
        INT.setVolatile(region, at + SUBSCRIBER_TOKEN_OFFSET, 0);
        wakePublisher((int) INT.getVolatile(region, at + SUBSCRIBER_PROGRESS_OFFSET));
        control.unlockByte(SUBSCRIBER_LOCK_BASE + slot);
        usedHere.clear(slot);
    }
}
