package io.shmflux.internal.protocol;

import io.shmflux.internal.linux.Futex;
import io.shmflux.internal.liveness.Lease;
import io.shmflux.internal.liveness.LeaseTable;

import java.lang.foreign.MemorySegment;

import static io.shmflux.internal.layout.ChangeLogDescriptor.*;

/**
 * A {@code BACK_PRESSURE} subscriber's slot in the subscriber table: its position (the next change
 * it takes; it has taken every earlier one) in shared memory, where publishers in every process look
 * before they overwrite a record. The slot is a {@link Lease} of the subscriber-slot
 * {@link LeaseTable} (lock bytes from {@code SUBSCRIBER_LOCK_BASE}): the kernel ends it when the
 * subscriber's handle closes or its process dies, so a dead subscriber stops holding publishers back
 * at once, with no timeout.
 *
 * <h2>Claiming</h2>
 * <ol>
 * <li>Claim a lease of the table (its slot is this subscriber's).</li>
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

    private final Lease lease;
    private final MemorySegment region;
    private final MemorySegment progressWord;
    private final int slot;
    private final long at;
    private final long batch;
    private boolean released;

    private SubscriberSlot(Lease lease, ChangeRing ring) {
        this.lease = lease;
        this.region = ring.region();
        this.slot = lease.slot();
        this.at = ring.subscriberOffset(slot);
        this.progressWord = region.asSlice(at + SUBSCRIBER_PROGRESS_OFFSET, 4);
        this.batch = Math.max(1, ring.capacity() / 8);
    }

    /** Claims a free slot of {@code leases} for a subscriber whose next change is {@code position}. */
    static SubscriberSlot claim(LeaseTable leases, ChangeRing ring, long position) {
        MemorySegment region = ring.region();
        SubscriberSlot claimed = new SubscriberSlot(leases.claim(), ring);
        int slot = claimed.slot;
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
    void release() {
        if (released) {
            return;
        }
        released = true;
        INT.setVolatile(region, at + SUBSCRIBER_TOKEN_OFFSET, 0);
        wakePublisher((int) INT.getVolatile(region, at + SUBSCRIBER_PROGRESS_OFFSET));
        lease.release();
    }
}
