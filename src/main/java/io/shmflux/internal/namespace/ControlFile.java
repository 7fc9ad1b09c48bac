package io.shmflux.internal.namespace;

import io.shmflux.AccessDeniedException;
import io.shmflux.InvalidNameException;
import io.shmflux.ObjectAlreadyExistsException;
import io.shmflux.ObjectNotFoundException;
import io.shmflux.OutOfSpaceException;
import io.shmflux.SharedMemoryException;
import io.shmflux.WrongObjectKindException;
import io.shmflux.internal.linux.Errno;
import io.shmflux.internal.linux.FileStat;
import io.shmflux.internal.linux.Libc;
import io.shmflux.internal.linux.NativeCallException;
import org.jspecify.annotations.Nullable;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.locks.LockSupport;

import static io.shmflux.internal.layout.ControlBlockDescriptor.*;

/**
 * One process's hold on a named object: an open control file with a shared lock on it.
 *
 * <h2>Lifetime protocol</h2>
 * Liveness is kept by the kernel with open-file-description locks ({@code F_OFD_SETLK}) on byte 0 of
 * the control file. Every holder keeps a shared (read) lock; the kernel drops it when the holder
 * closes the file or dies, however it dies.
 * <ol>
 * <li><b>Create.</b> Build the control file under a temporary name while holding an exclusive lock
 *     on it, header state {@code INITIALIZING}; {@code link} it to the object's name (fails with
 *     {@code EEXIST} if the name is taken: then open instead); run the kind's initializer (for a
 *     mapping: create and commit the data file); set state {@code READY}; downgrade the exclusive lock
 *     to a shared one (atomic for OFD locks). Nobody can take a shared lock before that, so nobody
 *     sees a half-built object.</li>
 * <li><b>Open.</b> Open the control file, take a shared lock (retrying with back-off while a creator
 *     or a destroyer holds the exclusive one, for a bounded time); if the file was unlinked meanwhile
 *     ({@code st_nlink == 0}), start again. Check magic, layout version, state and kind tag. Then try
 *     to upgrade to an exclusive lock: if that succeeds, no other holder is alive, so the object is a
 *     leftover of dead processes and is destroyed (as Win32 would have destroyed it when their
 *     handles closed), and the open starts again (and then finds nothing, or creates afresh). A
 *     holder with a read-only control file asks instead ({@code F_OFD_GETLK}) whether another lock
 *     exists. If the leftover cannot be removed because its files belong to another user
 *     ({@code /dev/shm} is sticky), it still no longer exists: an open fails with
 *     {@link ObjectNotFoundException}, a create with {@link AccessDeniedException}, and the owner's
 *     next open or reclaim removes the files.</li>
 * <li><b>Close.</b> Drop the shared lock, then try to take an exclusive one without waiting. Success
 *     means no holder is left anywhere: if the file is still linked, run the last-holder action (flush
 *     a file-backed object), unlink the data file, then the control file, then close. Failure means
 *     another holder is alive and will do this when it leaves. Of several holders leaving at once,
 *     the last to drop its lock is guaranteed to find no other lock, so an object is never orphaned
 *     by a race; the link check stops a second destroyer.</li>
 * <li><b>Reclaim.</b> Anyone may take the exclusive lock of a control file nobody holds and destroy
 *     it ({@link NameSpace#reclaimStale()}, or step 2). A live holder always has its lock, so a live
 *     object is never reclaimed, and no process id is involved, so pid reuse cannot fool it.</li>
 * </ol>
 */
public final class ControlFile implements AutoCloseable {

    /** What to do when the name exists or does not. */
    public enum Disposition {
        /** Fail if the name exists (Win32 {@code CREATE_NEW}). */
        CREATE_NEW,
        /** Fail if the name does not exist ({@code OpenFileMapping}). */
        OPEN_EXISTING,
        /** Open if it exists, create if not ({@code CreateFileMapping}). */
        OPEN_ALWAYS
    }

