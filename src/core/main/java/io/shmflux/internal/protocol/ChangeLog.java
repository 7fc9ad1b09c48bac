package io.shmflux.internal.protocol;

import io.shmflux.internal.observe.Diagnostics;
import io.shmflux.AccessDeniedException;
import io.shmflux.ChangesCompletedException;
import io.shmflux.ReentrantChangeException;
import io.shmflux.WaitTimeoutException;
import io.shmflux.internal.linux.Futex;
import io.shmflux.internal.liveness.LeaseState;
import io.shmflux.internal.liveness.LeaseTable;
import io.shmflux.internal.namespace.ControlFile;
import org.jspecify.annotations.Nullable;

import java.lang.foreign.MemorySegment;
import java.lang.invoke.VarHandle;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;
import java.util.function.Function;

import static io.shmflux.internal.layout.ChangeLogDescriptor.*;

/**
 * One handle's access to the change log of a file mapping: publishing, consistent reads, and the
 * change records subscribers read. Layout: {@link io.shmflux.internal.layout.ChangeLogDescriptor}.
 *
 * <h2>Publishing a change</h2>
 * <ol>
 * <li>Take this handle's in-process lock, then the cross-process {@link WriterLock}. If its owner died
 *     holding it, first recover (below).</li>
 * <li>Refuse if the stream was completed. Let {@code n} = sequence / 2 + 1; wait until every live
 *     back-pressure subscriber has taken change {@code n - capacity}, whose record {@code n} overwrites
 *     ({@link BackPressureGate}; a timeout throws before anything is written). Store the pending change
 *     (offset, length, pid, timestamp, thread) in record {@code n} itself, its sequence 0 first, so
 *     that a recoverer knows which range a dead writer was writing.</li>
 * <li>Make the sequence odd (opaque store, then a store-store fence): readers now retry.</li>
 * <li>Run the caller's writer on the data range.</li>
 * <li>Finish change record {@code n}: its flags, then its sequence {@code n} with release.</li>
 * <li>Make the sequence even ({@code 2n}, release): the change is published.</li>
 * <li>Full fence, then read the notify word. Only if it has the waiter bit: advance it (CAS
 *     {@code w} to {@code w + 1}: bit cleared, wake count + 1) and FUTEX_WAKE all sleepers. When
 *     nobody sleeps, no system call and no write: the word's line stays shared with the subscribers.</li>
 * <li>Unlock.</li>
 * </ol>
 *
 * <h2>Recovering from a writer that died</h2>
 * Whoever takes the lock over from a dead owner (the next writer, or a reader or subscriber that finds
 * the sequence odd for too long) finishes the dead writer's change: if the sequence is odd, it writes
 * record {@code n} from the pending change it holds, with flag {@code TORN} (the range may be half written),
 * makes the sequence even and notifies. A torn change is reported, never hidden: to subscribers by the
 * record's flag, to readers by the torn range, which stays until a whole change rewrites all of it.
 *
 * <p>A handle without write access cannot finish the change. Its readers return the data flagged
 * torn instead of waiting (a {@code read} throws {@code TornDataException}), and its feeds deliver the
 * dead writer's change flagged torn from its pending record ({@link #abandonedChange(long)}).
 *
 * <h2>Re-entry</h2>
 * A call made on a writer's own thread from inside its writer lambda could only corrupt the numbering
 * (a nested change) or wait for a change that cannot end (a read), so it throws
 * {@link ReentrantChangeException} before it touches anything. It is recognized where the call would
 * otherwise wait, so the common path pays nothing: the handle's in-process lock held by this thread
 * (the same handle), or a change in progress (the sequence odd) whose pending pid and thread are this
 * process and this thread (any handle of the object).
 *
 * <h2>Reading consistently (seqlock)</h2>
 * <ol>
 * <li>Read the sequence with acquire; if odd, wait (bounded spin, then short sleeps; every 20 ms check
 *     whether the writer died: recover it, or, without write access, read the data flagged torn) and
 *     start again. A live writer that keeps one change open longer than the object's publish timeout
 *     makes the read throw {@link WaitTimeoutException}: no read waits without a bound.</li>
 * <li>Copy (or parse) the range, and read the torn range (the changes left half written).</li>
 * <li>Load-load fence, read the sequence again: unchanged means nothing was written meanwhile, so the
 *     copy is consistent; otherwise start again.</li>
 * </ol>
 */
