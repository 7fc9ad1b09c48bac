package io.shmflux.internal.namespace;

import io.shmflux.internal.observe.Diagnostics;
import io.shmflux.internal.observe.Diagnostics.ReclaimReason;
import java.util.Objects;
import io.shmflux.AccessDeniedException;
import io.shmflux.CorruptObjectException;
import io.shmflux.InvalidNameException;
import io.shmflux.ObjectAlreadyExistsException;
import io.shmflux.ObjectNotFoundException;
import io.shmflux.OutOfSpaceException;
import io.shmflux.SharedMemoryException;
import io.shmflux.WrongObjectKindException;
import io.shmflux.internal.layout.ChangeLogDescriptor;
import io.shmflux.internal.liveness.LeaseState;
import io.shmflux.internal.liveness.ObjectLease;
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
 * Liveness is kept by the kernel with an {@link ObjectLease}: open-file-description locks
 * ({@code F_OFD_SETLK}) on byte 0 of the control file. Every holder keeps a shared (read) lock; the
 * kernel drops it when the holder closes the file or dies, however it dies.
 * <ol>
 * <li><b>Create.</b> Build the control file as a file with no name yet ({@code O_TMPFILE}, so that
 *     a creator killed now leaves nothing behind) while holding an exclusive lock on it, header state
 *     {@code INITIALIZING}; {@code linkat} it to the object's name (fails with {@code EEXIST} if the
 *     name is taken: then open instead); run the kind's initializer (for a
 *     mapping: create and commit the data file); set state {@code READY}; downgrade the exclusive lock
 *     to a shared one (atomic for OFD locks). Nobody can take a shared lock before that, so nobody
 *     sees a half-built object.</li>
 * <li><b>Open.</b> Open the control file, take a shared lock (retrying with back-off while a creator
 *     or a destroyer holds the exclusive one, for a bounded time); if the file was unlinked meanwhile
 *     ({@code st_nlink == 0}), start again. Check the file on its descriptor and every header field
 *     ({@link FileTrust}, {@link ObjectHeader}; {@code security.md}), then state and kind tag. Then try
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

    /** The byte of the control file that carries the object's lease (see {@link ObjectLease}). */
    private static final long LIVENESS_OFFSET = 0;
    private static final long MAX_BACKOFF_NANOS = TimeUnit.MILLISECONDS.toNanos(20);
    /**
     * Flags of every open of a file under our names: never through a symbolic link, never inherited
     * by a child process, never blocking (a FIFO planted under our name opens at once and is refused).
     */
    static final int OPEN_FLAGS = Libc.O_NOFOLLOW | Libc.O_CLOEXEC | Libc.O_NONBLOCK;
    /** The most of a control file anyone maps: the header and the largest region a creator makes. */
    private static final long MAX_MAPPED = HEADER_LENGTH
            + ChangeLogDescriptor.regionLength(ChangeLogDescriptor.MAX_RING_CAPACITY, ChangeLogDescriptor.HOLDER_SLOTS,
                    ChangeLogDescriptor.SUBSCRIBER_SLOTS);
    private static final int ROOT = 0;

    private final ObjectName name;
    private final String path;
    private final int fd;
    private final boolean writable;
    private final boolean created;
    private final int ownerUid;
    private final Arena arena;
    private final MemorySegment segment;
    /** The header as checked when this process attached (or as it created it); null for an unnamed object. */
    private volatile @Nullable ObjectHeader header;
    private final AtomicBoolean closed = new AtomicBoolean();

    private ControlFile(ObjectName name, String path, int fd, boolean writable, boolean created, int ownerUid,
                        Arena arena, MemorySegment segment, @Nullable ObjectHeader header) {
        this.name = name;
        this.path = path;
        this.fd = fd;
        this.writable = writable;
        this.created = created;
        this.ownerUid = ownerUid;
        this.arena = arena;
        this.segment = segment;
        this.header = header;
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
        int expectedOwner = ns.expectedOwner(name);
        long deadline = System.nanoTime() + timeout.toNanos();
        long backoff = TimeUnit.MICROSECONDS.toNanos(200);
        while (true) {
            int fd;
            boolean writable = true;
            try {
                fd = Libc.open(path, Libc.O_RDWR | OPEN_FLAGS, 0);
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
                        fd = Libc.open(path, Libc.O_RDONLY | OPEN_FLAGS, 0);
                        writable = false;
                    } catch (NativeCallException again) {
                        if (again.errno() == Errno.ENOENT) {
                            continue;
                        }
                        throw openFailure(name, path, expectedOwner, again);
                    }
                } else {
                    throw openFailure(name, path, expectedOwner, e);
                }
            }
            Attach attach = tryAttach(name, path, fd, writable, expectedOwner, spec.kind(), disposition);
            switch (attach.outcome) {
                case ATTACHED -> {
                    return Objects.requireNonNull(attach.control);
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

    /**
     * An open of the control file failed: if the file under the name is one we would refuse anyway
     * (another user's under a {@code Local\} name, a symbolic link, a directory, a socket), say so,
     * with its owner; else report the errno.
     */
    private static SharedMemoryException openFailure(ObjectName name, String path, int expectedOwner,
                                                     NativeCallException e) {
        try {
            FileTrust.Distrust distrust = FileTrust.ofControl(Libc.lstat(path), expectedOwner);
            if (distrust != null) {
                return distrust.denied("cannot open object", name, path);
            }
        } catch (NativeCallException gone) {
            // report the open's own error
        }
        return failure("cannot open object", name, path, e);
    }

    private enum Outcome { ATTACHED, RETRY_NOW, BUSY }

    private record Attach(Outcome outcome, @Nullable ControlFile control) {
        static final Attach RETRY_NOW = new Attach(Outcome.RETRY_NOW, null);
        static final Attach BUSY = new Attach(Outcome.BUSY, null);
    }

    /**
     * Step 2 of the protocol on an open control file. Every check is on the open descriptor, in this
     * order, and nothing is written anywhere before all have passed:
     * <ol>
     * <li>{@code fstat}: a regular file, owned by the name's user for a {@code Local\} name.</li>
     * <li>A shared lock (else busy: a creator or destroyer holds it); {@code fstat} again: unlinked
     *     meanwhile means start again.</li>
     * <li>Every header field and the kind's region (one parser, {@link ObjectHeader}). A corrupt object
     *     nobody holds is removed whole if this process may; otherwise {@link CorruptObjectException}.</li>
     * <li>Half built: destroyed if its creator died. Ready: exactly one link, the kind asked for; no
     *     other holder means a leftover, destroyed; else the name stored must equal the name asked
     *     for.</li>
     * </ol>
     */
    private static Attach tryAttach(ObjectName name, String path, int fd, boolean writable, int expectedOwner,
                                    ObjectKind kind, Disposition disposition) {
        Arena arena = null;
        boolean keep = false;
        try {
            FileStat stat = Libc.fstat(fd);
            FileTrust.Distrust distrust = FileTrust.ofControl(stat, expectedOwner);
            if (distrust != null) {
                throw distrust.denied("cannot open object", name, path);
            }
            if (!lease(fd).hold()) {
                return Attach.BUSY;
            }
            stat = Libc.fstat(fd);
            if (stat.links() == 0) {
                return Attach.RETRY_NOW;
            }
            arena = Arena.ofShared();
            MemorySegment segment = map(fd, stat.size(), writable, arena);
            ObjectHeader header;
            try {
                header = ObjectHeader.parse(segment, path);
            } catch (CorruptObjectException corrupt) {
                // a corrupt object nobody holds goes whole (both files); a held one stays, for this name only
                if (writable && lease(fd).tryExclusive()
                        && destroyLocked(fd, path, null, stat.uid())) {
                    Diagnostics.objectReclaimed(path, ReclaimReason.CORRUPT);
                    return Attach.RETRY_NOW;
                }
                throw corrupt;
            }
            if (!header.ready()) {
                // its creator died half-way: nobody holds it exclusively, or we could not have locked it
                if (!writable) {
                    throw deadObject(name, path, kind, disposition);
                }
                lease(fd).drop();
                if (lease(fd).tryExclusive()) {
                    if (!destroyLocked(fd, path, header, stat.uid())) {
                        throw deadObject(name, path, kind, disposition);
                    }
                    Diagnostics.objectReclaimed(path, ReclaimReason.HALF_CREATED);
                    return Attach.RETRY_NOW;
                }
                return Attach.BUSY;
            }
            distrust = FileTrust.ofLinks(stat);
            if (distrust != null) {
                throw distrust.denied("cannot open object", name, path);
            }
            if (header.kind() != kind) {
                throw new WrongObjectKindException("name held by another kind of object: name=" + quoted(name)
                        + ", kind=" + header.kind().displayName() + ", requested=" + kind.displayName());
            }
            if (writable && lease(fd).tryExclusive()) {
                // every holder closed or died: the object no longer exists
                if (!destroyLocked(fd, path, header, stat.uid())) {
                    throw deadObject(name, path, kind, disposition);
                }
                Diagnostics.objectReclaimed(path, ReclaimReason.STALE);
                return Attach.RETRY_NOW;
            }
            if (!writable && lease(fd).others() == LeaseState.DEAD) {
                // the same, seen by a holder that may not remove it
                throw deadObject(name, path, kind, disposition);
            }
            if (!header.name().equals(name.bare())) {
                throw new InvalidNameException("name collides with another name's file: name=" + quoted(name)
                        + ", other=" + ObjectName.quote(header.name()) + ", path=" + path);
            }
            if (disposition == Disposition.CREATE_NEW) {
                throw new ObjectAlreadyExistsException("object already exists: name=" + quoted(name)
                        + ", kind=" + kind.displayName());
            }
            keep = true;
            return new Attach(Outcome.ATTACHED,
                    new ControlFile(name, path, fd, writable, false, stat.uid(), arena, segment, header));
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
        int fd;
        try {
            // a file with no name until step "link" gives it one: a creator killed before that leaves nothing
            fd = Libc.open(ns.directory(), Libc.O_TMPFILE | Libc.O_RDWR | Libc.O_CLOEXEC, 0600);
        } catch (NativeCallException e) {
            throw failure("cannot create object", name, ns.directory(), e);
        }
        Arena arena = null;
        MemorySegment segment = null;
        boolean linked = false;
        boolean keep = false;
        try {
            long size = HEADER_LENGTH + spec.regionLength();
            if (!lease(fd).tryExclusive()) {
                throw new SharedMemoryException("fresh control file locked by another: directory=" + ns.directory());
            }
            Libc.fchmod(fd, spec.mode()); // on the descriptor: exactly this mode, whatever the umask
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
                Libc.linkDescriptor(fd, path);
            } catch (NativeCallException e) {
                if (e.errno() == Errno.EEXIST) {
                    return null; // lost the race to another creator: open
                }
                throw e;
            }
            linked = true;
            ControlFile control = new ControlFile(name, path, fd, true, true, Libc.fstat(fd).uid(), arena, segment,
                    null);
            initializer.initialize(control);
            putInt(segment, STATE_OFFSET, STATE_READY);
            control.header = ObjectHeader.parse(segment, path); // what others will check, checked by its maker
            lease(fd).hold();
            keep = true;
            Diagnostics.objectCreated(name.text(), spec.kind().displayName(), path);
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
                        destroyLocked(fd, path, null, Libc.geteuid());
                    } catch (NativeCallException | RuntimeException e) {
                        unlinkQuietly(path);
                    }
                }
                if (arena != null) {
                    arena.close();
                }
                Libc.close(fd);
            }
        }
    }

    /** What {@link #reclaimIfStale} did with one file. */
    public enum ReclaimOutcome {
        /** Nobody held it: its files are gone. */
        RECLAIMED,
        /** A live process holds it. */
        LIVE,
        /** Gone already, or removed by another process meanwhile. */
        GONE,
        /** Stale or not, it stays: not trusted, or not this user's to remove; the detail says why. */
        KEPT
    }

    /**
     * The outcome for one file.
     *
     * @param detail {@code status=..., key=value} for {@link ReclaimOutcome#KEPT}, else empty
     */
    public record Reclaim(ReclaimOutcome outcome, String detail) {
        static final Reclaim RECLAIMED = new Reclaim(ReclaimOutcome.RECLAIMED, "");
        static final Reclaim LIVE = new Reclaim(ReclaimOutcome.LIVE, "");
        static final Reclaim GONE = new Reclaim(ReclaimOutcome.GONE, "");

        static Reclaim kept(String detail) {
            return new Reclaim(ReclaimOutcome.KEPT, detail);
        }
    }

    /**
     * Reclaims one file of the name space if no process holds it (step 4 of the protocol), by the
     * same checks as an open: the file must be trusted ({@link FileTrust}), be the caller's (or the
     * caller is root), and nobody may hold it. A corrupt or incompatible control file nobody holds is
     * removed with its data file. Never throws for a bad file: a file it cannot or may not remove is
     * {@link ReclaimOutcome#KEPT}, with the reason.
     *
     * @param expectedOwner the uid of a {@code Local\} name's user (from the file name), or -1
     */
    static Reclaim reclaimIfStale(String path, int expectedOwner) {
        int fd;
        try {
            fd = Libc.open(path, Libc.O_RDWR | OPEN_FLAGS, 0);
        } catch (NativeCallException e) {
            if (e.errno() == Errno.ENOENT) {
                return Reclaim.GONE;
            }
            try {
                FileTrust.Distrust distrust = FileTrust.ofControl(Libc.lstat(path), expectedOwner);
                if (distrust != null) {
                    return Reclaim.kept("status=" + distrust.status() + ", " + distrust.detail());
                }
            } catch (NativeCallException gone) {
                return Reclaim.GONE;
            }
            return Reclaim.kept("status=not ours, call=open, errno=" + e.errnoName());
        }
        try (Arena arena = Arena.ofConfined()) {
            FileStat stat = Libc.fstat(fd);
            FileTrust.Distrust distrust = FileTrust.ofControl(stat, expectedOwner);
            if (distrust != null) {
                return Reclaim.kept("status=" + distrust.status() + ", " + distrust.detail());
            }
            int caller = Libc.geteuid();
            if (stat.uid() != caller && caller != ROOT) {
                return Reclaim.kept("status=not ours, owner=" + Integer.toUnsignedString(stat.uid())
                        + ", reason=only its owner (or root) removes it");
            }
            if (!lease(fd).tryExclusive()) {
                return Reclaim.LIVE;
            }
            stat = Libc.fstat(fd);
            if (stat.links() == 0) {
                return Reclaim.GONE;
            }
            if (!path.endsWith(NameSpace.CONTROL_SUFFIX)) {
                unlinkQuietly(path); // a temporary file of an older version, whose creator died before naming it
                Diagnostics.objectReclaimed(path, ReclaimReason.LEFTOVER_TEMPORARY);
                return Reclaim.RECLAIMED;
            }
            ObjectHeader header;
            try {
                header = ObjectHeader.parse(map(fd, stat.size(), false, arena), path);
            } catch (CorruptObjectException corrupt) {
                header = null; // removed whole below, data file included
            }
            if (header != null && header.ready() && (distrust = FileTrust.ofLinks(stat)) != null) {
                return Reclaim.kept("status=" + distrust.status() + ", " + distrust.detail());
            }
            if (destroyLocked(fd, path, header, stat.uid())) {
                Diagnostics.objectReclaimed(path, header == null ? ReclaimReason.CORRUPT
                        : header.ready() ? ReclaimReason.STALE : ReclaimReason.HALF_CREATED);
                return Reclaim.RECLAIMED;
            }
            return Reclaim.kept("status=not ours, owner=" + Integer.toUnsignedString(stat.uid())
                    + ", reason=the sticky directory lets only its owner remove it");
        } catch (NativeCallException e) {
            return Reclaim.kept("status=unreadable, call=" + e.call() + ", errno=" + e.errnoName());
        } catch (RuntimeException e) {
            return Reclaim.kept("status=unreadable, cause=" + e);
        } finally {
            Libc.close(fd);
        }
    }

    /**
     * What a look at one control file found, without joining the object.
     *
     * @param stat     the control file's status, from its open descriptor
     * @param header   the checked header, or null if {@code distrust} or {@code corrupt} says why not
     * @param distrust why the file is not trusted, or null
     * @param corrupt  why the header is not valid, or null
     * @param file     the control file mapped read-only (empty if it was not trusted)
     * @param fd       the open descriptor (read-only), for lock tests while looking
     */
    public record Look(FileStat stat, @Nullable ObjectHeader header, FileTrust.@Nullable Distrust distrust,
                       @Nullable CorruptObjectException corrupt, MemorySegment file, int fd) {
    }

    /**
     * Looks at a control file the way an open would check it (same descriptor checks, same header
     * parser) but read-only and without taking any lock, so looking never keeps an object alive nor
     * reclaims it. For the tool.
     *
     * @param expectedOwner the uid of a {@code Local\} name's user, or -1
     * @return what {@code reader} returns; {@code look} is valid only inside it
     * @throws NativeCallException if the file cannot be opened
     */
    public static <T> T look(String path, int expectedOwner, java.util.function.Function<Look, T> reader)
            throws NativeCallException {
        int fd = Libc.open(path, Libc.O_RDONLY | OPEN_FLAGS, 0);
        try (Arena arena = Arena.ofConfined()) {
            FileStat stat = Libc.fstat(fd);
            FileTrust.Distrust distrust = FileTrust.ofControl(stat, expectedOwner);
            if (!stat.isRegularFile()) {
                return reader.apply(new Look(stat, null, distrust, null, MemorySegment.NULL, fd));
            }
            // an untrusted file is still parsed, read-only, so the tool can show what it claims to be
            MemorySegment file = map(fd, stat.size(), false, arena);
            try {
                ObjectHeader header = ObjectHeader.parse(file, path);
                if (distrust == null && header.ready()) {
                    distrust = FileTrust.ofLinks(stat);
                }
                return reader.apply(new Look(stat, header, distrust, null, file, fd));
            } catch (CorruptObjectException corrupt) {
                return reader.apply(new Look(stat, null, distrust, corrupt, file, fd));
            }
        } finally {
            Libc.close(fd);
        }
    }

    /**
     * Removes the object's files; the caller holds the exclusive lock. A paging-file mapping loses its
     * data file (only if it belongs to the control file's owner); a file-backed one is flushed to its
     * file first, by path since its holders are gone, and only if that file passes
     * {@link FileTrust#ofBacking}. A corrupt header ({@code header == null}) is trusted for nothing:
     * the control file and the data file its name implies go, no other file is touched.
     *
     * @param owner the control file's owner
     * @return false if the control file is still there because this process may not remove it
     *         ({@code /dev/shm} is sticky: only the owner removes an object's files), true otherwise
     */
    private static boolean destroyLocked(int fd, String path, @Nullable ObjectHeader header, int owner)
            throws NativeCallException {
        if (Libc.fstat(fd).links() == 0) {
            return true; // another destroyer finished first
        }
        if (header != null && header.fileBacked()) {
            if (header.ready()) {
                syncBackingFile(header, owner);
            }
        } else if (path.endsWith(NameSpace.CONTROL_SUFFIX)) {
            unlinkIfOwnedBy(NameSpace.dataPathOf(path), owner);
        }
        try {
            Libc.unlink(path);
            return true;
        } catch (NativeCallException e) {
            return e.errno() != Errno.EPERM && e.errno() != Errno.EACCES;
        }
    }

    /** Unlinks a data file next to a control file if it belongs to the same user: never another's file. */
    private static void unlinkIfOwnedBy(String path, int owner) {
        try {
            if (Libc.lstat(path).uid() == owner) {
                Libc.unlink(path);
            }
        } catch (NativeCallException ignored) {
            // gone already, or not ours to remove
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

    private static void syncBackingFile(ObjectHeader header, int owner) {
        try {
            int backingFd = Libc.open(header.backingPath(), Libc.O_RDONLY | OPEN_FLAGS, 0);
            try {
                FileStat stat = Libc.fstat(backingFd);
                if (FileTrust.ofBacking(stat, owner, header.backingDevice(), header.backingInode()) == null) {
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
            lease(fd).drop();
            if (!lease(fd).tryExclusive()) {
                return false;
            }
            FileStat stat = Libc.fstat(fd);
            if (stat.links() == 0) {
                return false;
            }
            lastHolderAction.run();
            if (!destroyLocked(fd, path, header, ownerUid)) {
                return false;
            }
            ObjectHeader checked = header;
            Diagnostics.objectDestroyed(name.text(), checked == null ? "unknown" : checked.kind().displayName(), path);
            return true;
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
     * {@return a second open file description (read-write) of this very control file} For locks that
     * must live on a description of their own. It is opened through {@code /proc/self/fd}, so it is
     * the file this handle checked even if the name now names another one (the owner of a
     * {@code Global\} object may replace its files at any time).
     */
    public int reopen() {
        try {
            return Libc.open("/proc/self/fd/" + fd, Libc.O_RDWR | Libc.O_CLOEXEC, 0);
        } catch (NativeCallException e) {
            throw failure("cannot reopen control file", name, path, e);
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
            Libc.fchmod(fd, 0600); // O_TMPFILE applies the umask: set the mode on the descriptor
            Libc.ftruncate(fd, size);
            Libc.fallocate(fd, 0, size);
            MemorySegment segment = map(fd, size, true, arena);
            putLong(segment, MAGIC_OFFSET, MAGIC);
            putInt(segment, LAYOUT_VERSION_OFFSET, LAYOUT_VERSION);
            putInt(segment, KIND_OFFSET, spec.kind().tag());
            putInt(segment, STATE_OFFSET, STATE_READY);
            putInt(segment, FLAGS_OFFSET, spec.flags());
            return new ControlFile(name, ns.directory() + "/(anonymous)", fd, true, true, Libc.fstat(fd).uid(), arena,
                    segment, null);
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

    /** {@return the control file's descriptor} on which this handle's leases are taken (they end with it) */
    public int descriptor() {
        return fd;
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

    /** {@return the uid that owns the control file: whoever made the object} */
    public int ownerUid() {
        return ownerUid;
    }

    /**
     * {@return the header as checked when this process attached} A process that shares the object
     * (and may write its control file) cannot change what this handle was checked to use.
     */
    private ObjectHeader header() {
        ObjectHeader checked = header;
        if (checked == null) {
            throw new IllegalStateException("no checked header: path=" + path + " (unnamed, or still initializing)");
        }
        return checked;
    }

    public long dataSize() {
        return header().dataSize();
    }

    public int flags() {
        return header().flags();
    }

    public long backingDevice() {
        return header().backingDevice();
    }

    public long backingInode() {
        return header().backingInode();
    }

    public String backingPath() {
        return header().backingPath();
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

    /**
     * Maps a control file: at most {@link #MAX_MAPPED} bytes (a larger file is checked against what a
     * creator makes, not mapped whole), and an empty file as an empty segment.
     */
    private static MemorySegment map(int fd, long fileSize, boolean writable, Arena arena) throws NativeCallException {
        if (fileSize <= 0) {
            return MemorySegment.NULL;
        }
        long size = Math.min(fileSize, MAX_MAPPED);
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

    /** {@return the object's lease as descriptor {@code fd} holds it} */
    private static ObjectLease lease(int fd) {
        return new ObjectLease(fd, LIVENESS_OFFSET);
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
            case Errno.ELOOP -> new AccessDeniedException(what + ": name=" + quoted(name) + ", path=" + path
                    + ", status=not a regular file, type=symbolic link");
            case Errno.EISDIR, Errno.ENXIO -> new AccessDeniedException(message + ", status=not a regular file");
            default -> new SharedMemoryException(message, e);
        };
    }
}
