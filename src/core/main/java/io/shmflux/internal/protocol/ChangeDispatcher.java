package io.shmflux.internal.protocol;

import org.jspecify.annotations.Nullable;
import io.shmflux.SharedMemoryException;

import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.BooleanSupplier;
import java.util.concurrent.TimeUnit;

/**
 * The one thread per handle that waits for changes and tells this process's subscribers. It sleeps
 * in the kernel (futex) while nothing happens, in bounded slices so that it notices close and dead
 * writers; with no subscriber it parks. Subscribers do their own reading; the dispatcher only says
 * "something was published" ({@link Listener#onPublished()}).
 *
 * <p>Before each sleep it polls the ring record of the next change its listeners want for a bounded
 * time (10 µs; 250 µs in low-latency mode, trading CPU for the cost of a futex wake-up).
 *
 * <p>While a change stays unfinished (the sequence odd) the thread sleeps in 20 ms slices and then asks
 * the log whether its writer died ({@link ChangeLog#checkAbandoned()}): a handle that can write
 * finishes the change, one that cannot tells its listeners about the dead writer's change, which they
 * deliver flagged torn. Either way within a few slices of the death.
 *
 * <p>It knows nothing of Reactor: listeners are plain callbacks, and whether {@link #close(boolean)}
 * may block is the caller's decision.
 */
public final class ChangeDispatcher {

    /** A subscriber, as the dispatcher sees it. Both methods must not block. */
    public interface Listener {
        /**
         * Something was published: deliver what there is. {@return the next change this listener
         * wants, or {@code Long.MAX_VALUE} if it wants none now (no demand, or finished)} The thread
         * waits for the earliest of these to arrive, so that it polls ring records rather than the
         * shared counter.
         */
        long onPublished();

        void onClose();

        /** The change thread failed and stopped: no more changes will be announced. */
        void onError(RuntimeException failure);
    }

    private static final long SLICE_NANOS = TimeUnit.SECONDS.toNanos(1);
    /**
     * How long a close waits for the thread to come out of listener code: long enough for a drain on a
     * loaded machine, short enough that a subscriber blocked in {@code onNext} holds no close up.
     */
    private static final long DELIVERY_GRACE_NANOS = TimeUnit.MILLISECONDS.toNanos(200);
    private static final long JOIN_STEP_MILLIS = 5;
    /** How long a change may stay unfinished before the thread checks that its writer lives. */
    private static final long STUCK_NANOS = TimeUnit.MILLISECONDS.toNanos(20);
    /**
     * How long low-latency mode polls after each change before sleeping: longer than typical gaps
     * between changes of a busy feed, so that the next change finds the thread awake.
     */
    private static final long SPIN_NANOS = TimeUnit.MICROSECONDS.toNanos(250);
    /**
     * How long blocking mode polls after each change before sleeping: about what a FUTEX_WAKE costs the
     * publisher, so that a burst is not paid for with one system call per change on each side, while
     * a feed whose changes are further apart than this sleeps between all of them.
     */
    private static final long BLOCKING_SPIN_NANOS = TimeUnit.MICROSECONDS.toNanos(10);

    private final ChangeLog log;
    private final String threadName;
    private final BooleanSupplier retain;
    private final Runnable release;
    private final CopyOnWriteArrayList<Listener> listeners = new CopyOnWriteArrayList<>();
    private final Object monitor = new Object();
    private volatile int spinners;
    private volatile boolean closed;
    /** True while the thread is inside listener code, which may block for as long as it likes. */
    private volatile boolean delivering;
    private @Nullable Thread thread;
    /** The change thread's own: some listener wanted nothing at the last announcement. */
    private boolean idleListener;
    /** The change thread's own: read the counter before the next announcement (see {@link #run()}). */
    private boolean readCounterFirst = true;

    /**
     * @param retain  called before the thread starts: holds the object (and so the log's memory) for
     *                as long as the thread runs; false if the object is already gone
     * @param release called by the thread when it ends
     */
    public ChangeDispatcher(ChangeLog log, String threadName, BooleanSupplier retain, Runnable release) {
        this.log = log;
        this.threadName = threadName;
        this.retain = retain;
        this.release = release;
    }

    /** Adds a listener; starts the thread on first use. */
    public void add(Listener listener, boolean lowLatency) {
        synchronized (monitor) {
            if (closed) {
                listener.onClose();
                return;
            }
            listeners.add(listener);
            if (lowLatency) {
                spinners++;
            }
            if (thread == null) {
                if (!retain.getAsBoolean()) {
                    listeners.remove(listener);
                    listener.onClose();
                    return;
                }
                thread = Thread.ofPlatform().daemon().name(threadName).start(() -> {
                    try {
                        run();
                    } catch (RuntimeException failure) {
                        fail(failure);
                    } catch (InternalError fault) {
                        // a memory fault: the control file was truncated under us (the JVM turns the
                        // SIGBUS into this error); the feeds must end, not wait for good
                        fail(new SharedMemoryException("memory fault in the change log: thread=" + threadName
                                + ", reason=the control file was truncated or removed by another process, cause="
                                + fault.getMessage(), fault));
                    } finally {
                        release.run();
                    }
                });
            }
            monitor.notifyAll();
        }
    }

    public void remove(Listener listener, boolean lowLatency) {
        synchronized (monitor) {
            if (listeners.remove(listener) && lowLatency) {
                spinners--;
            }
        }
    }

