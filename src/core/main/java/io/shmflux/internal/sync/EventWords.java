package io.shmflux.internal.sync;

import io.shmflux.internal.layout.EventDescriptor;
import io.shmflux.internal.linux.Futex;
import io.shmflux.internal.namespace.ControlFile;
import io.shmflux.internal.namespace.ObjectKind;
import io.shmflux.sync.WaitResult;
import org.jspecify.annotations.Nullable;

import java.lang.foreign.MemorySegment;

import static io.shmflux.internal.layout.EventDescriptor.SEQUENCE_UNIT;
import static io.shmflux.internal.layout.EventDescriptor.SIGNALED_BIT;
import static io.shmflux.internal.layout.EventDescriptor.STATE_OFFSET;
import static io.shmflux.internal.layout.EventDescriptor.WAITERS_OFFSET;

/**
 * The event protocol over the words of {@link EventDescriptor}.
 *
 * <h2>Set</h2>
 * <ol>
 * <li>If the state word is signaled, do nothing (setting a set event has no effect, as in Win32).</li>
 * <li>CAS the state to signaled with the sequence advanced by one.</li>
 * <li>Read the waiter count (after the CAS: full fence); if non-zero, {@code FUTEX_WAKE} all waiters
 *     (manual reset) or one (auto reset).</li>
 * </ol>
 * <h2>Wait (one attempt, run by {@link Waits})</h2>
 * <ol>
 * <li>Remember the sequence when the wait begins.</li>
 * <li>Manual reset: done ({@code SIGNALED}) if the event is signaled or the sequence moved (a
 *     {@code set()} happened since the wait began, even if a {@code reset()} followed: every waiter of
 *     the moment is released, as Win32 does). Auto reset: done if a CAS from signaled to not signaled
 *     succeeds: that waiter consumed the signal, so one set releases exactly one waiter.</li>
 * <li>To sleep: add one to the waiter count ({@code getAndAdd}: full fence), read the state, check
 *     step 2 again, futex-wait while the state holds what was read; then subtract one.</li>
 * <li>An auto-reset waiter that leaves without the signal (timeout, interrupt, another object of a
 *     wait-any) while the event is signaled and others wait wakes one of them, so the signal it was
 *     woken for is not stranded.</li>
 * </ol>
 * <h2>Reset</h2>
 * CAS the signaled bit off; the sequence stays.
 */
public final class EventWords {

    private final SyncHandle handle;
    private final MemorySegment region;
    private final MemorySegment word;
    private final boolean manual;

    private EventWords(SyncHandle handle) {
        this.handle = handle;
        this.region = handle.region();
        this.word = region.asSlice(STATE_OFFSET, 4);
        this.manual = region.get(java.lang.foreign.ValueLayout.JAVA_INT, EventDescriptor.RESET_MODE_OFFSET)
                == EventDescriptor.MODE_MANUAL;
    }

    /** Creates or opens an event; {@code manual} and {@code signaled} matter only if it is created. */
    public static EventWords acquire(String name, ControlFile.Disposition disposition, boolean manual,
                                     boolean signaled) {
        SyncHandle handle = SyncHandle.acquire(name, ObjectKind.EVENT, EventDescriptor.REGION_LENGTH, disposition,
                control -> {
                    MemorySegment region = control.region();
                    region.set(java.lang.foreign.ValueLayout.JAVA_INT, EventDescriptor.RESET_MODE_OFFSET,
                            manual ? EventDescriptor.MODE_MANUAL : EventDescriptor.MODE_AUTO);
                    Words.set(region, STATE_OFFSET, signaled ? SIGNALED_BIT : 0);
                });
        return new EventWords(handle);
    }

    public SyncHandle handle() {
        return handle;
    }

    /** {@return true for a manual-reset event} (as created, whatever the opener asked for) */
    public boolean manual() {
        return manual;
    }

    /** {@return the state word: sequence {@code << 1 |} signaled bit} */
    public int state() {
        return Words.get(region, STATE_OFFSET);
    }

    /** Set, steps 1 to 3. */
    public void set() {
        while (true) {
            int s = Words.get(region, STATE_OFFSET);
            if ((s & SIGNALED_BIT) != 0) {
                return;
            }
            if (Words.cas(region, STATE_OFFSET, s, (s + SEQUENCE_UNIT) | SIGNALED_BIT)) {
                break;
            }
        }
        if (Words.get(region, WAITERS_OFFSET) > 0) {
            Futex.wake(word, manual ? Integer.MAX_VALUE : 1);
        }
    }

    public void reset() {
        while (true) {
            int s = Words.get(region, STATE_OFFSET);
            if ((s & SIGNALED_BIT) == 0 || Words.cas(region, STATE_OFFSET, s, s & ~SIGNALED_BIT)) {
                return;
            }
        }
    }

    /** {@return a new attempt to wait, for one wait beginning now} */
    public WaitAttempt attempt() {
        return new Attempt(Words.get(region, STATE_OFFSET) & ~SIGNALED_BIT, true);
    }

    /**
     * {@return an attempt that a manual-reset event satisfies only by a set after {@code stateSeen}}
     * (the signal stream: one element per set, not one per look at a signaled event)
     */
    public WaitAttempt attemptAfter(int stateSeen) {
        return new Attempt(stateSeen & ~SIGNALED_BIT, false);
    }

    private final class Attempt extends HandleAttempt {

        private final int sequence;
        private final boolean signaledCounts;
        /** For {@link #attemptAfter}: the state that satisfied the wait. */
        int satisfiedBy;

        Attempt(int sequence, boolean signaledCounts) {
            super(handle);
            this.sequence = sequence;
            this.signaledCounts = signaledCounts;
        }

        @Override
        public @Nullable WaitResult tryAcquire() {
            if (manual) {
                int s = Words.get(region, STATE_OFFSET);
                if ((signaledCounts && (s & SIGNALED_BIT) != 0) || (s & ~SIGNALED_BIT) != sequence) {
                    satisfiedBy = s;
                    return WaitResult.SIGNALED;
                }
                return null;
            }
            while (true) {
                int s = Words.get(region, STATE_OFFSET);
                if ((s & SIGNALED_BIT) == 0) {
                    return null;
                }
                if (Words.cas(region, STATE_OFFSET, s, s & ~SIGNALED_BIT)) {
                    satisfiedBy = s;
                    return WaitResult.SIGNALED;
                }
            }
        }

        @Override
        public long arm() {
            Words.getAndAdd(region, WAITERS_OFFSET, 1);
            return Words.get(region, STATE_OFFSET);
        }

        @Override
        public MemorySegment word() {
            return word;
        }

        @Override
        public void disarm() {
            Words.getAndAdd(region, WAITERS_OFFSET, -1);
        }

        @Override
        public void leave() {
            if (!manual && (Words.get(region, STATE_OFFSET) & SIGNALED_BIT) != 0
                    && Words.get(region, WAITERS_OFFSET) > 0) {
                Futex.wake(word, 1);
            }
        }
    }

    /** {@return the state that satisfied {@code attempt}} (for the signal stream) */
    public static int satisfiedBy(WaitAttempt attempt) {
        return ((Attempt) attempt).satisfiedBy;
    }
}