public final class ChangeLog {

    private static final int READ_SPINS = 128;
    private static final long RECOVERY_CHECK_NANOS = TimeUnit.MILLISECONDS.toNanos(20);
    private static final long MAX_BACKOFF_NANOS = TimeUnit.MICROSECONDS.toNanos(500);

    private final ControlFile control;
    private final MemorySegment region;
    private final MemorySegment notifyWord;
    private final ChangeRing ring;
    private final int capacity;
    private final long ringOffset;
    private final long pid = ProcessHandle.current().pid();
    /** The table of writer slots, for probing (any handle) and claiming (a handle that writes). */
    private final LeaseTable holders;
    /** True if this handle's control file is writable: it may take a writer slot, publish, recover. */
    private final boolean canWrite;
    /**
     * This handle's writer slot and its writer lock: claimed on first use under {@link #localLock}
     * (the first publish, or the first recovery of a dead writer's change), so that a handle that only
     * reads or subscribes never uses up one of the object's writer slots.
     */
    private @Nullable HolderSlot slot;
    private @Nullable WriterLock writerLock;
    private final @Nullable BackPressureGate gate;
    private final @Nullable LeaseTable subscriberLeases;
    private final ReentrantLock localLock = new ReentrantLock();
    private volatile @Nullable ChangeRecord abandoned;
    /** How long a read waits for one change a live writer keeps open: the object's publish timeout. */
    private final long readTimeoutNanos;

    /**
     * The log lives in the control file; the data it guards is passed to each call as the segment of
     * the range concerned, so that the caller decides how it is mapped (an object too large to map
     * whole gets a view of just that range per call).
     */
    public ChangeLog(ControlFile control) {
        this.control = control;
        this.region = control.region();
        // checked at open; again here, as this handle may start publishing long after (a co-holder may write it)
        checkRegion(region, control.path());
        this.notifyWord = region.asSlice(NOTIFY_OFFSET, 4);
        this.ring = new ChangeRing(region);
        this.capacity = ring.capacity();
        this.ringOffset = ring.ringOffset();
        this.readTimeoutNanos = (long) LONG.get(region, PUBLISH_TIMEOUT_OFFSET);
        this.holders = HolderSlot.table(control, ring.holderSlots());
        this.canWrite = control.writable();
        if (canWrite) {
            this.subscriberLeases = new LeaseTable(control.descriptor(), SUBSCRIBER_LOCK_BASE, ring.subscriberSlots(),
                    null, "back-pressure subscriber slots", control.name().toString());
            this.gate = new BackPressureGate(subscriberLeases, ring);
        } else {
            this.subscriberLeases = null;
            this.gate = null;
        }
    }

    /** Initializes a new change log; called once by the creator, on zeroed memory. */
    public static void initialize(MemorySegment region, int ringCapacity, long publishTimeoutNanos) {
        INT.set(region, RING_CAPACITY_OFFSET, checkRingCapacity(ringCapacity));
        INT.set(region, HOLDER_SLOTS_OFFSET, HOLDER_SLOTS);
        INT.set(region, SUBSCRIBER_SLOTS_OFFSET, SUBSCRIBER_SLOTS);
        LONG.set(region, PUBLISH_TIMEOUT_OFFSET, publishTimeoutNanos);
    }

    /** {@return the bytes of control-file region a change log with this capacity needs} */
    public static long regionLength(int ringCapacity) {
        return io.shmflux.internal.layout.ChangeLogDescriptor.regionLength(checkRingCapacity(ringCapacity),
                HOLDER_SLOTS, SUBSCRIBER_SLOTS);
    }

    public int capacity() {
        return capacity;
    }

    /** {@return the read-only reader of this log} */
    public ChangeRing ring() {
        return ring;
    }

    /** {@return how many changes were published so far: the sequence of the latest} */
    public long published() {
        return ring.published();
    }

    /** {@return true while a writer is between steps 3 and 6} */
    public boolean writing() {
        return ring.writing();
    }

