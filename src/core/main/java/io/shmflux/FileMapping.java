package io.shmflux;

import io.shmflux.internal.linux.Errno;
import io.shmflux.internal.linux.Libc;
import io.shmflux.internal.linux.NativeCallException;
import org.jspecify.annotations.Nullable;

import io.shmflux.internal.protocol.ChangeDispatcher;
import io.shmflux.internal.protocol.ChangeLog;
import reactor.core.publisher.Flux;
import reactor.core.scheduler.Schedulers;

import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import java.util.function.Function;

/**
 * A handle to a file-mapping object (Win32's handle from {@code CreateFileMapping} or
 * {@code OpenFileMapping}). Obtain one from {@link SharedMemory}; map views of it with {@link #map}.
 *
 * <p>The object lives while any handle or view of it is open in any process. Closing this handle
 * while views remain keeps it alive; when the last handle or view anywhere closes, a file-backed
 * object is flushed to its file and releases it, and a paging-file object is destroyed. A process that
 * dies counts as having closed everything it held.
 *
 * <h2>Change feed</h2>
 * {@link #publish(long, long, Consumer)} writes a range under the object's sequence-counter protocol
 * and announces it; {@link #changes()} delivers every published change, in every process that
 * subscribes, as a {@link ChangeEvent}; {@link #read(long, int)} returns copies that are never torn.
 * Plain writes into a {@link MappedView} change the memory but announce nothing, and readers using
 * {@link #read} cannot tell them from a torn write: use {@code publish} for data others watch.
 *
 * <p>{@link #close()} is idempotent; any other method on a closed handle throws
 * {@link HandleClosedException}. Handles are safe to use from any thread.
 */
public final class FileMapping implements AutoCloseable {

    /** The longest range that can be copied into a {@code byte[]} (the JDK's largest array length). */
    static final int MAX_COPY_LENGTH = Integer.MAX_VALUE - 8;
    private static final Function<MemorySegment, byte[]> COPY =
            segment -> segment.toArray(java.lang.foreign.ValueLayout.JAVA_BYTE);

    private final @Nullable String name;
    private final ObjectReference object;
    private final long size;
    private final Access access;
    private final boolean created;
    private final Path dataPath;
    private final AtomicBoolean closed = new AtomicBoolean();
    private final AtomicBoolean tornDown = new AtomicBoolean();
    /** Calls that are using the protocol now; the last one out after {@link #close()} tears it down. */
    private final AtomicInteger inFlight = new AtomicInteger();
    private final Object protocolLock = new Object();
    private volatile @Nullable Protocol protocol;

    /**
     * This handle's side of the change protocol: a view of the whole object (null when the object is
     * too large to map in one piece: each call then maps just its range), the log, the change thread.
     */
    private record Protocol(@Nullable MappedView view, ChangeLog log, ChangeDispatcher dispatcher,
                            @Nullable SliceCache writes, @Nullable SliceCache reads) {

        Protocol(@Nullable MappedView view, ChangeLog log, ChangeDispatcher dispatcher) {
            this(view, log, dispatcher, view == null ? null : new SliceCache(view.segment(), false),
                    view == null ? null : new SliceCache(view.segment(), true));
        }
    }

    /**
     * One call on a range of the object: {@code range} is that range, mapped read-write for a
     * publisher and read-only for a reader. Implementations capture nothing (the argument travels in
     * {@code arg}), so that the hot calls allocate no lambda.
     */
    private interface RangeCall<A, T> {
        T apply(ChangeLog log, long offset, MemorySegment range, A arg);
    }

    FileMapping(@Nullable String name, ObjectReference object, long size, Access access, boolean created,
                Path dataPath) {
        this.name = name;
        this.object = object;
        this.size = size;
        this.access = access;
        this.created = created;
        this.dataPath = dataPath;
    }

    /** {@return the name given when the object was created or opened, or null for an unnamed object} */
    public @Nullable String name() {
        return name;
    }

    /** {@return the size of the object in bytes} */
    public long byteSize() {
        return size;
    }

    /** {@return the access this handle grants its views} */
    public Access access() {
        return access;
    }

    /**
     * {@return true if this call created the object, false if it opened an existing one} The Win32
     * equivalent is {@code GetLastError() != ERROR_ALREADY_EXISTS} after {@code CreateFileMapping}.
     */
    public boolean created() {
        return created;
    }

