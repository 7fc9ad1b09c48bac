package io.shmflux.sync;

/** The state a new event starts in (Win32 {@code bInitialState}). */
public enum EventState {
    /** Not signaled: waiters wait for a {@link NamedEvent#set()}. */
    NOT_SIGNALED,
    /** Signaled: the first waiter (auto reset) or every waiter (manual reset) passes at once. */
    SIGNALED
}
