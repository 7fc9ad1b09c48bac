package io.shmflux.internal.layout;

import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.foreign.ValueLayout;

import static java.lang.foreign.MemoryLayout.PathElement.groupElement;

/**
 * Shared words of a named event: the kind-specific region of its control file.
 *
 * <pre>
 *   0                   1                   2                   3
 *   0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *  |        State Word (futex): set sequence (31 bits)           |S|
 *  +---------------------------------------------------------------+
 *  |                    Waiters (32-bit count)                     |
 *  +---------------------------------------------------------------+
 *  |                Reset Mode: 1 = manual, 2 = auto               |
 *  +---------------------------------------------------------------+
 * </pre>
 * ({@code S}, bit 0 of the state word, is the signaled bit; bits 1..31 count the {@code set()} calls
 * that signaled the event.)
 *
 * <table class="striped">
 * <caption>Event words (native byte order)</caption>
 * <thead><tr><th>Offset</th><th>Size</th><th>Field</th><th>Who writes it</th><th>Access mode</th></tr></thead>
 * <tbody>
 * <tr><td>0</td><td>4</td><td>state: sequence &lt;&lt; 1 | signaled</td><td>set, reset, auto-reset
 *     waiters consuming the signal</td><td>CAS / volatile / futex</td></tr>
 * <tr><td>4</td><td>4</td><td>waiters: threads about to sleep or asleep</td><td>waiters</td><td>getAndAdd / volatile</td></tr>
 * <tr><td>8</td><td>4</td><td>reset mode</td><td>creator, before publishing</td><td>plain</td></tr>
 * </tbody>
 * </table>
 */
public final class EventDescriptor {

    public static final int SIGNALED_BIT = 1;
    public static final int SEQUENCE_UNIT = 2;
    public static final int MODE_MANUAL = 1;
    public static final int MODE_AUTO = 2;

    /** The single source of truth for the offsets below. */
    public static final StructLayout LAYOUT = MemoryLayout.structLayout(
            ValueLayout.JAVA_INT.withName("state"),
            ValueLayout.JAVA_INT.withName("waiters"),
            ValueLayout.JAVA_INT.withName("resetMode"));

    public static final long STATE_OFFSET = LAYOUT.byteOffset(groupElement("state"));
    public static final long WAITERS_OFFSET = LAYOUT.byteOffset(groupElement("waiters"));
    public static final long RESET_MODE_OFFSET = LAYOUT.byteOffset(groupElement("resetMode"));
    public static final long REGION_LENGTH = LAYOUT.byteSize();

    private EventDescriptor() {
    }

    /** Checks an event region before use: long enough, and a reset mode its creator could have written. */
    public static void checkRegion(MemorySegment region, String path) {
        CorruptField.checkRegionLength("event", region.byteSize(), REGION_LENGTH, path);
        int mode = region.get(ValueLayout.JAVA_INT, RESET_MODE_OFFSET);
        if (mode != MODE_MANUAL && mode != MODE_AUTO) {
            throw CorruptField.of("event.resetMode", mode, MODE_MANUAL + " or " + MODE_AUTO, path);
        }
    }
}
