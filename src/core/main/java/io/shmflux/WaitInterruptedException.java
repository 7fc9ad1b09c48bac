package io.shmflux;

/**
 * A thread was interrupted while it waited for a mutex, event or semaphore (the runtime form of
 * {@link InterruptedException}). The wait took nothing: no count was consumed, no mutex is owned.
 * Unlike {@code InterruptedException}, the thread's interrupt status is left set, so code further up
 * sees it too (as with {@link java.nio.channels.ClosedByInterruptException}).
 *
 * <p>Win32 has no counterpart (its alertable waits return {@code WAIT_IO_COMPLETION}).
 */
public class WaitInterruptedException extends SharedMemoryException {

    private static final long serialVersionUID = 1L;

    public WaitInterruptedException(String message) {
        super(message);
    }
}