    /** Builds a new object's kind-specific state, under the exclusive lock. */
    @FunctionalInterface
    public interface Initializer {
        /**
         * Called once the control file holds its name and header; throw to abandon the create (the
         * object's files are then removed, nothing is left behind).
         */
        void initialize(ControlFile control);
    }

    /**
     * What a new object's header says.
     *
     * @param kind         the kind tag
     * @param regionLength bytes of kind-specific state after the header
     * @param mode         permission bits of the object's files
     * @param flags        header flags
     */
    public record Spec(ObjectKind kind, long regionLength, int mode, int flags) {
    }

    private static final long LIVENESS_START = 0;
    private static final long LIVENESS_LENGTH = 1;
    private static final long MAX_BACKOFF_NANOS = TimeUnit.MILLISECONDS.toNanos(20);

    private final ObjectName name;
    private final String path;
    private final int fd;
    private final boolean writable;
    private final boolean created;
    private final Arena arena;
    private final MemorySegment segment;
    /** The header's kind tag and flags as checked when this handle got them (the file may change later). */
    private final int kindTag;
    private final int headerFlags;
    private final AtomicBoolean closed = new AtomicBoolean();

    private ControlFile(ObjectName name, String path, int fd, boolean writable, boolean created, Arena arena,
                        MemorySegment segment) {
        this.name = name;
        this.path = path;
        this.fd = fd;
        this.writable = writable;
        this.created = created;
        this.arena = arena;
        this.segment = segment;
        this.kindTag = getInt(segment, KIND_OFFSET);
        this.headerFlags = getInt(segment, FLAGS_OFFSET);
    }

    /**
     * Creates or opens the object {@code name} as {@code spec.kind()}, per the disposition.
     *
     * @param readOnlyAllowed whether the caller can live with a read-only control file when the
     *                        permissions allow no more (it then never destroys the object itself)
     * @param timeout         how long to wait for a creator or destroyer holding the object
     */
    public static ControlFile acquire(NameSpace ns, ObjectName name, Spec spec, Disposition disposition,
                                      boolean readOnlyAllowed, Duration timeout, Initializer initializer) {
        String path = ns.controlPath(name);
        long deadline = System.nanoTime() + timeout.toNanos();
        long backoff = TimeUnit.MICROSECONDS.toNanos(200);
        while (true) {
            int fd;
            boolean writable = true;
            try {
                fd = Libc.open(path, Libc.O_RDWR | Libc.O_NOFOLLOW | Libc.O_CLOEXEC, 0);
            } catch (NativeCallException e) {
                if (e.errno() == Errno.ENOENT) {
                    if (disposition == Disposition.OPEN_EXISTING) {
                        throw new ObjectNotFoundException("object not found: name=" + quoted(name)
                                + ", kind=" + spec.kind().displayName());
                    }
                    ControlFile control = tryCreate(ns, name, path, spec, initializer);
                    if (control != null) {
                        return control;
                    }
                    continue;
                }
                if (e.errno() == Errno.EACCES && readOnlyAllowed) {
                    try {
                        fd = Libc.open(path, Libc.O_RDONLY | Libc.O_NOFOLLOW | Libc.O_CLOEXEC, 0);
                        writable = false;
                    } catch (NativeCallException again) {
                        if (again.errno() == Errno.ENOENT) {
                            continue;
                        }
                        throw failure("cannot open object", name, path, again);
                    }
                } else {
                    throw failure("cannot open object", name, path, e);
                }
            }
            Attach attach = tryAttach(name, path, fd, writable, spec.kind(), disposition);
            switch (attach.outcome) {
                case ATTACHED -> {
                    return attach.control;
                }
                case RETRY_NOW -> {
                }
                case BUSY -> {
                    if (System.nanoTime() - deadline > 0) {
                        throw new SharedMemoryException("object busy: name=" + quoted(name) + ", waited="
                                + timeout + ", reason=another process holds it exclusively (creating or destroying)");
                    }
                    LockSupport.parkNanos(backoff);
                    backoff = Math.min(backoff * 2, MAX_BACKOFF_NANOS);
                }
            }
        }
    }

    private enum Outcome { ATTACHED, RETRY_NOW, BUSY }

