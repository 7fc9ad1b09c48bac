package io.shmflux.internal.liveness;

import io.shmflux.internal.linux.Libc;
import io.shmflux.internal.linux.NativeCallException;

/**
 * The lease every holder of an object has on it together: an OFD lock on one byte of a file (byte 0
 * of a control file, or the claim byte of a mapping's backing file), shared by all holders, exclusive
 * for the one process that creates or destroys the object. Its probes answer the object's liveness:
 * a shared lock held by another description means another holder is alive; an exclusive lock taken
 * means none is, anywhere (a file that does not exist never had a holder: the caller sees that first).
 *
 * <p>This is the object-wide form of the same concept as {@link LeaseTable}'s per-holder leases:
 * proven by the kernel, dropped when the descriptor closes or the process dies, no process id
 * involved. The steps of the lifetime protocol that use it are in {@code ControlFile}.
 */
public final class ObjectLease {

    private final int fd;
    private final long offset;

    /**
     * @param fd     the holder's descriptor of the file (its open file description is the holder)
     * @param offset the byte of the file that carries the lease
     */
    public ObjectLease(int fd, long offset) {
        this.fd = fd;
        this.offset = offset;
    }

    /** Joins the holders (shared lock). {@return false if a creator or destroyer holds it exclusively} */
    public boolean hold() throws NativeCallException {
        return Libc.ofdTryLock(fd, Libc.F_RDLCK, offset, 1);
    }

    /**
     * Tries to be the only holder (exclusive lock, no waiting). {@return true if no other holder is
     * alive anywhere: the caller now creates or destroys the object alone}
     */
    public boolean tryExclusive() throws NativeCallException {
        return Libc.ofdTryLock(fd, Libc.F_WRLCK, offset, 1);
    }

    /** From exclusive back to shared, atomically (OFD locks convert in place): others may join. */
    public void share() throws NativeCallException {
        Libc.ofdTryLock(fd, Libc.F_RDLCK, offset, 1);
    }

    /** Leaves the holders. */
    public void drop() throws NativeCallException {
        Libc.ofdTryLock(fd, Libc.F_UNLCK, offset, 1);
    }

    /**
     * {@return whether another holder is alive, asked without taking the lease} For a descriptor that
     * may not take an exclusive lock (a read-only one): {@code ALIVE} if another open file description
     * holds a lock on the byte, {@code DEAD} if none does.
     */
    public LeaseState others() throws NativeCallException {
        return Libc.ofdCouldLock(fd, Libc.F_WRLCK, offset, 1) ? LeaseState.DEAD : LeaseState.ALIVE;
    }
}
