package io.shmflux;

/**
 * An object name breaks the naming rules (see {@link SharedMemory}).
 *
 * <p>Mirrors Win32's {@code ERROR_INVALID_NAME}.
 */
public class InvalidNameException extends InvalidParameterException {

    private static final long serialVersionUID = 1L;

    public InvalidNameException(String message) {
        super(message);
    }
}
