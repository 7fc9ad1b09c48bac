package io.shmflux.aeron;

import io.shmflux.ChangeEvent;
import io.shmflux.FileMapping;
import io.shmflux.SharedMemory;
import io.shmflux.Snapshot;
import io.shmflux.TornDataException;
import io.shmflux.testing.NoLeftovers;
import io.shmflux.testing.TestNames;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import reactor.core.Disposable;
import reactor.test.StepVerifier;

import io.aeron.Publication;
import org.agrona.concurrent.UnsafeBuffer;

import java.io.File;
import java.lang.foreign.ValueLayout;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.locks.LockSupport;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Source and replica in one process, over one embedded driver's IPC channel. */
@ExtendWith(NoLeftovers.class)
class InProcessReplicationTest {

    private static final Duration WAIT = Duration.ofSeconds(20);

    @Test
    void overIpcOneChannelCarriesTheChangesTheSnapshotRequestsAndTheEnd() {
        String directory;
        try (EmbeddedDriver driver = EmbeddedDriver.launch();
             FileMapping source = SharedMemory.create(TestNames.unique("ipc-source"), 4096);
             FileMapping target = SharedMemory.create(TestNames.unique("ipc-target"), 4096)) {
            directory = driver.aeronDirectoryName();
            source.publish(0, new byte[] {1, 2, 3}); // before the replica: reaches it in the snapshot
            List<ChangeEvent> seen = new CopyOnWriteArrayList<>();
            target.changes().subscribe(seen::add);
            try (MappingReplicator replicator = MappingReplicator.start(source, driver.aeron(), "aeron:ipc", 7);
                 MappingReplica replica = MappingReplica.start(target, driver.aeron(), "aeron:ipc", 7)) {
                // the status replays the latest state only: CONNECTING and CATCHING_UP may be past already
                StepVerifier.create(replica.status().map(ReplicaStatus::state))
                        .thenConsumeWhile(state -> state != ReplicaStatus.State.LIVE)
                        .expectNext(ReplicaStatus.State.LIVE)
                        .then(() -> {
                            source.publish(100, new byte[] {9, 9});
                            source.completeChanges();
                        })
                        .expectNext(ReplicaStatus.State.COMPLETED)
                        .expectComplete()
                        .verify(WAIT);
                assertEquals(2, replica.sourceSequence());
                assertArrayEquals(source.read(0, 4096), target.read(0, 4096));
                long deadline = System.nanoTime() + WAIT.toNanos();
                while (seen.size() < 2 && System.nanoTime() < deadline) {
                    LockSupport.parkNanos(1_000_000); // the target's feed delivers on its own change thread
                }
                assertEquals(List.of(0L, 100L), seen.stream().map(ChangeEvent::offset).toList(),
                        "the snapshot, then the change, as an ordinary feed");
                assertEquals(4096, seen.getFirst().length());
                replica.close();
                replica.close();
                replicator.close();
                replicator.close(); // idempotent
            }
        }
        assertFalse(new File(directory).exists(), "the embedded driver's directory is deleted on close");
        assertTrue(directory.startsWith("/dev/shm/shmflux-aeron-"), directory);
    }

    @Test
    void aTornChangeReachesTheTargetFlaggedTornAndASequenceDiscontinuityIsAGapThatResyncsFromASnapshot() {
        try (EmbeddedDriver driver = EmbeddedDriver.launch();
             FileMapping source = SharedMemory.create(TestNames.unique("ipc-source"), 4096);
             FileMapping target = SharedMemory.create(TestNames.unique("ipc-target"), 4096);
             MappingReplicator replicator = MappingReplicator.start(source, driver.aeron(), "aeron:ipc", 11);
             MappingReplica replica = MappingReplica.start(target, driver.aeron(), "aeron:ipc", 11);
             Publication intruder = driver.aeron().addPublication("aeron:ipc", 11)) {
            UnsafeBuffer message = new UnsafeBuffer(new byte[MessageDescriptor.HEADER_LENGTH]);
            List<ChangeEvent> targetChanges = new CopyOnWriteArrayList<>();
            Disposable feed = target.changes().subscribe(targetChanges::add);
            try {
                StepVerifier.create(replica.status())
                        .thenConsumeWhile(s -> s.state() != ReplicaStatus.State.LIVE)
                        .expectNext(new ReplicaStatus(ReplicaStatus.State.LIVE, 0, 0))
                        .then(() -> {
                            source.publish(0, new byte[] {5});
                            publishTorn(source, 8, 8);
                            // a third change, so that the torn one is known to have been applied
                            source.publish(100, new byte[] {9});
                            awaitSequence(replica, 3);
                            // no gap: applied flagged torn over its own range, as at the source
                            assertTrue(targetChanges.stream().anyMatch(e -> e.offset() == 8 && e.length() == 8
                                    && e.torn()), targetChanges::toString);
                            assertTrue(target.snapshot(8, 8).torn(), "the target's range is torn, as the source's is");
                            assertThrows(TornDataException.class, () -> target.read(8, 8));
                            assertFalse(target.snapshot(0, 8).torn(), "and only that range");
                        })
                        .then(() -> {
                            // change 7 where 4 is next: changes 4 to 6 never arrived
                            MessageDescriptor.write(message, MessageDescriptor.CHANGE,
                                    MessageDescriptor.FIRST | MessageDescriptor.LAST, 7, 0, 0, 0, 4096);
                            long deadline = System.nanoTime() + WAIT.toNanos();
                            while (intruder.offer(message) < 0) { // not connected yet: bounded, 1 ms apart
                                assertTrue(System.nanoTime() < deadline, "the crafted change was never sent");
                                LockSupport.parkNanos(1_000_000);
                            }
                        })
                        .expectNext(new ReplicaStatus(ReplicaStatus.State.GAP, 3, 3))
                        .expectNextMatches(s -> s.state() == ReplicaStatus.State.CATCHING_UP)
                        .expectNext(new ReplicaStatus(ReplicaStatus.State.LIVE, 3, 0))
                        .thenCancel()
                        .verify(WAIT);
            } finally {
                feed.dispose();
            }
            assertArrayEquals(source.snapshot(0, 4096).data(), target.snapshot(0, 4096).data());
        }
    }