    /** {@return true if this handle can write the log (publish, recover, sleep on the futex word)} */
    public boolean writable() {
        return canWrite;
    }

    /** {@return how many times publishers of this handle slept for a back-pressure subscriber} */
    public long backPressureWaits() {
        return gate == null ? 0 : gate.waits();
    }

    /**
     * {@return true if the change in progress, if any, is this thread's own: the caller runs inside
     * one of this object's writer lambdas} Only asked where the caller would otherwise wait.
     */
    private boolean insideOwnChange() {
        long sequence = (long) LONG.getAcquire(region, SEQUENCE_OFFSET);
        if ((sequence & 1) == 0) {
            return false;
        }
        long record = pendingRecord(sequence);
        return (long) LONG.get(region, record + RECORD_WRITER_PID_OFFSET) == pid
                && (long) LONG.get(region, record + RECORD_WRITER_THREAD_OFFSET) == Thread.currentThread().threadId()
                && (long) LONG.getAcquire(region, SEQUENCE_OFFSET) == sequence;
    }

    private ReentrantChangeException reentry(String operation) {
        return new ReentrantChangeException("called inside a writer of the same object: object=" + control.name()
                + ", operation=" + operation + ", reason=the writer's change is still in progress on this thread");
    }

    /**
     * Publishes a change of {@code [offset, offset + range.byteSize())}; {@return its sequence}
     *
     * @param range that range of the object's data, mapped read-write
     */
    public long publish(long offset, MemorySegment range, Consumer<MemorySegment> writer) {
        // no lambda here (unlike complete and recover): this is the hot path, and a capturing lambda
        // per call is an allocation the JIT does not always remove
        long length = range.byteSize();
        WriterLock lock = lock("publish");
        try {
            long sequence = (long) LONG.get(region, SEQUENCE_OFFSET);
            long n = (sequence >>> 1) + 1;
            refuseIfCompleted(n);
            gate().awaitRoom(n, control.name().toString());
            long record = begin(n, offset, length);
            LONG.setOpaque(region, SEQUENCE_OFFSET, sequence + 1);
            VarHandle.storeStoreFence();
            int flags = FLAG_TORN; // until the writer returns
            try {
                writer.accept(range);
                flags = 0;
            } finally {
                finish(n, record, offset, length, flags);
            }
            return n;
        } finally {
            unlock(lock);
        }
    }

    /**
     * Ends the change stream (idempotent): writes an end-of-stream marker as change {@code n}, after
     * which every feed completes and {@code publish} throws. {@return the marker's sequence}
     */
    public long complete() {
        return withWriterLock("completeChanges", () -> {
            long end = ring.endSequence();
            if (end != 0) {
                return end;
            }
            long sequence = (long) LONG.get(region, SEQUENCE_OFFSET);
            long n = (sequence >>> 1) + 1;
            gate().awaitRoom(n, control.name().toString());
            long record = begin(n, 0, 0);
            LONG.setVolatile(region, END_SEQUENCE_OFFSET, n);
            LONG.setOpaque(region, SEQUENCE_OFFSET, sequence + 1);
            VarHandle.storeStoreFence();
            finish(n, record, 0, 0, FLAG_END);
            return n;
        });
    }

    private void refuseIfCompleted(long n) {
        long end = ring.endSequence();
        if (end != 0) {
            throw new ChangesCompletedException("changes completed: object=" + control.name() + ", endSequence="
                    + end + ", sequence=" + n);
        }
    }

    private BackPressureGate gate() {
        BackPressureGate g = gate;
        if (g == null) {
            throw new AccessDeniedException("publishing needs write access to the control file: object="
                    + control.name());
        }
        return g;
    }

