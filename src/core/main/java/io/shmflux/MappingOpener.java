package io.shmflux;

import io.shmflux.internal.layout.ControlBlockDescriptor;
import io.shmflux.internal.linux.Errno;
import io.shmflux.internal.linux.FileStat;
import io.shmflux.internal.liveness.ObjectLease;
import io.shmflux.internal.linux.Libc;
import io.shmflux.internal.linux.NativeCallException;
import io.shmflux.internal.namespace.ControlFile;
import io.shmflux.internal.namespace.FileTrust;
import io.shmflux.internal.namespace.NameSpace;
import io.shmflux.internal.namespace.ObjectKind;
import io.shmflux.internal.namespace.ObjectName;
import io.shmflux.internal.protocol.ChangeLog;
import org.jspecify.annotations.Nullable;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Objects;

/**
 * Builds {@link FileMapping} handles: the data-file half of creating and opening, on top of the
 * name-space protocol in {@link ControlFile}.
 */
final class MappingOpener {

    /** How long an open waits for another process that is creating or destroying the same name. */
    static final Duration BUSY_TIMEOUT = Duration.ofSeconds(10);

    /**
     * The byte of a backing file whose lock marks it as in use by a mapping object: every holder of
     * the object keeps a shared lock there, a creator needs the exclusive one. Far past any real data,
     * so it never conflicts with locks an application takes on its own file contents.
     */
    static final long FILE_CLAIM_START = Long.MAX_VALUE - 1;

    private MappingOpener() {
    }

    static FileMapping paging(String nameText, long size, MappingOptions options,
                              ControlFile.Disposition disposition) {
        Objects.requireNonNull(nameText, "name");
        Objects.requireNonNull(options, "options");
        if (size <= 0) {
            throw new InvalidParameterException("invalid size: size=" + size + ", reason=must be positive");
        }
        ObjectName name = ObjectName.parse(nameText);
        NameSpace ns = NameSpace.get();
        String dataPath = ns.dataPath(name);
        int[] dataFd = {-1};
        int flags = options.pageCommit() == PageCommit.RESERVE ? ControlBlockDescriptor.FLAG_RESERVE : 0;
        ControlFile control = ControlFile.acquire(ns, name,
                spec(options, flags), disposition, false, BUSY_TIMEOUT, created -> {
                    dataFd[0] = createDataFile(name, dataPath, size, options);
                    created.initDataSize(size);
                    ChangeLog.initialize(created.region(), options.changeRingCapacity(), options.publishTimeout().toNanos());
                });
        if (control.created()) {
            return new FileMapping(nameText, new ObjectReference(control, dataFd[0], false, quote(nameText)),
                    size, Access.READ_WRITE, true, Path.of(dataPath));
        }
        return attach(ns, nameText, control, Access.READ_WRITE);
    }

    static FileMapping open(String nameText, Access access) {
        Objects.requireNonNull(nameText, "name");
        Objects.requireNonNull(access, "access");
        ObjectName name = ObjectName.parse(nameText);
        NameSpace ns = NameSpace.get();
        ControlFile control = ControlFile.acquire(ns, name,
                new ControlFile.Spec(ObjectKind.FILE_MAPPING, 0, 0600, 0), ControlFile.Disposition.OPEN_EXISTING,
                access != Access.READ_WRITE, BUSY_TIMEOUT, created -> {
                    throw new IllegalStateException("open must not create");
                });
        return attach(ns, nameText, control, access);
    }

    static FileMapping fromFile(Path file, @Nullable String nameText, long size, MappingOptions options) {
        Objects.requireNonNull(file, "file");
        Objects.requireNonNull(options, "options");
        if (size < 0) {
            throw new InvalidParameterException("invalid size: size=" + size + ", reason=must not be negative");
        }
        if (nameText == null) {
            NameSpace.get(); // checks native access, like every other entry point
            ClaimedFile claimed = claimFile(file, size);
            ControlFile control;
            try {
                control = ControlFile.anonymous(NameSpace.get(),
                        spec(options, ControlBlockDescriptor.FLAG_FILE_BACKED), "unnamed(" + claimed.path + ")");
                ChangeLog.initialize(control.region(), options.changeRingCapacity(), options.publishTimeout().toNanos());
            } catch (RuntimeException e) {
                Libc.close(claimed.fd);
                throw e;
            }
            return new FileMapping(null, new ObjectReference(control, claimed.fd, true, claimed.path),
                    claimed.size, Access.READ_WRITE, true, Path.of(claimed.path));
        }
        ObjectName name = ObjectName.parse(nameText);
        NameSpace ns = NameSpace.get();
        ClaimedFile[] claimed = {null};
        ControlFile control = ControlFile.acquire(ns, name,
                spec(options, ControlBlockDescriptor.FLAG_FILE_BACKED),
                ControlFile.Disposition.OPEN_ALWAYS, false, BUSY_TIMEOUT, created -> {
                    claimed[0] = claimFile(file, size);
                    created.initDataSize(claimed[0].size);
                    created.initBackingFile(claimed[0].path, claimed[0].stat);
                    ChangeLog.initialize(created.region(), options.changeRingCapacity(), options.publishTimeout().toNanos());
                });
        if (control.created()) {
            ClaimedFile c = claimed[0];
            return new FileMapping(nameText, new ObjectReference(control, c.fd, true, quote(nameText)), c.size,
                    Access.READ_WRITE, true, Path.of(c.path));
        }
        FileMapping existing = attach(ns, nameText, control, Access.READ_WRITE);
        FileStat requested;
        try {
            requested = statOf(file);
        } catch (RuntimeException e) {
            existing.close();
            throw e;
        }
        if (!existing.isFileBacked() || requested.device() != control.backingDevice()
                || requested.inode() != control.backingInode()) {
            existing.close();
            throw new ObjectAlreadyExistsException("name held by a mapping of another file: name=" + quote(nameText)
                    + ", file=" + file + ", existing=" + existing.dataPath());
        }
        return existing;
    }

