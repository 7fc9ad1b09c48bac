package io.shmflux.sync;

import io.shmflux.WaitTimeoutException;
import io.shmflux.internal.namespace.ControlFile.Disposition;
import io.shmflux.internal.sync.SemaphoreWords;
import io.shmflux.internal.sync.SyncHandle;
import io.shmflux.internal.sync.WaitAttempt;
import io.shmflux.internal.sync.Waits;
import org.reactivestreams.Publisher;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Schedulers;

import java.time.Duration;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * A named counting semaphore shared between processes (Win32 {@code CreateSemaphore} /
 * {@code OpenSemaphore}): a count between 0 and a maximum; {@link #acquire} takes one unit, waiting
 * while the count is 0; {@link #release(int)} gives units back. Not owned by anyone: any thread may
 * release.
 *
 * {@snippet :
 * try (NamedSemaphore slots = NamedSemaphore.createOrOpen("gpu-slots", 2, 2)) {
 *     slots.withPermit(Duration.ofSeconds(10), () -> render());
 * }
 * }
 *
 * <h2>Shared layout</h2>
 * Count (futex word), waiter count, maximum; see {@link io.shmflux.internal.layout.SemaphoreDescriptor}
 * for the diagram and offset table.
 *
 * <h2>Wait and wake protocol</h2>
 * <ol>
 * <li>Acquire: if the count is above 0, CAS it one lower: {@code SIGNALED}.</li>
 * <li>Else add one to the waiter count (full fence), check step 1 again, {@code FUTEX_WAIT} while the
 *     count is 0 for at most 100 ms, subtract one; repeat until the timeout.</li>
 * <li>Release {@code n}: CAS the count up by {@code n} unless that passes the maximum
 *     ({@link io.shmflux.TooManyPostsException}, nothing changed); then read the waiter count and
 *     {@code FUTEX_WAKE} up to {@code n} waiters.</li>
 * <li>A waiter that gives up while units are left and others wait wakes one of them.</li>
 * </ol>
 * Details in {@link io.shmflux.internal.sync.SemaphoreWords}.
 *
 * <h2>Reactive forms</h2>
 * {@link #usingPermit} and {@link #usingPermitMany} acquire on {@code Schedulers.boundedElastic()}
 * (the wait blocks) and release, which never blocks, wherever the body ends.
 */
public final class NamedSemaphore extends Waitable {

    private final SemaphoreWords words;

    private NamedSemaphore(SemaphoreWords words) {
        this.words = words;
    }

    /**
     * Creates a semaphore that must not exist yet.
     *
     * @param initial the count to start with, 0 to {@code maximum}
     * @param maximum the highest count, at least 1
     * @throws io.shmflux.InvalidParameterException    if the counts are out of range
     * @throws io.shmflux.ObjectAlreadyExistsException if it exists
     * @throws io.shmflux.WrongObjectKindException     if the name is held by another kind of object
     */
    public static NamedSemaphore create(String name, int initial, int maximum) {
        return new NamedSemaphore(SemaphoreWords.acquire(name, Disposition.CREATE_NEW, initial, maximum));
    }

    /**
     * Opens the semaphore if it exists (keeping its count and maximum), creates it otherwise (Win32
     * {@code CreateSemaphore}). The counts are checked either way.
     *
     * @throws io.shmflux.InvalidParameterException if the counts are out of range
     * @throws io.shmflux.WrongObjectKindException  if the name is held by another kind of object
     */
    public static NamedSemaphore createOrOpen(String name, int initial, int maximum) {
        return new NamedSemaphore(SemaphoreWords.acquire(name, Disposition.OPEN_ALWAYS, initial, maximum));
    }

    /**
     * Opens an existing semaphore (Win32 {@code OpenSemaphore}).
     *
     * @throws io.shmflux.ObjectNotFoundException  if there is none
     * @throws io.shmflux.WrongObjectKindException if the name is held by another kind of object
     */
    public static NamedSemaphore open(String name) {
        return new NamedSemaphore(SemaphoreWords.acquire(name, Disposition.OPEN_EXISTING, 0, 1));
    }

    /** {@return the maximum count, as created} */
    public int maximum() {
        return words.maximum();
    }

    /**
     * Takes one unit, waiting at most {@code timeout} while the count is 0.
     *
     * @return {@code SIGNALED} (one unit taken) or {@code TIMEOUT}
     * @throws io.shmflux.InvalidParameterException if the timeout is negative
     * @throws io.shmflux.WaitInterruptedException  if the thread is interrupted while it waits
     * @throws io.shmflux.HandleClosedException     if the handle is or gets closed
     */
    public WaitResult acquire(Duration timeout) {
        return awaitOne(timeout);
    }

    /** {@link #release(int)} of one unit. */
    public int release() {
        return release(1);
    }

    /**
     * Gives {@code n} units back (Win32 {@code ReleaseSemaphore}) and wakes up to {@code n} waiters.
     *
     * @return the count before
     * @throws io.shmflux.TooManyPostsException     if the count would exceed the maximum (unchanged)
     * @throws io.shmflux.InvalidParameterException if {@code n} is 0 or negative
     */
    public int release(int n) {
        return words.handle().call(() -> words.release(n));
    }

    /**
     * Runs {@code body} holding one unit, and releases it however {@code body} ends.
     *
     * @throws WaitTimeoutException if no unit was acquired within {@code timeout}
     */
    public <T> T withPermit(Duration timeout, Supplier<T> body) {
        if (acquire(timeout) == WaitResult.TIMEOUT) {
            throw timedOut(timeout);
        }
        try {
            return body.get();
        } finally {
            release(1);
        }
    }

    /**
     * Holds one unit for the life of the {@code Mono} that {@code body} returns ({@code Mono.usingWhen}):
     * acquired on {@code Schedulers.boundedElastic()} (waiting at most {@code timeout}), released when
     * the body completes, fails or is cancelled. A cancel while the unit is still waited for
     * interrupts that wait (a unit acquired in a race with the cancel is released at once).
     *
     * @return the body's value; an error {@link WaitTimeoutException} if no unit came in time
     */
    public <T> Mono<T> usingPermit(Duration timeout, Supplier<? extends Mono<? extends T>> body) {
        Waits.timeoutNanos(timeout);
        return Mono.usingWhen(permit(timeout), permit -> body.get(),
                Permit::release, (permit, error) -> permit.release(), Permit::release);
    }

    /** {@link #usingPermit} for a body of many values ({@code Flux.usingWhen}). */
    public <T> Flux<T> usingPermitMany(Duration timeout, Supplier<? extends Publisher<? extends T>> body) {
        Waits.timeoutNanos(timeout);
        return Flux.usingWhen(permit(timeout), permit -> body.get(),
                Permit::release, (permit, error) -> permit.release(), Permit::release);
    }

    private Mono<Permit> permit(Duration timeout) {
        return Mono.defer(() -> Leases.acquireOn(Schedulers.boundedElastic(), Permit.class, () -> {
            if (acquire(timeout) == WaitResult.TIMEOUT) {
                throw timedOut(timeout);
            }
            return new Permit();
        }, permit -> permit.release().subscribe(), () -> { }));
    }

    private WaitTimeoutException timedOut(Duration timeout) {
        return new WaitTimeoutException("semaphore acquire timed out: object=" + words.handle().describe()
                + ", timeout=" + timeout);
    }

    private final class Permit {
        private final AtomicBoolean released = new AtomicBoolean();

        Mono<Void> release() {
            return Mono.fromRunnable(() -> {
                if (released.compareAndSet(false, true) && words.handle().isOpen()) {
                    NamedSemaphore.this.release(1);
                }
            });
        }
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
