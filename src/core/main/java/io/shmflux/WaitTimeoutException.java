package io.shmflux;

/**
 * A wait that must succeed to go on (such as {@code withLock} or a reactive acquisition) ran into its timeout. Plain waits report a timeout as a normal outcome instead.
 *
 * <p>Mirrors Win32's {@code WAIT_TIMEOUT}.
 */
public class WaitTimeoutException extends SharedMemoryException {

    private static final long serialVersionUID = 1L;

    public WaitTimeoutException(String message) {
        super(message);
    }
}