    private record Attach(Outcome outcome, @Nullable ControlFile control) {
        static final Attach RETRY_NOW = new Attach(Outcome.RETRY_NOW, null);
        static final Attach BUSY = new Attach(Outcome.BUSY, null);
    }

    private static Attach tryAttach(ObjectName name, String path, int fd, boolean writable, ObjectKind kind,
                                    Disposition disposition) {
        Arena arena = null;
        boolean keep = false;
        try {
            if (!Libc.ofdTryLock(fd, Libc.F_RDLCK, LIVENESS_START, LIVENESS_LENGTH)) {
                return Attach.BUSY;
            }
            FileStat stat = Libc.fstat(fd);
            if (stat.links() == 0) {
                return Attach.RETRY_NOW;
            }
            if (!stat.isRegularFile() || stat.size() < HEADER_LENGTH) {
                throw new SharedMemoryException("not a shmflux object: name=" + quoted(name) + ", path=" + path
                        + ", reason=" + (stat.isRegularFile() ? "too small" : "not a regular file"));
            }
            arena = Arena.ofShared();
            MemorySegment segment = map(fd, stat.size(), writable, arena);
            if (!isCompatible(segment)) {
                throw new SharedMemoryException("incompatible control block: name=" + quoted(name) + ", path="
                        + path + ", magic=0x" + Long.toHexString(getLong(segment, MAGIC_OFFSET))
                        + ", layoutVersion=" + getInt(segment, LAYOUT_VERSION_OFFSET)
                        + ", expectedLayoutVersion=" + LAYOUT_VERSION);
            }
            if (getInt(segment, STATE_OFFSET) != STATE_READY) {
                // its creator died half-way: nobody holds it exclusively, or we could not have locked it
                if (!writable) {
                    throw deadObject(name, path, kind, disposition);
                }
                Libc.ofdTryLock(fd, Libc.F_UNLCK, LIVENESS_START, LIVENESS_LENGTH);
                if (Libc.ofdTryLock(fd, Libc.F_WRLCK, LIVENESS_START, LIVENESS_LENGTH)) {
                    if (!destroyLocked(fd, path, segment)) {
                        throw deadObject(name, path, kind, disposition);
                    }
                    return Attach.RETRY_NOW;
                }
                return Attach.BUSY;
            }
            ObjectKind actual = ObjectKind.fromTag(getInt(segment, KIND_OFFSET));
            if (actual != kind) {
                throw new WrongObjectKindException("name held by another kind of object: name=" + quoted(name)
                        + ", kind=" + (actual == null ? "unknown" : actual.displayName())
                        + ", requested=" + kind.displayName());
            }
            String stored = readString(segment, NAME_LENGTH_OFFSET, NAME_OFFSET);
            if (!stored.equals(name.bare())) {
                throw new InvalidNameException("name collides with another name's file: name=" + quoted(name)
                        + ", other=" + ObjectName.quote(stored) + ", path=" + path);
            }
            if (writable && Libc.ofdTryLock(fd, Libc.F_WRLCK, LIVENESS_START, LIVENESS_LENGTH)) {
                // every holder closed or died: the object no longer exists
                if (!destroyLocked(fd, path, segment)) {
                    throw deadObject(name, path, kind, disposition);
                }
                return Attach.RETRY_NOW;
            }
            if (!writable && Libc.ofdCouldLock(fd, Libc.F_WRLCK, LIVENESS_START, LIVENESS_LENGTH)) {
                // the same, seen by a holder that may not remove it
                throw deadObject(name, path, kind, disposition);
            }
            if (disposition == Disposition.CREATE_NEW) {
                throw new ObjectAlreadyExistsException("object already exists: name=" + quoted(name)
                        + ", kind=" + kind.displayName());
            }
            keep = true;
            return new Attach(Outcome.ATTACHED, new ControlFile(name, path, fd, writable, false, arena, segment));
        } catch (NativeCallException e) {
            throw failure("cannot open object", name, path, e);
        } finally {
            if (!keep) {
                if (arena != null) {
                    arena.close();
                }
                Libc.close(fd);
            }
        }
    }

