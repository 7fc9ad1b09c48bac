package io.shmflux.internal.protocol;

import io.shmflux.internal.observe.Diagnostics;
import org.jspecify.annotations.Nullable;
import io.shmflux.PublishTimeoutException;
import io.shmflux.internal.linux.Futex;
import io.shmflux.internal.liveness.LeaseState;
import io.shmflux.internal.liveness.LeaseTable;

import java.lang.foreign.MemorySegment;
import java.util.concurrent.TimeUnit;

import static io.shmflux.internal.layout.ChangeLogDescriptor.*;

/**
 * The publisher's side of back pressure: before change {@code n} overwrites the record of change
 * {@code n - capacity}, every live {@code BACK_PRESSURE} subscriber must have taken that change. Called
 * with the writer lock held and the sequence still even, so readers and {@code REPORT} subscribers go
 * on while a publisher waits here; other publishers queue behind it on the writer lock (they would need
 * the same room).
 *
 * <ol>
 * <li>Read "slots used"; none: return (the only cost when nobody uses back pressure).</li>
 * <li>For each slot with a token whose position leaves no room for {@code n}: if its lease probes dead
 *     (its lock byte is free), its subscriber is dead: clear the token (CAS of the exact token seen, so a new claim is never
 *     cleared) and go on.</li>
 * <li>Otherwise store wake-at = {@code n - capacity + 1} (volatile), CAS the waiting bit onto the
 *     progress word, load the position again: enough now means go on (the subscriber advanced in
 *     between); else FUTEX_WAIT on the word with the bit, for at most 50 ms, and start this step
 *     again (after checking liveness). The subscriber swaps the word before it wakes, so a wake-up
 *     cannot be lost between the load and the wait.</li>
 * <li>Past the object's publish timeout: throw {@link PublishTimeoutException} naming the subscriber's
 *     pid; the caller has not started the change.</li>
 * </ol>
 */
final class BackPressureGate {

    private static final long SLICE_NANOS = TimeUnit.MILLISECONDS.toNanos(50);

    private final LeaseTable leases;
    private final ChangeRing ring;
    private final MemorySegment region;
    private final long timeoutNanos;
    private long waits;

    /** @param leases the subscriber-slot lease table, on this handle's descriptor */
    BackPressureGate(LeaseTable leases, ChangeRing ring) {
        this.leases = leases;
        this.ring = ring;
        this.region = ring.region();
        this.timeoutNanos = (long) LONG.get(region, PUBLISH_TIMEOUT_OFFSET);
    }

    /** {@return how many times a publisher of this handle slept for a subscriber} */
    long waits() {
        return waits;
    }

    /** Returns once change {@code n} may be written (steps above). */
    void awaitRoom(long n, String object) {
        int used = ring.subscriberSlotsUsed();
        if (used == 0) {
            return;
        }
        long need = ring.positionNeededFor(n);
        if (need <= 1) {
            return;
        }
        long start = 0;
        Diagnostics.@Nullable BackPressureWait wait = null;
        for (int slot = 0; slot < used; slot++) {
            long at = ring.subscriberOffset(slot);
            while (true) {
                int token = (int) INT.getAcquire(region, at + SUBSCRIBER_TOKEN_OFFSET);
                if (token == 0 || (long) LONG.getVolatile(region, at + SUBSCRIBER_POSITION_OFFSET) >= need) {
                    break;
                }
                if (!alive(slot)) {
                    INT.compareAndSet(region, at + SUBSCRIBER_TOKEN_OFFSET, token, 0);
                    continue;
                }
                if (wait == null) {
                    start = System.nanoTime();
                    wait = Diagnostics.BackPressureWait.begin(object, n);
                }
                long left = start + timeoutNanos - System.nanoTime();
                if (left <= 0) {
                    wait.end(true);
                    long pid = (long) LONG.get(region, at + SUBSCRIBER_PID_OFFSET);
                    throw new PublishTimeoutException("publish timed out waiting for a back-pressure subscriber: object="
                            + object + ", subscriberPid=" + pid + ", slot=" + slot + ", position="
                            + (long) LONG.getVolatile(region, at + SUBSCRIBER_POSITION_OFFSET) + ", sequence=" + n
                            + ", timeoutMillis=" + TimeUnit.NANOSECONDS.toMillis(timeoutNanos), pid);
                }
                LONG.setVolatile(region, at + SUBSCRIBER_WAKE_AT_OFFSET, need);
                int word = (int) INT.getVolatile(region, at + SUBSCRIBER_PROGRESS_OFFSET);
                int waiting = word | 1;
                if (word != waiting && !INT.compareAndSet(region, at + SUBSCRIBER_PROGRESS_OFFSET, word, waiting)) {
                    continue;
                }
                if ((long) LONG.getVolatile(region, at + SUBSCRIBER_POSITION_OFFSET) >= need
                        || (int) INT.getAcquire(region, at + SUBSCRIBER_TOKEN_OFFSET) != token) {
                    continue;
                }
                waits++;
                Futex.await(region.asSlice(at + SUBSCRIBER_PROGRESS_OFFSET, 4), waiting, Math.min(left, SLICE_NANOS));
            }
        }
        if (wait != null) {
            wait.end(false);
        }
    }

    private boolean alive(int slot) {
        return leases.probe(leases.tokenOf(slot)) == LeaseState.ALIVE;
    }
}