    /**
     * {@return the user id of whoever made the object: the owner of its control file} A {@code Local\}
     * object always belongs to the calling user (another user's file under a {@code Local\} name is
     * refused); a {@code Global\} one may belong to anyone, and this says to whom. The data file has
     * the same owner, and so has a backing file unless the owner is root.
     */
    public int ownerUid() {
        return object.control().ownerUid();
    }

    /**
     * {@return the file that holds the bytes} For a paging-file object, its POSIX shared-memory object
     * in {@code /dev/shm} (user data at offset 0; {@code shm_open} with the file name attaches to it);
     * for a file-backed object, the backing file.
     */
    public Path dataPath() {
        return dataPath;
    }

    /** {@return true if the object is backed by a file the creator named} */
    public boolean isFileBacked() {
        return object.fileBacked();
    }

    /** {@return true until {@link #close()}} */
    public boolean isOpen() {
        return !closed.get();
    }

    /**
     * Maps a view of {@code [offset, offset + length)} (Win32's {@code MapViewOfFile}). Any offset is
     * allowed; the view's segment starts exactly at {@code offset}.
     *
     * @param access what the view may do; no more than this handle's {@link #access()}
     * @param offset where the view starts, 0 to {@link #byteSize()}
     * @param length bytes to map; 0 maps to the end of the object
     * @throws InvalidParameterException if the range is outside the object
     * @throws AccessDeniedException     if {@code access} exceeds this handle's access
     * @throws HandleClosedException     if this handle is closed
     */
    public MappedView map(Access access, long offset, long length) {
        java.util.Objects.requireNonNull(access, "access");
        ensureOpen();
        if (!this.access.permitsView(access)) {
            throw new AccessDeniedException("view access exceeds handle access: object=" + describe()
                    + ", access=" + access + ", handleAccess=" + this.access);
        }
        long viewLength = length == 0 ? size - offset : length;
        if (offset < 0 || length < 0 || offset >= size || viewLength > size - offset) {
            throw new InvalidParameterException("view out of range: offset=" + offset + ", length=" + length
                    + ", size=" + size);
        }
        if (!object.retain()) {
            throw closedException();
        }
        return MappedView.map(object, describe(), access, offset, viewLength);
    }

    /** Maps the whole object; see {@link #map(Access, long, long)}. */
    public MappedView map(Access access) {
        return map(access, 0, 0);
    }

    /**
     * Allocates the pages of {@code [offset, offset + length)} now (Win32's {@code VirtualAlloc} with
     * {@code MEM_COMMIT} on a {@code SEC_RESERVE} section), so that touching them cannot fail later.
     * Needed only for objects created with {@link PageCommit#RESERVE}; harmless otherwise.
     *
     * @throws OutOfSpaceException       if there is not enough space for them
     * @throws InvalidParameterException if the range is outside the object
     * @throws AccessDeniedException     if this handle cannot write
     */
    public void commit(long offset, long length) {
        ensureOpen();
        if (offset < 0 || length <= 0 || offset >= size || length > size - offset) {
            throw new InvalidParameterException("commit range out of object: offset=" + offset + ", length="
                    + length + ", size=" + size);
        }
        if (access != Access.READ_WRITE) {
            throw new AccessDeniedException("commit needs write access: object=" + describe() + ", handleAccess="
                    + access);
        }
        if (!object.retain()) {
            throw closedException();
        }
        try {
            Libc.fallocate(object.dataFd(), offset, length);
        } catch (NativeCallException e) {
            if (e.errno() == Errno.ENOSPC) {
                throw new OutOfSpaceException("not enough space to commit: object=" + describe() + ", offset="
                        + offset + ", length=" + length + ", path=" + dataPath);
            }
            if (e.errno() != Errno.EOPNOTSUPP) {
                throw new SharedMemoryException("cannot commit: object=" + describe() + ", errno=" + e.errnoName(), e);
            }
        } finally {
            object.release();
        }
    }

