package io.shmflux.samples;

import io.shmflux.Access;
import io.shmflux.ChangeEvent;
import io.shmflux.FileMapping;
import io.shmflux.ObjectNotFoundException;
import io.shmflux.SharedMemory;
import reactor.core.Disposable;

import java.time.Duration;
import java.util.concurrent.TimeUnit;

/**
 * The sample subscriber in Java: opens the publisher's sensor table and prints every change event
 * with a consistent read of the sensor that changed.
 *
 * <pre>
 * JavaSubscriber [--name NAME] [--seconds 0 (until Ctrl-C)] [--slow-ms 0]
 * </pre>
 *
 * {@code --slow-ms} makes it sleep after each event, so that a fast publisher with a small ring laps
 * it: the next event then says how many changes were missed.
 */
public final class JavaSubscriber {

    public static void main(String[] args) throws InterruptedException {
        SampleArgs options = new SampleArgs(args);
        String name = options.string("name", SensorReading.DEFAULT_NAME);
        long slowMillis = options.number("slow-ms", 0);
        StopSignal stop = StopSignal.install(options.number("seconds", 0));

        try (FileMapping table = openWhenPublished(name, stop)) {
            if (table == null) {
                return; // stopped before the publisher came
            }
            // The feed delivers events on the handle's change thread; this subscriber requests them all.
            Disposable feed = table.changes()
                    .doOnSubscribe(s -> System.out.println("subscribed to \"" + name + "\" at sequence "
                            + table.sequence()))
                    .subscribe(event -> {
                        print(table, event);
                        sleep(slowMillis);
                    });
            try {
                stop.await();
            } finally {
                feed.dispose(); // cancel; closing the handle would also complete the feed
            }
        }
        System.out.println("unsubscribed");
    }

    private static void print(FileMapping table, ChangeEvent event) {
        if (event.missed() > 0) {
            // lapped: the ring was overwritten before we read it; loss is reported, never silent
            System.out.println("lapped: missed " + event.missed() + " changes before seq=" + event.sequence());
        }
        // A consistent read of the changed slot: never half of one write and half of another. It is the
        // slot's current state, which may already be newer than this event if the publisher moved on.
        SensorReading reading = table.read(event.offset(), SensorReading.LAYOUT);
        System.out.println("seq=" + event.sequence() + " from pid " + event.writerPid() + ": " + reading
                + (event.torn() ? " (torn: the writer died mid-update)" : ""));
    }

    /** Opens the table, waiting for the publisher to create it; {@return null if told to stop first} */
    static FileMapping openWhenPublished(String name, StopSignal stop) throws InterruptedException {
        while (true) {
            try {
                return SharedMemory.open(name, Access.READ);
            } catch (ObjectNotFoundException notYet) {
                if (stop.await(Duration.ofMillis(100))) {
                    return null;
                }
            }
        }
    }

    private static void sleep(long millis) {
        if (millis > 0) {
            try {
                TimeUnit.MILLISECONDS.sleep(millis);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