    private static ControlFile.Spec spec(MappingOptions options, int flags) {
        return new ControlFile.Spec(ObjectKind.FILE_MAPPING, ChangeLog.regionLength(options.changeRingCapacity()),
                options.mode(), flags);
    }

    /**
     * Opens the data file of an object this process now holds in the name space. The file is checked
     * on its open descriptor before anything maps it: a paging-file object's data file must be a
     * regular file with one link, owned by the control file's owner, exactly the header's size; a
     * file-backed object's file must be the inode the header records and belong to the control file's
     * owner (or that owner is root), so no control file can point anyone at a file its owner could not
     * write (rule 3 of {@code security.md}).
     */
    private static FileMapping attach(NameSpace ns, String nameText, ControlFile control, Access access) {
        boolean fileBacked = (control.flags() & ControlBlockDescriptor.FLAG_FILE_BACKED) != 0;
        String path = fileBacked ? control.backingPath() : ns.dataPath(control.name());
        int openFlags = (access == Access.READ_WRITE ? Libc.O_RDWR : Libc.O_RDONLY) | Libc.O_CLOEXEC
                | Libc.O_NOFOLLOW | Libc.O_NONBLOCK;
        int fd = -1;
        try {
            fd = Libc.open(path, openFlags, 0);
            FileStat stat = Libc.fstat(fd);
            long size = control.dataSize();
            FileTrust.Distrust distrust = fileBacked
                    ? FileTrust.ofBacking(stat, control.ownerUid(), control.backingDevice(), control.backingInode())
                    : FileTrust.ofData(stat, control.ownerUid());
            if (distrust != null) {
                throw distrust.denied("cannot open data", control.name(), path);
            }
            if (fileBacked) {
                if (!new ObjectLease(fd, FILE_CLAIM_START).hold()) {
                    throw new SharingViolationException("backing file claimed by another object: name=" + quote(nameText)
                            + ", path=" + path);
                }
                if (stat.size() < size) {
                    throw new CorruptObjectException("corrupt object: field=dataSize, value=" + size + ", expected=at most "
                            + stat.size() + " (the backing file's size), path=" + control.path());
                }
            } else if (stat.size() != size) {
                throw new CorruptObjectException("corrupt object: field=dataSize, value=" + size + ", expected="
                        + stat.size() + " (the data file's size), path=" + control.path());
            }
            return new FileMapping(nameText, new ObjectReference(control, fd, fileBacked, quote(nameText)), size,
                    access, false, Path.of(path));
        } catch (NativeCallException e) {
            if (fd >= 0) {
                Libc.close(fd);
            }
            control.close();
            throw ControlFile.failure("cannot open data", control.name(), path, e);
        } catch (RuntimeException e) {
            if (fd >= 0) {
                Libc.close(fd);
            }
            control.close();
            throw e;
        }
    }

