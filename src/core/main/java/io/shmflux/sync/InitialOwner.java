package io.shmflux.sync;

/** Who owns a new mutex (Win32 {@code bInitialOwner}); ignored when the mutex exists already, as in Win32. */
public enum InitialOwner {
    /** Nobody: the mutex starts free. */
    NONE,
    /** The calling thread, once, if this call creates the mutex ({@link NamedMutex#created()}). */
    CALLING_THREAD
}
