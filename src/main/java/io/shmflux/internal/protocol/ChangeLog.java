package io.shmflux.internal.protocol;

import io.shmflux.AccessDeniedException;
import io.shmflux.internal.linux.Futex;
import io.shmflux.internal.namespace.ControlFile;
import org.jspecify.annotations.Nullable;

import java.lang.foreign.MemorySegment;
import java.lang.invoke.VarHandle;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.concurrent.locks.ReentrantLock;
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
 * <li>Let {@code n} = sequence / 2 + 1. Store the pending change (offset, length, pid, timestamp), so
 *     that a recoverer knows which range a dead writer was writing.</li>
 * <li>Make the sequence odd (opaque store, then a store-store fence): readers now retry.</li>
 * <li>Run the caller's writer on the data range.</li>
 * <li>Write change record {@code n}: its sequence field to 0, fence, the fields, then its sequence
 *     {@code n} with release.</li>
 * <li>Make the sequence even ({@code 2n}, release): the change is published.</li>
 * <li>Swap the notify word to {@code n << 1} (getAndSet); FUTEX_WAKE all sleepers only if the old
 *     word had the waiter bit. No system call when nobody sleeps.</li>
 * <li>Unlock.</li>
 * </ol>
 *
 * <h2>Recovering from a writer that died</h2>
 * Whoever takes the lock over from a dead owner (the next writer, or a reader or subscriber that finds
 * the sequence odd for too long) finishes the dead writer's change: if the sequence is odd, it writes
 * record {@code n} from the pending fields with flag {@code TORN} (the range may be half written),
 * makes the sequence even and notifies. A torn change is reported, never hidden: to subscribers by the
 * record's flag, to readers by the torn range, which stays until a whole change rewrites all of it.
 *
 * <h2>Reading consistently (seqlock)</h2>
 * <ol>
 * <li>Read the sequence with acquire; if odd, wait (bounded spin, then short sleeps, recovering a dead
 *     writer) and start again.</li>
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
    private final int capacity;
    private final long ringOffset;
    private final long pid = ProcessHandle.current().pid();
    private final @Nullable HolderSlot slot;
    private final @Nullable WriterLock writerLock;
    private final ReentrantLock localLock = new ReentrantLock();

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
        this.capacity = (int) INT.get(region, RING_CAPACITY_OFFSET);
        this.ringOffset = ringOffset((int) INT.get(region, HOLDER_SLOTS_OFFSET));
        if (control.writable()) {
            this.slot = HolderSlot.claim(control, region, (int) INT.get(region, HOLDER_SLOTS_OFFSET));
            this.writerLock = new WriterLock(region, slot);
            if (writerLock.ownerSlot() == slot.index()) {
                // the previous owner of our slot died holding the writer lock: finish its change now
                withWriterLock(() -> { });
            }
        } else {
            this.slot = null;
            this.writerLock = null;
        }
    }

    /** Initializes a new change log; called once by the creator, on zeroed memory. */
    public static void initialize(MemorySegment region, int ringCapacity) {
        INT.set(region, RING_CAPACITY_OFFSET, checkRingCapacity(ringCapacity));
        INT.set(region, HOLDER_SLOTS_OFFSET, HOLDER_SLOTS);
    }

    /** {@return the bytes of control-file region a change log with this capacity needs} */
    public static long regionLength(int ringCapacity) {
        return io.shmflux.internal.layout.ChangeLogDescriptor.regionLength(checkRingCapacity(ringCapacity), HOLDER_SLOTS);
    }

    public int capacity() {
        return capacity;
    }

    /** {@return how many changes were published so far: the sequence of the latest} */
    public long published() {
        return ((long) LONG.getAcquire(region, SEQUENCE_OFFSET)) >>> 1;
    }

    /** {@return true while a writer is between steps 3 and 6} */
    public boolean writing() {
        return (((long) LONG.getAcquire(region, SEQUENCE_OFFSET)) & 1) != 0;
    }

    /**
     * Publishes a change of {@code [offset, offset + range.byteSize())}; {@return its sequence}
     *
     * @param range that range of the object's data, mapped read-write
     */
    public long publish(long offset, MemorySegment range, Consumer<MemorySegment> writer) {
        long length = range.byteSize();
        return withWriterLock(() -> {
            long sequence = (long) LONG.get(region, SEQUENCE_OFFSET);
            long n = (sequence >>> 1) + 1;
            long now = System.nanoTime();
            LONG.set(region, PENDING_OFFSET_OFFSET, offset);
            LONG.set(region, PENDING_LENGTH_OFFSET, length);
            LONG.set(region, PENDING_PID_OFFSET, pid);
            LONG.set(region, PENDING_TIMESTAMP_OFFSET, now);
            LONG.setOpaque(region, SEQUENCE_OFFSET, sequence + 1);
            VarHandle.storeStoreFence();
            int flags = FLAG_TORN; // until the writer returns
            try {
                writer.accept(range);
                flags = 0;
            } finally {
                finish(n, offset, length, pid, now, flags);
            }
            return n;
        });
    }

    private void finish(long n, long offset, long length, long writerPid, long timestamp, int flags) {
        trackTornRange(n, offset, length, (flags & FLAG_TORN) != 0);
        long record = recordOffset(ringOffset, capacity, n);
        LONG.setOpaque(region, record + RECORD_SEQUENCE_OFFSET, 0L);
        VarHandle.storeStoreFence();
        LONG.set(region, record + RECORD_OFFSET_OFFSET, offset);
        LONG.set(region, record + RECORD_LENGTH_OFFSET, length);
        LONG.set(region, record + RECORD_WRITER_PID_OFFSET, writerPid);
        LONG.set(region, record + RECORD_TIMESTAMP_OFFSET, timestamp);
        INT.set(region, record + RECORD_FLAGS_OFFSET, flags);
        LONG.setRelease(region, record + RECORD_SEQUENCE_OFFSET, n);
        LONG.setRelease(region, SEQUENCE_OFFSET, n << 1);
        notifySubscribers(n);
    }

    /**
     * Keeps the torn range (while the sequence is odd, so readers see it consistently with the data):
     * a torn change widens it to cover its range; a whole change that covers all of it clears it.
     */
    private void trackTornRange(long n, long offset, long length, boolean torn) {
        long tornOffset = (long) LONG.get(region, TORN_OFFSET_OFFSET);
        long tornLength = (long) LONG.get(region, TORN_LENGTH_OFFSET);
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

    private void notifySubscribers(long n) {
        int previous = (int) INT.getAndSet(region, NOTIFY_OFFSET, (int) ((n & 0x7fff_ffffL) << 1));
        if ((previous & 1) != 0) {
            Futex.wake(notifyWord, Integer.MAX_VALUE);
        }
    }

    private interface Locked<T> {
        T run();
    }

    private <T> T withWriterLock(Locked<T> action) {
        if (writerLock == null) {
            throw new AccessDeniedException("publishing needs write access to the control file: object="
                    + control.name());
        }
        localLock.lock();
        try {
            if (writerLock.lock()) {
                recoverLocked();
            }
            try {
                return action.run();
            } finally {
                writerLock.unlock();
            }
        } finally {
            localLock.unlock();
        }
    }

    private void withWriterLock(Runnable action) {
        withWriterLock(() -> {
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
            finish(n, (long) LONG.get(region, PENDING_OFFSET_OFFSET), (long) LONG.get(region, PENDING_LENGTH_OFFSET),
                    (long) LONG.get(region, PENDING_PID_OFFSET), (long) LONG.get(region, PENDING_TIMESTAMP_OFFSET),
                    FLAG_TORN);
        } else {
            notifySubscribers(sequence >>> 1); // it may have died between publishing and notifying
        }
    }

    /**
     * If a writer has held the sequence odd while its process is dead, takes the lock over and
     * finishes its change. Does nothing when the writer is alive (it is only slow) or when this handle
     * cannot write.
     */
    public void recoverIfWriterDied() {
        if (writerLock == null || slot == null || !writing()) {
            return;
        }
        int owner = writerLock.ownerSlot();
        if (owner >= 0 && !slot.isAlive(owner)) {
            withWriterLock(() -> { });
        }
    }

    /**
     * The outcome of a consistent read.
     *
     * @param value    what the reader returned
     * @param sequence the change after which the read saw the data
     * @param torn     the range overlaps a change that a writer left half written and nobody has
     *                 rewritten whole since
     */
    public record Read<T>(T value, long sequence, boolean torn) {
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
        while (true) {
            long before = (long) LONG.getAcquire(region, SEQUENCE_OFFSET);
            if ((before & 1) != 0) {
                if (spins++ < READ_SPINS) {
                    Thread.onSpinWait();
                    continue;
                }
                long now = System.nanoTime();
                if (oddSince == 0) {
                    oddSince = now;
                } else if (now - oddSince > RECOVERY_CHECK_NANOS) {
                    recoverIfWriterDied();
                    oddSince = now;
                }
                LockSupport.parkNanos(backoff);
                backoff = Math.min(backoff * 2, MAX_BACKOFF_NANOS);
                continue;
            }
            T result;
            RuntimeException failure = null;
            try {
                result = reader.apply(range);
            } catch (RuntimeException e) {
                result = null;
                failure = e;
            }
            long tornOffset = (long) LONG.get(region, TORN_OFFSET_OFFSET);
            long tornLength = (long) LONG.get(region, TORN_LENGTH_OFFSET);
            VarHandle.loadLoadFence();
            long after = (long) LONG.getOpaque(region, SEQUENCE_OFFSET);
            if (before == after) {
                if (failure != null) {
                    throw failure;
                }
                boolean torn = tornLength != 0 && tornOffset < offset + length && offset < tornOffset + tornLength;
                return new Read<>(result, before >>> 1, torn);
            }
        }
    }

    /**
     * Reads change record {@code n}. {@return null if the ring no longer holds it (lapped) or it is
     * being overwritten}
     */
    public @Nullable ChangeRecord record(long n) {
        long record = recordOffset(ringOffset, capacity, n);
        long before = (long) LONG.getAcquire(region, record + RECORD_SEQUENCE_OFFSET);
        if (before != n) {
            return null;
        }
        long offset = (long) LONG.get(region, record + RECORD_OFFSET_OFFSET);
        long length = (long) LONG.get(region, record + RECORD_LENGTH_OFFSET);
        long writerPid = (long) LONG.get(region, record + RECORD_WRITER_PID_OFFSET);
        long timestamp = (long) LONG.get(region, record + RECORD_TIMESTAMP_OFFSET);
        int flags = (int) INT.get(region, record + RECORD_FLAGS_OFFSET);
        VarHandle.loadLoadFence();
        if ((long) LONG.getOpaque(region, record + RECORD_SEQUENCE_OFFSET) != n) {
            return null;
        }
        return new ChangeRecord(n, offset, length, writerPid, timestamp, (flags & FLAG_TORN) != 0);
    }

    /**
     * Sleeps until a change after {@code seen} is published, at most {@code timeoutNanos} (steps of
     * the subscriber side of the notify handshake): read the notify word; if it moved past
     * {@code seen}, return; else CAS the waiter bit onto the exact value read and FUTEX_WAIT on that
     * value. A writer that publishes in between changes the word, so the wait returns at once.
     */
    public void awaitChange(long seen, long timeoutNanos) {
        if (!control.writable()) {
            LockSupport.parkNanos(Math.min(timeoutNanos, TimeUnit.MILLISECONDS.toNanos(1)));
            return;
        }
        int word = (int) INT.getVolatile(region, NOTIFY_OFFSET);
        if ((word >>> 1) != (int) (seen & 0x7fff_ffffL)) {
            return;
        }
        int sleeping = word | 1;
        if (word != sleeping && !INT.compareAndSet(region, NOTIFY_OFFSET, word, sleeping)) {
            return;
        }
        INT.getAndAdd(region, SLEEPERS_OFFSET, 1);
        try {
            Futex.await(notifyWord, sleeping, timeoutNanos);
        } finally {
            INT.getAndAdd(region, SLEEPERS_OFFSET, -1);
        }
    }

    /** Wakes every subscriber sleeping on this log, in every process (they re-check and sleep again). */
    public void wakeSleepers() {
        Futex.wake(notifyWord, Integer.MAX_VALUE);
    }

    /** Frees this handle's holder slot (diagnostic pid). */
    public void close() {
        if (slot != null) {
            slot.clear();
        }
    }
}
