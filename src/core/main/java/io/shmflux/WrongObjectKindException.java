package io.shmflux;

/**
 * The name is held by an object of another kind: mappings, mutexes, events and semaphores share one name space.
 *
 * <p>Mirrors Win32's {@code ERROR_INVALID_HANDLE}.
 */
public class WrongObjectKindException extends SharedMemoryException {

    private static final long serialVersionUID = 1L;

    public WrongObjectKindException(String message) {
        super(message);
    }
}
