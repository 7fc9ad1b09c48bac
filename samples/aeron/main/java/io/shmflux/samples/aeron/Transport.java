package io.shmflux.samples.aeron;

import io.aeron.Aeron;
import io.shmflux.aeron.EmbeddedDriver;
import org.jspecify.annotations.Nullable;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * What both samples share: the Aeron client (an external media driver's when {@code -Daeron.dir=DIR}
 * names its directory, else an embedded one of this process), the arguments and a clean stop on
 * Ctrl-C/SIGTERM (the shutdown hook waits for main to close everything, so nothing is left behind).
 */
final class Transport implements AutoCloseable {

    final String channel;
    final String controlChannel;
    final Aeron aeron;
    private final @Nullable EmbeddedDriver driver;
    private final CountDownLatch stop = new CountDownLatch(1);
    private final long seconds;

    private Transport(String[] args) {
        if (args.length < 1) {
            System.err.println("usage: CHANNEL [CONTROL_CHANNEL] [SECONDS]   (e.g. aeron:udp?endpoint=replica-host:40456"
                    + " aeron:udp?endpoint=source-host:40457 0)");
            System.exit(2);
        }
        channel = args[0];
        controlChannel = args.length > 1 ? args[1] : args[0];
        seconds = args.length > 2 ? Long.parseLong(args[2]) : 0;
        String external = System.getProperty("aeron.dir");
        if (external != null) {
            driver = null;
            aeron = Aeron.connect(new Aeron.Context().aeronDirectoryName(external));
        } else {
            driver = EmbeddedDriver.launch();
            aeron = driver.aeron();
        }
        Thread main = Thread.currentThread();
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            stop.countDown();
            try {
                main.join(5_000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }, "sample-stop"));
    }

    static Transport fromArgs(String[] args) {
        return new Transport(args);
    }

    /** {@return true once it is time to stop} Waits at most {@code millis}. */
    boolean awaitStop(long millis, long startedAt) throws InterruptedException {
        boolean due = seconds > 0 && System.nanoTime() - startedAt >= TimeUnit.SECONDS.toNanos(seconds);
        return due || stop.await(millis, TimeUnit.MILLISECONDS);
    }

    String describe() {
        return "channel " + channel + ", control " + controlChannel + ", driver "
                + (driver == null ? "external " + aeron.context().aeronDirectoryName() : "embedded " + driver.aeronDirectoryName());
    }

    @Override
    public void close() {
        if (driver != null) {
            driver.close();
        } else {
            aeron.close();
        }
    }
}
