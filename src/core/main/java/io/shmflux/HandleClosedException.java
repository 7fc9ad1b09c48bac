package io.shmflux;

/**
 * A handle or view was used after it was closed.
 *
 * <p>Mirrors Win32's {@code ERROR_INVALID_HANDLE}.
 */
public class HandleClosedException extends SharedMemoryException {

    private static final long serialVersionUID = 1L;

    public HandleClosedException(String message) {
        super(message);
    }
}
