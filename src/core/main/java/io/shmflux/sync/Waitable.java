package io.shmflux.sync;

import io.shmflux.InvalidParameterException;
import io.shmflux.internal.sync.SyncHandle;
import io.shmflux.internal.sync.WaitAttempt;
import io.shmflux.internal.sync.Waits;

import java.time.Duration;
import java.util.List;

/**
 * A handle to a named sync object that threads can wait for: {@link NamedMutex}, {@link NamedEvent},
 * {@link NamedSemaphore}. Also the home of {@link #awaitAny}, Win32's {@code WaitForMultipleObjects}.
 *
 * <p>Every handle is {@link AutoCloseable}; {@link #close()} is idempotent; any other call on a closed
 * handle throws {@link io.shmflux.HandleClosedException}, and a wait in progress on a handle that
 * another thread closes ends with that exception within one wait slice (100 ms). The object lives
 * while any handle to it exists in any process (a dead process's handles count as closed), then
 * vanishes, like every object of the name space.
 *
 * <h2>Waits</h2>
 * Every wait takes a {@link Duration}: zero tests the state and returns at once (as Win32's timeout
 * 0), a negative one throws {@link InvalidParameterException}; {@code Duration.ofMillis(Long.MAX_VALUE)}
 * or longer is as good as infinite. A waiting thread sleeps in the kernel on a futex word of the
 * object's shared memory, waking every 100 ms to notice interrupts, a closed handle and dead mutex
 * owners; it burns no CPU to speak of. The sleep is a native call: a virtual thread waiting here
 * pins its carrier thread for up to one slice at a time, so prefer platform threads (or the reactive
 * forms) for long waits.
 *
 * <h2>Interrupts</h2>
 * A wait that can be satisfied at once succeeds even if the thread is interrupted. A wait that has
 * to sleep ends within one slice of {@link Thread#interrupt()} by throwing
 * {@link io.shmflux.WaitInterruptedException}, having taken nothing, and leaves the interrupt status
 * set. A wake-up meant for the interrupted waiter is passed on to another waiter, never lost.
 */
public abstract sealed class Waitable implements AutoCloseable permits NamedMutex, NamedEvent, NamedSemaphore {

    Waitable() {
    }

    abstract SyncHandle handle();

    abstract WaitAttempt newAttempt();

    /** {@return the name the object was created or opened with} */
    public String name() {
        return handle().name();
    }

    /** {@return true if this call created the object, false if it opened an existing one} */
    public boolean created() {
        return handle().created();
    }

    /**
     * {@return the user id of whoever made the object: the owner of its control file} A {@code Local\}
     * object always belongs to the calling user (another user's file under a {@code Local\} name is
     * refused); a {@code Global\} one may belong to anyone, and this says to whom.
     */
    public int ownerUid() {
        return handle().control().ownerUid();
    }

    /** {@return false once {@link #close()} was called} */
    public boolean isOpen() {
        return handle().isOpen();
    }

    /**
     * Closes the handle (Win32 {@code CloseHandle}). Idempotent. The last handle anywhere to close
     * destroys the object.
     */
    @Override
    public void close() {
        handle().close();
    }

    /**
     * Waits until any one of the objects can be taken, takes it, and says which (Win32
     * {@code WaitForMultipleObjects} with {@code bWaitAll = FALSE}). If several can be taken, the one
     * with the lowest index is. Uses {@code futex_waitv} (Linux 5.16+) to sleep on all of them at
     * once; on older kernels it polls in short slices (1 to 20 ms).
     *
     * {@snippet :
     * WaitAnyResult r = Waitable.awaitAny(Duration.ofSeconds(1), stop, work);
     * if (!r.timedOut() && r.index() == 0) { ... } // stop was set
     * }
     *
     * @param timeout how long at most; zero tests the objects and returns at once
     * @param objects 1 to 64 open handles
     * @return the index taken and how, or index -1 and {@code TIMEOUT}
     * @throws InvalidParameterException if the timeout is negative or there are no or over 64 objects
     * @throws io.shmflux.HandleClosedException if a handle is or gets closed
     * @throws io.shmflux.WaitInterruptedException if the thread is interrupted while it sleeps
     */
    public static WaitAnyResult awaitAny(Duration timeout, Waitable... objects) {
        return awaitAny(timeout, List.of(objects));
    }

    /** {@link #awaitAny(Duration, Waitable...)} over a list. */
    public static WaitAnyResult awaitAny(Duration timeout, List<? extends Waitable> objects) {
        return awaitAny(timeout, objects, true);
    }

    static WaitAnyResult awaitAny(Duration timeout, List<? extends Waitable> objects, boolean useWaitv) {
        Waits.timeoutNanos(timeout);
        if (objects.isEmpty() || objects.size() > Waits.MAXIMUM_OBJECTS) {
            throw new InvalidParameterException("wait-any takes 1 to " + Waits.MAXIMUM_OBJECTS
                    + " objects: count=" + objects.size());
        }
        int entered = 0;
        try {
            WaitAttempt[] attempts = new WaitAttempt[objects.size()];
            for (Waitable object : objects) {
                object.handle().enter();
                attempts[entered] = object.newAttempt();
                entered++;
            }
            Waits.AnyOutcome outcome = Waits.awaitAny(attempts, timeout, useWaitv);
            return new WaitAnyResult(outcome.index(), outcome.result());
        } finally {
            for (int i = 0; i < entered; i++) {
                objects.get(i).handle().exit();
            }
        }
    }

    /** Runs a wait inside enter/exit of the handle. */
    WaitResult awaitOne(Duration timeout) {
        return handle().call(() -> Waits.awaitOne(newAttempt(), timeout));
    }

    @Override
    public String toString() {
        return getClass().getSimpleName() + "[" + handle().describe() + (isOpen() ? "" : ", closed") + "]";
    }
}
