package io.shmflux.samples;

import io.shmflux.RecordLayout;

import java.util.Locale;

/**
 * The record the samples share: a table of {@value #SENSORS} sensors in one named mapping, one slot
 * per sensor holding a {@code SensorReading}. A publisher changes one slot at a time and publishes
 * exactly that slot's range, so a subscriber knows from a {@code ChangeEvent}'s offset which sensor
 * changed. The slot's layout comes from the record itself ({@link #LAYOUT}): no offsets by hand.
 *
 * <pre>
 * slot (40 bytes, at sensor * 40), as RecordLayout lays the record out:
 *   0  int     sensor    which sensor (then 4 bytes of padding)
 *   8  long    updates   how many times this sensor was updated
 *  16  double  celsius   temperature
 *  24  double  humidity  relative humidity, percent
 *  32  long    millis    wall-clock time of the reading
 * </pre>
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
    /** How a reading sits in shared memory, derived from the record's components. */
    public static final RecordLayout<SensorReading> LAYOUT = RecordLayout.of(SensorReading.class);
    public static final long TABLE_SIZE = SENSORS * LAYOUT.byteSize();

    /** {@return where sensor {@code sensor}'s slot starts in the mapping} */
    public static long offsetOf(int sensor) {
        return sensor * LAYOUT.byteSize();
    }

    @Override
    public String toString() {
        return String.format(Locale.ROOT, "sensor %d: %6.2f C %5.1f %% (update #%d)", sensor, celsius, humidity,
                updates);
    }
}
