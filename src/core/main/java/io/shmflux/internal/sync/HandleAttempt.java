package io.shmflux.internal.sync;

/** A {@link WaitAttempt} on one handle: names the object and checks the handle for every attempt. */
abstract class HandleAttempt implements WaitAttempt {

    private final SyncHandle handle;

    HandleAttempt(SyncHandle handle) {
        this.handle = handle;
    }

    @Override
    public final String describe() {
        return handle.describe();
    }

    @Override
    public final void checkOpen() {
        handle.checkOpen();
    }
}
