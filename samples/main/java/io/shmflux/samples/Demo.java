package io.shmflux.samples;

import io.shmflux.Access;
import io.shmflux.ObjectNotFoundException;
import io.shmflux.SharedMemory;

import java.io.IOException;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The one-command demo: one {@link Publisher} and two subscribers ({@link JavaSubscriber} and the
 * Kotlin {@code KotlinSubscriberKt}), each a separate JVM, their output interleaved here with each line
 * prefixed by the process's role and pid. After {@code --seconds} (default 10; 0 runs until Ctrl-C) it
 * stops them and checks that nothing is left behind.
 *
 * <pre>
 * mvn -q test-compile exec:exec@demo                      # 10 seconds
 * mvn -q test-compile exec:exec@demo -Ddemo.seconds=0     # until Ctrl-C
 * </pre>
 *
 * The children run on this JVM's own {@code java} and class path, with native access enabled.
 */
public final class Demo {

    private static final String KOTLIN_SUBSCRIBER = "io.shmflux.samples.KotlinSubscriberKt";

    private record Child(String role, Process process, Thread output) {
    }

    public static void main(String[] args) throws Exception {
        SampleArgs options = new SampleArgs(args);
        long seconds = options.number("seconds", 10);
        // a name of our own, so that a second demo on the machine does not collide with this one
        String name = options.string("name", "shmflux-demo-" + ProcessHandle.current().pid());

        List<Child> children = new ArrayList<>();
        Thread stopper = new Thread(() -> {
            stopAll(children);
            checkNothingLeft(name);
        }, "demo-stop");
        Runtime.getRuntime().addShutdownHook(stopper); // Ctrl-C: stop the children before we go

        say("publisher and two subscribers on \"" + name + "\" for "
                + (seconds > 0 ? seconds + " s" : "ever (Ctrl-C stops)") + ", Java " + Runtime.version());
        synchronized (children) {
            children.add(start("publisher", Publisher.class.getName(), "--name", name));
            children.add(start("subscriber-java", JavaSubscriber.class.getName(), "--name", name));
            children.add(start("subscriber-kotlin", KOTLIN_SUBSCRIBER, "--name", name));
        }
        if (seconds > 0) {
            TimeUnit.SECONDS.sleep(seconds);
        } else {
            Thread.currentThread().join(); // until Ctrl-C
        }
        Runtime.getRuntime().removeShutdownHook(stopper);
        stopAll(children);
        if (!checkNothingLeft(name)) {
            System.exit(1);
        }
    }

    /**
     * Every handle was closed, so the object must be gone. (Opening also reclaims an object whose
     * holders were all killed, had a child needed SIGKILL.) {@return true if it is}
     */
    private static boolean checkNothingLeft(String name) {
        try (var left = SharedMemory.open(name, Access.READ)) {
            say("object \"" + name + "\" still exists: " + left);
            return false;
        } catch (ObjectNotFoundException expected) {
            say("stopped; nothing left in /dev/shm for \"" + name + "\"");
            return true;
        }
    }

    /**
     * Starts a sample in a new JVM, its output (stderr included) going to a temporary log file that a
     * thread follows, printing each line with the prefix. (A file rather than a pipe: the JDK closes a
     * child's pipe when the child exits, and on a busy machine its last lines could be lost.)
     */
    private static Child start(String role, String mainClass, String... args) throws IOException {
        List<String> command = new ArrayList<>(List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--enable-native-access=ALL-UNNAMED",
                "-XX:TieredStopAtLevel=1", // start fast: the samples do little work
                "-cp", System.getProperty("java.class.path"),
                mainClass));
        command.addAll(List.of(args));
        Path log = Files.createTempFile("shmflux-demo-" + role + "-", ".log");
        Process process = new ProcessBuilder(command).redirectErrorStream(true)
                .redirectOutput(log.toFile()).start();
        String prefix = "[" + role + " " + process.pid() + "] ";
        Thread follow = new Thread(() -> follow(process, log, prefix), "demo-" + role);
        follow.setDaemon(true);
        follow.start();
        return new Child(role, process, follow);
    }

    /** Prints each line the process writes to {@code log} until it has exited; then deletes the log. */
    private static void follow(Process process, Path log, String prefix) {
        try (Reader in = Files.newBufferedReader(log, StandardCharsets.UTF_8)) {
            StringBuilder line = new StringBuilder();
            boolean exited = false;
            while (true) {
                int c = in.read();
                if (c == '\n') {
                    print(prefix + line);
                    line.setLength(0);
                } else if (c >= 0) {
                    line.append((char) c);
                } else if (process.isAlive()) {
                    TimeUnit.MILLISECONDS.sleep(50); // at the end for now: wait for more
                } else if (!exited) {
                    exited = true; // read once more: it may have written just before exiting
                } else {
                    if (!line.isEmpty()) {
                        print(prefix + line);
                    }
                    return;
                }
            }
        } catch (IOException | InterruptedException e) {
            print(prefix + "(output lost: " + e + ")");
        } finally {
            try {
                Files.deleteIfExists(log);
            } catch (IOException ignored) {
                // a temporary file
            }
        }
    }

    /**
     * Stops the children, subscribers first: SIGTERM lets each close its handle (the last one out
     * removes the object); one that has not exited after 5 s is killed.
     */
    private static void stopAll(List<Child> children) {
        List<Child> toStop;
        synchronized (children) {
            toStop = new ArrayList<>(children.reversed());
            children.clear();
        }
        for (Child child : toStop) {
            child.process().destroy();
            try {
                if (!child.process().waitFor(5, TimeUnit.SECONDS)) {
                    say(child.role() + " did not stop; killing it");
                    child.process().destroyForcibly().waitFor(5, TimeUnit.SECONDS);
                }
                child.output().join(2000); // its last lines first
                say(child.role() + " exited with " + child.process().exitValue());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                child.process().destroyForcibly();
            }
        }
    }

    private static void say(String line) {
        print("[demo " + ProcessHandle.current().pid() + "] " + line);
    }

    private static synchronized void print(String line) {
        System.out.println(line);
    }
}
