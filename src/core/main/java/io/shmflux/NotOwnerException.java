package io.shmflux;

/**
 * A thread unlocked a mutex it does not own; the mutex is unchanged.
 *
 * <p>Mirrors Win32's {@code ERROR_NOT_OWNER}.
 */
public class NotOwnerException extends SharedMemoryException {

    private static final long serialVersionUID = 1L;

    public NotOwnerException(String message) {
        super(message);
    }
}
