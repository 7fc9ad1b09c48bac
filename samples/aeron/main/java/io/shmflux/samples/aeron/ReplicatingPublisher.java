package io.shmflux.samples.aeron;

import io.shmflux.FileMapping;
import io.shmflux.SharedMemory;
import io.shmflux.aeron.MappingReplicator;

import java.lang.foreign.ValueLayout;

/**
 * The replicating publisher: creates the mapping {@code aeron-demo} (8 slots of 16 bytes: an update
 * counter and a value), replicates it on the channel, and publishes one slot every 200 ms.
 *
 * <pre>
 * ReplicatingPublisher CHANNEL [CONTROL_CHANNEL] [SECONDS (0 = until Ctrl-C)]
 * </pre>
 */
public final class ReplicatingPublisher {

    static final String NAME = "aeron-demo";
    static final int SLOTS = 8;
    static final int SLOT = 16;

    public static void main(String[] args) throws InterruptedException {
        long startedAt = System.nanoTime();
        try (Transport transport = Transport.fromArgs(args);
             FileMapping mapping = SharedMemory.create(NAME, SLOTS * SLOT);
             MappingReplicator replicator = MappingReplicator.start(mapping, transport.aeron, transport.channel, 1001,
                     transport.controlChannel)) {
            System.out.println("replicating \"" + NAME + "\" on " + transport.describe());
            for (long update = 1; !transport.awaitStop(200, startedAt); update++) {
                long slot = update % SLOTS;
                long value = update * 100 + slot;
                long counter = update;
                long sequence = mapping.publish(slot * SLOT, SLOT, range -> {
                    range.set(ValueLayout.JAVA_LONG, 0, counter);
                    range.set(ValueLayout.JAVA_LONG, 8, value);
                });
                System.out.println("seq=" + sequence + " slot " + slot + ": update " + counter + " value " + value);
            }
            System.out.println("stopping: " + replicator);
        }
    }
}
