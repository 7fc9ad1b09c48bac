package io.shmflux.bench;

import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.invoke.MethodHandle;
import java.util.concurrent.locks.LockSupport;

import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * Paces a sender: at least {@code interval} between two sends, by sleeping ({@code parkNanos}), with
 * at most {@link #MAX_SPIN_NANOS} of spinning at the end of each gap for precision. The calling
 * thread's timer slack is set to 1 µs ({@code prctl(PR_SET_TIMERSLACK)}), otherwise Linux lets every
 * sleep overrun by up to 50 µs.
 */
final class Pacer {

    static final long MAX_SPIN_NANOS = 3_000;
    /** {@code <linux/prctl.h>} PR_SET_TIMERSLACK. */
    private static final int PR_SET_TIMERSLACK = 29;

    private final long intervalNanos;
    private long last;

    Pacer(long intervalNanos) {
        this.intervalNanos = intervalNanos;
        setTimerSlack(1_000);
        this.last = System.nanoTime();
    }

    /** Returns when at least the interval has passed since the previous return. */
    void await() {
        long next = last + intervalNanos;
        long left;
        while ((left = next - System.nanoTime()) > MAX_SPIN_NANOS) {
            LockSupport.parkNanos(left - MAX_SPIN_NANOS);
        }
        while (next - System.nanoTime() > 0) {
            Thread.onSpinWait(); // bounded: at most MAX_SPIN_NANOS
        }
        last = System.nanoTime();
    }

    @SuppressWarnings("restricted")
    static void setTimerSlack(long nanos) {
        try {
            Linker linker = Linker.nativeLinker();
            MethodHandle prctl = linker.downcallHandle(linker.defaultLookup().find("prctl").orElseThrow(),
                    FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_LONG), Linker.Option.firstVariadicArg(1));
            int rc = (int) prctl.invokeExact(PR_SET_TIMERSLACK, nanos);
            if (rc != 0) {
                System.err.println("prctl(PR_SET_TIMERSLACK) failed: rc=" + rc + " (pacing will be coarser)");
            }
        } catch (Throwable t) {
            System.err.println("prctl(PR_SET_TIMERSLACK) unavailable: " + t + " (pacing will be coarser)");
        }
    }
}
