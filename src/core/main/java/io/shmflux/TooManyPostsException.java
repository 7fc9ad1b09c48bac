package io.shmflux;

/**
 * Releasing a semaphore would raise its count above its maximum; the count is unchanged.
 *
 * <p>Mirrors Win32's {@code ERROR_TOO_MANY_POSTS}.
 */
public class TooManyPostsException extends SharedMemoryException {

    private static final long serialVersionUID = 1L;

    public TooManyPostsException(String message) {
        super(message);
    }
}
