package io.shmflux.internal.layout;

import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.foreign.ValueLayout;

import static java.lang.foreign.MemoryLayout.PathElement.groupElement;

/**
 * Shared words of a named semaphore: the kind-specific region of its control file.
 *
 * <pre>
 *   0                   1                   2                   3
 *   0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *  |                      Count (futex word)                       |
 *  +---------------------------------------------------------------+
 *  |                    Waiters (32-bit count)                     |
 *  +---------------------------------------------------------------+
 *  |                           Maximum                             |
 *  +---------------------------------------------------------------+
 * </pre>
 *
 * <table class="striped">
 * <caption>Semaphore words (native byte order)</caption>
 * <thead><tr><th>Offset</th><th>Size</th><th>Field</th><th>Who writes it</th><th>Access mode</th></tr></thead>
 * <tbody>
 * <tr><td>0</td><td>4</td><td>count, 0 to maximum</td><td>acquirers (CAS down), releasers (CAS up)</td><td>CAS / volatile / futex</td></tr>
 * <tr><td>4</td><td>4</td><td>waiters: threads about to sleep or asleep</td><td>waiters</td><td>getAndAdd / volatile</td></tr>
 * <tr><td>8</td><td>4</td><td>maximum count, at least 1</td><td>creator, before publishing</td><td>plain</td></tr>
 * </tbody>
 * </table>
 */
public final class SemaphoreDescriptor {

    /** The single source of truth for the offsets below. */
    public static final StructLayout LAYOUT = MemoryLayout.structLayout(
            ValueLayout.JAVA_INT.withName("count"),
            ValueLayout.JAVA_INT.withName("waiters"),
            ValueLayout.JAVA_INT.withName("maximum"));

    public static final long COUNT_OFFSET = LAYOUT.byteOffset(groupElement("count"));
    public static final long WAITERS_OFFSET = LAYOUT.byteOffset(groupElement("waiters"));
    public static final long MAXIMUM_OFFSET = LAYOUT.byteOffset(groupElement("maximum"));
    public static final long REGION_LENGTH = LAYOUT.byteSize();

    private SemaphoreDescriptor() {
    }

    /** Checks a semaphore region before use: long enough, a maximum of at least 1, a count from 0 to it. */
    public static void checkRegion(MemorySegment region, String path) {
        CorruptField.checkRegionLength("semaphore", region.byteSize(), REGION_LENGTH, path);
        int maximum = region.get(ValueLayout.JAVA_INT, MAXIMUM_OFFSET);
        if (maximum < 1) {
            throw CorruptField.of("semaphore.maximum", maximum, "at least 1", path);
        }
        int count = region.get(ValueLayout.JAVA_INT, COUNT_OFFSET);
        if (count < 0 || count > maximum) {
            throw CorruptField.of("semaphore.count", count, "0 to " + maximum, path);
        }
    }
}
