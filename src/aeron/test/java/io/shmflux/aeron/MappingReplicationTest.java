package io.shmflux.aeron;

import io.shmflux.testing.ChildJvm;
import io.shmflux.testing.NoLeftovers;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.time.Duration;
import java.util.List;
import java.util.Map;

import static io.shmflux.aeron.ReplicationProcesses.WAIT;
import static io.shmflux.aeron.ReplicationProcesses.assertOneSnapshotThenEveryChange;
import static io.shmflux.aeron.ReplicationProcesses.awaitSequence;
import static io.shmflux.aeron.ReplicationProcesses.awaitStatus;
import static io.shmflux.aeron.ReplicationProcesses.check;
import static io.shmflux.aeron.ReplicationProcesses.liveAt;
import static io.shmflux.aeron.ReplicationProcesses.published;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A source and a replica, each a child JVM with its own embedded media driver and Aeron directory,
 * over UDP unicast on 127.0.0.1 (unique ports); see {@link ReplicationProcesses}.
 */
@ExtendWith(NoLeftovers.class)
class MappingReplicationTest {

    private static final long SIZE = 8L << 20;
    private static final int SMALL = 64;
    private static final int MEBIBYTE = 1 << 20;
    /** Image liveness and publication connection timeout of every child's driver. */
    private static final long LIVENESS_MS = 1_000;
    /** 100,000 in mvn verify; -Dshmflux.aeron.changes=1000000 for the million. */
    private static final long CHANGES = Long.getLong("shmflux.aeron.changes", 100_000);

    private ReplicationProcesses processes;

    @BeforeEach
    void createMappingsAndPickPorts() {
        // term-length 4m: maxMessageLength 512 KiB, so a 1 MiB change and the snapshot go in pieces
        processes = new ReplicationProcesses(SIZE, "aeron:udp?endpoint=127.0.0.1:" + freePort() + "|term-length=4m",
                "aeron:udp?endpoint=127.0.0.1:" + freePort());
    }

    @AfterEach
    void killChildrenAndDeleteDirectories() {
        processes.close();
    }

    @Test
    void sixtyFourByteAndMebibyteChangesReachAReplicaSubscriberInOrderWithIdenticalBytes() {
        ChildJvm replica = start("replica");
        ChildJvm sourceChild = start("source");
        assertEquals(0, liveAt(awaitStatus(replica, "LIVE")), "the replica started before any change");
        long sequence = published(sourceChild.call("publish 1 " + CHANGES + " " + SMALL));
        sequence = published(sourceChild.call("publish " + (CHANGES + 1) + " 6 " + MEBIBYTE));
        assertOneSnapshotThenEveryChange(awaitSequence(replica, sequence, Duration.ofSeconds(60)), CHANGES + 6);
        assertSameBytes();

        sourceChild.call("complete");
        awaitStatus(replica, "COMPLETED");
        assertTrue(processes.target.sequence() > 0);
        quit(sourceChild);
        quit(replica);
    }

    @Test
    void withOneReceivedDataFrameInTwentyDroppedByAeronsLossGeneratorTheReplicaStillGetsEveryChange() {
        ChildJvm replica = processes.start(List.of(), "replica", LIVENESS_MS, "receive-data:0.05");
        ChildJvm sourceChild = start("source");
        long liveAt = liveAt(awaitStatus(replica, "LIVE"));
        long sequence = published(sourceChild.call("publish 1 20000 " + SMALL));
        Map<String, Long> check = awaitSequence(replica, sequence, WAIT);
        // Aeron repairs the loss (NAK, retransmit): every change arrives, in order, none resynced
        assertTrue(check.get("naks") > 0, () -> "no frame was dropped: " + check);
        Map<String, Long> counters = ReplicationProcesses.counters(replica);
        assertTrue(counters.get("dropped-receive-data-data") > 0, () -> "no data frame was dropped: " + counters);
        assertOneSnapshotThenEveryChange(check, sequence - liveAt);
        assertSameBytes();
        quit(sourceChild);
        quit(replica);
    }

    @Test
    void aReplicaStartedMidStreamCatchesUpFromASnapshotAndThenMissesNothing() {
        ChildJvm sourceChild = start("source");
        sourceChild.call("publish 1 5000 " + SMALL);
        ChildJvm replica = start("replica");
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
        ChildJvm sourceChild = start("source");
        ChildJvm first = start("replica");
        awaitStatus(first, "LIVE");
        awaitSequence(first, published(sourceChild.call("publish 1 2000 " + SMALL)), WAIT);
        first.kill9();
        long sequence = published(sourceChild.call("publish 2001 2000 " + SMALL)); // nobody listening
        ChildJvm second = start("replica");
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
        ChildJvm sourceChild = start("source");
        ChildJvm replica = start("replica");
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

    @Test
    void aCleanlyClosedSourceIsReportedLostAtOnceWellInsideTheLivenessTimeoutAndTheReplicaKeepsItsState() {
        long liveness = 60_000; // without the source's closed message, SOURCE_LOST would come after a minute
        ChildJvm sourceChild = processes.start(List.of(), "source", liveness, "exact");
        ChildJvm replica = processes.start(List.of(), "replica", liveness, "exact");
        awaitStatus(replica, "LIVE");
        long sequence = published(sourceChild.call("publish 1 3000 " + SMALL));
        awaitSequence(replica, sequence, WAIT);
        long closedAt = System.nanoTime();
        quit(sourceChild); // closes its replicator and driver without completing the stream
        String lost = awaitStatus(replica, "SOURCE_LOST");
        long lostAfterMs = (System.nanoTime() - closedAt) / 1_000_000;
        assertTrue(lostAfterMs < 5_000, "source lost reported after " + lostAfterMs + " ms");
        assertEquals(sequence, liveAt(lost), "the replica is as of the source's last change: " + lost);
        assertSameBytes();
        Map<String, Long> check = check(replica);
        assertEquals(0, check.get("gaps"), check::toString);
        quit(replica);
    }

    private ChildJvm start(String role) {
        return processes.start(List.of(), role, LIVENESS_MS, "exact");
    }

    private void assertSameBytes() {
        processes.assertSameBytes();
    }

    private void quit(ChildJvm child) {
        processes.quit(child);
    }

    private static int freePort() {
        try (DatagramSocket socket = new DatagramSocket(0, InetAddress.getLoopbackAddress())) {
            return socket.getLocalPort();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