    /**
     * Writes {@code [offset, offset + length)} under the change protocol and announces it to every
     * subscriber in every process. {@code writer} gets exactly that range as a segment and must only
     * write it; it runs while the object's writer lock is held (other publishers, in any process,
     * wait) and while readers retry, so keep it short. Publishing needs no CPU from subscribers and
     * makes a system call only when one of them sleeps.
     *
     * <p>If {@code writer} throws, the change is still published, flagged
     * {@linkplain ChangeEvent#torn() torn}, and the exception is rethrown. If the process dies inside
     * {@code writer}, the next process to write, read or wait finishes the change, flagged torn.
     *
     * <p>{@code writer} must not call {@code publish}, {@code read}, {@code snapshot} or
     * {@code completeChanges} of the same object (through any handle): such a call throws
     * {@link ReentrantChangeException} at once, and the outer change goes on. Other threads that read
     * the object meanwhile wait for the change to end.
     *
     * <p>If a {@link ChangeOptions.Overflow#BACK_PRESSURE} subscriber (in any process) has not yet
     * taken the change whose ring record this one overwrites, {@code publish} first waits for it,
     * asleep, holding the object's writer lock (other publishers queue behind; readers and other
     * subscribers go on). If it waits longer than the object's publish timeout
     * ({@link MappingOptions#withPublishTimeout}) it throws {@link PublishTimeoutException}: nothing
     * was published and {@code writer} did not run.
     *
     * {@snippet :
     * long sequence = mapping.publish(0, 16, range -> {
     *     range.set(ValueLayout.JAVA_LONG, 0, price);
     *     range.set(ValueLayout.JAVA_LONG, 8, quantity);
     * });
     * }
     *
     * @return the change's sequence number
     * @throws InvalidParameterException  if the range is outside the object
     * @throws AccessDeniedException      if this handle is not {@link Access#READ_WRITE}
     * @throws InPageErrorException       if the range's memory faulted (its file was truncated, or
     *                                    {@code /dev/shm} is full under a reserved object); the change
     *                                    is published flagged torn
     * @throws ReentrantChangeException   if called inside a writer of this object on its thread
     * @throws PublishTimeoutException    if a live back-pressure subscriber held it back too long
     * @throws ChangesCompletedException  after {@link #completeChanges()}
     */
    public long publish(long offset, long length, Consumer<MemorySegment> writer) {
        Objects.requireNonNull(writer, "writer");
        checkRange("publish", offset, length);
        if (access != Access.READ_WRITE) {
            throw new AccessDeniedException("publish needs write access: object=" + describe() + ", handleAccess="
                    + access);
        }
        // useRange's steps, by hand: its generic result would box the sequence on every publish
        Protocol p = enter();
        try {
            SliceCache slices = p.writes();
            return slices != null ? p.log().publish(offset, slices.slice(offset, length), writer)
                    : inWindow(p, offset, length, false, writer, (log, at, range, w) -> log.publish(at, range, w));
        } catch (InternalError e) {
            throw memoryFault(e, offset, length);
        } finally {
            leave();
        }
    }

    /** Publishes a copy of {@code data} at {@code offset}; see {@link #publish(long, long, Consumer)}. */
    public long publish(long offset, byte[] data) {
        Objects.requireNonNull(data, "data");
        return publish(offset, data.length,
                range -> MemorySegment.copy(data, 0, range, java.lang.foreign.ValueLayout.JAVA_BYTE, 0, data.length));
    }

    /**
     * {@return a copy of {@code [offset, offset + length)} that no published write tore} The read
     * retries while a publish is in progress (a seqlock read), so it sees either all of a change or
     * none of it.
     *
     * @throws InvalidParameterException if the range is outside the object
     * @throws TornDataException         if the range overlaps a change a writer left half written
     * @throws InPageErrorException      if the range's memory faulted (its file was truncated)
     *                                   (see {@link #snapshot(long, int)} to read it flagged instead)
     * @throws WaitTimeoutException      if a live writer kept one change open longer than the object's
     *                                   publish timeout
     * @throws ReentrantChangeException  if called inside a writer of this object on its thread
     */
    public byte[] read(long offset, int length) {
        Snapshot snapshot = snapshot(offset, length);
        if (snapshot.torn()) {
            throw tornException(offset, length, snapshot.sequence());
        }
        return snapshot.data();
    }

