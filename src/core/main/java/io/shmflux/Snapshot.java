package io.shmflux;

/**
 * A consistent copy of a range of a file mapping: no publish overlapped the copy.
 *
 * @param sequence the sequence of the latest change published before the copy was taken
 * @param data     the bytes (a fresh array, owned by the caller)
 * @param torn     the range overlaps a change that a writer left half written and nobody has
 *                 rewritten whole since: the bytes are consistent with memory, but memory may hold a
 *                 half-done change
 */
public record Snapshot(long sequence, byte[] data, boolean torn) {
}
