package io.shmflux.aeron;

import org.junit.jupiter.api.Assumptions;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;

/**
 * Two network namespaces joined by a veth pair, two hosts on one machine: {@code shmflux-<pid>-<n>-a}
 * with {@link #addressA()} and {@code -b} with {@link #addressB()}, a /30 of 10.213.0.0/16 picked from
 * the pid and a counter (the namespaces are new, so it clashes with no route of the machine's), their
 * {@code lo} and veth ends up. {@link #exec(String)} is the prefix that runs a command inside one; only
 * the network is separate ({@code ip netns exec} also remounts {@code /sys}): {@code /dev/shm} is the
 * machine's, so the mappings and the Aeron directories are seen from both.
 *
 * <p>Needs root and iproute2's {@code ip}; without them {@link #create()} skips the test (an
 * assumption, saying why) unless the environment variable {@code SHMFLUX_NETNS=required} (set by
 * {@code .ci/run}) makes that a failure. Every {@code ip} command is bounded ({@link #COMMAND_WAIT});
 * one that fails is reported with its output. {@link #close()} deletes both namespaces, which deletes the
 * veth pair with them, also after a failure half way through {@link #create()}; {@link #create()} first
 * deletes those of test JVMs that no longer run.
 */
final class NetworkNamespaces implements AutoCloseable {

    /** What every namespace of the tests is named with; {@code .ci/run} fails on one left behind. */
    static final String PREFIX = "shmflux-";
    private static final Duration COMMAND_WAIT = Duration.ofSeconds(10);
    private static final AtomicInteger CREATED = new AtomicInteger();
    private static final String VETH_A = "shmflux-a";
    private static final String VETH_B = "shmflux-b";

    private final String ip;
    private final String a;
    private final String b;
    private final String addressA;
    private final String addressB;
    /** The namespaces made so far, deleted on close. */
    private final List<String> made = new ArrayList<>();

    private NetworkNamespaces(String ip) {
        this.ip = ip;
        int n = CREATED.incrementAndGet();
        long pid = ProcessHandle.current().pid();
        String name = PREFIX + pid + "-" + n;
        this.a = name + "-a";
        this.b = name + "-b";
        int subnet = (int) ((pid * 16 + n) % (1 << 14)); // one of the 16,384 /30s of 10.213.0.0/16
        String network = "10.213." + (subnet >> 6) + ".";
        int host = (subnet & 63) << 2;
        this.addressA = network + (host + 1);
        this.addressB = network + (host + 2);
    }

    /** Creates the namespaces and the veth pair between them, or skips the test where that is not possible. */
    static NetworkNamespaces create() {
        String ip = usableIp();
        deleteThoseOfDeadRuns(ip);
        NetworkNamespaces namespaces = new NetworkNamespaces(ip);
        try {
            namespaces.add(namespaces.a);
            namespaces.add(namespaces.b);
            run(namespaces.ip, "link", "add", VETH_A, "netns", namespaces.a, "type", "veth", "peer", "name",
                    VETH_B, "netns", namespaces.b);
            namespaces.up(namespaces.a, VETH_A, namespaces.addressA);
            namespaces.up(namespaces.b, VETH_B, namespaces.addressB);
            return namespaces;
        } catch (RuntimeException | Error e) {
            try {
                namespaces.close();
            } catch (RuntimeException | Error suppressed) {
                e.addSuppressed(suppressed);
            }
            throw e;
        }
    }

    /**
     * Deletes the namespaces a test JVM that no longer runs left (killed before its close), so that one
     * killed run does not fail the leftover check of every later one; those of live JVMs are theirs.
     */
    private static void deleteThoseOfDeadRuns(String ip) {
        for (String line : run(ip, "netns", "list").split("\n")) {
            String name = line.split(" ")[0];
            String[] parts = name.split("-");
            if (name.startsWith(PREFIX) && parts.length == 4 && parts[1].chars().allMatch(Character::isDigit)
                    && !parts[1].isEmpty() && ProcessHandle.of(Long.parseLong(parts[1])).isEmpty()) {
                run(ip, "netns", "delete", name);
            }
        }
    }

