package io.shmflux.aeron;

import io.shmflux.FileMapping;
import io.shmflux.MappingOptions;
import io.shmflux.SharedMemory;
import io.shmflux.testing.ChildJvm;
import io.shmflux.testing.TestNames;
import org.agrona.IoUtil;

import java.io.File;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A source and a replica mapping, and the {@link ReplicationChild} JVMs that replicate between them,
 * each with its own embedded media driver and Aeron directory, on one data and one control channel. The
 * test's JVM creates both mappings and holds them, so that it can compare their bytes and a killed
 * child's object stays for the next one. {@link #close()} kills every child still running, closes the
 * mappings and deletes the Aeron directories that killed children left.
 */
final class ReplicationProcesses implements AutoCloseable {

    static final Duration WAIT = Duration.ofSeconds(30);
    static final int STREAM = 1001;

    final FileMapping source;
    final FileMapping target;
    private final String dataChannel;
    private final String controlChannel;
    private final List<ChildJvm> children = new ArrayList<>();
    /** Each child's Aeron directory: one that quit must have deleted it, a killed one's is deleted on close. */
    private final Map<ChildJvm, String> aeronDirectories = new HashMap<>();

    ReplicationProcesses(long size, String dataChannel, String controlChannel) {
        this.dataChannel = dataChannel;
        this.controlChannel = controlChannel;
        MappingOptions options = MappingOptions.DEFAULT.withChangeRingCapacity(1024);
        this.source = SharedMemory.create(TestNames.unique("aeron-source"), size, options);
        try {
            this.target = SharedMemory.create(TestNames.unique("aeron-target"), size, options);
        } catch (RuntimeException e) {
            source.close();
            throw e;
        }
    }

    /**
     * Starts a child of {@code role} ({@code source} on the source mapping, {@code replica} on the
     * target) and waits until it is ready.
     *
     * @param prefix     the command the child's {@code java} runs under (such as {@code ip netns exec NS}), or none
     * @param livenessMs its driver's image liveness and publication connection timeout
     * @param loss       what its driver drops, a {@link FrameLoss} spec
     */
    ChildJvm start(List<String> prefix, String role, long livenessMs, String loss) {
        List<String> options = new ArrayList<>(Arrays.asList(System.getProperty("shmflux.aeron.jvmOptions",
                "--enable-native-access=ALL-UNNAMED --add-exports java.base/jdk.internal.misc=ALL-UNNAMED")
                .trim().split("\\s+")));
        FileMapping mapping = role.equals("source") ? source : target;
        ChildJvm child = ChildJvm.startWith(prefix, options, System.getProperty("java.class.path"),
                ReplicationChild.class, role, mapping.name(), dataChannel, controlChannel, Integer.toString(STREAM),
                Long.toString(livenessMs), loss);
        children.add(child);
        String ready = child.awaitLine(line -> line.startsWith("ready dir="), WAIT);
        String directory = ready.substring("ready dir=".length());
        aeronDirectories.put(child, directory);
        // the directory is named after the JVM's pid: a prefix that forked instead of exec'ing java would
        // leave kill -9 killing the prefix, not the JVM
        assertTrue(directory.startsWith("/dev/shm/shmflux-aeron-" + child.pid() + "-"),
                () -> "the child's JVM is not the process started: pid=" + child.pid() + ", directory=" + directory);
        return child;
    }

    /** Asks the child to quit; it must say bye, exit 0 and have deleted its Aeron directory. */
    void quit(ChildJvm child) {
        child.send("quit");
        child.awaitBye(WAIT);
        String directory = aeronDirectories.get(child);
        assertFalse(new File(directory).exists(), "the child's embedded driver deleted its directory " + directory);
    }

    /** {@return the Aeron directory of a child started here} */
    String aeronDirectory(ChildJvm child) {
        return aeronDirectories.get(child);
    }

    void assertSameBytes() {
        byte[] expected = source.read(0, Math.toIntExact(source.byteSize()));
        byte[] actual = target.read(0, Math.toIntExact(target.byteSize()));
        assertArrayEquals(expected, actual, "replica bytes differ from the source's");
    }

    /** {@return the source sequence of a status line} */
    static long liveAt(String statusLine) {
        return Long.parseLong(statusLine.split(" ")[2]);
    }

    static String awaitStatus(ChildJvm child, String state) {
        return child.awaitLine(line -> {
            assertFalse(line.startsWith("status-error"), line);
            return line.startsWith("status " + state + " ");
        }, WAIT);
    }

    /** {@return the replica's {@code check} reply: seq, behind, changes, snapshots, gaps, bad, naks} */
    static Map<String, Long> check(ChildJvm replica) {
        return values(replica.call("check"));
    }

    /** {@return the child's {@code counters} reply: its driver's NAKs and retransmits, what its loss generators dropped} */
    static Map<String, Long> counters(ChildJvm child) {
        return values(child.call("counters"));
    }

    /** {@return the {@code key=value} pairs of an {@code ok} reply} */
    private static Map<String, Long> values(String reply) {
        Map<String, Long> values = new HashMap<>();
        for (String pair : reply.substring("ok".length()).trim().split(" ")) {
            int equals = pair.indexOf('=');
            assertTrue(equals > 0, reply);
            values.put(pair.substring(0, equals), Long.parseLong(pair.substring(equals + 1)));
        }
        return values;
    }

    /**
     * Asks the replica every 50 ms until it has applied {@code sequence} of the source and its subscriber
     * has checked every change of the target.
     */
    static Map<String, Long> awaitSequence(ChildJvm replica, long sequence, Duration wait) {
        long deadline = System.nanoTime() + wait.toNanos();
        while (true) {
            Map<String, Long> check = check(replica);
            if (check.get("seq") >= sequence && check.get("behind") == 0) {
                return check;
            }
            assertTrue(System.nanoTime() < deadline, () -> "replica did not reach sequence " + sequence + ": " + check);
            sleep(50);
        }
    }

    /** The replica's subscriber saw one snapshot, then {@code changes} changes in order, each with its bytes. */
    static void assertOneSnapshotThenEveryChange(Map<String, Long> check, long changes) {
        assertEquals(1, check.get("snapshots"), check::toString);
        assertEquals(changes, check.get("changes"), () -> "every change after the snapshot, one by one: " + check);
        assertEquals(0, check.get("gaps"), check::toString);
        assertEquals(0, check.get("bad"), check::toString);
    }

    /** {@return the sequence of a {@code publish} or {@code complete} reply} */
    static long published(String reply) {
        assertTrue(reply.startsWith("ok "), reply);
        return Long.parseLong(reply.substring(3).trim());
    }

    static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }

    @Override
    public void close() {
        children.forEach(ChildJvm::close);
        source.close();
        target.close();
        aeronDirectories.values().forEach(directory -> IoUtil.delete(new File(directory), true));
    }
}
