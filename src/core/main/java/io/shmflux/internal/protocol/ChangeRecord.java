package io.shmflux.internal.protocol;

/**
 * One record of the change ring, as read.
 *
 * @param sequence  the change's sequence, from 1
 * @param offset    start of the changed range in the object
 * @param length    bytes changed
 * @param writerPid process that published it
 * @param timestamp {@code System.nanoTime()} of the publish (CLOCK_MONOTONIC: comparable across processes)
 * @param torn      the writer failed or died mid-update; the range may be half written
 * @param end       the end-of-stream marker: no change, feeds complete here
 */
public record ChangeRecord(long sequence, long offset, long length, long writerPid, long timestamp, boolean torn,
                           boolean end) {
}
