package io.shmflux.internal.liveness;

/** What a probe of a lease token says about its holder. */
public enum LeaseState {
    /** The holder is alive: its lock is held and (where generations are kept) its slot was not reused. */
    ALIVE,
    /** The holder closed or died: its lock is gone, or its slot has been claimed again since. */
    DEAD,
    /** The token names no lease (0: nobody ever held it). */
    NEVER_EXISTED
}
