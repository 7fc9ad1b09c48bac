package io.shmflux;

import java.util.Objects;

/**
 * How a subscriber of {@link FileMapping#changes(ChangeOptions)} starts and waits.
 *
 * @param start where the feed starts
 * @param waitStrategy how the process's change thread waits for new changes
 */
public record ChangeOptions(Start start, WaitStrategy waitStrategy) {

    /** Changes published after subscribing, waiting in the kernel. */
    public static final ChangeOptions DEFAULT = new ChangeOptions(Start.NOW, WaitStrategy.BLOCKING);

    /** Where a feed starts. */
    public enum Start {
        /** With the first change published after subscribing. */
        NOW,
        /** With the oldest change the ring still holds (up to its capacity back). */
        OLDEST
    }

    /** How the change thread waits. */
    public enum WaitStrategy {
        /** Sleep in the kernel on a futex: no CPU while idle, a few microseconds of wake-up latency. */
        BLOCKING,
        /**
         * Poll for a bounded time (250 µs) after each change before sleeping: sub-microsecond latency
         * for bursts, at the price of CPU while changes keep coming. Never spins without a bound.
         */
        LOW_LATENCY
    }

    public ChangeOptions {
        Objects.requireNonNull(start, "start");
        Objects.requireNonNull(waitStrategy, "waitStrategy");
    }

    /** {@return a copy with this start} */
    public ChangeOptions withStart(Start start) {
        return new ChangeOptions(start, waitStrategy);
    }

    /** {@return a copy with this wait strategy} */
    public ChangeOptions withWaitStrategy(WaitStrategy waitStrategy) {
        return new ChangeOptions(start, waitStrategy);
    }
}
