package io.shmflux;

/**
 * When the memory of a paging-file-backed object is allocated.
 */
public enum PageCommit {
    /**
     * All pages are allocated when the object is created (Win32 {@code SEC_COMMIT}, the default), with
     * {@code fallocate(2)}: a full {@code /dev/shm} fails the create with {@link OutOfSpaceException},
     * so no later access can fault.
     */
    COMMIT,
    /**
     * Pages are allocated on first touch (Win32 {@code SEC_RESERVE}): the object is sparse, so objects
     * far larger than the free memory can be created. Commit ranges before use with
     * {@link FileMapping#commit(long, long)}, which reports a full {@code /dev/shm} as
     * {@link OutOfSpaceException}. A write that touches an uncommitted page when {@code /dev/shm} is
     * full makes the kernel raise SIGBUS; the JVM turns that into a {@link InternalError} ("a fault
     * occurred in an unsafe memory access operation") in the writing thread, never a crash.
     */
    RESERVE
}
