package io.shmflux;

/**
 * A convenience form such as {@code withLock} found the mutex abandoned: its previous owner died while holding it, so the data it guards may be inconsistent. The mutex was released again before this was thrown; plain {@code lock} reports {@code ABANDONED} and keeps ownership, so that the caller can repair the data. Named after .NET's {@code AbandonedMutexException}.
 *
 * <p>Mirrors Win32's {@code WAIT_ABANDONED}.
 */
public class AbandonedMutexException extends SharedMemoryException {

    private static final long serialVersionUID = 1L;

    public AbandonedMutexException(String message) {
        super(message);
    }
}
