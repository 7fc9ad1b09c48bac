package io.shmflux;

/**
 * A file under an object's name holds a value no shmflux process writes: a header or shared-state
 * field out of range, a size that does not match the file, an unknown magic number or layout version.
 * The message names the field, the value and the path. Only that name is affected: other objects,
 * {@code SharedMemory.reclaimStale()} and the first call of a process go on working, and a corrupt
 * object that nobody holds any more is removed with both its files by its owner's next create, open
 * or reclaim.
 *
 * <p>Mirrors Win32's {@code ERROR_FILE_CORRUPT}.
 */
public class CorruptObjectException extends SharedMemoryException {

    private static final long serialVersionUID = 1L;

    public CorruptObjectException(String message) {
        super(message);
    }
}
