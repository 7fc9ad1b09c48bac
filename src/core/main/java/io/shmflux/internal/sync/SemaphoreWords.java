package io.shmflux.internal.sync;

import io.shmflux.InvalidParameterException;
import io.shmflux.TooManyPostsException;
import io.shmflux.internal.layout.SemaphoreDescriptor;
import io.shmflux.internal.linux.Futex;
import io.shmflux.internal.namespace.ControlFile;
import io.shmflux.internal.namespace.ObjectKind;
import io.shmflux.sync.WaitResult;
import org.jspecify.annotations.Nullable;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

import static io.shmflux.internal.layout.SemaphoreDescriptor.COUNT_OFFSET;
import static io.shmflux.internal.layout.SemaphoreDescriptor.MAXIMUM_OFFSET;
import static io.shmflux.internal.layout.SemaphoreDescriptor.WAITERS_OFFSET;

/**
 * The semaphore protocol over the words of {@link SemaphoreDescriptor}.
 *
 * <h2>Release {@code n}</h2>
 * <ol>
 * <li>Read the count {@code c}; if {@code c + n} exceeds the maximum, fail with
 *     {@link TooManyPostsException}, nothing changed.</li>
 * <li>CAS the count from {@code c} to {@code c + n} (else back to step 1).</li>
 * <li>Read the waiter count (after the CAS: full fence); if non-zero, {@code FUTEX_WAKE}
 *     {@code min(n, waiters)}. Return {@code c}.</li>
 * </ol>
 * <h2>Acquire (one attempt, run by {@link Waits})</h2>
 * <ol>
 * <li>If the count is above 0, CAS it one lower: {@code SIGNALED}.</li>
 * <li>To sleep: add one to the waiter count ({@code getAndAdd}: full fence), check step 1 again, and
 *     futex-wait while the count is 0; then subtract one. A release between the two checks sees the
 *     waiter and wakes it, or its count change makes the futex call return at once.</li>
 * <li>A waiter that leaves without a unit while units are left and others wait wakes one of them.</li>
 * </ol>
 */
public final class SemaphoreWords {

    private final SyncHandle handle;
    private final MemorySegment region;
    private final MemorySegment word;
    private final int maximum;

    private SemaphoreWords(SyncHandle handle) {
        this.handle = handle;
        this.region = handle.region();
        this.word = region.asSlice(COUNT_OFFSET, 4);
        this.maximum = region.get(ValueLayout.JAVA_INT, MAXIMUM_OFFSET);
    }

    /** Creates or opens a semaphore; {@code initial} and {@code maximum} matter only if it is created. */
    public static SemaphoreWords acquire(String name, ControlFile.Disposition disposition, int initial, int maximum) {
        if (maximum <= 0) {
            throw new InvalidParameterException("semaphore maximum must be at least 1: maximum=" + maximum);
        }
        if (initial < 0 || initial > maximum) {
            throw new InvalidParameterException("semaphore initial count out of range: initial=" + initial
                    + ", maximum=" + maximum);
        }
        SyncHandle handle = SyncHandle.acquire(name, ObjectKind.SEMAPHORE, SemaphoreDescriptor.REGION_LENGTH,
                disposition, control -> {
                    control.region().set(ValueLayout.JAVA_INT, MAXIMUM_OFFSET, maximum);
                    Words.set(control.region(), COUNT_OFFSET, initial);
                });
        return new SemaphoreWords(handle);
    }

    public SyncHandle handle() {
        return handle;
    }

    public int maximum() {
        return maximum;
    }

    /** {@return the count now (a snapshot)} */
    public int count() {
        return Words.get(region, COUNT_OFFSET);
    }

    /**
     * Release, steps 1 to 3.
     *
     * @return the count before
     */
    public int release(int n) {
        if (n <= 0) {
            throw new InvalidParameterException("release count must be at least 1: count=" + n
                    + ", object=" + handle.describe());
        }
        int c;
        while (true) {
            c = Words.get(region, COUNT_OFFSET);
            if ((long) c + n > maximum) {
                throw new TooManyPostsException("semaphore count would exceed its maximum: object="
                        + handle.describe() + ", count=" + c + ", release=" + n + ", maximum=" + maximum);
            }
            if (Words.cas(region, COUNT_OFFSET, c, c + n)) {
                break;
            }
        }
        int waiters = Words.get(region, WAITERS_OFFSET);
        if (waiters > 0) {
            Futex.wake(word, Math.min(n, waiters));
        }
        return c;
    }

    public WaitAttempt attempt() {
        return new Attempt();
    }

    private final class Attempt extends HandleAttempt {

        Attempt() {
            super(handle);
        }

        @Override
        public @Nullable WaitResult tryAcquire() {
            while (true) {
                int c = Words.get(region, COUNT_OFFSET);
                if (c <= 0) {
                    return null;
                }
                if (Words.cas(region, COUNT_OFFSET, c, c - 1)) {
                    return WaitResult.SIGNALED;
                }
            }
        }

        @Override
        public long arm() {
            Words.getAndAdd(region, WAITERS_OFFSET, 1);
            return 0;
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
            if (Words.get(region, COUNT_OFFSET) > 0 && Words.get(region, WAITERS_OFFSET) > 0) {
                Futex.wake(word, 1);
            }
        }
    }
}