    /**
     * {@return a consistent copy of {@code [offset, offset + length)} with its sequence, flagged if the
     * range may hold a half-written change} Like {@link #read(long, int)}, but a torn range is
     * returned, flagged, instead of thrown.
     */
    public Snapshot snapshot(long offset, int length) {
        checkRange("read", offset, length);
        if (length > MAX_COPY_LENGTH) {
            throw new InvalidParameterException("read length too large for a byte[]: offset=" + offset + ", length="
                    + length + ", max=" + MAX_COPY_LENGTH);
        }
        ChangeLog.Read<byte[]> read = useRange(offset, length, true, COPY,
                (log, at, range, copy) -> log.read(at, range, copy));
        return new Snapshot(read.sequence(), read.value(), read.torn(), (int) read.tornStart(), (int) read.tornLength());
    }

    private TornDataException tornException(long offset, long length, long sequence) {
        return new TornDataException("range holds a torn change: object=" + describe() + ", offset=" + offset
                + ", length=" + length + ", sequence=" + sequence);
    }

    /**
     * Runs {@code reader} on {@code [offset, offset + length)} of the object, without copying, until
     * one run overlapped no publish, and returns that run's result.
     *
     * @apiNote {@code reader} may run more than once and may see a half-written range on the runs
     * whose result is thrown away: it must have no side effects, must not keep the segment, and
     * should tolerate garbage (an exception from such a run is discarded too; one from the final,
     * clean run is thrown).
     * @throws TornDataException if the range overlaps a change a writer left half written
     */
    public <T> T read(long offset, long length, Function<MemorySegment, T> reader) {
        Objects.requireNonNull(reader, "reader");
        checkRange("read", offset, length);
        ChangeLog.Read<T> read = useRange(offset, length, true, reader, (log, at, range, r) -> log.read(at, range, r));
        if (read.torn()) {
            throw tornException(offset, length, read.sequence());
        }
        return read.value();
    }

    /**
     * {@return the sequence of the latest published change, 0 if none} After
     * {@link #completeChanges()} this is the end marker's sequence.
     */
    public long sequence() {
        return inFlight(p -> p.log().published());
    }

    /**
     * Ends the object's change stream, for every process: every feed, in every process, completes
     * after delivering every change published before; a feed subscribed later replays what its
     * {@link ChangeOptions#start()} asks for and then completes; a later {@code publish} (through any
     * handle) throws {@link ChangesCompletedException}. The end is recorded as an end marker that
     * takes the next sequence number and is never delivered as a change. Idempotent.
     *
     * @return the end marker's sequence
     * @throws AccessDeniedException if this handle is not {@link Access#READ_WRITE}
     */
    public long completeChanges() {
        ensureOpen();
        if (access != Access.READ_WRITE) {
            throw new AccessDeniedException("completeChanges needs write access: object=" + describe()
                    + ", handleAccess=" + access);
        }
        return inFlight(p -> p.log().complete());
    }

    /**
     * {@return how many change records the object's ring holds} Set by whoever created the object
     * ({@link MappingOptions#withChangeRingCapacity}); opening an existing object, with
     * {@code createOrOpen} too, keeps it.
     */
    public int changeRingCapacity() {
        return inFlight(p -> p.log().capacity());
    }

    /** {@return every change published after subscribing}; see {@link #changes(ChangeOptions)} */
    public Flux<ChangeEvent> changes() {
        return changes(ChangeOptions.DEFAULT);
    }

    /**
     * {@return a feed of published changes, from every process} Events arrive in sequence order, each
     * at most once, as far as the subscriber {@linkplain org.reactivestreams.Subscription#request
     * requested}: nothing is buffered. A subscriber more than the change ring's capacity behind is
     * lapped: the next event it gets says in {@link ChangeEvent#missed()} how many it lost, unless it
     * asked for {@link ChangeOptions.Overflow#BACK_PRESSURE}.
     *
     * <p>The feed's starting point is fixed when it is subscribed, before any callback of the
     * subscriber runs ({@code onSubscribe}, {@code doOnSubscribe}): every change published after one
     * of them ran is delivered or counted in {@code missed}. After {@link #completeChanges()} the feed
     * completes.
     *
     * <p>Events are emitted on this handle's change thread (one per handle, a daemon named
     * {@code shmflux-changes-...}, sleeping in the kernel while idle) or on the thread that requests
     * more; use {@code publishOn} for slow work so other subscribers are not held up. The feed
     * completes when this handle closes; cancelling it frees everything it held.
     */
    public Flux<ChangeEvent> changes(ChangeOptions options) {
        Objects.requireNonNull(options, "options");
        return inFlight(p -> new ChangeFeed.Events(p.log(), p.dispatcher(), object, options, describe()));
    }

