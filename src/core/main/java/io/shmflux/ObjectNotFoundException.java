package io.shmflux;

/**
 * No object of that name exists (open of a missing name).
 *
 * <p>Mirrors Win32's {@code ERROR_FILE_NOT_FOUND}.
 */
public class ObjectNotFoundException extends SharedMemoryException {

    private static final long serialVersionUID = 1L;

    public ObjectNotFoundException(String message) {
        super(message);
    }
}
