package io.shmflux.sync;

/**
 * How a wait on a mutex, event or semaphore ended: one enum for every waitable, as in Win32. All are
 * normal outcomes, not errors.
 */
public enum WaitResult {
    /**
     * The object was signaled and the wait took it: the mutex is now owned by the calling thread, a
     * semaphore unit or an auto-reset event's signal was consumed (Win32 {@code WAIT_OBJECT_0}).
     */
    SIGNALED,
    /** The timeout passed first; nothing was taken (Win32 {@code WAIT_TIMEOUT}). */
    TIMEOUT,
    /**
     * Mutexes only: the previous owner died while holding it (its process was killed or exited, or
     * its thread ended). The calling thread now owns the mutex, but the data it guards may be
     * inconsistent (Win32 {@code WAIT_ABANDONED}).
     */
    ABANDONED
}