    /**
     * {@return the feed of {@link #changes(ChangeOptions)}, in batches}: each signal carries the changes
     * published since the last one, up to {@code maxBatch}, so that a bulk consumer pays one
     * {@code onNext} and one allocation per batch rather than per change. Demand counts batches. Every
     * promise of {@link #changes(ChangeOptions)} holds for each change in a batch: order, at most once,
     * loss counted ({@link ChangeBatch#missed(int)}), torn changes flagged, back pressure, the end of the
     * stream.
     *
     * @param maxBatch the most changes one batch holds, 1 to 65,536
     * @throws InvalidParameterException if {@code maxBatch} is out of range
     */
    public Flux<ChangeBatch> changeBatches(ChangeOptions options, int maxBatch) {
        Objects.requireNonNull(options, "options");
        if (maxBatch < 1 || maxBatch > MAX_BATCH) {
            throw new InvalidParameterException("batch size out of range: maxBatch=" + maxBatch + ", min=1, max="
                    + MAX_BATCH);
        }
        return inFlight(p -> new ChangeFeed.Batches(p.log(), p.dispatcher(), object, options, describe(), maxBatch));
    }

    /** The largest batch {@link #changeBatches} delivers: 64 Ki changes, 3.5 MiB of fields. */
    private static final int MAX_BATCH = 65_536;

    /**
     * {@return consistent copies of {@code [offset, offset + length)}: one at once, then one after each
     * change that touches the range (or after being lapped)} Conflated: a slow subscriber gets the
     * latest state, never a backlog. A copy of a range that holds a torn change is flagged
     * {@link Snapshot#torn()}, not thrown. The feed of changes is registered first and the first copy
     * taken after, so no change falls between them.
     */
    public Flux<Snapshot> snapshots(long offset, int length) {
        checkRange("snapshots", offset, length);
        return rangeTicks(offset, length).map(tick -> snapshot(offset, length));
    }

    /**
     * {@return one tick at once, then one after each change that may have touched the range (or after
     * being lapped), conflated} The feed is subscribed first ({@code merge} subscribes in order, and a
     * feed fixes its start when subscribed), so a change published after the first tick's copy is
     * always followed by another tick.
     */
    private Flux<Boolean> rangeTicks(long offset, long length) {
        Flux<Boolean> ticks = changes()
                .filter(e -> e.missed() > 0 || e.torn() || e.overlaps(offset, length))
                .map(e -> Boolean.TRUE);
        return Flux.merge(ticks, Flux.just(Boolean.TRUE)).onBackpressureLatest();
    }

    /**
     * Publishes {@code value} at {@code offset}, laid out by {@code layout}; see
     * {@link #publish(long, long, Consumer)}. A value that does not fit (a null, a string or array of
     * the wrong length) is refused before anything is written.
     *
     * {@snippet :
     * record Reading(long timestamp, double celsius, int sensor) { }
     * static final RecordLayout<Reading> READING = RecordLayout.of(Reading.class);
     *
     * mapping.publish(0, READING, new Reading(System.nanoTime(), 21.5, 7));
     * }
     *
     * @return the change's sequence number
     * @throws InvalidParameterException if the value does not fit, or the range is outside the object
     *                                   or not aligned to {@link RecordLayout#byteAlignment()}
     */
    public <T extends Record> long publish(long offset, RecordLayout<T> layout, T value) {
        Objects.requireNonNull(layout, "layout");
        checkAligned("publish", offset, layout);
        layout.validate(value);
        return publish(offset, layout.byteSize(), range -> layout.encodeUnchecked(range, value));
    }

