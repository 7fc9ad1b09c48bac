package io.shmflux.sync;

/**
 * Outcome of {@link Waitable#awaitAny}: which object was taken, and how.
 *
 * @param index  the position of the object taken in the list passed in (the lowest available one,
 *               as in Win32), or -1 on timeout
 * @param result {@code SIGNALED} or {@code ABANDONED} (a mutex) for the object at {@code index}, or
 *               {@code TIMEOUT}
 */
public record WaitAnyResult(int index, WaitResult result) {

    /** {@return true if the timeout passed and nothing was taken} */
    public boolean timedOut() {
        return result == WaitResult.TIMEOUT;
    }
}
