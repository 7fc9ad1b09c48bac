package io.shmflux.internal.sync;

import io.shmflux.InvalidParameterException;
import io.shmflux.WaitInterruptedException;
import io.shmflux.internal.linux.Futex;
import io.shmflux.sync.WaitResult;
import org.jspecify.annotations.Nullable;

import java.lang.foreign.MemorySegment;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

/**
 * The wait loop shared by every sync object, for one object or any of several.
 *
 * <h2>Protocol (one object)</h2>
 * <ol>
 * <li>Try to take the object without waiting; done if taken. A zero timeout stops here
 *     ({@code TIMEOUT}).</li>
 * <li>Stop with {@link WaitInterruptedException} if the thread is interrupted, with
 *     {@code HandleClosedException} if the handle was closed.</li>
 * <li>Arm: register as a waiter (waiter count or waiters bit, with a full fence) and read the futex
 *     word. Try to take the object again: a release between step 1 and the arming is seen here
 *     (a Dekker handshake: waiter and releaser each store, then load the other's word, with full fences).</li>
 * <li>Sleep in the kernel (shared {@code FUTEX_WAIT}) while the word still holds the armed value, for
 *     at most one slice ({@value #SLICE_MILLIS} ms) or the time left. A releaser that changes the
 *     word after step 3 either makes the futex call fail at once ({@code EAGAIN}) or wakes it.</li>
 * <li>Disarm, try to take the object; done if taken.</li>
 * <li>If the time is up, leave (pass on any wake-up this waiter swallowed) and return
 *     {@code TIMEOUT}; else go to step 2. The slices bound how late an interrupt, a close, or the
 *     death of a mutex owner is noticed; they cost one futex call per slice while idle.</li>
 * </ol>
 * Several objects: the same loop, with step 4 a {@code futex_waitv} over all words (Linux 5.16+), and
 * taking the lowest-numbered available object, as {@code WaitForMultipleObjects} does. Without
 * {@code futex_waitv} ({@code ENOSYS}), step 4 sleeps on the first word for a short, growing slice
 * (1 to {@value #FALLBACK_MAX_MILLIS} ms) and polls the others.
 */
public final class Waits {

    static final long SLICE_MILLIS = 100;
    static final long FALLBACK_MAX_MILLIS = 20;
    private static final long SLICE_NANOS = TimeUnit.MILLISECONDS.toNanos(SLICE_MILLIS);
    /** Win32 MAXIMUM_WAIT_OBJECTS. */
    public static final int MAXIMUM_OBJECTS = 64;

    private static volatile boolean waitvMissing = Boolean.getBoolean("shmflux.sync.noFutexWaitv");

    private Waits() {
    }

    /** Result of a wait for any of several objects. */
    public record AnyOutcome(int index, WaitResult result) {
    }

    /** {@return the timeout in nanoseconds} after checking it is not negative. */
    public static long timeoutNanos(Duration timeout) {
        if (timeout.isNegative()) {
            throw new InvalidParameterException("negative timeout: timeout=" + timeout);
        }
        try {
            return timeout.toNanos();
        } catch (ArithmeticException e) {
            return Long.MAX_VALUE;
        }
    }

    /** Waits for one object (see the class comment). */
    public static WaitResult awaitOne(WaitAttempt attempt, Duration timeout) {
        long nanos = timeoutNanos(timeout);
        WaitResult taken = attempt.tryAcquire();
        if (taken != null) {
            return taken;
        }
        if (nanos == 0) {
            return WaitResult.TIMEOUT;
        }
        long start = System.nanoTime();
        boolean armedOnce = false;
        while (true) {
            try {
                checkInterruptAndOpen(attempt);
            } catch (RuntimeException e) {
                if (armedOnce) {
                    attempt.leave();
                }
                throw e;
            }
            long expected = attempt.arm();
            if (expected != WaitAttempt.RETRY) {
                armedOnce = true;
                taken = attempt.tryAcquire();
                if (taken == null) {
                    long left = nanos - (System.nanoTime() - start);
                    if (left > 0) {
                        Futex.await(attempt.word(), (int) expected, Math.min(SLICE_NANOS, left));
                    }
                }
                attempt.disarm();
                if (taken != null) {
                    return taken;
                }
            }
            taken = attempt.tryAcquire();
            if (taken != null) {
                return taken;
            }
            if (System.nanoTime() - start >= nanos) {
                if (armedOnce) {
                    attempt.leave();
                }
                return WaitResult.TIMEOUT;
            }
        }
    }

