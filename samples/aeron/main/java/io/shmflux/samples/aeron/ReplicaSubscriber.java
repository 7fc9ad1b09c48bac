package io.shmflux.samples.aeron;

import io.shmflux.ChangeEvent;
import io.shmflux.FileMapping;
import io.shmflux.SharedMemory;
import io.shmflux.aeron.MappingReplica;
import reactor.core.Disposable;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * The replica subscriber: creates the mapping {@code aeron-demo-replica} (so that it can run on the
 * publisher's machine too), keeps it a replica of the publisher's, prints the replica's states, and
 * subscribes to it like to any local mapping.
 *
 * <pre>
 * ReplicaSubscriber CHANNEL [CONTROL_CHANNEL] [SECONDS (0 = until Ctrl-C)]
 * </pre>
 */
public final class ReplicaSubscriber {

    public static void main(String[] args) throws InterruptedException {
        long startedAt = System.nanoTime();
        String name = ReplicatingPublisher.NAME + "-replica";
        try (Transport transport = Transport.fromArgs(args);
             FileMapping replica = SharedMemory.create(name, ReplicatingPublisher.SLOTS * ReplicatingPublisher.SLOT)) {
            // an ordinary local feed: the replica's changes arrive through publish like any other
            Disposable feed = replica.changes().subscribe(event -> print(replica, event));
            try (MappingReplica replication = MappingReplica.start(replica, transport.aeron, transport.channel, 1001,
                    transport.controlChannel)) {
                System.out.println("replica \"" + name + "\" of " + transport.describe());
                Disposable status = replication.status().subscribe(s -> System.out.println("status " + s.state()
                        + " at source sequence " + s.sourceSequence() + (s.lost() > 0 ? ", lost " + s.lost() : "")));
                while (!transport.awaitStop(200, startedAt)) {
                    // the replica thread does the work
                }
                status.dispose();
            } finally {
                feed.dispose();
            }
        }
    }

    private static void print(FileMapping replica, ChangeEvent event) {
        if (event.length() == replica.byteSize()) {
            System.out.println("seq=" + event.sequence() + " snapshot of the whole mapping");
            return;
        }
        MemorySegment slot = MemorySegment.ofArray(replica.read(event.offset(), (int) event.length()));
        System.out.println("seq=" + event.sequence() + " slot " + event.offset() / ReplicatingPublisher.SLOT
                + ": update " + slot.get(ValueLayout.JAVA_LONG_UNALIGNED, 0) + " value "
                + slot.get(ValueLayout.JAVA_LONG_UNALIGNED, 8));
    }
}
