package io.shmflux.testing;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStreamWriter;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Predicate;

/**
 * A real child JVM for cross-process tests: same class path, native access enabled, stdout read line
 * by line with bounded waits, stderr kept for failure messages. {@link #close()} always kills it.
 */
public final class ChildJvm implements AutoCloseable {

    public static final Duration DEFAULT_WAIT = Duration.ofSeconds(30);

    /** Every child this JVM started, so that {@link NoLeftovers} can tell its objects from other runs'. */
    private static final Set<Long> STARTED = ConcurrentHashMap.newKeySet();

    private final Process process;
    private final BlockingQueue<String> lines = new LinkedBlockingQueue<>();
    private final StringBuffer stderr = new StringBuffer();
    private final Writer stdin;
    private final String label;

    private ChildJvm(Process process, String label, Path out, Path err) {
        this.process = process;
        this.label = label;
        this.stdin = new OutputStreamWriter(process.getOutputStream(), StandardCharsets.UTF_8);
        Thread stdout = new Thread(() -> follow(out, true), "child-stdout-" + process.pid());
        Thread stderrFollower = new Thread(() -> follow(err, false), "child-stderr-" + process.pid());
        stdout.setDaemon(true);
        stderrFollower.setDaemon(true);
        stdout.start();
        stderrFollower.start();
    }

    /** Starts {@code main} in a new JVM with {@code --enable-native-access=ALL-UNNAMED}. */
    public static ChildJvm start(Class<?> main, String... args) {
        return start(List.of("--enable-native-access=ALL-UNNAMED"), main, args);
    }

    /** Starts {@code main} in a new JVM with exactly these JVM options. */
    public static ChildJvm start(List<String> jvmOptions, Class<?> main, String... args) {
        return startWith(List.of(), jvmOptions, System.getProperty("java.class.path"), main, args);
    }

    /** Starts {@code main} with a command prefix (such as {@code setpriv ...}) and a given class path. */
    public static ChildJvm startWith(List<String> prefix, List<String> jvmOptions, String classPath, Class<?> main,
                                     String... args) {
        List<String> command = new ArrayList<>(prefix);
        command.add(javaExecutable());
        command.add("-Xshare:auto");
        command.add("-XX:TieredStopAtLevel=1");
        command.addAll(jvmOptions);
        command.add("-cp");
        command.add(classPath);
        command.add(main.getName());
        command.addAll(List.of(args));
        try {
            // output goes to files, not pipes: when a child exits, the JDK swaps its pipe streams under a
            // concurrent reader, which can then lose the child's last lines ("Stream closed")
            Path out = Files.createTempFile("shmflux-child-", ".out");
            Path err = Files.createTempFile("shmflux-child-", ".err");
            out.toFile().deleteOnExit();
            err.toFile().deleteOnExit();
            Process process = new ProcessBuilder(command).redirectOutput(out.toFile()).redirectError(err.toFile())
                    .start();
            STARTED.add(process.pid());
            return new ChildJvm(process, main.getSimpleName(), out, err);
        } catch (IOException e) {
            throw new IllegalStateException("cannot start child JVM: " + command, e);
        }
    }

    /** {@return the pids of every child JVM this JVM has started, alive or not} */
    public static Set<Long> startedPids() {
        return Set.copyOf(STARTED);
    }

    public static String javaExecutable() {
        return Path.of(System.getProperty("java.home"), "bin", "java").toString();
    }