    /** Waits for any one of several objects (see the class comment). */
    public static AnyOutcome awaitAny(WaitAttempt[] attempts, Duration timeout) {
        return awaitAny(attempts, timeout, !waitvMissing);
    }

    /** {@link #awaitAny(WaitAttempt[], Duration)}, choosing whether to use futex_waitv (tests force the fallback). */
    public static AnyOutcome awaitAny(WaitAttempt[] attempts, Duration timeout, boolean useWaitv) {
        long nanos = timeoutNanos(timeout);
        int n = attempts.length;
        AnyOutcome taken = tryAll(attempts, -1);
        if (taken != null) {
            return taken;
        }
        if (nanos == 0) {
            return new AnyOutcome(-1, WaitResult.TIMEOUT);
        }
        long start = System.nanoTime();
        MemorySegment[] words = new MemorySegment[n];
        int[] expected = new int[n];
        boolean armedOnce = false;
        long fallbackSlice = TimeUnit.MILLISECONDS.toNanos(1);
        Futex.WaitResult[] outcome = new Futex.WaitResult[1];
        while (true) {
            try {
                for (WaitAttempt attempt : attempts) {
                    checkInterruptAndOpen(attempt);
                }
            } catch (RuntimeException e) {
                if (armedOnce) {
                    leaveAll(attempts, -1);
                }
                throw e;
            }
            int armed = 0;
            boolean retry = false;
            for (; armed < n; armed++) {
                long value = attempts[armed].arm();
                if (value == WaitAttempt.RETRY) {
                    retry = true;
                    break;
                }
                words[armed] = attempts[armed].word();
                expected[armed] = (int) value;
            }
            if (armed > 0) {
                armedOnce = true;
            }
            if (!retry) {
                taken = tryAll(attempts, -1);
                if (taken == null) {
                    long left = nanos - (System.nanoTime() - start);
                    if (left > 0) {
                        if (useWaitv) {
                            try {
                                Futex.awaitAny(words, expected, Math.min(SLICE_NANOS, left), outcome);
                            } catch (UnsupportedOperationException e) {
                                waitvMissing = true;
                                useWaitv = false;
                            }
                        }
                        if (!useWaitv) {
                            Futex.await(words[0], expected[0], Math.min(fallbackSlice, left));
                            fallbackSlice = Math.min(fallbackSlice * 2, TimeUnit.MILLISECONDS.toNanos(FALLBACK_MAX_MILLIS));
                        }
                    }
                }
            }
            for (int i = 0; i < armed; i++) {
                attempts[i].disarm();
            }
            if (taken == null) {
                taken = tryAll(attempts, -1);
            }
            if (taken != null) {
                if (armedOnce) {
                    leaveAll(attempts, taken.index());
                }
                return taken;
            }
            if (System.nanoTime() - start >= nanos) {
                if (armedOnce) {
                    leaveAll(attempts, -1);
                }
                return new AnyOutcome(-1, WaitResult.TIMEOUT);
            }
        }
    }

    private static @Nullable AnyOutcome tryAll(WaitAttempt[] attempts, int skip) {
        for (int i = 0; i < attempts.length; i++) {
            if (i == skip) {
                continue;
            }
            WaitResult result = attempts[i].tryAcquire();
            if (result != null) {
                return new AnyOutcome(i, result);
            }
        }
        return null;
    }

    private static void leaveAll(WaitAttempt[] attempts, int except) {
        for (int i = 0; i < attempts.length; i++) {
            if (i != except) {
                attempts[i].leave();
            }
        }
    }

    private static void checkInterruptAndOpen(WaitAttempt attempt) {
        attempt.checkOpen();
        if (Thread.currentThread().isInterrupted()) {
            throw new WaitInterruptedException("wait interrupted: object=" + attempt.describe());
        }
    }
}
