package io.shmflux;

/**
 * The file is already held for exclusive access by another file-mapping object.
 *
 * <p>Mirrors Win32's {@code ERROR_SHARING_VIOLATION}.
 */
public class SharingViolationException extends SharedMemoryException {

    private static final long serialVersionUID = 1L;

    public SharingViolationException(String message) {
        super(message);
    }
}