    /**
     * Step 2's end: writes the pending change into record {@code n} itself, its sequence 0 first (a
     * reader of the change it overwrites now fails, and counts that change as lost), so that a
     * recoverer knows which range a dead writer was writing. {@return the record's offset}
     */
    private long begin(long n, long offset, long length) {
        long record = recordOffset(ringOffset, capacity, n);
        LONG.setOpaque(region, record + RECORD_SEQUENCE_OFFSET, 0L);
        VarHandle.storeStoreFence();
        LONG.set(region, record + RECORD_OFFSET_OFFSET, offset);
        LONG.set(region, record + RECORD_LENGTH_OFFSET, length);
        LONG.set(region, record + RECORD_WRITER_PID_OFFSET, pid);
        LONG.set(region, record + RECORD_TIMESTAMP_OFFSET, System.nanoTime());
        LONG.set(region, record + RECORD_WRITER_THREAD_OFFSET, Thread.currentThread().threadId());
        VarHandle.storeStoreFence(); // the pending change before the sequence turns odd
        return record;
    }

    /** Steps 5 to 7, on the record {@link #begin} filled (by this writer, or by a dead one). */
    private void finish(long n, long record, long offset, long length, int flags) {
        if ((flags & FLAG_END) == 0) {
            trackTornRange(n, offset, length, (flags & FLAG_TORN) != 0);
        }
        INT.set(region, record + RECORD_FLAGS_OFFSET, flags);
        LONG.setRelease(region, record + RECORD_SEQUENCE_OFFSET, n);
        LONG.setRelease(region, SEQUENCE_OFFSET, n << 1);
        notifySubscribers();
    }

    /** {@return the offset of the record of the change in progress, when {@code sequence} is odd} */
    private long pendingRecord(long sequence) {
        return recordOffset(ringOffset, capacity, (sequence >>> 1) + 1);
    }

    /**
     * Keeps the torn range (while the sequence is odd, so readers see it consistently with the data):
     * a torn change widens it to cover its range; a whole change that covers all of it clears it.
     */
    private void trackTornRange(long n, long offset, long length, boolean torn) {
        long tornLength = (long) LONG.get(region, TORN_LENGTH_OFFSET);
        if (tornLength == 0 && !torn) {
            return; // the common case: nothing torn, nothing to clear
        }
        long tornOffset = (long) LONG.get(region, TORN_OFFSET_OFFSET);
        if (torn) {
            long start = tornLength == 0 ? offset : Math.min(offset, tornOffset);
            long end = tornLength == 0 ? offset + length : Math.max(offset + length, tornOffset + tornLength);
            LONG.set(region, TORN_OFFSET_OFFSET, start);
            LONG.set(region, TORN_LENGTH_OFFSET, end - start);
            LONG.set(region, TORN_SEQUENCE_OFFSET, n);
        } else if (tornLength != 0 && offset <= tornOffset && offset + length >= tornOffset + tornLength) {
            LONG.set(region, TORN_LENGTH_OFFSET, 0L);
        }
    }

    /**
     * Step 7: wakes the sleeping subscribers, if any. The full fence orders the sequence store before
     * the load of the notify word; a subscriber orders its CAS of the waiter bit before its load of
     * the sequence: one of the two sees the other, so either the subscriber does not sleep or this
     * sees its bit. Nobody asleep: nothing written, so the word's cache line stays shared.
     */
    private void notifySubscribers() {
        VarHandle.fullFence();
        if (((int) INT.getVolatile(region, NOTIFY_OFFSET) & 1) != 0 && advanceNotifyWord()) {
            Futex.wake(notifyWord, Integer.MAX_VALUE);
        }
    }

    /**
     * Clears the waiter bit and advances the word's wake count in one step ({@code (w | 1) + 1}), so
     * that a subscriber about to FUTEX_WAIT on the value it set finds the word changed: the count,
     * not the bit, is what no later waiter can set back (it would take 2^31 wake-ups).
     * {@return true if the bit was set, so that a FUTEX_WAKE is due}
     */
    private boolean advanceNotifyWord() {
        while (true) {
            int word = (int) INT.getVolatile(region, NOTIFY_OFFSET);
            if ((word & 1) == 0) {
                return false;
            }
            if (INT.compareAndSet(region, NOTIFY_OFFSET, word, word + 1)) {
                return true;
            }
        }
    }

    private interface Locked<T extends @Nullable Object> {
        T run();
    }

    /**
     * Runs {@code action} holding this handle's in-process lock and the writer lock. A call from inside
     * this object's writer on the same thread is refused where it would wait: this handle's lock held
     * by this thread, or the writer lock held while the change in progress is this thread's.
     */
    private <T extends @Nullable Object> T withWriterLock(String operation, Locked<T> action) {
        WriterLock lock = lock(operation);
        try {
            return action.run();
        } finally {
            unlock(lock);
        }
    }

