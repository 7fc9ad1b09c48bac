package io.shmflux.sync;

import io.shmflux.internal.namespace.ControlFile.Disposition;
import io.shmflux.internal.sync.EventWords;
import io.shmflux.internal.sync.SyncHandle;
import io.shmflux.internal.sync.WaitAttempt;
import io.shmflux.internal.sync.Waits;
import reactor.core.publisher.Flux;
import reactor.core.scheduler.Schedulers;

import java.time.Duration;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * A named event shared between processes (Win32 {@code CreateEvent} / {@code OpenEvent}).
 *
 * {@snippet :
 * try (NamedEvent ready = NamedEvent.createOrOpen("data-ready", EventReset.AUTO)) {
 *     if (ready.await(Duration.ofSeconds(1)) == WaitResult.SIGNALED) { ... }
 * }
 * }
 *
 * <h2>Semantics</h2>
 * <ul>
 * <li>{@link EventReset#MANUAL}: {@link #set()} releases every thread waiting at that moment, in any
 *     process, and every later waiter, until {@link #reset()}. A waiter released by a set is released
 *     even if a reset follows at once (no waiter misses a set it was waiting for).</li>
 * <li>{@link EventReset#AUTO}: one {@code set()} releases exactly one waiter; with no waiter, the
 *     event stays signaled until one waiter comes and consumes it. Setting a signaled event does
 *     nothing (signals do not accumulate, as in Win32).</li>
 * <li>The reset mode and initial state apply when the call creates the event; opening an existing
 *     event keeps its mode ({@link #reset()} returns it), as Win32 ignores them too.</li>
 * </ul>
 *
 * <h2>Shared layout</h2>
 * State word (futex: set sequence &lt;&lt; 1 | signaled bit), waiter count, reset mode; see
 * {@link io.shmflux.internal.layout.EventDescriptor} for the diagram and offset table.
 *
 * <h2>Wait and wake protocol</h2>
 * <ol>
 * <li>The waiter remembers the set sequence. Manual reset: it passes if the event is signaled or the
 *     sequence moved. Auto reset: it passes if its CAS from signaled to not signaled wins.</li>
 * <li>Else it adds one to the waiter count (full fence), checks step 1 again, and
 *     {@code FUTEX_WAIT}s while the state word is unchanged, for at most 100 ms; subtracts one; repeats.</li>
 * <li>{@code set()} CASes the state to signaled with the sequence advanced, then reads the waiter
 *     count and, if any, wakes all (manual) or one (auto).</li>
 * <li>An auto-reset waiter that gives up (timeout, interrupt) while the event is signaled and others
 *     wait wakes one of them.</li>
 * </ol>
 * Details in {@link io.shmflux.internal.sync.EventWords}.
 *
 * <h2>Reactive form</h2>
 * {@link #signals()} waits on {@code Schedulers.boundedElastic()}, never on a non-blocking thread.
 */
public final class NamedEvent extends Waitable {

    private static final Duration SIGNAL_POLL = Duration.ofMillis(200);

    private final EventWords words;

    private NamedEvent(EventWords words) {
        this.words = words;
    }

    /**
     * Creates an event that must not exist yet.
     *
     * @throws io.shmflux.ObjectAlreadyExistsException if it exists
     * @throws io.shmflux.WrongObjectKindException if the name is held by another kind of object
     */
    public static NamedEvent create(String name, EventReset reset, EventState initial) {
        return new NamedEvent(EventWords.acquire(name, Disposition.CREATE_NEW, reset == EventReset.MANUAL,
                initial == EventState.SIGNALED));
    }

    /** {@link #createOrOpen(String, EventReset, EventState)}, starting not signaled. */
    public static NamedEvent createOrOpen(String name, EventReset reset) {
        return createOrOpen(name, reset, EventState.NOT_SIGNALED);
    }

    /**
     * Opens the event if it exists (keeping its mode and state), creates it otherwise (Win32
     * {@code CreateEvent}).
     *
     * @throws io.shmflux.WrongObjectKindException if the name is held by another kind of object
     */
    public static NamedEvent createOrOpen(String name, EventReset reset, EventState initial) {
        return new NamedEvent(EventWords.acquire(name, Disposition.OPEN_ALWAYS, reset == EventReset.MANUAL,
                initial == EventState.SIGNALED));
    }

    /**
     * Opens an existing event (Win32 {@code OpenEvent}).
     *
     * @throws io.shmflux.ObjectNotFoundException if there is none
     * @throws io.shmflux.WrongObjectKindException if the name is held by another kind of object
     */
    public static NamedEvent open(String name) {
        return new NamedEvent(EventWords.acquire(name, Disposition.OPEN_EXISTING, false, false));
    }

    /** {@return how the event resets, as it was created} */
    public EventReset resetMode() {
        return words.manual() ? EventReset.MANUAL : EventReset.AUTO;
    }

    /** Signals the event (Win32 {@code SetEvent}). */
    public void set() {
        words.handle().run(words::set);
    }

    /** Makes the event not signaled (Win32 {@code ResetEvent}). */
    public void reset() {
        words.handle().run(words::reset);
    }

    /**
     * Waits until the event is signaled, at most {@code timeout} (Win32 {@code WaitForSingleObject}).
     * An auto-reset event is reset by the waiter it releases.
     *
     * @return {@code SIGNALED} or {@code TIMEOUT}
     * @throws io.shmflux.InvalidParameterException if the timeout is negative
     * @throws io.shmflux.WaitInterruptedException  if the thread is interrupted while it waits
     * @throws io.shmflux.HandleClosedException     if the handle is or gets closed
     */
    public WaitResult await(Duration timeout) {
        return awaitOne(timeout);
    }

    /**
     * {@return the event's signals as a stream: element {@code n} (from 1) is the n-th signal this
     * subscriber got} Auto reset: each element is a signal consumed by this subscriber (it competes
     * with other waiters, one set releases one of them). Manual reset: the first element comes when
     * the event is signaled at subscription or next set; each later one when the event is set again
     * after the previous element (sets between requests coalesce into one element).
     *
     * <p>Waits run on {@code Schedulers.boundedElastic()}, one element per request. Cancelling ends
     * the wait within 200 ms; an auto-reset signal taken after the cancel is put back with
     * {@code set()}. The stream fails with {@link io.shmflux.HandleClosedException} if the handle is
     * closed.
     */
    public Flux<Long> signals() {
        return Flux.defer(() -> {
            AtomicBoolean cancelled = new AtomicBoolean();
            long[] state = {0, 0, 0}; // count, last state seen, whether one was seen
            return Flux.<Long>generate(sink -> {
                SyncHandle handle = words.handle();
                while (!cancelled.get()) {
                    WaitAttempt attempt = state[2] == 0 || !words.manual()
                            ? words.attempt() : words.attemptAfter((int) state[1]);
                    WaitResult result;
                    handle.enter();
                    try {
                        result = Waits.awaitOne(attempt, SIGNAL_POLL);
                    } finally {
                        handle.exit();
                    }
                    if (result == WaitResult.SIGNALED) {
                        if (cancelled.get()) {
                            if (!words.manual()) {
                                set(); // give the consumed signal back
                            }
                            break;
                        }
                        state[0]++;
                        state[1] = EventWords.satisfiedBy(attempt);
                        state[2] = 1;
                        sink.next(state[0]);
                        return;
                    }
                }
                sink.complete();
            }).subscribeOn(Schedulers.boundedElastic()).doOnCancel(() -> cancelled.set(true));
        });
    }

    @Override
    SyncHandle handle() {
        return words.handle();
    }

    @Override
    WaitAttempt newAttempt() {
        return words.attempt();
    }
}
