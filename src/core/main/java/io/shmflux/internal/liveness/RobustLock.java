package io.shmflux.internal.liveness;

import io.shmflux.internal.linux.Futex;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.VarHandle;

/**
 * A lock across processes that survives its owner's death: one 32-bit futex word holding the owner's
 * {@link Lease} token, with bit 31 set while somebody may sleep on it. The one lock algorithm of
 * shmflux: the change log's writer lock and named mutexes are both this, with their own policy around
 * it (how long to spin, whose thread owns it, what a take-over means to their data).
 *
 * <h2>Steps</h2>
 * <ol>
 * <li><b>Try.</b> Word 0: CAS it to our token (with the waiters bit if we slept on it before, as other
 *     sleepers may remain and the bit makes the next unlock wake one): {@link Outcome#ACQUIRED}. Word
 *     holding our own token: {@link Outcome#OWN_TOKEN} (the caller knows whether that is another of
 *     its threads or a previous holder of its lease slot that died). Otherwise probe the owner's lease:
 *     alive, {@link Outcome#HELD}; dead, CAS the word from the dead token to ours, keeping the waiters
 *     bit: {@link Outcome#TAKEN_OVER}, and the caller repairs what the dead owner left.</li>
 * <li><b>Sleep.</b> {@link #arm()} sets the waiters bit by CAS and returns the value to FUTEX_WAIT on;
 *     every wait is bounded by the caller, and each ends with step 1 again, so a waiter already asleep
 *     finds a dead owner within one slice.</li>
 * <li><b>Unlock.</b> getAndSet the word to 0; FUTEX_WAKE one waiter if the old word had the waiters
 *     bit. A waiter that gives up passes its wake-up on ({@link #passOn()}).</li>
 * </ol>
 */
public final class RobustLock {

    /** What one attempt found. */
    public enum Outcome {
        /** The lock was free and is now ours. */
        ACQUIRED,
        /** The owner's lease is dead: the lock is now ours, and what it guards may be half updated. */
        TAKEN_OVER,
        /** The word holds our own token already. */
        OWN_TOKEN,
        /** A live owner holds it. */
        HELD
    }

    public static final int WAITERS_BIT = 0x8000_0000;
    private static final VarHandle INT = ValueLayout.JAVA_INT.varHandle();

    private final MemorySegment region;
    private final long offset;
    private final MemorySegment word;
    private final LeaseTable owners;

    /**
     * @param region the shared memory holding the lock word
     * @param offset the lock word's offset in {@code region} (4-byte aligned)
     * @param owners the lease table whose tokens the word holds
     */
    public RobustLock(MemorySegment region, long offset, LeaseTable owners) {
        this.region = region;
        this.offset = offset;
        this.word = region.asSlice(offset, 4);
        this.owners = owners;
    }

    /**
     * Step 1.
     *
     * @param token  our lease's token
     * @param slept  true if this caller slept on the lock before (the waiters bit is then kept)
     * @param probe  false to report a held lock without asking whether its owner lives (a probe is a
     *               system call; spinners probe only once their spin is over)
     */
    public Outcome tryLock(int token, boolean slept, boolean probe) {
        int w = (int) INT.getVolatile(region, offset);
        while (true) {
            if (w == 0) {
                if (INT.compareAndSet(region, offset, 0, token | (slept ? WAITERS_BIT : 0))) {
                    return Outcome.ACQUIRED;
                }
                w = (int) INT.getVolatile(region, offset);
                continue;
            }
            int owner = w & ~WAITERS_BIT;
            if (owner == token) {
                return Outcome.OWN_TOKEN;
            }
            if (!probe || owners.probe(owner) == LeaseState.ALIVE) {
                return Outcome.HELD;
            }
            if (INT.compareAndSet(region, offset, w, token | (w & WAITERS_BIT))) {
                return Outcome.TAKEN_OVER;
            }
            w = (int) INT.getVolatile(region, offset);
        }
    }

    /** Step 2: {@return the word value to FUTEX_WAIT on, or 0 to try again at once (the word changed)} */
    public int arm() {
        int w = (int) INT.getVolatile(region, offset);
        if (w == 0) {
            return 0;
        }
        if ((w & WAITERS_BIT) == 0 && !INT.compareAndSet(region, offset, w, w | WAITERS_BIT)) {
            return 0;
        }
        return w | WAITERS_BIT;
    }

    /** Sleeps until the word changes from {@code armed}, at most {@code timeoutNanos}. */
    public void await(int armed, long timeoutNanos) {
        Futex.await(word, armed, timeoutNanos);
    }

    /** {@return the segment of the lock word} for waits that combine several words */
    public MemorySegment word() {
        return word;
    }

    /** Step 3. */
    public void unlock() {
        int previous = (int) INT.getAndSet(region, offset, 0);
        if ((previous & WAITERS_BIT) != 0) {
            Futex.wake(word, 1);
        }
    }

    /**
     * A waiter that leaves without the lock (timeout, interrupt) may have consumed the wake-up meant
     * for another sleeper: wake one if the lock is free, else make sure the next unlock wakes one.
     */
    public void passOn() {
        while (true) {
            int w = (int) INT.getVolatile(region, offset);
            if (w == 0) {
                Futex.wake(word, 1);
                return;
            }
            if ((w & WAITERS_BIT) != 0 || INT.compareAndSet(region, offset, w, w | WAITERS_BIT)) {
                return;
            }
        }
    }

    /** {@return the owner's token, 0 if free} */
    public int ownerToken() {
        return (int) INT.getVolatile(region, offset) & ~WAITERS_BIT;
    }

    /** {@return true if the waiters bit is set} */
    public boolean contended() {
        return ((int) INT.getVolatile(region, offset) & WAITERS_BIT) != 0;
    }
}
