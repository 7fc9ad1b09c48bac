/**
 * Named synchronization objects shared between processes, the Win32 way: {@link io.shmflux.sync.NamedMutex},
 * {@link io.shmflux.sync.NamedEvent}, {@link io.shmflux.sync.NamedSemaphore}, and waiting for any of
 * several with {@link io.shmflux.sync.Waitable#awaitAny}. They share one name space with file mappings
 * (a name held by another kind of object fails with {@link io.shmflux.WrongObjectKindException}) and
 * live while any handle to them exists in any process.
 *
 * <table class="striped">
 * <caption>Win32 and shmflux</caption>
 * <thead><tr><th>Win32</th><th>shmflux</th><th>Linux mechanism</th></tr></thead>
 * <tbody>
 * <tr><td>{@code CreateMutex} / {@code OpenMutex}</td><td>{@code NamedMutex.createOrOpen / create / open}</td>
 *     <td>a control file in {@code /dev/shm} whose shared words hold the lock; an OFD lock per process slot proves the owner alive</td></tr>
 * <tr><td>{@code WaitForSingleObject} on a mutex / {@code ReleaseMutex}</td><td>{@code lock(Duration)} / {@code unlock()}</td>
 *     <td>CAS on the lock word, shared {@code FUTEX_WAIT} / {@code FUTEX_WAKE}</td></tr>
 * <tr><td>{@code WAIT_ABANDONED}</td><td>{@link io.shmflux.sync.WaitResult#ABANDONED}</td><td>the owner's slot lock is gone (the kernel dropped it when the process died)</td></tr>
 * <tr><td>{@code CreateEvent} / {@code SetEvent} / {@code ResetEvent}</td><td>{@code NamedEvent.createOrOpen / set() / reset()}</td>
 *     <td>a state word (sequence | signaled bit) and a waiter count</td></tr>
 * <tr><td>{@code CreateSemaphore} / {@code ReleaseSemaphore}</td><td>{@code NamedSemaphore.createOrOpen / release(n)}</td>
 *     <td>a count word and a waiter count</td></tr>
 * <tr><td>{@code WaitForMultipleObjects(..., FALSE, ...)}</td><td>{@code Waitable.awaitAny}</td><td>{@code futex_waitv(2)}; polling slices before Linux 5.16</td></tr>
 * <tr><td>{@code ERROR_TOO_MANY_POSTS}, {@code ERROR_NOT_OWNER}</td><td>{@link io.shmflux.TooManyPostsException}, {@link io.shmflux.NotOwnerException}</td><td></td></tr>
 * </tbody>
 * </table>
 *
 * <h2>Comparison with Win32</h2>
 * <ul>
 * <li>Waits are bounded: they sleep in 100 ms slices, so interrupts ({@link io.shmflux.WaitInterruptedException}),
 *     closed handles and dead mutex owners are noticed within a slice.</li>
 * <li>A mutex owner whose thread ends while its process lives is reported as abandoned only to threads
 *     of that process; other processes see the process alive and keep waiting.</li>
 * <li>Closing a process's last handle to a mutex it owns abandons it at once (Win32 keeps it owned until
 *     the thread ends).</li>
 * <li>No {@code PulseEvent}, no wait-all, no alertable waits; names, permissions ({@code 0600}) and lifetime as
 *     for file mappings.</li>
 * </ul>
 * See {@code src/site/markdown/sync.md}.
 */
@NullMarked
package io.shmflux.sync;

import org.jspecify.annotations.NullMarked;