    /**
     * Takes this handle's in-process lock, then the writer lock, finishing the change of an owner that
     * died holding it; {@return the writer lock} to pass to {@link #unlock}. Throws holding neither.
     */
    private WriterLock lock(String operation) {
        if (!canWrite) {
            throw new AccessDeniedException("publishing needs write access to the control file: object="
                    + control.name());
        }
        if (localLock.isHeldByCurrentThread()) {
            throw reentry(operation);
        }
        localLock.lock();
        try {
            if (lockOwnerToken() != 0 && insideOwnChange()) {
                throw reentry(operation); // another handle of this object is writing on this thread
            }
            WriterLock lock = writerLock();
            if (lock.lock()) {
                // its owner died holding it (or the previous holder of our slot did): finish its change
                try {
                    recoverLocked();
                } catch (RuntimeException | Error e) {
                    lock.unlock();
                    throw e;
                }
            }
            return lock;
        } catch (RuntimeException | Error e) {
            localLock.unlock();
            throw e;
        }
    }

    private void unlock(WriterLock lock) {
        try {
            lock.unlock();
        } finally {
            localLock.unlock();
        }
    }

    /** {@return this handle's writer lock, claiming a writer slot on first use} Under {@link #localLock}. */
    private WriterLock writerLock() {
        WriterLock lock = writerLock;
        if (lock == null) {
            HolderSlot claimed = HolderSlot.claim(region, holders);
            slot = claimed;
            lock = new WriterLock(region, claimed);
            writerLock = lock;
        }
        return lock;
    }

    /** {@return the writer lock owner's lease token, 0 if free} read from the shared word, by any handle */
    private int lockOwnerToken() {
        return (int) INT.getVolatile(region, WRITER_LOCK_OFFSET) & ~LOCK_CONTENDED;
    }

    private void withWriterLock(Runnable action) {
        withWriterLock("recover", (Locked<@Nullable Void>) () -> {
            action.run();
            return null;
        });
    }

    /** Step "recover": the lock's previous owner died; finish its change if it was mid-update. */
    private void recoverLocked() {
        long sequence = (long) LONG.get(region, SEQUENCE_OFFSET);
        if ((sequence & 1) != 0) {
            long n = (sequence >>> 1) + 1;
            LONG.set(region, RECOVERED_OFFSET, (long) LONG.get(region, RECOVERED_OFFSET) + 1);
            // a completer that died mid-marker: finish the marker, not a change
            int flags = ring.endSequence() == n ? FLAG_END : FLAG_TORN;
            long record = pendingRecord(sequence);
            long offset = (long) LONG.get(region, record + RECORD_OFFSET_OFFSET);
            long length = (long) LONG.get(region, record + RECORD_LENGTH_OFFSET);
            long pid = (long) LONG.get(region, record + RECORD_WRITER_PID_OFFSET);
            finish(n, record, offset, length, flags);
            Diagnostics.writerRecovered(control.name().toString(), n, offset, length, pid, flags == FLAG_END);
        } else {
            notifySubscribers(); // it may have died between publishing and notifying
        }
    }

    /**
     * If a writer has held the sequence odd while its process is dead, takes the lock over and
     * finishes its change. Does nothing when the writer is alive (it is only slow) or when this handle
     * cannot write.
     */
    public void recoverIfWriterDied() {
        if (canWrite && writerDied()) {
            withWriterLock(() -> { });
        }
    }

    /**
     * {@return true if the sequence is odd and the writer lock's owner is dead} Any handle can ask:
     * the liveness test ({@code F_OFD_GETLK}) needs no write access.
     */
    private boolean writerDied() {
        int token = lockOwnerToken();
        return writing() && (token == 0 || holders.probe(token) != LeaseState.ALIVE);
    }

