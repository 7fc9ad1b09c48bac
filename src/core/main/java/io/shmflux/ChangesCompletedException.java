package io.shmflux;

/**
 * A {@code publish} after {@link FileMapping#completeChanges()} ended the object's change stream (in
 * any process): the stream's subscribers have completed, so no change can be announced any more.
 */
public class ChangesCompletedException extends SharedMemoryException {

    private static final long serialVersionUID = 1L;

    public ChangesCompletedException(String message) {
        super(message);
    }
}
