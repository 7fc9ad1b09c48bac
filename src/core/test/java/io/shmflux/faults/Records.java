package io.shmflux.faults;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * Checksummed 64-byte records: a counter {@code c}, then {@code c * (i + 1)} for {@code i} in 1..7. A
 * copy that mixes two writes, or a write cut short, breaks the relation.
 */
final class Records {

    static final int SIZE = 64;

    private Records() {
    }

    /** Writes record {@code c}; {@code halfway} runs after the first half, to widen the window for faults. */
    static void fill(MemorySegment r, long c, Runnable halfway) {
        r.set(ValueLayout.JAVA_LONG, 0, c);
        for (int i = 1; i < 4; i++) {
            r.set(ValueLayout.JAVA_LONG, i * 8L, c * (i + 1));
        }
        halfway.run();
        for (int i = 4; i < 8; i++) {
            r.set(ValueLayout.JAVA_LONG, i * 8L, c * (i + 1));
        }
    }

    /** {@return true if the record is whole} */
    static boolean whole(MemorySegment r) {
        long c = r.get(ValueLayout.JAVA_LONG_UNALIGNED, 0);
        for (int i = 1; i < 8; i++) {
            if (r.get(ValueLayout.JAVA_LONG_UNALIGNED, i * 8L) != c * (i + 1)) {
                return false;
            }
        }
        return true;
    }

    static boolean whole(byte[] copy) {
        return whole(MemorySegment.ofArray(copy));
    }
}
