package io.shmflux.aeron;

import io.aeron.Aeron;
import io.aeron.driver.MediaDriver;
import io.aeron.driver.ThreadingMode;
import org.agrona.CloseHelper;
import org.agrona.IoUtil;
import org.agrona.concurrent.BackoffIdleStrategy;

import java.io.File;
import java.util.HexFormat;
import java.util.Objects;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * A media driver of this process's own, for a user who runs none, with one Aeron client of it. Its
 * directory is unique ({@code /dev/shm/shmflux-aeron-<pid>-<random>}) and deleted on close. The driver
 * runs {@link ThreadingMode#SHARED} (one thread) and idles up to 1 ms when there is no work, which
 * suits small machines; a host that runs an external driver ({@code io.aeron.driver.MediaDriver} as a
 * process of its own) connects with {@code Aeron.connect(new Aeron.Context().aeronDirectoryName(dir))}
 * instead.
 */
public final class EmbeddedDriver implements AutoCloseable {

    private final MediaDriver driver;
    private final Aeron aeron;
    private final String directory;
    private boolean closed;

    private EmbeddedDriver(MediaDriver driver, Aeron aeron, String directory) {
        this.driver = driver;
        this.aeron = aeron;
        this.directory = directory;
    }

    /** Launches a driver with Aeron's defaults apart from its directory and threading. */
    public static EmbeddedDriver launch() {
        return launch(context -> { });
    }

    /**
     * Launches a driver; {@code settings} may change its context (timeouts, loss generators) after the
     * defaults here are set.
     */
    public static EmbeddedDriver launch(Consumer<MediaDriver.Context> settings) {
        Objects.requireNonNull(settings, "settings");
        String directory = "/dev/shm/shmflux-aeron-" + ProcessHandle.current().pid() + "-"
                + HexFormat.of().toHexDigits(ThreadLocalRandom.current().nextInt());
        MediaDriver.Context context = new MediaDriver.Context()
                .aeronDirectoryName(directory)
                .dirDeleteOnStart(true)
                .dirDeleteOnShutdown(true)
                .threadingMode(ThreadingMode.SHARED)
                .sharedIdleStrategy(new BackoffIdleStrategy(10, 20, 1_000, TimeUnit.MILLISECONDS.toNanos(1)));
        settings.accept(context);
        MediaDriver driver = MediaDriver.launch(context);
        try {
            Aeron aeron = Aeron.connect(new Aeron.Context().aeronDirectoryName(directory));
            return new EmbeddedDriver(driver, aeron, directory);
        } catch (RuntimeException e) {
            CloseHelper.quietClose(driver);
            IoUtil.delete(new File(directory), true);
            throw e;
        }
    }

    /** {@return the client of this driver} Closed with it. */
    public Aeron aeron() {
        return aeron;
    }

    /** {@return the driver's directory} */
    public String aeronDirectoryName() {
        return directory;
    }

    /** Closes the client and the driver and deletes the directory. Idempotent. */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        CloseHelper.closeAll(aeron, driver);
        IoUtil.delete(new File(directory), true);
    }

    @Override
    public String toString() {
        return "EmbeddedDriver[" + directory + "]";
    }
}
