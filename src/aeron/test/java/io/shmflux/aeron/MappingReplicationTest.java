package io.shmflux.aeron;

import io.shmflux.FileMapping;
import io.shmflux.MappingOptions;
import io.shmflux.SharedMemory;
import io.shmflux.testing.ChildJvm;
import io.shmflux.testing.NoLeftovers;
import io.shmflux.testing.TestNames;
import org.agrona.IoUtil;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A source and a replica, each a child JVM with its own embedded media driver and Aeron directory,
 * over UDP unicast on 127.0.0.1 (unique ports). The test creates both mappings and holds them, so that
 * it can compare their bytes and a killed child's object stays for the next one.
 */
@ExtendWith(NoLeftovers.class)
class MappingReplicationTest {

    private static final long SIZE = 8L << 20;
    private static final int SMALL = 64;
    private static final int MEBIBYTE = 1 << 20;
    private static final int STREAM = 1001;
    /** Image liveness and publication connection timeout of every child's driver. */
    private static final long LIVENESS_MS = 1_000;
    private static final Duration WAIT = Duration.ofSeconds(30);
    /** 100,000 in mvn verify; -Dshmflux.aeron.changes=1000000 for the million. */
    private static final long CHANGES = Long.getLong("shmflux.aeron.changes", 100_000);
    private static final Pattern CHECK = Pattern.compile(
            "ok seq=(\\d+) behind=(\\d+) changes=(\\d+) snapshots=(\\d+) gaps=(\\d+) bad=(\\d+) naks=(\\d+)");

    private final List<ChildJvm> children = new ArrayList<>();
    /** Each child's Aeron directory: one that quit must have deleted it, a killed one's is deleted here. */
    private final Map<ChildJvm, String> aeronDirectories = new HashMap<>();
    private final List<FileMapping> mappings = new ArrayList<>();
    private FileMapping source;
    private FileMapping target;
    private String dataChannel;
    private String controlChannel;

    @BeforeEach
    void createMappingsAndPickPorts() {
        MappingOptions options = MappingOptions.DEFAULT.withChangeRingCapacity(1024);
        source = keep(SharedMemory.create(TestNames.unique("aeron-source"), SIZE, options));
        target = keep(SharedMemory.create(TestNames.unique("aeron-target"), SIZE, options));
        // term-length 4m: maxMessageLength 512 KiB, so a 1 MiB change and the snapshot go in pieces
        dataChannel = "aeron:udp?endpoint=127.0.0.1:" + freePort() + "|term-length=4m";
        controlChannel = "aeron:udp?endpoint=127.0.0.1:" + freePort();
    }

    @AfterEach
    void killChildrenAndDeleteDirectories() {
        children.forEach(ChildJvm::close);
        mappings.forEach(FileMapping::close);
        aeronDirectories.values().forEach(directory -> IoUtil.delete(new File(directory), true));
    }

    @Test
    void sixtyFourByteAndMebibyteChangesReachAReplicaSubscriberInOrderWithIdenticalBytes() {
        ChildJvm replica = start("replica", target);
        ChildJvm sourceChild = start("source", source);
        assertEquals(0, liveAt(awaitStatus(replica, "LIVE")), "the replica started before any change");
        long sequence = published(sourceChild.call("publish 1 " + CHANGES + " " + SMALL));
        sequence = published(sourceChild.call("publish " + (CHANGES + 1) + " 6 " + MEBIBYTE));
        assertOneSnapshotThenEveryChange(awaitSequence(replica, sequence, Duration.ofSeconds(60)), CHANGES + 6);
        assertSameBytes();

        sourceChild.call("complete");
        awaitStatus(replica, "COMPLETED");
        assertTrue(target.sequence() > 0);
        quit(sourceChild);
        quit(replica);
    }

    @Test
    void withOneReceivedDataFrameInTwentyDroppedByAeronsLossGeneratorTheReplicaStillGetsEveryChange() {
        ChildJvm replica = start("replica", target, "-Daeron.debug.receive.data.loss.rate=0.05",
                "-Daeron.debug.receive.data.loss.seed=14");
        ChildJvm sourceChild = start("source", source);
        long liveAt = liveAt(awaitStatus(replica, "LIVE"));
        long sequence = published(sourceChild.call("publish 1 20000 " + SMALL));
        Map<String, Long> check = awaitSequence(replica, sequence, WAIT);
        // Aeron repairs the loss (NAK, retransmit): every change arrives, in order, none resynced
        assertTrue(check.get("naks") > 0, () -> "no frame was dropped: " + check);
        assertOneSnapshotThenEveryChange(check, sequence - liveAt);
        assertSameBytes();
        quit(sourceChild);
        quit(replica);
    }

    @Test
    void aReplicaStartedMidStreamCatchesUpFromASnapshotAndThenMissesNothing() {
        ChildJvm sourceChild = start("source", source);
        sourceChild.call("publish 1 5000 " + SMALL);
        ChildJvm replica = start("replica", target);
        sourceChild.send("publish 5001 20000 " + SMALL); // the replica joins while these go out
        long snapshotAt = liveAt(awaitStatus(replica, "LIVE"));
        long sequence = published(sourceChild.nextLine(WAIT));
        assertTrue(snapshotAt >= 5000, "the snapshot holds the changes before the replica started: " + snapshotAt);
        assertOneSnapshotThenEveryChange(awaitSequence(replica, sequence, WAIT), sequence - snapshotAt);
        assertSameBytes();
        quit(sourceChild);
        quit(replica);
    }

