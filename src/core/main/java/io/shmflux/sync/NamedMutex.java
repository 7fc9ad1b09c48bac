package io.shmflux.sync;

import io.shmflux.AbandonedMutexException;
import io.shmflux.WaitTimeoutException;
import io.shmflux.internal.namespace.ControlFile.Disposition;
import io.shmflux.internal.sync.MutexWords;
import io.shmflux.internal.sync.SyncHandle;
import io.shmflux.internal.sync.WaitAttempt;
import io.shmflux.internal.sync.Waits;
import org.reactivestreams.Publisher;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Scheduler;
import reactor.core.scheduler.Schedulers;

import java.time.Duration;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * A named mutex shared between processes (Win32 {@code CreateMutex} / {@code OpenMutex}): owned by
 * one thread at a time, recursive, and reporting abandonment when its owner dies.
 *
 * {@snippet :
 * try (NamedMutex mutex = NamedMutex.createOrOpen("orders-lock")) {
 *     String r = mutex.withLock(Duration.ofSeconds(5), () -> update(view));
 * }
 * }
 *
 * <h2>Semantics</h2>
 * <ul>
 * <li>Owned by a thread, not a handle or process: the owner may lock again (through any handle of
 *     its process) and must {@link #unlock()} as often; only the owner may unlock
 *     ({@link io.shmflux.NotOwnerException} otherwise, nothing changed).</li>
 * <li>If the owner's process dies holding it (killed, crashed, or closing its last handle to the
 *     mutex while owning it), the next {@link #lock} anywhere returns {@link WaitResult#ABANDONED}
 *     and owns it; waiters already asleep notice within one wait slice (100 ms). If the owning thread
 *     ends while its process lives, the next lock by a thread of the same process returns
 *     {@code ABANDONED}; threads of other processes cannot see threads and keep waiting until then.</li>
 * </ul>
 *
 * <h2>Shared layout</h2>
 * The lock word (futex) holds 0 or the owner process's token with a waiters bit; a table of 1024 slot
 * generations follows. See {@link io.shmflux.internal.layout.MutexDescriptor} for the diagram and
 * offset table, and for how a token proves its process alive (an OFD lock per process slot on the
 * control file, checked by the kernel, immune to pid reuse).
 *
 * <h2>Lock protocol</h2>
 * <ol>
 * <li>Recursion: if the calling thread owns it, count one more hold.</li>
 * <li>CAS the lock word from 0 to this process's token: owned.</li>
 * <li>If the word holds a token whose process (or, in this process, whose thread) is dead, CAS it to
 *     ours: owned, {@code ABANDONED}.</li>
 * <li>Else set the waiters bit and {@code FUTEX_WAIT} on the word for at most 100 ms; then again from
 *     step 1, until the timeout.</li>
 * </ol>
 * Unlock: count one hold less; at zero, swap the word to 0 and {@code FUTEX_WAKE} one waiter if the
 * waiters bit was set. Details in {@link io.shmflux.internal.sync.MutexWords}.
 *
 * <h2>Reactive forms</h2>
 * {@link #usingLock} and {@link #usingLockMany} hold the mutex for the life of a {@code Mono} or
 * {@code Flux}. Because a mutex is owned by a thread, each acquisition gets a dedicated thread of its
 * own (a {@code Schedulers.newSingle} daemon thread) that locks, and later unlocks, and is then
 * disposed; the blocking lock never runs on a Reactor non-blocking thread, and the body runs wherever
 * its publisher runs.
 */
public final class NamedMutex extends Waitable {

    private final MutexWords words;

    private NamedMutex(MutexWords words) {
        this.words = words;
    }

    /**
     * Creates a mutex that must not exist yet.
     *
     * @throws io.shmflux.ObjectAlreadyExistsException if it exists
     * @throws io.shmflux.WrongObjectKindException if the name is held by another kind of object
     */
    public static NamedMutex create(String name) {
        return create(name, InitialOwner.NONE);
    }

    /** {@link #create(String)}, owned by the calling thread if {@code owner} says so. */
    public static NamedMutex create(String name, InitialOwner owner) {
        return new NamedMutex(MutexWords.acquire(name, Disposition.CREATE_NEW, owner == InitialOwner.CALLING_THREAD));
    }

    /**
     * Opens the mutex if it exists, creates it otherwise (Win32 {@code CreateMutex}).
     *
     * @throws io.shmflux.WrongObjectKindException if the name is held by another kind of object
     */
    public static NamedMutex createOrOpen(String name) {
        return createOrOpen(name, InitialOwner.NONE);
    }

    /**
     * {@link #createOrOpen(String)}; if this call creates it and {@code owner} is
     * {@link InitialOwner#CALLING_THREAD}, the calling thread owns it (an opened mutex is not locked).
     */
    public static NamedMutex createOrOpen(String name, InitialOwner owner) {
        return new NamedMutex(MutexWords.acquire(name, Disposition.OPEN_ALWAYS, owner == InitialOwner.CALLING_THREAD));
    }

    /**
     * Opens an existing mutex (Win32 {@code OpenMutex}).
     *
     * @throws io.shmflux.ObjectNotFoundException if there is none
     * @throws io.shmflux.WrongObjectKindException if the name is held by another kind of object
     */
    public static NamedMutex open(String name) {
        return new NamedMutex(MutexWords.acquire(name, Disposition.OPEN_EXISTING, false));
    }

    /**
     * Locks the mutex, waiting at most {@code timeout} (Win32 {@code WaitForSingleObject}).
     *
     * @return {@code SIGNALED} (owned), {@code ABANDONED} (owned; the previous owner died holding it)
     *         or {@code TIMEOUT} (not owned)
     * @throws io.shmflux.InvalidParameterException if the timeout is negative
     * @throws io.shmflux.WaitInterruptedException  if the thread is interrupted while it waits
     * @throws io.shmflux.HandleClosedException     if the handle is or gets closed
     */
    public WaitResult lock(Duration timeout) {
        return awaitOne(timeout);
    }

    /**
     * Releases one hold of the calling thread (Win32 {@code ReleaseMutex}); the last one frees the
     * mutex and wakes one waiter.
     *
     * @throws io.shmflux.NotOwnerException     if the calling thread does not own the mutex
     * @throws io.shmflux.HandleClosedException if the handle is closed
     */
    public void unlock() {
        words.handle().run(words::unlock);
    }

    /** {@return true if the calling thread owns the mutex} */
    public boolean isHeldByCurrentThread() {
        return words.handle().call(words::isHeldByCurrentThread);
    }

    /**
     * Runs {@code body} holding the mutex, and unlocks it however {@code body} ends.
     *
     * @apiNote Abandonment is not a normal outcome here: if the previous owner died holding the mutex,
     * the data it guards may be half-updated, and a body written for the normal case should not run
     * on it. Use {@link #lock} to take over and repair.
     * @return what {@code body} returned
     * @throws WaitTimeoutException     if the mutex was not acquired within {@code timeout}
     * @throws AbandonedMutexException  if the previous owner died holding it (the mutex is released
     *                                  again and {@code body} did not run)
     */
    public <T> T withLock(Duration timeout, Supplier<T> body) {
        WaitResult result = lock(timeout);
        if (result == WaitResult.TIMEOUT) {
            throw new WaitTimeoutException("mutex lock timed out: object=" + words.handle().describe()
                    + ", timeout=" + timeout);
        }
        if (result == WaitResult.ABANDONED) {
            unlock();
            throw new AbandonedMutexException("mutex abandoned: object=" + words.handle().describe()
                    + ", reason=previous owner died holding it; use lock() to take over and repair");
        }
        try {
            return body.get();
        } finally {
            unlock();
        }
    }

    /**
     * Holds the mutex for the life of the {@code Mono} that {@code body} returns ({@code Mono.usingWhen}).
     * On subscription a dedicated thread locks the mutex (waiting at most {@code timeout}); the body
     * gets the lock's result ({@code SIGNALED} or {@code ABANDONED}); the same thread unlocks it when
     * the body completes, fails, or is cancelled, then ends. A cancel while the lock is still waited
     * for interrupts that wait (an acquisition that races the cancel is unlocked at once).
     *
     * @return the body's value; an error {@link WaitTimeoutException} if the lock timed out
     */
    public <T> Mono<T> usingLock(Duration timeout, Function<? super WaitResult, ? extends Mono<? extends T>> body) {
        Waits.timeoutNanos(timeout);
        return Mono.usingWhen(lease(timeout), lease -> body.apply(lease.result),
                Lease::release, (lease, error) -> lease.release(), Lease::release);
    }

    /** {@link #usingLock} for a body of many values ({@code Flux.usingWhen}). */
    public <T> Flux<T> usingLockMany(Duration timeout, Function<? super WaitResult, ? extends Publisher<? extends T>> body) {
        Waits.timeoutNanos(timeout);
        return Flux.usingWhen(lease(timeout), lease -> body.apply(lease.result),
                Lease::release, (lease, error) -> lease.release(), Lease::release);
    }

    private Mono<Lease> lease(Duration timeout) {
        return Mono.defer(() -> {
            Scheduler thread = Schedulers.newSingle("shmflux-mutex", true);
            return Leases.acquireOn(thread, Lease.class, () -> {
                WaitResult result = lock(timeout);
                if (result == WaitResult.TIMEOUT) {
                    throw new WaitTimeoutException("mutex lock timed out: object=" + words.handle().describe()
                            + ", timeout=" + timeout);
                }
                return new Lease(result, thread);
            }, lease -> lease.release().subscribe(), () -> thread.disposeGracefully().subscribe());
        });
    }

    /** One acquisition by the reactive forms: the result and the thread that owns the mutex. */
    private final class Lease {
        final WaitResult result;
        private final Scheduler thread;
        private final AtomicBoolean released = new AtomicBoolean();

        Lease(WaitResult result, Scheduler thread) {
            this.result = result;
            this.thread = thread;
        }

        /** Unlocks on the owning thread, then ends it. Idempotent. */
        Mono<Void> release() {
            return Mono.defer(() -> {
                if (!released.compareAndSet(false, true)) {
                    return Mono.empty();
                }
                return Mono.<Void>fromRunnable(() -> {
                    try {
                        if (words.handle().isOpen()) {
                            unlock();
                        }
                    } finally {
                        thread.disposeGracefully().subscribe();
                    }
                }).subscribeOn(thread);
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