    private static int createDataFile(ObjectName name, String path, long size, MappingOptions options) {
        int fd = -1;
        try {
            try {
                // a leftover of a crash between destroy steps: the name is ours now, but never another user's file
                FileStat leftover = Libc.lstat(path);
                if (leftover.uid() != Libc.geteuid()) {
                    throw new AccessDeniedException("cannot create data file: name=" + quote(name.text()) + ", path="
                            + path + ", status=squatted, owner=" + Integer.toUnsignedString(leftover.uid())
                            + ", expected=" + Integer.toUnsignedString(Libc.geteuid())
                            + ", reason=another user's file under the object's data name");
                }
                Libc.unlink(path);
            } catch (NativeCallException e) {
                if (e.errno() != Errno.ENOENT) {
                    throw e;
                }
            }
            fd = Libc.open(path, Libc.O_RDWR | Libc.O_CREAT | Libc.O_EXCL | Libc.O_NOFOLLOW | Libc.O_NONBLOCK
                    | Libc.O_CLOEXEC, 0600);
            Libc.fchmod(fd, options.mode()); // on the descriptor: exactly this mode, whatever the umask
            Libc.ftruncate(fd, size);
            if (options.pageCommit() == PageCommit.COMMIT) {
                Libc.fallocate(fd, 0, size);
            }
            return fd;
        } catch (NativeCallException e) {
            if (fd >= 0) {
                Libc.close(fd);
            }
            if (e.errno() == Errno.ENOSPC || e.errno() == Errno.EFBIG) {
                throw new OutOfSpaceException("not enough space to commit the object: name=" + quote(name.text())
                        + ", size=" + size + ", path=" + path + ", call=" + e.call() + ", errno=" + e.errnoName()
                        + ", hint=use PageCommit.RESERVE for sparse objects");
            }
            throw ControlFile.failure("cannot create data file", name, path, e);
        }
    }

    private record ClaimedFile(int fd, long size, String path, FileStat stat) {
    }

    /** Opens a backing file and claims it for exclusive use by one object (held until the fd closes). */
    private static ClaimedFile claimFile(Path file, long requestedSize) {
        String path = file.toAbsolutePath().normalize().toString();
        int fd;
        try {
            fd = Libc.open(path, Libc.O_RDWR | Libc.O_CLOEXEC, 0);
        } catch (NativeCallException e) {
            throw switch (e.errno()) {
                case Errno.ENOENT -> new ObjectNotFoundException("file not found: path=" + path);
                case Errno.EACCES, Errno.EPERM, Errno.EROFS ->
                        new AccessDeniedException("cannot open file for read and write: path=" + path
                                + ", errno=" + e.errnoName());
                case Errno.EISDIR -> new InvalidParameterException("not a regular file: path=" + path);
                default -> new SharedMemoryException("cannot open file: path=" + path + ", errno=" + e.errnoName(), e);
            };
        }
        try {
            if (!new ObjectLease(fd, FILE_CLAIM_START).tryExclusive()) {
                throw new SharingViolationException("file already mapped by another object: path=" + path);
            }
            FileStat stat = Libc.fstat(fd);
            if (!stat.isRegularFile()) {
                throw new InvalidParameterException("not a regular file: path=" + path);
            }
            long size = requestedSize;
            if (size == 0) {
                if (stat.size() == 0) {
                    throw new InvalidParameterException("invalid size: size=0, fileSize=0, path=" + path
                            + ", reason=an empty file needs an explicit size");
                }
                size = stat.size();
            } else if (size > stat.size()) {
                grow(fd, path, stat.size(), size);
            }
            new ObjectLease(fd, FILE_CLAIM_START).hold(); // atomic downgrade; the object now holds it
            String realPath;
            try {
                realPath = file.toRealPath().toString();
            } catch (IOException e) {
                realPath = path;
            }
            return new ClaimedFile(fd, size, realPath, Libc.fstat(fd));
        } catch (NativeCallException e) {
            Libc.close(fd);
            throw new SharedMemoryException("cannot claim file: path=" + path + ", call=" + e.call() + ", errno="
                    + e.errnoName(), e);
        } catch (RuntimeException e) {
            Libc.close(fd);
            throw e;
        }
    }

    private static void grow(int fd, String path, long oldSize, long size) throws NativeCallException {
        try {
            Libc.ftruncate(fd, size);
            try {
                Libc.fallocate(fd, oldSize, size - oldSize);
            } catch (NativeCallException e) {
                if (e.errno() != Errno.EOPNOTSUPP) {
                    throw e;
                }
            }
        } catch (NativeCallException e) {
            try {
                Libc.ftruncate(fd, oldSize); // leave the file as it was
            } catch (NativeCallException ignored) {
                // nothing more to do
            }
            if (e.errno() == Errno.ENOSPC || e.errno() == Errno.EFBIG) {
                throw new OutOfSpaceException("cannot grow file: path=" + path + ", fileSize=" + oldSize + ", size="
                        + size + ", errno=" + e.errnoName());
            }
            throw e;
        }
    }

    private static FileStat statOf(Path file) {
        String path = file.toAbsolutePath().toString();
        try {
            int fd = Libc.open(path, Libc.O_RDONLY | Libc.O_CLOEXEC, 0);
            try {
                return Libc.fstat(fd);
            } finally {
                Libc.close(fd);
            }
        } catch (NativeCallException e) {
            throw e.errno() == Errno.ENOENT
                    ? new ObjectNotFoundException("file not found: path=" + path)
                    : new SharedMemoryException("cannot stat file: path=" + path + ", errno=" + e.errnoName(), e);
        }
    }

    private static String quote(String name) {
        return ObjectName.quote(name);
    }
}
