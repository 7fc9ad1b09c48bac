package io.shmflux;

/**
 * The caller lacks the permission the request needs, or asked a view for more access than its handle has.
 *
 * <p>Mirrors Win32's {@code ERROR_ACCESS_DENIED}.
 */
public class AccessDeniedException extends SharedMemoryException {

    private static final long serialVersionUID = 1L;

    public AccessDeniedException(String message) {
        super(message);
    }
}
