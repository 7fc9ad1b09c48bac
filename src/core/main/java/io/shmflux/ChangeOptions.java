package io.shmflux;

import java.util.Objects;

/**
 * How a subscriber of {@link FileMapping#changes(ChangeOptions)} starts, waits and keeps up.
 *
 * {@snippet :
 * // resume after the last change this subscriber handled, losing none from now on
 * Flux<ChangeEvent> feed = mapping.changes(ChangeOptions.DEFAULT
 *         .withStartAfter(lastSeen)
 *         .withOverflow(ChangeOptions.Overflow.BACK_PRESSURE));
 * }
 *
 * @param start        where the feed starts
 * @param startAfter   for {@link Start#AFTER}: the sequence the feed starts after (0 = from the first
 *                     change); 0 for the other starts
 * @param waitStrategy how the process's change thread waits for new changes
 * @param overflow     what happens when the subscriber falls a whole ring behind
 */
public record ChangeOptions(Start start, long startAfter, WaitStrategy waitStrategy, Overflow overflow) {

    /** Changes published after subscribing, waiting in the kernel, loss reported. */
    public static final ChangeOptions DEFAULT = new ChangeOptions(Start.NOW, 0, WaitStrategy.BLOCKING, Overflow.REPORT);

    /** Where a feed starts. In every case the starting point is fixed when the feed is subscribed, before any callback of the subscriber runs. */
    public enum Start {
        /** With the first change published after subscribing. */
        NOW,
        /** With the oldest change the ring still holds (up to its capacity back). */
        OLDEST,
        /**
         * With change {@link ChangeOptions#startAfter()} + 1 (see {@link #withStartAfter(long)}): resume
         * after the last change a subscriber handled. If the ring no longer holds it, the first event's
         * {@link ChangeEvent#missed()} says exactly how many were lost.
         */
        AFTER
    }

    /** How the change thread waits. */
    public enum WaitStrategy {
        /**
         * Sleep in the kernel on a futex: no CPU while idle, a few microseconds of wake-up latency.
         * After each change the thread polls for 10 µs before it sleeps, so that a burst does not cost
         * a wake-up per change.
         */
        BLOCKING,
        /**
         * Poll for a bounded time (250 µs) after each change before sleeping: sub-microsecond latency
         * for bursts, at the price of CPU while changes keep coming. Never spins without a bound.
         */
        LOW_LATENCY
    }

    /** What happens to a subscriber that falls a whole ring behind the publishers. */
    public enum Overflow {
        /**
         * It is lapped: publishers never wait for it, and its next event says in
         * {@link ChangeEvent#missed()} exactly how many changes it lost.
         */
        REPORT,
        /**
         * It loses nothing: its position lives in shared memory, and a publisher in any process waits
         * (asleep in the kernel) before overwriting a change it has not taken yet, so its
         * {@code request(n)} paces publishers everywhere. A dead subscriber process stops holding
         * publishers back at once; a live but stuck one makes {@code publish} throw
         * {@link PublishTimeoutException} after the object's publish timeout. {@code REPORT}
         * subscribers are not slowed by it. Needs a handle that may write the control file.
         */
        BACK_PRESSURE
    }

    public ChangeOptions {
        Objects.requireNonNull(start, "start");
        Objects.requireNonNull(waitStrategy, "waitStrategy");
        Objects.requireNonNull(overflow, "overflow");
        if (startAfter < 0 || (start != Start.AFTER && startAfter != 0)) {
            throw new InvalidParameterException("invalid start: start=" + start + ", startAfter=" + startAfter
                    + ", expected=a sequence of 0 or more, with start AFTER only");
        }
    }

    /** {@return a copy with this start} {@link Start#AFTER} starts after {@link #startAfter()}. */
    public ChangeOptions withStart(Start start) {
        return new ChangeOptions(start, start == Start.AFTER ? startAfter : 0, waitStrategy, overflow);
    }

    /**
     * {@return a copy that starts with change {@code sequence + 1}}
     *
     * @throws InvalidParameterException if {@code sequence} is negative
     */
    public ChangeOptions withStartAfter(long sequence) {
        return new ChangeOptions(Start.AFTER, sequence, waitStrategy, overflow);
    }

    /** {@return a copy with this wait strategy} */
    public ChangeOptions withWaitStrategy(WaitStrategy waitStrategy) {
        return new ChangeOptions(start, startAfter, waitStrategy, overflow);
    }

    /** {@return a copy with this overflow} */
    public ChangeOptions withOverflow(Overflow overflow) {
        return new ChangeOptions(start, startAfter, waitStrategy, overflow);
    }
}
