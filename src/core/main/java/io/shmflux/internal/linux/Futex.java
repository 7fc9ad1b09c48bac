package io.shmflux.internal.linux;

import io.shmflux.SharedMemoryException;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.VarHandle;

import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * futex(2) and futex_waitv(2) on words in {@code MAP_SHARED} memory, through libc's variadic
 * {@code syscall}. Only the shared (non-private) operations are used: the private ones key the
 * futex by address space, so a wake from another process would never match (every wait would run
 * into its timeout).
 *
 * <p>A futex wait never sees Java interrupts: callers that must honour them wait in bounded slices.
 */
@SuppressWarnings("restricted")
public final class Futex {

    /** {@code <linux/futex.h>}: FUTEX_WAIT, FUTEX_WAKE (never the _PRIVATE variants: they break across processes). */
    static final long FUTEX_WAIT = 0;
    static final long FUTEX_WAKE = 1;
    /** {@code <asm/unistd.h>} futex_waitv: 449 on both x86_64 and aarch64 (Linux 5.16+). */
    static final long SYS_FUTEX_WAITV = 449;
    /** {@code <linux/futex.h>} FUTEX2_SIZE_U32; without FUTEX2_PRIVATE. */
    static final int FUTEX2_SIZE_U32 = 0x02;
    static final int CLOCK_MONOTONIC = 1;
    /** {@code <asm-generic/errno.h>} ENOSYS: futex_waitv missing on kernels before 5.16. */
    static final int ENOSYS = Errno.ENOSYS;

    /** What ended a wait. All are normal outcomes; the caller re-reads the word in every case. */
    public enum WaitResult {
        /** A wake-up arrived (or a spurious return: re-check the word). */
        WOKEN,
        /** The word no longer held the expected value when the wait began ({@code EAGAIN}). */
        VALUE_CHANGED,
        /** The timeout passed ({@code ETIMEDOUT}). */
        TIMED_OUT,
        /** A signal interrupted the wait ({@code EINTR}). */
        INTERRUPTED
    }

    /** {@code struct futex_waitv}: 24 bytes, the same on every architecture. */
    public static final StructLayout WAITV = MemoryLayout.structLayout(
            JAVA_LONG.withName("val"),
            JAVA_LONG.withName("uaddr"),
            JAVA_INT.withName("flags"),
            JAVA_INT.withName("reserved"));

