package io.shmflux.samples;

import io.shmflux.FileMapping;
import io.shmflux.MappingOptions;
import io.shmflux.SharedMemory;

import java.time.Duration;
import java.util.Random;

/**
 * The sample publisher: creates the named sensor table ({@link SensorReading}) and updates one
 * sensor at a steady rate, publishing each change so that subscribers in other processes hear of it.
 *
 * <pre>
 * Publisher [--name NAME] [--interval-ms 200] [--seconds 0 (until Ctrl-C)] [--ring 1024]
 * </pre>
 *
 * A small {@code --ring} (a power of two, at least 2) with a short interval lets a slow subscriber
 * be lapped, to see how loss is reported.
 */
public final class Publisher {

    public static void main(String[] args) throws InterruptedException {
        SampleArgs options = new SampleArgs(args);
        String name = options.string("name", SensorReading.DEFAULT_NAME);
        Duration interval = Duration.ofMillis(options.number("interval-ms", 200));
        StopSignal stop = StopSignal.install(options.number("seconds", 0));
        MappingOptions mappingOptions = MappingOptions.DEFAULT
                .withChangeRingCapacity((int) options.number("ring", MappingOptions.DEFAULT_CHANGE_RING_CAPACITY));

        // 1. Create the named object; it fails if another publisher already owns the name. While this
        //    handle (or any subscriber's) is open the object lives; the last close removes it.
        try (FileMapping table = SharedMemory.create(name, SensorReading.TABLE_SIZE, mappingOptions)) {
            System.out.println("publishing " + SensorReading.SENSORS + " sensors to \"" + name + "\" every "
                    + interval.toMillis() + " ms");
            Random random = new Random();
            double[] celsius = new double[SensorReading.SENSORS];
            double[] humidity = new double[SensorReading.SENSORS];
            for (int i = 0; i < SensorReading.SENSORS; i++) {
                celsius[i] = 18 + random.nextDouble() * 6;
                humidity[i] = 40 + random.nextDouble() * 20;
            }
            for (long tick = 0; ; tick++) {
                // 2. Simulate the next reading of one sensor (round robin, a small random walk).
                int sensor = (int) (tick % SensorReading.SENSORS);
                celsius[sensor] += random.nextGaussian() * 0.2;
                humidity[sensor] += random.nextGaussian() * 0.5;
                SensorReading reading = new SensorReading(sensor, tick / SensorReading.SENSORS + 1, celsius[sensor],
                        humidity[sensor], System.currentTimeMillis());

                // 3. Publish it: the write runs under the object's seqlock, so readers never see half of
                //    it, and every subscriber's feed gets one ChangeEvent for exactly this slot.
                long sequence = table.publish(SensorReading.offsetOf(sensor), SensorReading.LAYOUT, reading);
                System.out.println("seq=" + sequence + " " + reading);

                if (stop.await(interval)) {
                    break;
                }
            }
        }
        System.out.println("closed \"" + name + "\"");
    }
}