    private void run() {
        long next = -1; // tell the first listeners at once: changes may have come before this thread ran
        long stuckSince = 0;
        long abandonedAnnounced = -1;
        while (!closed) {
            if (listeners.isEmpty()) {
                synchronized (monitor) {
                    while (listeners.isEmpty() && !closed) {
                        try {
                            monitor.wait();
                        } catch (InterruptedException e) {
                            return;
                        }
                    }
                }
                next = -1;
                continue;
            }
            if (next < 0 || arrived(next)) {
                // Listeners that moved on report where they stand: wait for the earliest of those.
                // A listener that wants nothing now, or one that did not move on (another thread holds
                // its drain, or it is new), drains on its own thread and catches up at a change after
                // the counter read before this announcement: so then wait for the change after that
                // counter, which cannot miss it and announces no more than once per change (no spin
                // while another thread is inside such a listener's onNext). The counter is read only
                // when the last announcement ended that way.
                long before = readCounterFirst ? log.published() : -1;
                long previous = next;
                long wanted = announce();
                if (!idleListener && wanted > previous) {
                    next = wanted;
                    readCounterFirst = false;
                } else {
                    next = before < 0 ? -1 : before + 1; // -1: announce again, with the counter read first
                    readCounterFirst = true;
                }
                continue;
            }
            if (spinUntilChange(next, spinners > 0 ? SPIN_NANOS : BLOCKING_SPIN_NANOS)) {
                continue;
            }
            long seen = next - 1;
            log.awaitChange(seen, log.writing() ? STUCK_NANOS : SLICE_NANOS, () -> closed);
            if (log.published() != seen || !log.writing()) {
                stuckSince = 0;
                continue;
            }
            long now = System.nanoTime();
            if (stuckSince == 0) {
                stuckSince = now;
            } else if (now - stuckSince >= STUCK_NANOS) {
                stuckSince = now;
                log.checkAbandoned();
                if (abandonedAnnounced != next && log.abandonedChange(next) != null) {
                    abandonedAnnounced = next;
                    announce();
                }
            }
        }
    }

    /**
     * {@return true if change {@code next}, or a later one, was published} Asks the record where
     * {@code next} goes, and the shared counter only when that record cannot tell (never written, or
     * being written): the counter's line is written twice per change, and a thread that keeps up would
     * otherwise take it from the publisher on every change.
     */
    private boolean arrived(long next) {
        long held = log.ring().recordSequence(next);
        return held >= next || (held == 0 && log.published() >= next);
    }

    /**
     * Tells every listener that something was published; they run subscriber code. {@return the
     * earliest change a listener wants next, {@code Long.MAX_VALUE} if none wants one} Sets
     * {@link #idleListener}.
     */
    private long announce() {
        long wanted = Long.MAX_VALUE;
        boolean idle = false;
        delivering = true;
        try {
            for (Listener listener : listeners) {
                long position = listener.onPublished();
                idle |= position == Long.MAX_VALUE;
                wanted = Math.min(wanted, position);
            }
        } finally {
            delivering = false;
        }
        idleListener = idle;
        return wanted;
    }

    /**
     * Polls for a bounded time. No {@code Thread.onSpinWait()}: on the 2-vCPU VMs measured, the PAUSE
     * it issues got the polling vCPU descheduled (p10 latency 10 µs with it, 1 µs without).
     */
    private boolean spinUntilChange(long next, long spinNanos) {
        long deadline = System.nanoTime() + spinNanos;
        while (System.nanoTime() - deadline < 0) {
            if (arrived(next) || closed) {
                return true;
            }
        }
        return false;
    }

    private void fail(RuntimeException failure) {
        synchronized (monitor) {
            closed = true;
        }
        for (Listener listener : listeners) {
            listener.onError(failure);
        }
        listeners.clear();
    }

    /**
     * Stops the thread and closes every listener. Idempotent. Waits for the thread to end, so that
     * the object is released deterministically: the wake below ends its sleep at once (the stop flag
     * and the futex word are a handshake, so the wake cannot be lost); the wait is bounded by two sleep
     * slices all the same, for a thread that has just entered listener code.
     * While the thread is inside listener code it waits at most {@link #DELIVERY_GRACE_NANOS} for it to
     * come out (a drain takes microseconds, but a subscriber's {@code onNext} may block for as long as
     * it likes), and not at all when {@code mayBlock} is false (the caller is on a thread that must not
     * block): past that, the thread ends on its own and releases the object itself.
     */
    public void close(boolean mayBlock) {
        Thread running;
        synchronized (monitor) {
            if (closed) {
                return;
            }
            closed = true;
            running = thread;
            monitor.notifyAll();
        }
        if (running != null && running != Thread.currentThread()) {
            try {
                log.wakeToStop();
            } catch (RuntimeException | InternalError e) {
                // the control file is gone from under us: the thread ends at its next slice or fault
            }
            if (mayBlock) {
                awaitEnd(running);
            }
        }
        for (Listener listener : listeners) {
            listener.onClose();
        }
        listeners.clear();
    }

    /** Joins {@code running}: at most two sleep slices, and at most the grace while it delivers. */
    private void awaitEnd(Thread running) {
        long start = System.nanoTime();
        try {
            while (running.isAlive()) {
                long waited = System.nanoTime() - start;
                if (waited >= 2 * SLICE_NANOS || (delivering && waited >= DELIVERY_GRACE_NANOS)) {
                    return;
                }
                running.join(JOIN_STEP_MILLIS);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