    @Test
    void aReplicaThatJoinsATornSourceFlagsJustTheTornPartOfItsSnapshot() {
        try (EmbeddedDriver driver = EmbeddedDriver.launch();
             FileMapping source = SharedMemory.create(TestNames.unique("ipc-source"), 4096);
             FileMapping target = SharedMemory.create(TestNames.unique("ipc-target"), 4096);
             MappingReplicator replicator = MappingReplicator.start(source, driver.aeron(), "aeron:ipc", 15)) {
            source.publish(0, new byte[] {1, 2, 3});
            publishTorn(source, 1000, 24); // [1000, 1024) of the source is torn from now on
            try (MappingReplica replica = MappingReplica.start(target, driver.aeron(), "aeron:ipc", 15)) {
                StepVerifier.create(replica.status().map(ReplicaStatus::state))
                        .thenConsumeWhile(state -> state != ReplicaStatus.State.LIVE)
                        .expectNext(ReplicaStatus.State.LIVE)
                        .thenCancel()
                        .verify(WAIT);
                Snapshot whole = target.snapshot(0, 4096);
                assertEquals(1000, whole.tornStart(), whole::toString);
                assertEquals(24, whole.tornLength(), whole::toString);
                assertThrows(TornDataException.class, () -> target.read(1000, 24));
                assertArrayEquals(new byte[] {1, 2, 3}, target.read(0, 3), "the rest is not torn");
                assertArrayEquals(source.snapshot(0, 4096).data(), whole.data());
                // a whole change over the torn part clears it at the source and, replicated, at the target
                source.publish(1000, new byte[24]);
                long deadline = System.nanoTime() + WAIT.toNanos();
                while (target.snapshot(1000, 24).torn()) {
                    assertTrue(System.nanoTime() < deadline, "the whole rewrite did not clear the target's torn part");
                    LockSupport.parkNanos(1_000_000);
                }
            }
        }
    }

    /** Publishes a change whose writer fails half way: it is published, flagged torn. */
    private static void publishTorn(FileMapping mapping, long offset, long length) {
        try {
            mapping.publish(offset, length, range -> {
                range.set(ValueLayout.JAVA_BYTE, 0, (byte) 7);
                throw new IllegalStateException("a writer that fails half way");
            });
        } catch (IllegalStateException expected) {
            // published, flagged torn
        }
    }

    private static void awaitSequence(MappingReplica replica, long sequence) {
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (replica.sourceSequence() < sequence) {
            assertTrue(System.nanoTime() < deadline, () -> "the replica did not apply change " + sequence);
            LockSupport.parkNanos(1_000_000);
        }
    }

    @Test
    void aReplicaStartedAfterTheSourceEndedGetsItsLastStateAndCompletes() {
        try (EmbeddedDriver driver = EmbeddedDriver.launch();
             FileMapping source = SharedMemory.create(TestNames.unique("ipc-source"), 4096);
             FileMapping target = SharedMemory.create(TestNames.unique("ipc-target"), 4096);
             MappingReplicator replicator = MappingReplicator.start(source, driver.aeron(), "aeron:ipc", 13)) {
            source.publish(4000, new byte[] {4, 2});
            source.completeChanges();
            try (MappingReplica replica = MappingReplica.start(target, driver.aeron(), "aeron:ipc", 13)) {
                // the snapshot, flagged completed, is all it gets: the end message went out before it joined.
                // status() replays only the latest state: a replica done before this subscribes shows COMPLETED alone
                StepVerifier.create(replica.status().map(ReplicaStatus::state))
                        .thenConsumeWhile(state -> state != ReplicaStatus.State.COMPLETED)
                        .expectNext(ReplicaStatus.State.COMPLETED)
                        .expectComplete()
                        .verify(WAIT);
                assertArrayEquals(source.read(0, 4096), target.read(0, 4096));
                assertTrue(target.sequence() > 0);
                StepVerifier.create(target.changes()).expectComplete().verify(WAIT); // the target's stream ended too
            }
        }
    }

    @Test
    void aTargetOfAnotherSizeFailsTheStatusWithAClearError() {
        try (EmbeddedDriver driver = EmbeddedDriver.launch();
             FileMapping source = SharedMemory.create(TestNames.unique("ipc-source"), 4096);
             FileMapping target = SharedMemory.create(TestNames.unique("ipc-target"), 8192);
             MappingReplicator replicator = MappingReplicator.start(source, driver.aeron(), "aeron:ipc", 9);
             MappingReplica replica = MappingReplica.start(target, driver.aeron(), "aeron:ipc", 9)) {
            StepVerifier.create(replica.status())
                    .thenConsumeWhile(status -> true)
                    .expectErrorSatisfies(e -> {
                        assertTrue(e instanceof ReplicationException, e.toString());
                        assertTrue(e.getMessage().startsWith("replica and source differ in size: target="), e.getMessage());
                        assertTrue(e.getMessage().endsWith("targetSize=8192, sourceSize=4096"), e.getMessage());
                    })
                    .verify(WAIT);
        }
    }
}
