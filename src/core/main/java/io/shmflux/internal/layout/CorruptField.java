package io.shmflux.internal.layout;

import io.shmflux.CorruptObjectException;

/**
 * Builds the exception for a field of a shared structure that holds a value no shmflux process
 * writes. The {@code check*} methods of the descriptors use it, so every such message has the same
 * form: {@code corrupt object: field=ringCapacity, value=-1, expected=..., path=...}.
 */
public final class CorruptField {

    private CorruptField() {
    }

    /** {@return the exception for {@code field} holding {@code value} in the file at {@code path}} */
    public static CorruptObjectException of(String field, Object value, String expected, String path) {
        return new CorruptObjectException("corrupt object: field=" + field + ", value=" + value + ", expected="
                + expected + ", path=" + path);
    }

    /** Throws unless {@code region} has at least {@code length} bytes. */
    static void checkRegionLength(String structure, long regionLength, long length, String path) {
        if (regionLength < length) {
            throw of(structure + ".regionLength", regionLength, "at least " + length
                    + " bytes after the header (the file is shorter than its structure)", path);
        }
    }
}
