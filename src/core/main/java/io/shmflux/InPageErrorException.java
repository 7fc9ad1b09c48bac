package io.shmflux;

/**
 * The memory behind a range could not be read or written: its file was truncated by another process,
 * or a page of a {@link PageCommit#RESERVE} object could not be allocated because {@code /dev/shm} is
 * full. The kernel raised {@code SIGBUS}, which the JVM turns into an {@link InternalError}; shmflux
 * turns it into this exception where the access was its own ({@code publish}, {@code read},
 * {@code snapshot}). Named after Win32's {@code EXCEPTION_IN_PAGE_ERROR}, raised in the same case.
 */
public class InPageErrorException extends SharedMemoryException {

    private static final long serialVersionUID = 1L;

    public InPageErrorException(String message, Throwable cause) {
        super(message, cause);
    }
}