    /** {@return the path of {@code ip}} Skips the test if not root or there is no {@code ip}, unless required. */
    private static String usableIp() {
        String why = null;
        Optional<String> ip = Stream.of((System.getenv().getOrDefault("PATH", "") + ":/usr/sbin:/sbin").split(":"))
                .filter(dir -> !dir.isEmpty()).map(dir -> Path.of(dir, "ip")).filter(Files::isExecutable)
                .map(Path::toString).findFirst();
        if (!root()) {
            why = "network namespace tests need root (ip netns add): uid=" + uid();
        } else if (ip.isEmpty()) {
            why = "network namespace tests need iproute2's ip: PATH=" + System.getenv("PATH");
        }
        if (why != null) {
            if ("required".equals(System.getenv("SHMFLUX_NETNS"))) {
                throw new AssertionError(why + " (SHMFLUX_NETNS=required)");
            }
            Assumptions.abort(why);
        }
        return ip.orElseThrow();
    }

    private static boolean root() {
        return uid() == 0;
    }

    /** {@return this process's effective uid: /proc/self belongs to it} */
    private static int uid() {
        try {
            return (Integer) Files.getAttribute(Path.of("/proc/self"), "unix:uid");
        } catch (IOException | UnsupportedOperationException e) {
            return -1;
        }
    }

    private void add(String namespace) {
        run(ip, "netns", "add", namespace);
        made.add(namespace);
    }

    private void up(String namespace, String veth, String address) {
        run(ip, "-n", namespace, "link", "set", "lo", "up");
        run(ip, "-n", namespace, "address", "add", address + "/30", "dev", veth);
        run(ip, "-n", namespace, "link", "set", veth, "up");
    }

    /** {@return namespace A's name} */
    String a() {
        return a;
    }

    /** {@return namespace B's name} */
    String b() {
        return b;
    }

    /** {@return the address of namespace A's veth end} */
    String addressA() {
        return addressA;
    }

    /** {@return the address of namespace B's veth end} */
    String addressB() {
        return addressB;
    }

    /** {@return the command prefix that runs a program inside {@code namespace}: it execs it, same pid} */
    List<String> exec(String namespace) {
        return List.of(ip, "netns", "exec", namespace);
    }

    /** Runs a command, waiting at most {@link #COMMAND_WAIT}; {@return its output} Fails with it otherwise. */
    private static String run(String... command) {
        Path output = null;
        try {
            output = Files.createTempFile("shmflux-ip-", ".out");
            Process process = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(output.toFile())
                    .start();
            if (!process.waitFor(COMMAND_WAIT.toMillis(), TimeUnit.MILLISECONDS)) {
                process.destroyForcibly().waitFor(COMMAND_WAIT.toMillis(), TimeUnit.MILLISECONDS);
                throw new AssertionError("command timed out: command=" + String.join(" ", command) + ", wait="
                        + COMMAND_WAIT + ", output=" + Files.readString(output, StandardCharsets.UTF_8).trim());
            }
            String out = Files.readString(output, StandardCharsets.UTF_8).trim();
            if (process.exitValue() != 0) {
                throw new AssertionError("command failed: command=" + String.join(" ", command) + ", exit="
                        + process.exitValue() + ", output=" + out);
            }
            return out;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot run: command=" + String.join(" ", command), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted: command=" + String.join(" ", command), e);
        } finally {
            if (output != null) {
                try {
                    Files.deleteIfExists(output);
                } catch (IOException ignored) {
                    // a temporary file: the system's cleanup takes it
                }
            }
        }
    }

    /** Deletes both namespaces (and with them the veth pair); tries each even if the other fails. Idempotent. */
    @Override
    public void close() {
        AssertionError failed = null;
        while (!made.isEmpty()) {
            String namespace = made.removeLast();
            try {
                run(ip, "netns", "delete", namespace);
            } catch (AssertionError | RuntimeException e) {
                if (failed == null) {
                    failed = new AssertionError("cannot delete network namespace: name=" + namespace, e);
                } else {
                    failed.addSuppressed(e);
                }
            }
        }
        if (failed != null) {
            throw failed;
        }
    }

    @Override
    public String toString() {
        return "NetworkNamespaces[" + a + " " + addressA + " <-> " + b + " " + addressB + "]";
    }
}
