package io.shmflux.samples;

import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * When a sample stops: after {@code --seconds} (if given) or on Ctrl-C / SIGTERM, whichever comes
 * first. On a signal the shutdown hook only asks the thread that installed it (main) to stop and
 * waits for that thread to end, so main closes the mapping itself: every handle closed means the last
 * one out removes the object, and nothing is left in {@code /dev/shm}.
 */
public final class StopSignal {

    private static final Duration CLEANUP = Duration.ofSeconds(5);

    private final CountDownLatch stop = new CountDownLatch(1);
    private final boolean bounded;
    private final long deadline;

    private StopSignal(long seconds) {
        this.bounded = seconds > 0;
        this.deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(Math.max(0, seconds));
    }

    /**
     * Installs the shutdown hook.
     *
     * @param seconds how long to run; 0 means until a signal
     */
    public static StopSignal install(long seconds) {
        StopSignal signal = new StopSignal(seconds);
        Thread main = Thread.currentThread();
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            signal.stop.countDown();
            try {
                main.join(CLEANUP); // let main close its handles and say goodbye
            } catch (InterruptedException ignored) {
                Thread.currentThread().interrupt();
            }
        }, "sample-stop"));
        return signal;
    }

    /** Waits for at most {@code wait}; {@return true if it is time to stop} */
    public boolean await(Duration wait) throws InterruptedException {
        long left = bounded ? Math.min(wait.toNanos(), deadline - System.nanoTime()) : wait.toNanos();
        return stop.await(Math.max(0, left), TimeUnit.NANOSECONDS) || (bounded && System.nanoTime() - deadline >= 0);
    }

    /** Waits until it is time to stop. */
    public void await() throws InterruptedException {
        while (!await(Duration.ofSeconds(1))) {
            // keep waiting
        }
    }
}
