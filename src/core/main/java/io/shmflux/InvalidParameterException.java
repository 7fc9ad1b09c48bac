package io.shmflux;

/**
 * An argument is out of range: a size, an offset, a length, an option.
 *
 * <p>Mirrors Win32's {@code ERROR_INVALID_PARAMETER}.
 */
public class InvalidParameterException extends SharedMemoryException {

    private static final long serialVersionUID = 1L;

    public InvalidParameterException(String message) {
        super(message);
    }
}
