package io.shmflux.bench;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * A benchmark child JVM: the JDK that runs this one (so JDK 25 under the Maven toolchain), the same
 * class path, native access enabled, full JIT (unlike the tests' children, which stop at C1 to start
 * fast). Stdout is read line by line with bounded waits; {@link #close()} always kills it and deletes
 * what its embedded Aeron drivers left.
 */
final class Child implements AutoCloseable {

    /**
     * Options of every child JVM: the same for every scenario. Agrona and Aeron need jdk.internal.misc;
     * Chronicle Queue 5.27 needs the rest (without them it fails on JDK 25 with "IllegalAccessException:
     * module java.base does not open java.lang.reflect to unnamed module").
     */
    static final List<String> PEER_OPTIONS = List.of(
            "--add-exports=java.base/jdk.internal.misc=ALL-UNNAMED",
            "--add-exports=java.base/jdk.internal.ref=ALL-UNNAMED",
            "--add-exports=java.base/sun.nio.ch=ALL-UNNAMED",
            "--add-exports=jdk.unsupported/sun.misc=ALL-UNNAMED",
            "--add-exports=jdk.compiler/com.sun.tools.javac.file=ALL-UNNAMED",
            "--add-opens=jdk.compiler/com.sun.tools.javac=ALL-UNNAMED",
            "--add-opens=java.base/java.lang=ALL-UNNAMED",
            "--add-opens=java.base/java.lang.reflect=ALL-UNNAMED",
            "--add-opens=java.base/java.io=ALL-UNNAMED",
            "--add-opens=java.base/java.util=ALL-UNNAMED",
            "--add-opens=java.base/java.nio=ALL-UNNAMED",
            "--add-opens=java.base/sun.nio.ch=ALL-UNNAMED");
    static final List<String> JVM_OPTIONS = java.util.stream.Stream.concat(
            java.util.stream.Stream.of("--enable-native-access=ALL-UNNAMED", "-Xms256m", "-Xmx256m"),
            PEER_OPTIONS.stream()).toList();

    private final Process process;
    private final String label;
    private final BlockingQueue<String> lines = new LinkedBlockingQueue<>();
    private final StringBuffer stderr = new StringBuffer();
    private final Writer stdin;

    private Child(Process process, String label) {
        this.process = process;
        this.label = label;
        this.stdin = new OutputStreamWriter(process.getOutputStream(), StandardCharsets.UTF_8);
        Thread.ofPlatform().daemon().name("child-out-" + process.pid()).start(() -> pump(true));
        Thread.ofPlatform().daemon().name("child-err-" + process.pid()).start(() -> pump(false));
    }

    static String javaExecutable() {
        return Path.of(System.getProperty("java.home"), "bin", "java").toString();
    }

    /** Starts {@link BenchChild} with these arguments. */
    static Child start(String... args) {
        return start(List.of(), args);
    }

    /** Starts {@link BenchChild} under {@code prefix} (e.g. {@code taskset -c 0}) with these arguments. */
    static Child start(List<String> prefix, String... args) {
        List<String> command = new ArrayList<>(prefix);
        command.add(javaExecutable());
        command.addAll(JVM_OPTIONS);
        // library settings given to the benchmark (-Dshmflux.*) apply to its children too
        System.getProperties().stringPropertyNames().stream().filter(k -> k.startsWith("shmflux.")).sorted()
                .forEach(k -> command.add("-D" + k + "=" + System.getProperty(k)));
        command.add("-cp");
        command.add(System.getProperty("java.class.path"));
        command.add(BenchChild.class.getName());
        command.addAll(List.of(args));
        try {
            Child child = new Child(new ProcessBuilder(command).start(), String.join(" ", args).replaceAll("(.{60}).*", "$1"));
            ChangeFeedBenchmark.track(child);
            System.out.println("    child pid " + child.pid() + ": " + child.label);
            return child;
        } catch (IOException e) {
            throw new IllegalStateException("cannot start child JVM: command=" + command, e);
        }
    }

    private void pump(boolean out) {
        try (BufferedReader reader = new BufferedReader(new InputStreamReader(
                out ? process.getInputStream() : process.getErrorStream(), StandardCharsets.UTF_8))) {
            String line;
            while ((line = reader.readLine()) != null) {
                if (out) {
                    lines.add(line);
                } else {
                    stderr.append(line).append('\n');
                }
            }
        } catch (IOException ignored) {
            // the child is gone
        }
    }

    long pid() {
        return process.pid();
    }

    void send(String line) {
        try {
            stdin.write(line);
            stdin.write('\n');
            stdin.flush();
        } catch (IOException e) {
            throw new IllegalStateException(describe("cannot write to child: " + e), e);
        }
    }

    /** {@return the first stdout line starting with {@code prefix}}, skipping others; fails after {@code wait}. */
    String await(String prefix, Duration wait) {
        long deadline = System.nanoTime() + wait.toNanos();
        try {
            while (true) {
                long left = deadline - System.nanoTime();
                String line = left > 0 ? lines.poll(left, TimeUnit.NANOSECONDS) : null;
                if (line == null) {
                    throw new IllegalStateException(describe("no '" + prefix + "' line within " + wait));
                }
                if (line.startsWith(prefix)) {
                    return line;
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(describe("interrupted"), e);
        }
    }

    /** {@return the first stdout line starting with {@code prefix} within {@code wait}, or null} */
    String poll(String prefix, Duration wait) {
        try {
            String line = lines.poll(wait.toNanos(), TimeUnit.NANOSECONDS);
            if (line == null) {
                if (!process.isAlive()) {
                    throw new IllegalStateException(describe("child died"));
                }
                return null;
            }
            return line.startsWith(prefix) ? line : poll(prefix, wait);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(describe("interrupted"), e);
        }
    }

    /** Asks the child to exit and waits for it (bounded); kills it if it does not. */
    void exit() {
        if (process.isAlive()) {
            try {
                send("exit");
            } catch (IllegalStateException ignored) {
                // already gone
            }
        }
        try {
            if (!process.waitFor(10, TimeUnit.SECONDS)) {
                close();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            close();
        }
    }

    private String describe(String what) {
        return what + " [child " + label + " pid " + process.pid()
                + (process.isAlive() ? "" : ", exited " + process.exitValue()) + "]\nstderr:\n" + stderr;
    }

    @Override
    public void close() {
        if (process.isAlive()) {
            process.destroyForcibly();
            try {
                process.waitFor(30, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        if (!process.isAlive()) {
            ChangeFeedBenchmark.deleteEmbeddedDrivers(process.pid()); // a killed replica's or raw UDP receiver's
        }
        ChangeFeedBenchmark.untrack(this);
    }
}
