package io.shmflux.internal.protocol;

import io.shmflux.internal.linux.Futex;

import java.lang.foreign.MemorySegment;
import java.util.concurrent.TimeUnit;

import static io.shmflux.internal.layout.ChangeLogDescriptor.INT;
import static io.shmflux.internal.layout.ChangeLogDescriptor.LOCK_CONTENDED;
import static io.shmflux.internal.layout.ChangeLogDescriptor.LOCK_OWNER_PID_OFFSET;
import static io.shmflux.internal.layout.ChangeLogDescriptor.WRITER_LOCK_OFFSET;

/**
 * The cross-process writer lock of a change log: a futex word holding the owner's holder slot + 1,
 * with bit 31 set while somebody sleeps on it. Robust: a waiter re-checks the owner's liveness
 * (its holder-slot lock) after every bounded sleep, and takes the lock over from a dead owner.
 * Threads of one process are serialized before they get here, by the caller.
 *
 * <ol>
 * <li>Lock: CAS 0 &rarr; own token. On failure spin a little (bounded), then check that the owner
 *     lives; if it died, CAS its token &rarr; own token and report the take-over.</li>
 * <li>Otherwise set the contended bit (CAS) and FUTEX_WAIT on the word for at most one slice, then
 *     start again; a lock taken after sleeping keeps the contended bit, so no waiter is forgotten.</li>
 * <li>Unlock: getAndSet 0; FUTEX_WAKE one waiter only if the contended bit was set.</li>
 * </ol>
 */
final class WriterLock {

    private static final int SPINS = 64;
    private static final long SLICE_NANOS = TimeUnit.MILLISECONDS.toNanos(50);

    private final MemorySegment region;
    private final MemorySegment word;
    private final HolderSlot slot;
    private final int token;

    WriterLock(MemorySegment region, HolderSlot slot) {
        this.region = region;
        this.word = region.asSlice(WRITER_LOCK_OFFSET, 4);
        this.slot = slot;
        this.token = slot.index() + 1;
    }

    /** {@return true if the lock was taken over from an owner that died holding it} */
    boolean lock() {
        int spins = 0;
        int mine = token;
        while (true) {
            int current = (int) INT.getVolatile(region, WRITER_LOCK_OFFSET);
            if (current == 0) {
                if (INT.compareAndSet(region, WRITER_LOCK_OFFSET, 0, mine)) {
                    INT.set(region, LOCK_OWNER_PID_OFFSET, (int) ProcessHandle.current().pid());
                    return false;
                }
                continue;
            }
            int owner = (current & ~LOCK_CONTENDED) - 1;
            if (owner == slot.index()) {
                // a previous handle of this slot died holding it; the slot is ours now
                if (INT.compareAndSet(region, WRITER_LOCK_OFFSET, current, token | (current & LOCK_CONTENDED))) {
                    return true;
                }
                continue;
            }
            if (spins < SPINS) {
                spins++;
                Thread.onSpinWait();
                continue;
            }
            if (!slot.isAlive(owner)) {
                if (INT.compareAndSet(region, WRITER_LOCK_OFFSET, current, token | (current & LOCK_CONTENDED))) {
                    return true;
                }
                continue;
            }
            int contended = current | LOCK_CONTENDED;
            if (current != contended && !INT.compareAndSet(region, WRITER_LOCK_OFFSET, current, contended)) {
                continue;
            }
            Futex.await(word, contended, SLICE_NANOS);
            mine = token | LOCK_CONTENDED;
        }
    }

    void unlock() {
        int previous = (int) INT.getAndSet(region, WRITER_LOCK_OFFSET, 0);
        if ((previous & LOCK_CONTENDED) != 0) {
            Futex.wake(word, 1);
        }
    }

    /** {@return the owner's slot, or -1 if free} */
    int ownerSlot() {
        int current = (int) INT.getVolatile(region, WRITER_LOCK_OFFSET);
        return current == 0 ? -1 : (current & ~LOCK_CONTENDED) - 1;
    }
}
