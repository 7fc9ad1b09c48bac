package io.shmflux.sync;

/** How an event returns to the non-signaled state. */
public enum EventReset {
    /** Stays signaled, releasing every waiter, until {@link NamedEvent#reset()} (Win32 {@code bManualReset = TRUE}). */
    MANUAL,
    /** Each {@link NamedEvent#set()} releases exactly one waiter, and the event resets itself then (Win32 {@code bManualReset = FALSE}). */
    AUTO
}