    @Test
    void aReplicaKilledWithKill9AndRestartedConverges() {
        ChildJvm sourceChild = start("source", source);
        ChildJvm first = start("replica", target);
        awaitStatus(first, "LIVE");
        awaitSequence(first, published(sourceChild.call("publish 1 2000 " + SMALL)), WAIT);
        first.kill9();
        long sequence = published(sourceChild.call("publish 2001 2000 " + SMALL)); // nobody listening
        ChildJvm second = start("replica", target);
        assertTrue(liveAt(awaitStatus(second, "LIVE")) >= 4000, "the restarted replica resynced from a snapshot");
        sequence = published(sourceChild.call("publish 4001 2000 " + SMALL));
        Map<String, Long> check = awaitSequence(second, sequence, WAIT);
        assertEquals(0, check.get("bad"), check::toString);
        assertSameBytes();
        quit(sourceChild);
        quit(second);
    }

    @Test
    void theSourceKilledWithKill9IsReportedLostWithinTheLivenessTimeoutAndTheReplicaKeepsItsState() {
        ChildJvm sourceChild = start("source", source);
        ChildJvm replica = start("replica", target);
        awaitStatus(replica, "LIVE");
        awaitSequence(replica, published(sourceChild.call("publish 1 3000 " + SMALL)), WAIT);
        long killedAt = System.nanoTime();
        sourceChild.kill9();
        awaitStatus(replica, "SOURCE_LOST");
        long lostAfterMs = (System.nanoTime() - killedAt) / 1_000_000;
        // the driver checks liveness on its timer: allow one more timeout and scheduling on a busy machine
        assertTrue(lostAfterMs < 2 * LIVENESS_MS + 1_000, "source lost reported after " + lostAfterMs + " ms");
        assertSameBytes();
        Map<String, Long> check = check(replica);
        assertEquals(0, check.get("gaps"), check::toString);
        quit(replica);
    }

    private ChildJvm start(String role, FileMapping mapping, String... lossProperties) {
        List<String> options = new ArrayList<>(Arrays.asList(System.getProperty("shmflux.aeron.jvmOptions",
                "--enable-native-access=ALL-UNNAMED --add-exports java.base/jdk.internal.misc=ALL-UNNAMED")
                .trim().split("\\s+")));
        options.addAll(List.of(lossProperties));
        ChildJvm child = ChildJvm.start(options, ReplicationChild.class, role, mapping.name(), dataChannel,
                controlChannel, Integer.toString(STREAM), Long.toString(LIVENESS_MS),
                lossProperties.length > 0 ? "lossy" : "exact");
        children.add(child);
        String ready = child.awaitLine(line -> line.startsWith("ready dir="), WAIT);
        aeronDirectories.put(child, ready.substring("ready dir=".length()));
        return child;
    }

    /** {@return the source sequence of a status line} */
    private static long liveAt(String statusLine) {
        return Long.parseLong(statusLine.split(" ")[2]);
    }

    private static String awaitStatus(ChildJvm child, String state) {
        return child.awaitLine(line -> {
            assertFalse(line.startsWith("status-error"), line);
            return line.startsWith("status " + state + " ");
        }, WAIT);
    }

    private static Map<String, Long> check(ChildJvm replica) {
        String reply = replica.call("check");
        Matcher m = CHECK.matcher(reply);
        assertTrue(m.matches(), reply);
        return Map.of("seq", Long.parseLong(m.group(1)), "behind", Long.parseLong(m.group(2)),
                "changes", Long.parseLong(m.group(3)), "snapshots", Long.parseLong(m.group(4)),
                "gaps", Long.parseLong(m.group(5)), "bad", Long.parseLong(m.group(6)), "naks", Long.parseLong(m.group(7)));
    }

    /**
     * Asks the replica every 50 ms until it has applied {@code sequence} of the source and its subscriber
     * has checked every change of the target.
     */
    private static Map<String, Long> awaitSequence(ChildJvm replica, long sequence, Duration wait) {
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
    private static void assertOneSnapshotThenEveryChange(Map<String, Long> check, long changes) {
        assertEquals(1, check.get("snapshots"), check::toString);
        assertEquals(changes, check.get("changes"), () -> "every change after the snapshot, one by one: " + check);
        assertEquals(0, check.get("gaps"), check::toString);
        assertEquals(0, check.get("bad"), check::toString);
    }

    private void assertSameBytes() {
        byte[] expected = source.read(0, (int) SIZE);
        byte[] actual = target.read(0, (int) SIZE);
        assertArrayEquals(expected, actual, "replica bytes differ from the source's");
    }

    private static long published(String reply) {
        assertTrue(reply.startsWith("ok "), reply);
        return Long.parseLong(reply.substring(3).trim());
    }

    private void quit(ChildJvm child) {
        child.send("quit");
        child.awaitBye(WAIT);
        String directory = aeronDirectories.get(child);
        assertTrue(directory.startsWith("/dev/shm/shmflux-aeron-"), directory);
        assertFalse(new File(directory).exists(), "the child's embedded driver deleted its directory " + directory);
    }

    private FileMapping keep(FileMapping mapping) {
        mappings.add(mapping);
        return mapping;
    }

    private static int freePort() {
        try (DatagramSocket socket = new DatagramSocket(0, InetAddress.getLoopbackAddress())) {
            return socket.getLocalPort();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }
}
