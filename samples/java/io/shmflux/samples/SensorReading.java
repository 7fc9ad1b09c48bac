package io.shmflux.samples;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Locale;

/**
 * The record the samples share: a table of {@value #SENSORS} sensors in one named mapping, one
 * 32-byte slot per sensor. A publisher changes one slot at a time and publishes exactly that slot's
 * range, so a subscriber knows from a {@code ChangeEvent}'s offset which sensor changed.
 *
 * <pre>
 * slot (32 bytes, at sensor * 32):
 *   0  long    updates   how many times this sensor was updated
 *   8  double  celsius   temperature
 *  16  double  humidity  relative humidity, percent
 *  24  long    millis    wall-clock time of the reading
 * </pre>
 *
 * Unaligned accessors are used so that the same code reads the mapped memory and a {@code byte[]} copy.
 *
 * @param sensor   which sensor, 0 to {@value #SENSORS} - 1
 * @param updates  how many times it was updated
 * @param celsius  temperature
 * @param humidity relative humidity in percent
 * @param millis   when it was read, epoch millis
 */
public record SensorReading(int sensor, long updates, double celsius, double humidity, long millis) {

    /** The mapping's name when none is given on the command line. */
    public static final String DEFAULT_NAME = "shmflux-sample-sensors";
    public static final int SENSORS = 8;
    public static final long SLOT_SIZE = 32;
    public static final long TABLE_SIZE = SENSORS * SLOT_SIZE;

    private static final long UPDATES = 0;
    private static final long CELSIUS = 8;
    private static final long HUMIDITY = 16;
    private static final long MILLIS = 24;

    /** {@return where sensor {@code sensor}'s slot starts in the mapping} */
    public static long offsetOf(int sensor) {
        return sensor * SLOT_SIZE;
    }

    /** {@return the reading in {@code slot}, the slot that starts at {@code offset} in the mapping} */
    public static SensorReading decode(long offset, MemorySegment slot) {
        return new SensorReading((int) (offset / SLOT_SIZE),
                slot.get(ValueLayout.JAVA_LONG_UNALIGNED, UPDATES),
                slot.get(ValueLayout.JAVA_DOUBLE_UNALIGNED, CELSIUS),
                slot.get(ValueLayout.JAVA_DOUBLE_UNALIGNED, HUMIDITY),
                slot.get(ValueLayout.JAVA_LONG_UNALIGNED, MILLIS));
    }

    /** Writes this reading into its slot. */
    public void encode(MemorySegment slot) {
        slot.set(ValueLayout.JAVA_LONG_UNALIGNED, UPDATES, updates);
        slot.set(ValueLayout.JAVA_DOUBLE_UNALIGNED, CELSIUS, celsius);
        slot.set(ValueLayout.JAVA_DOUBLE_UNALIGNED, HUMIDITY, humidity);
        slot.set(ValueLayout.JAVA_LONG_UNALIGNED, MILLIS, millis);
    }

    @Override
    public String toString() {
        return String.format(Locale.ROOT, "sensor %d: %6.2f C %5.1f %% (update #%d)", sensor, celsius, humidity,
                updates);
    }
}
