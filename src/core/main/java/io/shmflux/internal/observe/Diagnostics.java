package io.shmflux.internal.observe;

import java.lang.System.Logger.Level;

/**
 * The one place the library reports what happened: each method commits its JFR event (when a
 * recording enables it) and, for the rare events an operator should read about, logs one line to the
 * {@link System.Logger} {@code io.shmflux}. Callers call it after the fact, never inside a lock-free
 * fast path: every event here is rare, or already on a slow path (a wait, a recovery, a close).
 */
public final class Diagnostics {

    private static final System.Logger LOG = System.getLogger("io.shmflux");

    private Diagnostics() {
    }

    /** A named object was created. */
    public static void objectCreated(String name, String kind, String path) {
        ObjectCreatedEvent event = new ObjectCreatedEvent();
        if (event.isEnabled()) {
            event.name = name;
            event.kind = kind;
            event.path = path;
            event.commit();
        }
    }

    /** The last holder closed a named object and its files were removed. */
    public static void objectDestroyed(String name, String kind, String path) {
        ObjectDestroyedEvent event = new ObjectDestroyedEvent();
        if (event.isEnabled()) {
            event.name = name;
            event.kind = kind;
            event.path = path;
            event.commit();
        }
    }

    /** Why an object that was not closed by its holders was removed. */
    public enum ReclaimReason {
        /** Every holder died. */
        STALE("stale"),
        /** Its header was corrupt and nobody held it. */
        CORRUPT("corrupt"),
        /** Its creator died before it was ready. */
        HALF_CREATED("half-created"),
        /** A temporary file whose creator died before naming it. */
        LEFTOVER_TEMPORARY("leftover temporary file");

        private final String text;

        ReclaimReason(String text) {
            this.text = text;
        }
    }

    /** An object nobody holds was removed (logged: somebody died holding it, or it was damaged). */
    public static void objectReclaimed(String path, ReclaimReason reason) {
        ObjectReclaimedEvent event = new ObjectReclaimedEvent();
        if (event.isEnabled()) {
            event.path = path;
            event.reason = reason.text;
            event.commit();
        }
        LOG.log(Level.INFO, "reclaimed object: path={0}, reason={1}", path, reason.text);
    }

    /** A dead writer's change was finished by this process (logged: the range is flagged torn). */
    public static void writerRecovered(String object, long sequence, long offset, long length, long writerPid,
                                       boolean endMarker) {
        WriterRecoveredEvent event = new WriterRecoveredEvent();
        if (event.isEnabled()) {
            event.object = object;
            event.sequence = sequence;
            event.offset = offset;
            event.length = length;
            event.writerPid = writerPid;
            event.endMarker = endMarker;
            event.commit();
        }
        if (endMarker) {
            LOG.log(Level.WARNING, "recovered a dead writer''s end of stream: object={0}, sequence={1}, writerPid={2}",
                    object, sequence, writerPid);
        } else {
            LOG.log(Level.WARNING, "recovered a dead writer''s change, flagged torn: object={0}, sequence={1}, "
                    + "offset={2}, length={3}, writerPid={4}", object, sequence, offset, length, writerPid);
        }
    }

    /** A torn change was delivered to a subscriber of this process. */
    public static void tornChange(String object, long sequence, long offset, long length) {
        TornChangeEvent event = new TornChangeEvent();
        if (event.isEnabled()) {
            event.object = object;
            event.sequence = sequence;
            event.offset = offset;
            event.length = length;
            event.commit();
        }
    }

    /** A subscriber of this process was lapped and lost {@code missed} changes before {@code sequence}. */
    public static void subscriberLapped(String object, long missed, long sequence) {
        SubscriberLappedEvent event = new SubscriberLappedEvent();
        if (event.isEnabled()) {
            event.object = object;
            event.missed = missed;
            event.sequence = sequence;
            event.commit();
        }
    }

    /** An open or create was refused because a file is not trusted (logged: somebody may be squatting). */
    public static void refused(String what, String name, String path, String status, String detail) {
        LOG.log(Level.WARNING, "refused an untrusted object: what={0}, name={1}, path={2}, status={3}, {4}",
                what, name, path, status, detail);
    }

    /**
     * A publisher's wait for room in the ring, begun when it starts waiting; {@link #end} commits it
     * with its duration. Not thread-safe: one per wait.
     */
    public static final class BackPressureWait {

        private final BackPressureWaitEvent event = new BackPressureWaitEvent();

        private BackPressureWait() {
        }

        /** {@return a wait begun now for change {@code sequence} of {@code object}} */
        public static BackPressureWait begin(String object, long sequence) {
            BackPressureWait wait = new BackPressureWait();
            if (wait.event.isEnabled()) {
                wait.event.object = object;
                wait.event.sequence = sequence;
                wait.event.begin();
            }
            return wait;
        }

        /** Ends the wait: room was made, or it timed out. */
        public void end(boolean timedOut) {
            if (event.isEnabled()) {
                event.timedOut = timedOut;
                event.commit();
            }
        }
    }
}