    private static @Nullable ControlFile tryCreate(NameSpace ns, ObjectName name, String path, Spec spec,
                                                   Initializer initializer) {
        String temp = ns.tempPath();
        int fd;
        try {
            fd = Libc.open(temp, Libc.O_RDWR | Libc.O_CREAT | Libc.O_EXCL | Libc.O_NOFOLLOW | Libc.O_CLOEXEC, 0600);
        } catch (NativeCallException e) {
            throw failure("cannot create object", name, temp, e);
        }
        Arena arena = null;
        MemorySegment segment = null;
        boolean linked = false;
        boolean keep = false;
        try {
            long size = HEADER_LENGTH + spec.regionLength();
            if (!Libc.ofdTryLock(fd, Libc.F_WRLCK, LIVENESS_START, LIVENESS_LENGTH)) {
                throw new IllegalStateException("fresh control file locked by another: " + temp);
            }
            Libc.fchmod(fd, spec.mode());
            Libc.ftruncate(fd, size);
            Libc.fallocate(fd, 0, size);
            arena = Arena.ofShared();
            segment = map(fd, size, true, arena);
            putLong(segment, MAGIC_OFFSET, MAGIC);
            putInt(segment, LAYOUT_VERSION_OFFSET, LAYOUT_VERSION);
            putInt(segment, KIND_OFFSET, spec.kind().tag());
            putInt(segment, STATE_OFFSET, STATE_INITIALIZING);
            putInt(segment, FLAGS_OFFSET, spec.flags());
            putLong(segment, CREATOR_PID_OFFSET, ProcessHandle.current().pid());
            putLong(segment, CREATED_MILLIS_OFFSET, System.currentTimeMillis());
            writeString(segment, NAME_LENGTH_OFFSET, NAME_OFFSET, NAME_CAPACITY, name.bare());
            try {
                Libc.link(temp, path);
            } catch (NativeCallException e) {
                if (e.errno() == Errno.EEXIST || e.errno() == Errno.ENOENT) {
                    return null; // lost the race to another creator (or a sweep took our temp file): open
                }
                throw e;
            }
            linked = true;
            unlinkQuietly(temp);
            ControlFile control = new ControlFile(name, path, fd, true, true, arena, segment);
            initializer.initialize(control);
            putInt(segment, STATE_OFFSET, STATE_READY);
            Libc.ofdTryLock(fd, Libc.F_RDLCK, LIVENESS_START, LIVENESS_LENGTH);
            keep = true;
            return control;
        } catch (NativeCallException e) {
            if (e.errno() == Errno.ENOSPC) {
                throw new OutOfSpaceException("not enough space for the control file: name=" + quoted(name)
                        + ", directory=" + ns.directory());
            }
            throw failure("cannot create object", name, path, e);
        } finally {
            if (!keep) {
                if (linked) {
                    try {
                        destroyLocked(fd, path, segment);
                    } catch (NativeCallException | RuntimeException e) {
                        unlinkQuietly(path);
                    }
                } else {
                    unlinkQuietly(temp);
                }
                if (arena != null) {
                    arena.close();
                }
                Libc.close(fd);
            }
        }
    }

    /**
     * Reclaims one file of the name space if no process holds it.
     *
     * @return true if it was stale and is gone
     */
    static boolean reclaimIfStale(String path) {
        int fd;
        try {
            fd = Libc.open(path, Libc.O_RDWR | Libc.O_NOFOLLOW | Libc.O_CLOEXEC, 0);
        } catch (NativeCallException e) {
            return false; // gone already, or not ours to reclaim
        }
        try (Arena arena = Arena.ofConfined()) {
            if (!Libc.ofdTryLock(fd, Libc.F_WRLCK, LIVENESS_START, LIVENESS_LENGTH)) {
                return false;
            }
            FileStat stat = Libc.fstat(fd);
            if (stat.links() == 0) {
                return false;
            }
            if (path.endsWith(NameSpace.CONTROL_SUFFIX) && stat.size() >= HEADER_LENGTH) {
                return destroyLocked(fd, path, map(fd, HEADER_LENGTH, false, arena));
            }
            unlinkQuietly(path);
            return true;
        } catch (NativeCallException e) {
            return false;
        } finally {
            Libc.close(fd);
        }
    }

