package io.shmflux;

/**
 * One published change, as a subscriber of {@link FileMapping#changes()} sees it.
 *
 * @param sequence  the change's sequence number: 1 for the first change of the object, then +1 each
 * @param offset    where the changed range starts in the object
 * @param length    how many bytes the change covers
 * @param writerPid the process that published it
 * @param timestamp {@link System#nanoTime()} in the writer when it began the change; on Linux this is
 *                  {@code CLOCK_MONOTONIC}, so it compares across processes of one machine
 * @param missed    how many changes this subscriber lost just before this one because the change
 *                  ring lapped it (0 normally): loss is reported, never silent; re-read the state
 *                  you depend on when it is not 0
 * @param torn      the writer failed or died in the middle of this change: the range may be half
 *                  written (the change was finished by another process, Win32's "abandoned" idea)
 */
public record ChangeEvent(long sequence, long offset, long length, long writerPid, long timestamp, long missed,
                          boolean torn) {

    /** {@return true if the change overlaps {@code [offset, offset + length)}} */
    public boolean overlaps(long offset, long length) {
        return this.offset < offset + length && offset < this.offset + this.length;
    }
}