    private static final StructLayout TIMESPEC = MemoryLayout.structLayout(
            JAVA_LONG.withName("tv_sec"), JAVA_LONG.withName("tv_nsec"));
    private static final Linker LINKER = Linker.nativeLinker();
    private static final StructLayout CALL_STATE = Linker.Option.captureStateLayout();
    private static final VarHandle ERRNO = CALL_STATE.varHandle(MemoryLayout.PathElement.groupElement("errno"));
    private static final MethodHandle syscall6 = LINKER.downcallHandle(
            LINKER.defaultLookup().find("syscall").orElseThrow(),
            FunctionDescriptor.of(JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG),
            Linker.Option.captureCallState("errno"), Linker.Option.firstVariadicArg(1));
    private static final MethodHandle clockGettime = LINKER.downcallHandle(
            LINKER.defaultLookup().find("clock_gettime").orElseThrow(),
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, java.lang.foreign.ValueLayout.ADDRESS));

    private Futex() {
    }

    /**
     * Sleeps while the 32-bit word at {@code word} holds {@code expected}, at most {@code timeoutNanos}
     * (FUTEX_WAIT, relative timeout). The word must be 4-byte aligned in a shared mapping.
     *
     * @param timeoutNanos how long at most; negative waits without a timeout (avoid: every wait in
     *                     shmflux is bounded)
     */
    public static WaitResult await(MemorySegment word, int expected, long timeoutNanos) {
        Scratch scratch = SCRATCH.get();
        try {
            long timeout = 0;
            if (timeoutNanos >= 0) {
                scratch.timespec.set(JAVA_LONG, 0, timeoutNanos / 1_000_000_000L);
                scratch.timespec.set(JAVA_LONG, 8, timeoutNanos % 1_000_000_000L);
                timeout = scratch.timespec.address();
            }
            long result = (long) syscall6.invokeExact(scratch.callState, Libc.SYS_FUTEX, word.address(), FUTEX_WAIT,
                    (long) expected, timeout, 0L, 0L);
            if (result == 0) {
                return WaitResult.WOKEN;
            }
            return outcome("futex(FUTEX_WAIT)", (int) ERRNO.get(scratch.callState, 0L));
        } catch (SharedMemoryException e) {
            throw e;
        } catch (Throwable t) {
            throw new SharedMemoryException("futex wait failed: cause=" + t, t);
        }
    }

    /**
     * Each thread's call-state and timespec buffers, allocated once: a wait allocates nothing, so the
     * path back from a wake-up is as short as it can be.
     */
    private record Scratch(MemorySegment callState, MemorySegment timespec) {
    }

    private static final ThreadLocal<Scratch> SCRATCH = ThreadLocal.withInitial(() -> {
        Arena arena = Arena.ofAuto();
        return new Scratch(arena.allocate(CALL_STATE), arena.allocate(TIMESPEC));
    });

    /** Wakes up to {@code count} waiters on the word (FUTEX_WAKE). {@return how many were woken} */
    public static int wake(MemorySegment word, int count) {
        // the publish path when somebody sleeps: the thread's buffer, not an arena per call
        MemorySegment state = SCRATCH.get().callState;
        try {
            long result = (long) syscall6.invokeExact(state, Libc.SYS_FUTEX, word.address(), FUTEX_WAKE,
                    (long) count, 0L, 0L, 0L);
            if (result < 0) {
                int errno = (int) ERRNO.get(state, 0L);
                throw new SharedMemoryException("futex wake failed: errno=" + Errno.name(errno));
            }
            return (int) result;
        } catch (SharedMemoryException e) {
            throw e;
        } catch (Throwable t) {
            throw new SharedMemoryException("futex wake failed: cause=" + t, t);
        }
    }

    /**
     * Sleeps until any of the words no longer holds its expected value or is woken (futex_waitv,
     * Linux 5.16+), at most {@code timeoutNanos}.
     *
     * @return the index of the word that woke the caller, or -1 with the outcome in {@code result[0]}
     *         when no index is known (timeout, value already changed, signal)
     * @throws UnsupportedOperationException if the kernel lacks futex_waitv ({@code ENOSYS}): the caller
     *                                       falls back to polling in bounded slices
     */
    public static int awaitAny(MemorySegment[] words, int[] expected, long timeoutNanos, WaitResult[] result) {
        if (words.length != expected.length || words.length == 0 || words.length > 128) {
            throw new IllegalArgumentException("futex_waitv takes 1 to 128 words: count=" + words.length);
        }
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(CALL_STATE);
            MemorySegment waiters = arena.allocate(WAITV, words.length);
            for (int i = 0; i < words.length; i++) {
                long base = i * WAITV.byteSize();
                waiters.set(JAVA_LONG, base, expected[i] & 0xffffffffL);
                waiters.set(JAVA_LONG, base + 8, words[i].address());
                waiters.set(JAVA_INT, base + 16, FUTEX2_SIZE_U32);
                waiters.set(JAVA_INT, base + 20, 0);
            }
            MemorySegment deadline = arena.allocate(TIMESPEC);
            int rc = (int) clockGettime.invokeExact(CLOCK_MONOTONIC, deadline);
            if (rc != 0) {
                throw new SharedMemoryException("clock_gettime failed: clock=CLOCK_MONOTONIC");
            }
            long nanos = deadline.get(JAVA_LONG, 8) + Math.max(0, timeoutNanos);
            deadline.set(JAVA_LONG, 0, deadline.get(JAVA_LONG, 0) + nanos / 1_000_000_000L);
            deadline.set(JAVA_LONG, 8, nanos % 1_000_000_000L);
            long index = (long) syscall6.invokeExact(state, SYS_FUTEX_WAITV, waiters.address(),
                    (long) words.length, 0L, deadline.address(), (long) CLOCK_MONOTONIC, 0L);
            if (index >= 0) {
                result[0] = WaitResult.WOKEN;
                return (int) index;
            }
            int errno = (int) ERRNO.get(state, 0L);
            if (errno == ENOSYS) {
                throw new UnsupportedOperationException("futex_waitv not supported by this kernel (Linux 5.16+)");
            }
            result[0] = outcome("futex_waitv", errno);
            return -1;
        } catch (SharedMemoryException | UnsupportedOperationException | IllegalArgumentException e) {
            throw e;
        } catch (Throwable t) {
            throw new SharedMemoryException("futex_waitv failed: cause=" + t, t);
        }
    }

    private static WaitResult outcome(String call, int errno) {
        return switch (errno) {
            case Errno.EAGAIN -> WaitResult.VALUE_CHANGED;
            case Errno.ETIMEDOUT -> WaitResult.TIMED_OUT;
            case Errno.EINTR -> WaitResult.INTERRUPTED;
            default -> throw new SharedMemoryException(call + " failed: errno=" + Errno.name(errno));
        };
    }
}
