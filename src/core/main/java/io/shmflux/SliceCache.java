package io.shmflux;

import org.jspecify.annotations.Nullable;

import java.lang.foreign.MemorySegment;

/**
 * The last slice of a handle's whole view that was handed to a writer or a reader, reused while calls
 * keep coming for the same range (the common case: one slot published or read over and over), so that
 * such a call allocates no segment.
 *
 * <p>Racy on purpose, with no lock and no volatile: an entry is immutable (final fields, so a thread
 * that sees the reference sees its fields), a thread sees either the newest entry or an older one, and
 * a miss only costs the slice it would have cost anyway.
 */
final class SliceCache {

    private record Entry(long offset, long length, MemorySegment segment) {
    }

    private final MemorySegment whole;
    private final boolean readOnly;
    private @Nullable Entry last;

    /** @param readOnly true to hand out read-only slices (for readers, who must not write) */
    SliceCache(MemorySegment whole, boolean readOnly) {
        this.whole = whole;
        this.readOnly = readOnly;
    }

    /** {@return the slice {@code [offset, offset + length)} of the whole view} The caller checked the range. */
    MemorySegment slice(long offset, long length) {
        Entry entry = last;
        if (entry != null && entry.offset == offset && entry.length == length) {
            return entry.segment;
        }
        MemorySegment slice = whole.asSlice(offset, length);
        if (readOnly) {
            slice = slice.asReadOnly();
        }
        last = new Entry(offset, length, slice);
        return slice;
    }
}
