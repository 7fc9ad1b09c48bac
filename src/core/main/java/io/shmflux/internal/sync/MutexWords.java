package io.shmflux.internal.sync;

import io.shmflux.NotOwnerException;
import io.shmflux.internal.layout.MutexDescriptor;
import io.shmflux.internal.liveness.RobustLock;
import io.shmflux.internal.namespace.ControlFile;
import io.shmflux.internal.namespace.ObjectKind;
import io.shmflux.sync.WaitResult;
import org.jspecify.annotations.Nullable;

import java.lang.foreign.MemorySegment;

import static io.shmflux.internal.layout.MutexDescriptor.LOCK_WORD_OFFSET;

/**
 * The mutex protocol over the words of {@link MutexDescriptor}: a {@link RobustLock} owned by this
 * process's {@link OwnerSlot}, with the thread ownership and recursion of Win32 on top.
 *
 * <h2>Lock (one attempt, run by {@link Waits})</h2>
 * <ol>
 * <li>If the calling thread owns the mutex already, count one more hold: {@code SIGNALED}.</li>
 * <li>If the lock word is 0, CAS it to this process's token (with the waiters bit if this thread has
 *     slept on it before: others may still sleep, and the bit makes the next unlock wake one). On
 *     success record the calling thread as owner, one hold: {@code SIGNALED}.</li>
 * <li>If the word holds this process's token, another thread of this process owns it; if that
 *     thread has died, take its ownership over: {@code ABANDONED}.</li>
 * <li>Else, if the owner process is dead (its slot lock is free or its slot has a new generation),
 *     CAS the word from the dead token to ours, keeping the waiters bit: {@code ABANDONED}.</li>
 * <li>Else it is held by a live owner. To sleep, set the waiters bit by CAS and futex-wait while the
 *     word holds token | bit; every slice ends with steps 1 to 4 again, so a dead owner is found
 *     within one slice even by waiters already asleep.</li>
 * </ol>
 * <h2>Unlock</h2>
 * <ol>
 * <li>Fail with {@link NotOwnerException} unless the calling thread owns the mutex.</li>
 * <li>Count one hold less; stop if holds remain (recursive locking).</li>
 * <li>Clear the owner thread, {@code getAndSet} the word to 0, and {@code FUTEX_WAKE} one waiter if
 *     the old word had the waiters bit. A waiter that leaves without the mutex passes that wake-up
 *     on (wakes one if the word is 0, else sets the bit again).</li>
 * </ol>
 */
public final class MutexWords {

    private final SyncHandle handle;
    private final OwnerSlot slot;
    private final RobustLock lock;

    private MutexWords(SyncHandle handle, OwnerSlot slot) {
        this.handle = handle;
        this.slot = slot;
        this.lock = new RobustLock(handle.region(), LOCK_WORD_OFFSET, slot.table());
    }

    /**
     * Creates or opens a mutex.
     *
     * @param ownIfCreated whether the calling thread owns a mutex this call creates (Win32 bInitialOwner)
     */
    public static MutexWords acquire(String name, ControlFile.Disposition disposition, boolean ownIfCreated) {
        OwnerSlot[] claimed = new OwnerSlot[1];
        SyncHandle handle;
        try {
            handle = SyncHandle.acquire(name, ObjectKind.MUTEX, MutexDescriptor.REGION_LENGTH, disposition,
                    control -> {
                        if (ownIfCreated) {
                            OwnerSlot slot = OwnerSlot.retain(control);
                            claimed[0] = slot;
                            Words.set(control.region(), LOCK_WORD_OFFSET, slot.token);
                            slot.owner.set(Thread.currentThread());
                            slot.holds = 1;
                        }
                    });
        } catch (RuntimeException e) {
            if (claimed[0] != null) {
                claimed[0].owner.set(null);
                OwnerSlot.release(claimed[0]);
            }
            throw e;
        }
        OwnerSlot slot;
        try {
            slot = claimed[0] != null ? claimed[0] : OwnerSlot.retain(handle.control());
        } catch (RuntimeException e) {
            handle.close();
            throw e;
        }
        handle.onRelease(() -> OwnerSlot.release(slot));
        return new MutexWords(handle, slot);
    }

    public SyncHandle handle() {
        return handle;
    }

    /** {@return a new attempt to lock, for one wait} */
    public WaitAttempt attempt() {
        return new Attempt();
    }

    /** {@return true if the calling thread owns the mutex} */
    public boolean isHeldByCurrentThread() {
        return slot.owner.get() == Thread.currentThread();
    }

    /** Unlock, steps 1 to 3. */
    public void unlock() {
        Thread me = Thread.currentThread();
        Thread owner = slot.owner.get();
        if (owner != me) {
            throw new NotOwnerException("mutex not owned by this thread: object=" + handle.describe()
                    + ", thread=" + me.getName() + ", owner=" + describeOwner(owner));
        }
        if (--slot.holds > 0) {
            return;
        }
        slot.owner.set(null);
        lock.unlock();
    }

    private String describeOwner(@Nullable Thread owner) {
        if (owner != null) {
            return "thread " + owner.getName();
        }
        int w = lock.ownerToken();
        return w == 0 ? "none" : "another process (token 0x" + Integer.toHexString(w) + ")";
    }

    private final class Attempt extends HandleAttempt {

        private boolean slept;

        Attempt() {
            super(handle);
        }

        @Override
        public @Nullable WaitResult tryAcquire() {
            Thread me = Thread.currentThread();
            if (slot.owner.get() == me) {
                slot.holds++;
                return WaitResult.SIGNALED;
            }
            return switch (lock.tryLock(slot.token, slept, true)) {
                case ACQUIRED -> owned(me, WaitResult.SIGNALED);
                case TAKEN_OVER -> owned(me, WaitResult.ABANDONED);
                case HELD -> null;
                case OWN_TOKEN -> {
                    // another thread of this process owns it; if that thread has died, take over
                    Thread owner = slot.owner.get();
                    if (owner != null && !owner.isAlive() && slot.owner.compareAndSet(owner, me)) {
                        slot.holds = 1;
                        yield WaitResult.ABANDONED;
                    }
                    yield null;
                }
            };
        }

        private WaitResult owned(Thread me, WaitResult result) {
            slot.owner.set(me);
            slot.holds = 1;
            return result;
        }

        @Override
        public long arm() {
            int armed = lock.arm();
            if (armed == 0) {
                return RETRY;
            }
            slept = true;
            return armed;
        }

        @Override
        public MemorySegment word() {
            return lock.word();
        }

        @Override
        public void disarm() {
        }

        @Override
        public void leave() {
            lock.passOn();
        }
    }
}