    /**
     * {@return the value at {@code offset}, laid out by {@code layout}, never half written} A seqlock
     * read like {@link #read(long, int)}, decoded from the shared memory without an intermediate copy.
     *
     * @throws TornDataException         if the range overlaps a change a writer left half written
     * @throws InvalidParameterException if the range is outside the object or not aligned
     */
    public <T extends Record> T read(long offset, RecordLayout<T> layout) {
        Objects.requireNonNull(layout, "layout");
        checkAligned("read", offset, layout);
        return read(offset, layout.byteSize(), layout::decodeUnchecked);
    }

    /**
     * {@return the value at {@code offset} at once, then again after each change that overlaps it}
     * Conflated like {@link #snapshots(long, int)}: a slow subscriber gets the latest value, never a
     * backlog; every change published after subscribing is reflected in a later value. A value left
     * half written by a writer that died ends the feed with {@link TornDataException} (use
     * {@link #snapshots(long, int)} to see torn states flagged instead).
     */
    public <T extends Record> Flux<T> values(long offset, RecordLayout<T> layout) {
        Objects.requireNonNull(layout, "layout");
        checkAligned("values", offset, layout);
        return rangeTicks(offset, layout.byteSize()).map(tick -> read(offset, layout));
    }

    private void checkAligned(String what, long offset, RecordLayout<?> layout) {
        checkRange(what, offset, layout.byteSize());
        if ((offset & (layout.byteAlignment() - 1)) != 0) { // alignments are powers of two
            throw new InvalidParameterException(what + " offset not aligned for the record: offset=" + offset
                    + ", type=" + layout.type().getName() + ", byteAlignment=" + layout.byteAlignment());
        }
    }

    private void checkRange(String what, long offset, long length) {
        ensureOpen();
        if (offset < 0 || length <= 0 || offset >= size || length > size - offset) {
            throw new InvalidParameterException(what + " range out of object: offset=" + offset + ", length="
                    + length + ", size=" + size);
        }
    }

    private Protocol protocol() {
        Protocol p = protocol;
        if (p != null) {
            return p;
        }
        synchronized (protocolLock) {
            ensureOpen();
            if (protocol == null) {
                MappedView whole = null;
                try {
                    whole = map(protocolAccess());
                } catch (OutOfSpaceException e) {
                    // no address space for the whole object (a huge PageCommit.RESERVE object): every
                    // call maps its own range instead, slower but with no limit but the range's size
                }
                try {
                    ChangeLog log = new ChangeLog(object.control());
                    protocol = new Protocol(whole, log, new ChangeDispatcher(log, "shmflux-changes-" + describe(),
                            object::retain, object::release));
                } catch (RuntimeException e) {
                    if (whole != null) {
                        whole.close();
                    }
                    throw e;
                }
            }
            return protocol;
        }
    }

    private Access protocolAccess() {
        return access == Access.READ_WRITE ? Access.READ_WRITE : Access.READ;
    }

    /**
     * Runs {@code call} with the log and the object's {@code [offset, offset + length)}, mapped as the
     * protocol needs, as one call in flight (see {@link #enter()}). A memory fault on the way becomes an
     * {@link InPageErrorException}: the JVM raises it as an {@link InternalError} in the thread that
     * touched the page, at once in interpreted code and at the next safepoint check in compiled code,
     * which is why it is caught here, around the whole call, rather than around the copy alone.
     */
    private <A, T> T useRange(long offset, long length, boolean readOnly, A arg, RangeCall<A, T> call) {
        // enter and leave by hand rather than through inFlight: this is the path of every read
        Protocol p = enter();
        try {
            SliceCache slices = readOnly ? p.reads() : p.writes();
            return slices != null ? call.apply(p.log(), offset, slices.slice(offset, length), arg)
                    : inWindow(p, offset, length, readOnly, arg, call);
        } catch (InternalError e) {
            throw memoryFault(e, offset, length);
        } finally {
            leave();
        }
    }

    /** The object too large to map whole: runs {@code call} on a view of just the range. */
    private <A, T> T inWindow(Protocol p, long offset, long length, boolean readOnly, A arg, RangeCall<A, T> call) {
        if (!object.retain()) {
            throw closedException();
        }
        try (MappedView window = MappedView.map(object, describe(), protocolAccess(), offset, length)) {
            MemorySegment range = readOnly ? window.segment().asReadOnly() : window.segment();
            return call.apply(p.log(), offset, range, arg);
        }
    }