    /**
     * Looks for a change that a dead writer left unfinished (the sequence odd) when this handle cannot
     * finish it: recovers it if this handle can write, otherwise remembers it for
     * {@link #abandonedChange(long)}. For the change thread, after the sequence stayed odd a while.
     */
    public void checkAbandoned() {
        if (canWrite) {
            recoverIfWriterDied();
            return;
        }
        long sequence = (long) LONG.getAcquire(region, SEQUENCE_OFFSET);
        if ((sequence & 1) == 0 || !writerDied()) {
            return;
        }
        long n = (sequence >>> 1) + 1;
        long record = pendingRecord(sequence);
        ChangeRecord change = new ChangeRecord(n, (long) LONG.get(region, record + RECORD_OFFSET_OFFSET),
                (long) LONG.get(region, record + RECORD_LENGTH_OFFSET),
                (long) LONG.get(region, record + RECORD_WRITER_PID_OFFSET),
                (long) LONG.get(region, record + RECORD_TIMESTAMP_OFFSET), true, ring.endSequence() == n);
        VarHandle.loadLoadFence();
        if ((long) LONG.getOpaque(region, SEQUENCE_OFFSET) == sequence) {
            abandoned = change;
        }
    }

    /**
     * {@return change {@code n} if it is the unfinished change of a dead writer that this handle found
     * and cannot finish (flagged torn), else null}
     */
    public @Nullable ChangeRecord abandonedChange(long n) {
        ChangeRecord change = abandoned;
        if (change == null || change.sequence() != n
                || (long) LONG.getAcquire(region, SEQUENCE_OFFSET) != ((n - 1) << 1) + 1) {
            return null;
        }
        return change;
    }

    /** Claims a back-pressure slot for a subscriber whose next change is {@code position}. */
    SubscriberSlot claimSubscriberSlot(long position) {
        if (subscriberLeases == null) {
            throw new AccessDeniedException("a back-pressure subscriber needs write access to the control file: object="
                    + control.name());
        }
        return SubscriberSlot.claim(subscriberLeases, ring, position);
    }


    /**
     * The outcome of a consistent read.
     *
     * @param value    what the reader returned
     * @param sequence the change after which the read saw the data
     * @param tornStart  where, within the range, the part that may be half written starts (0 if not torn)
     * @param tornLength how long that part is: 0 if not torn; the whole range when the half-written
     *                   change is a dead writer's that this handle cannot finish
     */
    public record Read<T>(T value, long sequence, long tornStart, long tornLength) {

        /**
         * {@return true if the range overlaps a change that a writer left half written and nobody has
         * rewritten whole since}
         */
        public boolean torn() {
            return tornLength > 0;
        }
    }

