package io.shmflux;

import java.util.concurrent.locks.LockSupport;

/**
 * The other process of {@link ObservabilityTest}: {@code hold NAME} creates an object and holds it;
 * {@code die-in-writer NAME} opens one and stops inside a writer lambda. Each prints one line when it
 * is there, then waits to be killed.
 */
public final class ObservabilityChild {

    private ObservabilityChild() {
    }

    public static void main(String[] args) {
        switch (args[0]) {
            case "hold" -> {
                FileMapping mapping = SharedMemory.create(args[1], 4096);
                System.out.println("holding " + mapping.name());
                parkForever();
            }
            case "die-in-writer" -> {
                FileMapping mapping = SharedMemory.open(args[1], Access.READ_WRITE);
                mapping.publish(0, 64, range -> {
                    range.fill((byte) 7);
                    System.out.println("inside");
                    parkForever();
                });
            }
            default -> throw new IllegalArgumentException("unknown command: " + args[0]);
        }
    }

    private static void parkForever() {
        while (true) {
            LockSupport.parkNanos(1_000_000_000L); // killed with kill -9 by the test
        }
    }
}
