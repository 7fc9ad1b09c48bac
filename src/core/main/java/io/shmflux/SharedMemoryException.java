package io.shmflux;

import org.jspecify.annotations.Nullable;

/**
 * The root of every exception shmflux throws. Unchecked, as are all its subtypes; each subtype is
 * named after the Win32 error it mirrors. Messages read {@code what: key=value, ...}.
 */
public class SharedMemoryException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    public SharedMemoryException(String message) {
        super(message);
    }

    public SharedMemoryException(String message, @Nullable Throwable cause) {
        super(message, cause);
    }
}