    /**
     * Removes the object's files; the caller holds the exclusive lock. A paging-file mapping loses its
     * data file; a file-backed one is flushed to its file first (by path: its holders are gone).
     *
     * @return false if the control file is still there because this process may not remove it
     *         ({@code /dev/shm} is sticky: only the owner removes an object's files), true otherwise
     */
    private static boolean destroyLocked(int fd, String path, MemorySegment header) throws NativeCallException {
        if (Libc.fstat(fd).links() == 0) {
            return true; // another destroyer finished first
        }
        if (isCompatible(header) && getInt(header, KIND_OFFSET) == ObjectKind.FILE_MAPPING.tag()) {
            if ((getInt(header, FLAGS_OFFSET) & FLAG_FILE_BACKED) != 0) {
                syncBackingFile(header);
            } else {
                unlinkQuietly(NameSpace.dataPathOf(path));
            }
        }
        try {
            Libc.unlink(path);
            return true;
        } catch (NativeCallException e) {
            return e.errno() != Errno.EPERM && e.errno() != Errno.EACCES;
        }
    }

    /** Removes the files of an object whose header can no longer be read, from what it said before. */
    private static boolean destroyKnown(String path, int kindTag, int flags) {
        if (kindTag == ObjectKind.FILE_MAPPING.tag() && (flags & FLAG_FILE_BACKED) == 0) {
            unlinkQuietly(NameSpace.dataPathOf(path));
        }
        try {
            Libc.unlink(path);
            return true;
        } catch (NativeCallException e) {
            return e.errno() != Errno.EPERM && e.errno() != Errno.EACCES;
        }
    }

    /**
     * The object at {@code path} has no holder left, so it no longer exists, but this process cannot
     * remove its files (they belong to another user, or its control file is read-only to us); the
     * owner's next open or {@link NameSpace#reclaimStale()} removes them.
     */
    private static SharedMemoryException deadObject(ObjectName name, String path, ObjectKind kind,
                                                    Disposition disposition) {
        if (disposition == Disposition.OPEN_EXISTING) {
            return new ObjectNotFoundException("object not found: name=" + quoted(name) + ", kind="
                    + kind.displayName() + ", reason=every holder has closed, its files await removal by their owner");
        }
        return new AccessDeniedException("cannot replace a closed object: name=" + quoted(name) + ", path=" + path
                + ", reason=its files belong to another user, who removes them on the next open or reclaim");
    }

    private static void syncBackingFile(MemorySegment header) {
        String backing = readString(header, PATH_LENGTH_OFFSET, PATH_OFFSET);
        try {
            int backingFd = Libc.open(backing, Libc.O_RDONLY | Libc.O_CLOEXEC, 0);
            try {
                FileStat stat = Libc.fstat(backingFd);
                if (stat.device() == getLong(header, BACKING_DEVICE_OFFSET)
                        && stat.inode() == getLong(header, BACKING_INODE_OFFSET)) {
                    Libc.fsync(backingFd);
                }
            } finally {
                Libc.close(backingFd);
            }
        } catch (NativeCallException ignored) {
            // the file is gone or unreadable: its pages were written to the page cache already
        }
    }

