package io.shmflux.aeron;

import io.shmflux.testing.ChildJvm;
import io.shmflux.testing.NoLeftovers;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.io.File;
import java.util.Map;

import static io.shmflux.aeron.ReplicationProcesses.WAIT;
import static io.shmflux.aeron.ReplicationProcesses.assertOneSnapshotThenEveryChange;
import static io.shmflux.aeron.ReplicationProcesses.awaitSequence;
import static io.shmflux.aeron.ReplicationProcesses.awaitStatus;
import static io.shmflux.aeron.ReplicationProcesses.counters;
import static io.shmflux.aeron.ReplicationProcesses.liveAt;
import static io.shmflux.aeron.ReplicationProcesses.published;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The source in network namespace A, the replica in B, joined by a veth pair ({@link NetworkNamespaces},
 * root only: skipped otherwise, required in CI), over UDP unicast, with frames dropped on both sides by
 * Aeron's own debug endpoints ({@link FrameLoss}): the replica's driver drops received data frames, the
 * source's drops the status messages and NAKs that come back and the first snapshot requests (then more
 * at random). Each test asserts from the drivers' counters that frames were dropped and repaired, so
 * it cannot pass without loss.
 */
@ExtendWith(NoLeftovers.class)
class NamespaceReplicationTest {

    private static final long SIZE = 4L << 20;
    private static final int SMALL = 64;
    private static final int MEBIBYTE = 1 << 20;
    private static final long LIVENESS_MS = 2_000;
    private static final int DATA_PORT = 40456;
    private static final int CONTROL_PORT = 40457;
    /** The replica drops one received data frame in twenty. */
    private static final String REPLICA_LOSS = "receive-data:0.05";
    /**
     * The source drops one status message or NAK in ten, and on its control stream the first two
     * snapshot request frames, then one frame in twenty.
     */
    private static final String SOURCE_LOSS = "send-control:0.1,receive-data:0.05:2";

    private NetworkNamespaces namespaces;
    private ReplicationProcesses processes;

    @BeforeEach
    void joinTwoNamespaces() {
        namespaces = NetworkNamespaces.create();
        // the namespaces are new: fixed ports clash with nothing; term-length 4m sends 1 MiB in pieces
        processes = new ReplicationProcesses(SIZE,
                "aeron:udp?endpoint=" + namespaces.addressB() + ":" + DATA_PORT + "|term-length=4m",
                "aeron:udp?endpoint=" + namespaces.addressA() + ":" + CONTROL_PORT);
    }

    @AfterEach
    void killChildrenAndDeleteNamespaces() {
        try {
            if (processes != null) {
                processes.close();
            }
        } finally {
            if (namespaces != null) {
                namespaces.close();
            }
        }
    }

    @Test
    void underLossOnBothSidesSmallAndMebibyteChangesCrossTheVethInOrderAndTheEndedStreamLeavesEqualBytes() {
        ChildJvm replica = start(namespaces.b(), "replica", REPLICA_LOSS);
        ChildJvm source = start(namespaces.a(), "source", SOURCE_LOSS);
        long liveAt = liveAt(awaitStatus(replica, "LIVE"));
        published(source.call("publish 1 20000 " + SMALL));
        long sequence = published(source.call("publish 20001 3 " + MEBIBYTE));
        assertOneSnapshotThenEveryChange(awaitSequence(replica, sequence, WAIT), sequence - liveAt);
        assertLossHappenedAndWasRepaired(replica, source);

        source.call("complete");
        awaitStatus(replica, "COMPLETED");
        processes.assertSameBytes();
        processes.quit(source);
        processes.quit(replica);
    }

    @Test
    void aReplicaStartedMidStreamInTheOtherNamespaceCatchesUpFromASnapshotUnderLossAndThenMissesNothing() {
        ChildJvm source = start(namespaces.a(), "source", SOURCE_LOSS);
        source.call("publish 1 5000 " + SMALL);
        ChildJvm replica = start(namespaces.b(), "replica", REPLICA_LOSS);
        source.send("publish 5001 15000 " + SMALL); // the replica joins while these go out
        long snapshotAt = liveAt(awaitStatus(replica, "LIVE"));
        long sequence = published(source.nextLine(WAIT));
        assertTrue(snapshotAt >= 5000, "the snapshot holds the changes before the replica started: " + snapshotAt);
        assertOneSnapshotThenEveryChange(awaitSequence(replica, sequence, WAIT), sequence - snapshotAt);
        assertLossHappenedAndWasRepaired(replica, source);
        processes.assertSameBytes();
        processes.quit(source);
        processes.quit(replica);
    }

    /** Starts a child inside {@code namespace}; its Aeron directory, in the shared /dev/shm, is seen from here. */
    private ChildJvm start(String namespace, String role, String loss) {
        ChildJvm child = processes.start(namespaces.exec(namespace), role, LIVENESS_MS, loss);
        String directory = processes.aeronDirectory(child);
        assertTrue(new File(directory).isDirectory(), "/dev/shm is not shared with the namespace: " + directory);
        return child;
    }

    /**
     * Every generator dropped frames of the kind it was set for, and Aeron repaired them: the replica
     * sent NAKs and the source retransmitted, and the source's NAKs had the replica retransmit the
     * snapshot requests it dropped.
     */
    private static void assertLossHappenedAndWasRepaired(ChildJvm replica, ChildJvm source) {
        Map<String, Long> atReplica = counters(replica);
        Map<String, Long> atSource = counters(source);
        String both = "replica " + atReplica + ", source " + atSource;
        assertTrue(atReplica.get("dropped-receive-data-data") > 0, () -> "no data frame dropped: " + both);
        assertTrue(atSource.get("dropped-send-control-sm") > 0, () -> "no status message dropped: " + both);
        assertTrue(atSource.get("dropped-send-control-nak") > 0, () -> "no NAK dropped: " + both);
        assertTrue(atSource.get("dropped-receive-data-data") >= 2, () -> "no snapshot request dropped: " + both);
        assertTrue(atReplica.get("naks-sent") > 0, () -> "the replica asked for no retransmit: " + both);
        assertTrue(atSource.get("retransmits") > 0, () -> "the source retransmitted nothing: " + both);
        // a dropped request leaves a gap in the control stream that only a retransmit fills
        assertTrue(atReplica.get("retransmits") > 0, () -> "no snapshot request was retransmitted: " + both);
    }
}
