package io.shmflux;

/**
 * The range read overlaps a change that a writer left half written (it threw, or its process died
 * mid-update) and that no whole change has rewritten since. The data may be inconsistent; use
 * {@link FileMapping#snapshot(long, int)} to read it anyway, flagged, and publish a whole change to
 * repair it.
 *
 * <p>Mirrors Win32's {@code WAIT_ABANDONED}: the state that a dead owner was guarding is suspect.
 */
public class TornDataException extends SharedMemoryException {

    private static final long serialVersionUID = 1L;

    public TornDataException(String message) {
        super(message);
    }
}