    /**
     * Leaves the object (step 3 of the protocol). Idempotent.
     *
     * @param lastHolderAction run when this was the last holder anywhere, before the files go
     * @return true if this was the last holder and the object is now destroyed
     */
    public boolean release(Runnable lastHolderAction) {
        if (!closed.compareAndSet(false, true)) {
            return false;
        }
        try {
            if (!writable) {
                return false; // cannot take the exclusive lock: the next writable holder or sweep destroys it
            }
            Libc.ofdTryLock(fd, Libc.F_UNLCK, LIVENESS_START, LIVENESS_LENGTH);
            if (!Libc.ofdTryLock(fd, Libc.F_WRLCK, LIVENESS_START, LIVENESS_LENGTH)) {
                return false;
            }
            FileStat stat = Libc.fstat(fd);
            if (stat.links() == 0) {
                return false;
            }
            lastHolderAction.run();
            if (stat.size() < HEADER_LENGTH) {
                // truncated under us by another process: reading the header now would fault, so go by
                // what it said when this handle checked it
                return destroyKnown(path, kindTag, headerFlags);
            }
            return destroyLocked(fd, path, segment);
        } catch (NativeCallException e) {
            throw failure("cannot close object", name, path, e);
        } finally {
            arena.close();
            Libc.close(fd);
        }
    }

    @Override
    public void close() {
        release(() -> { });
    }

    public boolean created() {
        return created;
    }

    /** {@return true for the unlinked control file of an unnamed object} */
    public boolean anonymous() {
        return path.endsWith("/(anonymous)");
    }

    /** {@return true if this process may write the control file (and so take exclusive locks)} */
    public boolean writable() {
        return writable;
    }

    /**
     * Takes an exclusive OFD lock on one byte of the control file without waiting; the kernel drops
     * it when this handle closes or its process dies.
     *
     * @return true if taken, false if another open file description holds it
     */
    public boolean tryLockByte(long offset) {
        try {
            return Libc.ofdTryLock(fd, Libc.F_WRLCK, offset, 1);
        } catch (NativeCallException e) {
            throw failure("cannot lock control byte", name, path, e);
        }
    }

    /** Drops this handle's lock on one byte of the control file (taken with {@link #tryLockByte}). */
    public void unlockByte(long offset) {
        try {
            Libc.ofdTryLock(fd, Libc.F_UNLCK, offset, 1);
        } catch (NativeCallException e) {
            throw failure("cannot unlock control byte", name, path, e);
        }
    }

    /** {@return which file this is (device and inode): the object's identity within this machine} */
    public FileStat stat() {
        try {
            return Libc.fstat(fd);
        } catch (NativeCallException e) {
            throw failure("cannot stat control file", name, path, e);
        }
    }

    /** {@return true if another open file description holds a lock on that byte} */
    public boolean isByteLockedByOther(long offset) {
        try {
            return !Libc.ofdCouldLock(fd, Libc.F_WRLCK, offset, 1);
        } catch (NativeCallException e) {
            throw failure("cannot test control byte", name, path, e);
        }
    }

    /**
     * Creates a control file with no name, for an unnamed object: an unlinked file
     * ({@code O_TMPFILE}) in the name-space directory that only this process can reach. It gives an
     * unnamed object the same shared state and locks as a named one, and vanishes with its last
     * handle.
     */
    public static ControlFile anonymous(NameSpace ns, Spec spec, String describedAs) {
        ObjectName name = new ObjectName(describedAs, ObjectName.Scope.LOCAL, describedAs);
        int fd;
        try {
            fd = Libc.open(ns.directory(), Libc.O_TMPFILE | Libc.O_RDWR | Libc.O_CLOEXEC, 0600);
        } catch (NativeCallException e) {
            throw failure("cannot create anonymous control file", name, ns.directory(), e);
        }
        Arena arena = Arena.ofShared();
        try {
            long size = HEADER_LENGTH + spec.regionLength();
            Libc.ftruncate(fd, size);
            Libc.fallocate(fd, 0, size);
            MemorySegment segment = map(fd, size, true, arena);
            putLong(segment, MAGIC_OFFSET, MAGIC);
            putInt(segment, LAYOUT_VERSION_OFFSET, LAYOUT_VERSION);
            putInt(segment, KIND_OFFSET, spec.kind().tag());
            putInt(segment, STATE_OFFSET, STATE_READY);
            putInt(segment, FLAGS_OFFSET, spec.flags());
            return new ControlFile(name, ns.directory() + "/(anonymous)", fd, true, true, arena, segment);
        } catch (NativeCallException e) {
            arena.close();
            Libc.close(fd);
            if (e.errno() == Errno.ENOSPC) {
                throw new OutOfSpaceException("not enough space for the control file: object=" + describedAs
                        + ", directory=" + ns.directory());
            }
            throw failure("cannot create anonymous control file", name, ns.directory(), e);
        }
    }

