package io.shmflux;

/**
 * An object of that name exists already (create of a taken name).
 *
 * <p>Mirrors Win32's {@code ERROR_ALREADY_EXISTS}.
 */
public class ObjectAlreadyExistsException extends SharedMemoryException {

    private static final long serialVersionUID = 1L;

    public ObjectAlreadyExistsException(String message) {
        super(message);
    }
}