    /**
     * Runs {@code reader} on the range until it ran while no write happened; {@return its last result}
     * An exception from a run that overlapped a write is discarded and the run repeated; one from a
     * clean run is thrown.
     */
    public <T> Read<T> read(long offset, MemorySegment range, Function<MemorySegment, T> reader) {
        long length = range.byteSize();
        int spins = 0;
        long backoff = 1_000;
        long oddSince = 0;
        long openSince = 0; // when the change in progress (oddValue) was first seen
        long oddValue = 0;
        boolean abandonedWrite = false;
        while (true) {
            long before = (long) LONG.getAcquire(region, SEQUENCE_OFFSET);
            if ((before & 1) != 0 && !abandonedWrite) {
                if (spins == 0 && insideOwnChange()) {
                    throw reentry("read");
                }
                if (spins++ < READ_SPINS) {
                    Thread.onSpinWait();
                    continue;
                }
                long now = System.nanoTime();
                if (before != oddValue) {
                    oddValue = before;
                    openSince = now;
                }
                if (oddSince == 0) {
                    oddSince = now;
                } else if (now - oddSince > RECOVERY_CHECK_NANOS) {
                    oddSince = now;
                    if (canWrite) {
                        recoverIfWriterDied();
                    } else if (writerDied()) {
                        abandonedWrite = true; // nobody here can finish it: read it as it is, flagged torn
                        continue;
                    }
                    if (now - openSince > readTimeoutNanos) {
                        throw new WaitTimeoutException("read timed out waiting for a change in progress: object="
                                + control.name() + ", sequence=" + ((before >>> 1) + 1) + ", writerPid="
                                + (long) LONG.get(region, pendingRecord(before) + RECORD_WRITER_PID_OFFSET) + ", timeoutMillis="
                                + TimeUnit.NANOSECONDS.toMillis(readTimeoutNanos));
                    }
                }
                LockSupport.parkNanos(backoff);
                backoff = Math.min(backoff * 2, MAX_BACKOFF_NANOS);
                continue;
            }
            T result;
            try {
                result = reader.apply(range);
            } catch (RuntimeException e) {
                VarHandle.loadLoadFence();
                if (before == (long) LONG.getOpaque(region, SEQUENCE_OFFSET)) {
                    throw e; // the reader failed on consistent data: its own failure
                }
                abandonedWrite = false; // it failed on a range being rewritten: read again
                continue;
            }
            long tornOffset = (long) LONG.get(region, TORN_OFFSET_OFFSET);
            long tornLength = (long) LONG.get(region, TORN_LENGTH_OFFSET);
            VarHandle.loadLoadFence();
            long after = (long) LONG.getOpaque(region, SEQUENCE_OFFSET);
            if (before == after) {
                if ((before & 1) != 0) { // a dead writer's change nobody here can finish: all of it, to be safe
                    return new Read<>(result, before >>> 1, 0, length);
                }
                if (tornLength != 0 && tornOffset < offset + length && offset < tornOffset + tornLength) {
                    long start = Math.max(tornOffset, offset) - offset;
                    long end = Math.min(tornOffset + tornLength, offset + length) - offset;
                    // a torn range from shared memory that makes no sense (overflow): the whole range
                    return start >= 0 && end > start && end <= length
                            ? new Read<>(result, before >>> 1, start, end - start)
                            : new Read<>(result, before >>> 1, 0, length);
                }
                return new Read<>(result, before >>> 1, 0, 0);
            }
            abandonedWrite = false; // somebody finished it meanwhile: read again
        }
    }

    /**
     * Sleeps until a change after {@code seen} is published, at most {@code timeoutNanos} (the
     * subscriber's side of the notify handshake): CAS the waiter bit onto the exact value of the notify
     * word read; then read the sequence: moved past {@code seen}, return; else FUTEX_WAIT on the word
     * with the bit. A writer that publishes after the bit was set sees it and advances the word, so
     * the wait returns at once.
     */
    public void awaitChange(long seen, long timeoutNanos, BooleanSupplier stopped) {
        if (!control.writable()) {
            LockSupport.parkNanos(Math.min(timeoutNanos, TimeUnit.MILLISECONDS.toNanos(1)));
            return;
        }
        int word = (int) INT.getVolatile(region, NOTIFY_OFFSET);
        int sleeping = word | 1;
        if (word != sleeping && !INT.compareAndSet(region, NOTIFY_OFFSET, word, sleeping)) {
            return;
        }
        // the bit is set (the CAS is a full fence, and a bit already set was set by a CAS): a publish
        // that this load does not see will see the bit (its half is in notifySubscribers)
        if (ring.published() != seen) {
            return;
        }
        // the stopper's half of the handshake is in wakeToStop: it sets the flag, then advances the
        // word and wakes; we set the bit, then read the flag: one of us sees the other
        if (stopped.getAsBoolean()) {
            return;
        }
        INT.getAndAdd(region, SLEEPERS_OFFSET, 1);
        try {
            Futex.await(notifyWord, sleeping, timeoutNanos);
        } finally {
            INT.getAndAdd(region, SLEEPERS_OFFSET, -1);
        }
    }

    /**
     * Wakes this handle's change thread so that it sees its stop flag, set by the caller before:
     * advances the word if the waiter bit is set (so a sleep on the word with the bit ends, and a
     * thread about to sleep finds the word changed or the flag set) and wakes every sleeper. Sleepers of other processes wake too, find
     * nothing new and set the bit again before they sleep, so no publisher's wake-up is lost.
     */
    public void wakeToStop() {
        VarHandle.fullFence(); // the caller's stop flag before the load of the word
        advanceNotifyWord();
        Futex.wake(notifyWord, Integer.MAX_VALUE);
    }

    /** Frees this handle's holder slot (diagnostic pid). */
    public void close() {
        if (slot != null) {
            slot.clear();
        }
    }
}