    public ObjectName name() {
        return name;
    }

    public String path() {
        return path;
    }

    /** {@return the header followed by the kind-specific region} */
    public MemorySegment segment() {
        return segment;
    }

    /** {@return the kind-specific region after the header} */
    public MemorySegment region() {
        return segment.asSlice(HEADER_LENGTH);
    }

    public long dataSize() {
        return getLong(segment, DATA_SIZE_OFFSET);
    }

    public int flags() {
        return getInt(segment, FLAGS_OFFSET);
    }

    public long backingDevice() {
        return getLong(segment, BACKING_DEVICE_OFFSET);
    }

    public long backingInode() {
        return getLong(segment, BACKING_INODE_OFFSET);
    }

    public String backingPath() {
        return readString(segment, PATH_LENGTH_OFFSET, PATH_OFFSET);
    }

    /** Records the data size; only during {@link Initializer#initialize}. */
    public void initDataSize(long size) {
        putLong(segment, DATA_SIZE_OFFSET, size);
    }

    /** Records the backing file; only during {@link Initializer#initialize}. */
    public void initBackingFile(String backingPath, FileStat stat) {
        putLong(segment, BACKING_DEVICE_OFFSET, stat.device());
        putLong(segment, BACKING_INODE_OFFSET, stat.inode());
        writeString(segment, PATH_LENGTH_OFFSET, PATH_OFFSET, PATH_CAPACITY, backingPath);
    }

    private static MemorySegment map(int fd, long size, boolean writable, Arena arena) throws NativeCallException {
        long address = Libc.mmap(size, writable ? Libc.PROT_READ | Libc.PROT_WRITE : Libc.PROT_READ,
                Libc.MAP_SHARED, fd, 0);
        return Libc.segment(address, size, arena, () -> {
            try {
                Libc.munmap(address, size);
            } catch (NativeCallException e) {
                throw new IllegalStateException(e.getMessage(), e);
            }
        });
    }

    private static String readString(MemorySegment segment, long lengthOffset, long offset) {
        int length = getInt(segment, lengthOffset);
        byte[] bytes = segment.asSlice(offset, length).toArray(ValueLayout.JAVA_BYTE);
        return new String(bytes, StandardCharsets.UTF_8);
    }

    private static void writeString(MemorySegment segment, long lengthOffset, long offset, int capacity,
                                    String value) {
        byte[] bytes = value.getBytes(StandardCharsets.UTF_8);
        if (bytes.length > capacity) {
            throw new io.shmflux.InvalidParameterException("string too long for the control block: bytes="
                    + bytes.length + ", capacity=" + capacity);
        }
        MemorySegment.copy(bytes, 0, segment, ValueLayout.JAVA_BYTE, offset, bytes.length);
        putInt(segment, lengthOffset, bytes.length);
    }

    static void unlinkQuietly(String path) {
        try {
            Libc.unlink(path);
        } catch (NativeCallException ignored) {
            // already gone
        }
    }

    private static String quoted(ObjectName name) {
        return ObjectName.quote(name.text());
    }

    /** Turns an errno into the public exception it stands for. */
    public static SharedMemoryException failure(String what, ObjectName name, String path, NativeCallException e) {
        String message = what + ": name=" + quoted(name) + ", path=" + path + ", call=" + e.call()
                + ", errno=" + e.errnoName();
        return switch (e.errno()) {
            case Errno.EACCES, Errno.EPERM, Errno.EROFS -> new AccessDeniedException(message);
            case Errno.ENOSPC, Errno.ENOMEM -> new OutOfSpaceException(message);
            case Errno.ELOOP -> new SharedMemoryException(what + ": name=" + quoted(name) + ", path=" + path
                    + ", reason=symbolic link in the name space");
            default -> new SharedMemoryException(message, e);
        };
    }
}
