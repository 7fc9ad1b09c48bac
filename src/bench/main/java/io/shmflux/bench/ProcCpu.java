package io.shmflux.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;

/**
 * CPU time of a process from {@code /proc/PID/task/TID/schedstat} (first field: nanoseconds on a
 * CPU), which, unlike {@code /proc/PID/stat}, does not tick in 10 ms steps.
 */
final class ProcCpu {

    private ProcCpu() {
    }

    /** {@return the nanoseconds all threads of {@code pid} have run} Threads that ended are not counted. */
    static long processNanos(long pid) {
        return sum(pid, null);
    }

    /** {@return the nanoseconds the threads of {@code pid} whose name starts with {@code prefix} have run} */
    static long threadNanos(long pid, String prefix) {
        return sum(pid, prefix);
    }

    /** {@return nanoseconds on a CPU per thread of {@code pid}, keyed "name/tid"} */
    static java.util.Map<String, Long> perThread(long pid) {
        java.util.Map<String, Long> threads = new java.util.TreeMap<>();
        try (Stream<Path> tasks = Files.list(Path.of("/proc", Long.toString(pid), "task"))) {
            for (Path task : (Iterable<Path>) tasks::iterator) {
                try {
                    String line = Files.readString(task.resolve("schedstat")).trim();
                    threads.put(Files.readString(task.resolve("comm")).trim() + "/" + task.getFileName(),
                            Long.parseLong(line.substring(0, line.indexOf(' '))));
                } catch (IOException | RuntimeException ignored) {
                    // the thread ended meanwhile
                }
            }
        } catch (IOException e) {
            throw new IllegalStateException("cannot read /proc/" + pid + "/task: " + e, e);
        }
        return threads;
    }

    /** {@return the voluntary context switches (sleeps) of the threads of {@code pid} named {@code prefix}...} */
    static long voluntarySwitches(long pid, String prefix) {
        long total = 0;
        try (Stream<Path> tasks = Files.list(Path.of("/proc", Long.toString(pid), "task"))) {
            for (Path task : (Iterable<Path>) tasks::iterator) {
                try {
                    if (!Files.readString(task.resolve("comm")).startsWith(prefix)) {
                        continue;
                    }
                    for (String line : Files.readAllLines(task.resolve("status"))) {
                        if (line.startsWith("voluntary_ctxt_switches:")) {
                            total += Long.parseLong(line.substring(line.indexOf(':') + 1).trim());
                        }
                    }
                } catch (IOException | RuntimeException ignored) {
                    // the thread ended meanwhile
                }
            }
        } catch (IOException e) {
            throw new IllegalStateException("cannot read /proc/" + pid + "/task: " + e, e);
        }
        return total;
    }

    private static long sum(long pid, String prefix) {
        long total = 0;
        try (Stream<Path> tasks = Files.list(Path.of("/proc", Long.toString(pid), "task"))) {
            for (Path task : (Iterable<Path>) tasks::iterator) {
                try {
                    if (prefix != null && !Files.readString(task.resolve("comm")).startsWith(prefix)) {
                        continue;
                    }
                    String line = Files.readString(task.resolve("schedstat")).trim();
                    total += Long.parseLong(line.substring(0, line.indexOf(' ')));
                } catch (IOException | RuntimeException ignored) {
                    // the thread ended meanwhile
                }
            }
        } catch (IOException e) {
            throw new IllegalStateException("cannot read /proc/" + pid + "/task: " + e, e);
        }
        return total;
    }
}
