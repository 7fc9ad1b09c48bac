package io.shmflux;

import io.shmflux.internal.linux.Errno;
import io.shmflux.internal.linux.Libc;
import io.shmflux.internal.linux.NativeCallException;
import org.jspecify.annotations.Nullable;

import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * A handle to a file-mapping object (Win32's handle from {@code CreateFileMapping} or
 * {@code OpenFileMapping}). Obtain one from {@link SharedMemory}; map views of it with {@link #map}.
 *
 * <p>The object lives while any handle or view of it is open in any process. Closing this handle
 * while views remain keeps it alive; when the last handle or view anywhere closes, a file-backed
 * object is flushed to its file and releases it, and a paging-file object is destroyed. A process that
 * dies counts as having closed everything it held.
 *
 * <p>{@link #close()} is idempotent; any other method on a closed handle throws
 * {@link HandleClosedException}. Handles are safe to use from any thread.
 */
public final class FileMapping implements AutoCloseable {

    private final @Nullable String name;
    private final ObjectReference object;
    private final long size;
    private final Access access;
    private final boolean created;
    private final Path dataPath;
    private final AtomicBoolean closed = new AtomicBoolean();

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
     * Closes this handle (Win32's {@code CloseHandle}). Views mapped from it stay valid and keep the
     * object alive. Idempotent.
     */
    @Override
    public void close() {
        if (closed.compareAndSet(false, true)) {
            object.release();
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
