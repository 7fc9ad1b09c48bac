package io.shmflux.internal.protocol;

import io.shmflux.internal.liveness.RobustLock;

import java.lang.foreign.MemorySegment;
import java.util.concurrent.TimeUnit;

import static io.shmflux.internal.layout.ChangeLogDescriptor.INT;
import static io.shmflux.internal.layout.ChangeLogDescriptor.LOCK_OWNER_PID_OFFSET;
import static io.shmflux.internal.layout.ChangeLogDescriptor.WRITER_LOCK_OFFSET;

/**
 * The cross-process writer lock of a change log: a {@link RobustLock} on the writer-lock word, owned
 * by holder slots ({@link HolderSlot}). Threads of one process are serialized before they get here, by
 * the caller. This class adds the writer's policy to the lock's steps:
 *
 * <ol>
 * <li>Try; while a live owner holds it, spin a little (bounded, without asking the kernel whether the
 *     owner lives), then try with a liveness probe.</li>
 * <li>Still held: sleep on the word for at most one slice, then start again.</li>
 * <li>The word holding our own token means a previous handle of our slot died holding it (this
 *     handle never holds it twice): like a take-over from a dead owner, the caller finishes the dead
 *     writer's change.</li>
 * </ol>
 */
final class WriterLock {

    private static final int SPINS = 64;
    private static final long SLICE_NANOS = TimeUnit.MILLISECONDS.toNanos(50);

    private final MemorySegment region;
    private final HolderSlot slot;
    private final RobustLock lock;

    WriterLock(MemorySegment region, HolderSlot slot) {
        this.region = region;
        this.slot = slot;
        this.lock = new RobustLock(region, WRITER_LOCK_OFFSET, slot.table());
    }

    /** {@return true if the lock was taken over from an owner that died holding it} */
    boolean lock() {
        int spins = 0;
        boolean slept = false;
        while (true) {
            switch (lock.tryLock(slot.token(), slept, spins >= SPINS)) {
                case ACQUIRED -> {
                    INT.set(region, LOCK_OWNER_PID_OFFSET, (int) ProcessHandle.current().pid());
                    return false;
                }
                case TAKEN_OVER, OWN_TOKEN -> {
                    INT.set(region, LOCK_OWNER_PID_OFFSET, (int) ProcessHandle.current().pid());
                    return true;
                }
                case HELD -> {
                    if (spins < SPINS) {
                        spins++;
                        Thread.onSpinWait();
                        continue;
                    }
                    int armed = lock.arm();
                    if (armed != 0) {
                        lock.await(armed, SLICE_NANOS);
                        slept = true;
                    }
                }
            }
        }
    }

    void unlock() {
        lock.unlock();
    }
}
