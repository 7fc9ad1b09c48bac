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
 * @param torn       the range overlaps a change that a writer left half written and nobody has
 *                   rewritten whole since: the bytes are consistent with memory, but memory may hold a
 *                   half-done change
 * @param tornStart  where the part of {@code data} that may be half written starts (0 if not torn)
 * @param tornLength how many bytes from {@code tornStart} may be half written: 0 if not torn, else at
 *                   least 1; the smallest part of the copy that covers every such change the object
 *                   knows of (all of it when that is not known: a dead writer's change that a
 *                   read-only handle cannot finish)
 */
@SuppressWarnings("ArrayRecordComponent") // the copy is the caller's to keep; equality is by content below
public record Snapshot(long sequence, byte[] data, boolean torn, int tornStart, int tornLength) {

    /**
     * @throws InvalidParameterException if the torn part is outside {@code data}, or {@code torn}
     *                                   disagrees with its length
     */
    public Snapshot {
        java.util.Objects.requireNonNull(data, "data");
        if (tornStart < 0 || tornLength < 0 || tornLength > data.length - tornStart || torn != (tornLength > 0)) {
            throw new InvalidParameterException("snapshot torn part out of its data: tornStart=" + tornStart
                    + ", tornLength=" + tornLength + ", torn=" + torn + ", length=" + data.length);
        }
    }

    /** A snapshot torn all over ({@code torn}) or not at all. */
    public Snapshot(long sequence, byte[] data, boolean torn) {
        this(sequence, data, torn, 0, torn ? data.length : 0);
    }

    @Override
    public boolean equals(Object other) {
        return other instanceof Snapshot s && s.sequence == sequence && s.torn == torn && s.tornStart == tornStart
                && s.tornLength == tornLength && Arrays.equals(s.data, data);
    }

    @Override
    public int hashCode() {
        return (Long.hashCode(sequence) * 31 + Arrays.hashCode(data)) * 31 + tornStart * 17 + tornLength;
    }

    @Override
    public String toString() {
        return "Snapshot[sequence=" + sequence + ", length=" + data.length + ", torn=" + torn
                + (torn ? ", tornStart=" + tornStart + ", tornLength=" + tornLength : "") + "]";
    }
}
