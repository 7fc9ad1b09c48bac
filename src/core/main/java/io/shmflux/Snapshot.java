package io.shmflux;

import java.util.Arrays;

/**
 * A consistent copy of a range of a file mapping: no publish overlapped the copy.
 *
 * <p>Two snapshots are equal when their sequences, flags and bytes are (the array's contents, not its
 * identity).
 *
 * @param sequence the sequence of the latest change published before the copy was taken
 * @param data     the bytes (a fresh array, owned by the caller)
 * @param torn     the range overlaps a change that a writer left half written and nobody has
 *                 rewritten whole since: the bytes are consistent with memory, but memory may hold a
 *                 half-done change
 */
@SuppressWarnings("ArrayRecordComponent") // the copy is the caller's to keep; equality is by content below
public record Snapshot(long sequence, byte[] data, boolean torn) {

    @Override
    public boolean equals(Object other) {
        return other instanceof Snapshot s && s.sequence == sequence && s.torn == torn && Arrays.equals(s.data, data);
    }

    @Override
    public int hashCode() {
        return Long.hashCode(sequence) * 31 + Arrays.hashCode(data) * 2 + (torn ? 1 : 0);
    }

    @Override
    public String toString() {
        return "Snapshot[sequence=" + sequence + ", length=" + data.length + ", torn=" + torn + "]";
    }
}
