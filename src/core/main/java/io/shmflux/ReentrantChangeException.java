package io.shmflux;

/**
 * {@code publish}, {@code read} or {@code snapshot} of an object was called from inside a writer
 * lambda of a {@code publish} of the same object, on the writer's own thread. The inner call could
 * only deadlock (a read waits for the change to end) or corrupt the numbering (a nested change), so
 * it is refused at once; the outer change goes on and completes normally.
 */
public class ReentrantChangeException extends SharedMemoryException {

    private static final long serialVersionUID = 1L;

    public ReentrantChangeException(String message) {
        super(message);
    }
}
