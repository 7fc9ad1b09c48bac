package io.shmflux.internal.protocol;

import org.jspecify.annotations.Nullable;

/**
 * One subscriber's position in the change ring: where it starts, the lap arithmetic that turns records
 * it can no longer read into an exact {@code missed} count, the end of the stream, and, for a
 * back-pressure subscriber, its position in shared memory. Not thread-safe: the feed lets one thread at
 * a time drain it. Knows nothing of Reactor.
 *
 * <h2>Taking the next change ({@link #advance()})</h2>
 * <ol>
 * <li>Read record {@code cursor}. It is polled by its own sequence. When it is not there, a record
 *     that still holds the change one lap before says "not published yet"; otherwise (never written,
 *     being overwritten, or a later lap) the shared counter tells "not published yet" from "lapped".
 *     So a subscriber that keeps up touches only the record lines the writer wrote, never the
 *     counter's line, which the writer writes twice per change.</li>
 * <li>Not published yet: caught up, unless a dead writer's change that this handle cannot finish is
 *     pending ({@link ChangeLog#abandonedChange(long)}): take that, flagged torn. Caught up after the
 *     end of the stream: ended.</li>
 * <li>Published but not held: the ring lapped the cursor; skip to the oldest record it still holds and
 *     count the skipped changes as missed.</li>
 * <li>The end-of-stream marker: ended. Otherwise take the change: the cursor moves on and, for a
 *     back-pressure subscriber, so does its shared position (publishers may now overwrite it).</li>
 * </ol>
 */
public final class ChangeCursor {

    /** Where a cursor starts. */
    public enum Start {
        /** With the first change published after the cursor was made. */
        NOW,
        /** With the oldest change the ring holds. */
        OLDEST,
        /** With the change after a given sequence. */
        AFTER
    }

    private final ChangeLog log;
    private final ChangeRing ring;
    private final @Nullable SubscriberSlot slot;
    private final TakenChange taken = new TakenChange();
    private long cursor;
    private long missed;
    private long lastMissed;
    private boolean ended;
    private boolean closed;

    /**
     * Fixes the starting point now (and claims a back-pressure slot at it if asked): every change
     * published after this returns is delivered or counted as missed.
     *
     * @param after the sequence to start after, for {@link Start#AFTER}
     */
    public ChangeCursor(ChangeLog log, Start start, long after, boolean backPressure) {
        this.log = log;
        this.ring = log.ring();
        long published = ring.published();
        this.cursor = switch (start) {
            case NOW -> published + 1;
            case OLDEST -> Math.max(1, ring.oldestRetained(published));
            case AFTER -> ChangeRing.startAfter(after);
        };
        this.slot = backPressure ? log.claimSubscriberSlot(cursor) : null;
    }

    /**
     * Takes the next change into {@link #taken()}, allocating nothing. {@return false if caught up or
     * ended} Steps above.
     */
    public boolean advance() {
        while (!ended) {
            if (!ring.read(cursor, taken)) {
                long held = ring.recordSequence(cursor);
                if (held == cursor) {
                    continue; // it was being written while we read it: read it again
                }
                // the record still holding the change a lap before means that this one is not
                // published yet: caught up without reading the shared counter, whose line the
                // publisher writes twice per change (a subscriber that keeps up would otherwise take
                // it from the publisher on every change). Otherwise (never written, being written,
                // or a later lap) the counter tells: once it says the change is published, its
                // record is visible (records are written before the counter moves).
                long published = held != 0 && held < cursor ? cursor - 1 : ring.published();
                if (cursor > published) {
                    ChangeRecord abandoned = log.abandonedChange(cursor);
                    if (abandoned == null) {
                        ended = ring.endSequence() != 0;
                        return false;
                    }
                    taken.set(abandoned);
                } else if (!ring.read(cursor, taken)) {
                    long skip = ring.lapSkip(cursor, published);
                    missed += skip;
                    cursor += skip;
                    continue;
                }
            }
            if (taken.end()) {
                ended = true;
                return false;
            }
            cursor++;
            lastMissed = missed;
            missed = 0;
            if (slot != null) {
                slot.advance(cursor, false);
            }
            return true;
        }
        return false;
    }

    /** {@return the change {@link #advance()} took last} Overwritten by the next advance. */
    public TakenChange taken() {
        return taken;
    }

    /** {@return how many changes a subscriber could still take now: an upper bound (some may be lapped)} */
    public long available() {
        return Math.max(0, ring.published() - cursor + 1);
    }

    /** {@return how many changes were lost just before the change {@link #advance()} took last} */
    public long missed() {
        return lastMissed;
    }

    /**
     * {@return true once the cursor reached the end of the stream: every change before the end marker
     * was delivered or counted as missed} Also true without an {@link #advance()}, so that a feed with no
     * demand completes.
     */
    public boolean ended() {
        if (!ended) {
            long end = ring.endSequence();
            ended = end != 0 && cursor >= end;
        }
        return ended;
    }

    /** {@return the next change this cursor wants} */
    public long position() {
        return cursor;
    }

    /** The drain stopped (no demand, or caught up): a waiting publisher may go on if it has room. */
    public void drainEnded() {
        if (slot != null && !closed) {
            slot.advance(cursor, true);
        }
    }

    /** Gives up the back-pressure slot, if any. Idempotent. */
    public void close() {
        if (!closed) {
            closed = true;
            if (slot != null) {
                slot.release();
            }
        }
    }
}