    /**
     * Follows a growing output file line by line until the child has exited and everything it wrote is
     * read. Polls with a short back-off (50 µs after output, up to 2 ms when quiet): bounded, never a
     * busy spin.
     */
    private void follow(Path file, boolean out) {
        try (InputStream in = Files.newInputStream(file)) {
            ByteArrayOutputStream line = new ByteArrayOutputStream();
            byte[] buffer = new byte[8192];
            long pause = 50_000;
            boolean exited = false;
            while (true) {
                int n = in.read(buffer);
                if (n > 0) {
                    for (int i = 0; i < n; i++) {
                        if (buffer[i] == '\n') {
                            emit(line.toString(StandardCharsets.UTF_8), out);
                            line.reset();
                        } else {
                            line.write(buffer[i]);
                        }
                    }
                    pause = 50_000;
                    continue;
                }
                if (exited) {
                    if (line.size() > 0) {
                        emit(line.toString(StandardCharsets.UTF_8), out);
                    }
                    return;
                }
                exited = !process.isAlive(); // one more read after exit picks up the last bytes
                if (!exited) {
                    LockSupport.parkNanos(pause);
                    pause = Math.min(pause * 2, 2_000_000);
                }
            }
        } catch (IOException ignored) {
            // the file is gone: nothing more to read
        } finally {
            try {
                Files.deleteIfExists(file);
            } catch (IOException ignored) {
                // deleteOnExit will try again
            }
        }
    }

    private void emit(String line, boolean out) {
        if (out) {
            lines.add(line);
        } else {
            stderr.append(line).append('\n');
        }
    }

    public long pid() {
        return process.pid();
    }

    public Process process() {
        return process;
    }

    /** Sends one line to the child's stdin. */
    public ChildJvm send(String line) {
        try {
            stdin.write(line);
            stdin.write('\n');
            stdin.flush();
            return this;
        } catch (IOException e) {
            throw new AssertionError(describe("cannot write to child: " + e), e);
        }
    }

    /** {@return the next stdout line} Fails after {@code wait}. */
    public String nextLine(Duration wait) {
        try {
            String line = lines.poll(wait.toMillis(), TimeUnit.MILLISECONDS);
            if (line == null) {
                throw new AssertionError(describe("no line from child within " + wait));
            }
            return line;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(describe("interrupted"), e);
        }
    }

    public String nextLine() {
        return nextLine(DEFAULT_WAIT);
    }

    /** {@return the first stdout line matching}, skipping others; fails after {@code wait}. */
    public String awaitLine(Predicate<String> matching, Duration wait) {
        long deadline = System.nanoTime() + wait.toNanos();
        while (true) {
            long left = deadline - System.nanoTime();
            if (left <= 0) {
                throw new AssertionError(describe("no matching line from child within " + wait));
            }
            String line = nextLine(Duration.ofNanos(left));
            if (matching.test(line)) {
                return line;
            }
        }
    }

    /** Sends a command and {@return its reply}, which must start with {@code ok}. */
    public String call(String command) {
        send(command);
        String reply = nextLine();
        if (!reply.startsWith("ok")) {
            throw new AssertionError(describe("command '" + command + "' answered: " + reply));
        }
        return reply;
    }

    /** Waits for the child to exit; {@return its exit code} */
    public int awaitExit(Duration wait) {
        try {
            if (!process.waitFor(wait.toMillis(), TimeUnit.MILLISECONDS)) {
                throw new AssertionError(describe("child did not exit within " + wait));
            }
            return process.exitValue();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(describe("interrupted"), e);
        }
    }

    /** Waits for the child's {@code bye} line and a clean exit: it closed everything it held. */
    public void awaitBye(Duration wait) {
        awaitLine("bye"::equals, wait);
        int code = awaitExit(wait);
        if (code != 0) {
            throw new AssertionError(describe("child exited with " + code));
        }
    }

    /** Kills the child with SIGKILL (no shutdown hooks, no cleanup) and waits until it is gone. */
    public void kill9() {
        process.destroyForcibly();
        try {
            if (!process.waitFor(30, TimeUnit.SECONDS)) {
                throw new AssertionError(describe("child survived SIGKILL"));
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    public String stderr() {
        return stderr.toString();
    }

    private String describe(String what) {
        return what + " [child " + label + " pid " + process.pid() + (process.isAlive() ? "" : ", exited "
                + process.exitValue()) + "]\nstderr:\n" + stderr;
    }

    @Override
    public void close() {
        if (process.isAlive()) {
            kill9();
        }
    }
}
