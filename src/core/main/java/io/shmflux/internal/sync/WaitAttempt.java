package io.shmflux.internal.sync;

import io.shmflux.sync.WaitResult;
import org.jspecify.annotations.Nullable;

import java.lang.foreign.MemorySegment;

/**
 * One thread's wait for one object, driven by {@link Waits}. The wait loop calls, in this order:
 * {@link #tryAcquire()}; then, to sleep, {@link #arm()}, {@link #tryAcquire()} again, a futex wait on
 * {@link #word()} for the armed value, {@link #disarm()}; and {@link #leave()} if the wait ends
 * without taking this object after it was armed.
 */
public interface WaitAttempt {

    /** Returned by {@link #arm()} when the state changed under it: try again without sleeping. */
    long RETRY = Long.MIN_VALUE;

    /**
     * Takes the object if it is available now (decrements the semaphore, consumes the auto-reset
     * signal, owns the mutex).
     *
     * @return SIGNALED or ABANDONED if taken, null if not
     */
    @Nullable WaitResult tryAcquire();

    /**
     * Registers as a waiter.
     *
     * @return the value to sleep on, or {@link #RETRY}
     */
    long arm();

    /** {@return the futex word} */
    MemorySegment word();

    /** Undoes {@link #arm()} after the sleep. */
    void disarm();

    /**
     * The wait ends without this object after having slept on it: pass on a wake-up it may have
     * swallowed, so that another waiter does not sleep through an available object.
     */
    void leave();

    /** {@return the object's name, for messages} */
    String describe();

    /** Throws if the handle was closed while waiting. */
    void checkOpen();
}
