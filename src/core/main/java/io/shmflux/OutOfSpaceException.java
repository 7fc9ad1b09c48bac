package io.shmflux;

/**
 * There is not enough space to commit the object's memory (a full {@code /dev/shm} or file system).
 *
 * <p>Mirrors Win32's {@code ERROR_DISK_FULL}.
 */
public class OutOfSpaceException extends SharedMemoryException {

    private static final long serialVersionUID = 1L;

    public OutOfSpaceException(String message) {
        super(message);
    }
}