    /** {@return the exception for {@code e} if it is a memory fault (SIGBUS)}; throws {@code e} itself otherwise */
    private InPageErrorException memoryFault(InternalError e, long offset, long length) {
        if (!isMemoryFault(e)) {
            throw e;
        }
        return new InPageErrorException("memory fault: object=" + describe() + ", offset=" + offset + ", length="
                + length + ", reason=the file was truncated by another process or /dev/shm is full (SIGBUS)", e);
    }

    /** {@return true for the error the JVM raises when a mapped page cannot be accessed (SIGBUS)} */
    static boolean isMemoryFault(InternalError e) {
        // "a fault occurred in an unsafe memory access operation", or "... in a recent unsafe memory
        // access operation in compiled Java code" when the JIT delivers it late
        return e.getMessage() != null && e.getMessage().startsWith("a fault occurred in a");
    }

    /**
     * Closes this handle (Win32's {@code CloseHandle}): its change feeds complete, and views mapped
     * from it stay valid and keep the object alive. Idempotent, and never fails: whatever goes wrong
     * on the way (a control file truncated by another process, for one) does not stop the rest from
     * being released.
     *
     * <p>A {@code publish} or {@code read} that another thread of this process has in progress is not
     * cut short: it completes normally, and the handle's resources are released when it returns.
     * Calls that start after {@code close} throw {@link HandleClosedException}. {@code close} does not
     * wait for subscriber code: when a subscriber is inside {@code onNext} on the change thread,
     * {@code close} returns at once and the thread lets go of the object as soon as {@code onNext}
     * returns. Otherwise it waits for the change thread to end, which its wake-up makes prompt
     * (bounded by two of that thread's 1 s sleep slices).
     */
    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        if (inFlight.get() == 0) {
            tearDown();
        }
    }

    /**
     * Starts a call that uses the protocol. Paired with {@link #leave()}: {@link #close()} marks the
     * handle closed, and whichever of close and the last call in flight comes last tears it down
     * (both sides write their own variable, then read the other's, so one of them always sees both).
     */
    private Protocol enter() {
        inFlight.incrementAndGet();
        if (closed.get()) {
            leave();
            throw closedException();
        }
        try {
            return protocol();
        } catch (RuntimeException e) {
            leave();
            throw e;
        }
    }

    /** Runs {@code call} as one call in flight: between {@link #enter()} and {@link #leave()}. */
    private <T> T inFlight(Function<Protocol, T> call) {
        Protocol p = enter();
        try {
            return call.apply(p);
        } finally {
            leave();
        }
    }

    private void leave() {
        if (inFlight.decrementAndGet() == 0 && closed.get()) {
            tearDown();
        }
    }

    private void tearDown() {
        if (!tornDown.compareAndSet(false, true)) {
            return;
        }
        Protocol p;
        synchronized (protocolLock) {
            p = protocol;
        }
        if (p != null) {
            releaseQuietly(() -> p.dispatcher().close(!Schedulers.isInNonBlockingThread()));
            releaseQuietly(p.log()::close);
            MappedView whole = p.view();
            if (whole != null) {
                releaseQuietly(whole::close);
            }
        }
        releaseQuietly(object::release);
    }

    /**
     * Runs one step of the tear-down; a failure is logged, not thrown, so that the later steps still
     * run. A memory fault ({@link InternalError}, which the JVM raises when a mapped file was
     * truncated under us) counts as such a failure.
     */
    private void releaseQuietly(Runnable step) {
        try {
            step.run();
        } catch (RuntimeException | InternalError e) {
            System.getLogger(FileMapping.class.getName()).log(System.Logger.Level.WARNING,
                    "close: a step failed, the rest is released: object=" + describe() + ", cause=" + e);
        }
    }

    @Override
    public String toString() {
        return "FileMapping[" + describe() + ", size=" + size + ", access=" + access
                + (closed.get() ? ", closed" : "") + "]";
    }

    private String describe() {
        return name != null ? io.shmflux.internal.namespace.ObjectName.quote(name) : "unnamed(" + dataPath + ")";
    }

    private void ensureOpen() {
        if (closed.get()) {
            throw closedException();
        }
    }

    private HandleClosedException closedException() {
        return new HandleClosedException("mapping closed: object=" + describe());
    }
}
