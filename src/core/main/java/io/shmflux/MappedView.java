package io.shmflux;

import io.shmflux.internal.linux.Libc;
import io.shmflux.internal.linux.NativeCallException;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * A view of a file-mapping object mapped into this process (Win32's {@code MapViewOfFile}). Every view
 * of one object, in every process, shares the same physical pages, at its own address.
 *
 * <p>The view keeps its object alive until it is closed, even after its {@link FileMapping} handle is
 * closed. {@link #close()} unmaps at once and is idempotent; afterwards {@link #segment()} throws
 * {@link HandleClosedException}, and a segment obtained earlier throws {@link IllegalStateException}
 * on access (the JVM checks; it never touches unmapped memory). Views are safe to use and close from
 * any thread.
 *
 * {@snippet :
 * try (MappedView view = mapping.map(Access.READ_WRITE, 0, 4096)) {
 *     view.segment().set(ValueLayout.JAVA_LONG, 0, 42L);
 *     view.flush(); // file-backed: now on disk; paging file: nothing to do
 * }
 * }
 */
public final class MappedView implements AutoCloseable {

    private final ObjectReference object;
    private final String describedAs;
    private final Access access;
    private final long offset;
    private final long length;
    private final long mapAddress;
    private final long mapLength;
    private final Arena arena;
    private final MemorySegment segment;
    private final AtomicBoolean closed = new AtomicBoolean();

    private MappedView(ObjectReference object, String describedAs, Access access, long offset, long length,
                       long mapAddress, long mapLength, Arena arena, MemorySegment segment) {
        this.object = object;
        this.describedAs = describedAs;
        this.access = access;
        this.offset = offset;
        this.length = length;
        this.mapAddress = mapAddress;
        this.mapLength = mapLength;
        this.arena = arena;
        this.segment = segment;
    }

    /** Maps {@code [offset, offset + length)} of the object; the caller has retained {@code object}. */
    static MappedView map(ObjectReference object, String describedAs, Access access, long offset, long length) {
        long page = Libc.pageSize();
        long mapOffset = offset - (offset % page);
        long delta = offset - mapOffset;
        long mapLength = length + delta;
        int prot = access == Access.READ ? Libc.PROT_READ : Libc.PROT_READ | Libc.PROT_WRITE;
        int flags = access == Access.COPY_ON_WRITE ? Libc.MAP_PRIVATE : Libc.MAP_SHARED;
        long address;
        try {
            address = Libc.mmap(mapLength, prot, flags, object.dataFd(), mapOffset);
        } catch (NativeCallException e) {
            object.release();
            String message = "cannot map view: object=" + describedAs + ", offset=" + offset + ", length="
                    + length + ", access=" + access + ", errno=" + e.errnoName();
            throw e.errno() == io.shmflux.internal.linux.Errno.ENOMEM
                    ? new OutOfSpaceException(message + ", reason=no address space left")
                    : new SharedMemoryException(message, e);
        }
        Arena arena = Arena.ofShared();
        MemorySegment mapped = Libc.segment(address, mapLength, arena, () -> {
            try {
                Libc.munmap(address, mapLength);
            } catch (NativeCallException e) {
                throw new IllegalStateException(e.getMessage(), e);
            }
        });
        MemorySegment segment = mapped.asSlice(delta, length);
        if (access == Access.READ) {
            segment = segment.asReadOnly();
        }
        return new MappedView(object, describedAs, access, offset, length, address, mapLength, arena, segment);
    }

    /**
     * {@return the mapped bytes} Read-only for a {@link Access#READ} view.
     *
     * @throws HandleClosedException if the view is closed
     */
    public MemorySegment segment() {
        ensureOpen();
        return segment;
    }

    /** {@return where the view starts in the object} */
    public long offset() {
        return offset;
    }

    /** {@return the length of the view in bytes} */
    public long byteSize() {
        return length;
    }

    public Access access() {
        return access;
    }

    /** {@return true until {@link #close()}} */
    public boolean isOpen() {
        return !closed.get();
    }

    /**
     * Writes the view's changed pages to the backing file and waits for the write (Win32's
     * {@code FlushViewOfFile}, Linux {@code msync(MS_SYNC)}). For a paging-file object, and for
     * read-only and copy-on-write views (nothing of theirs goes to the file), this is a cheap success.
     *
     * @throws HandleClosedException if the view is closed
     */
    public void flush() {
        flush(0, length);
    }

    /**
     * Flushes {@code [offset, offset + length)} of this view, offsets relative to the view; see {@link #flush()}.
     *
     * @throws InvalidParameterException if the range is outside the view
     */
    public void flush(long offset, long length) {
        ensureOpen();
        if (offset < 0 || length < 0 || offset > this.length || length > this.length - offset) {
            throw new InvalidParameterException("flush range out of view: offset=" + offset + ", length=" + length
                    + ", viewLength=" + this.length);
        }
        if (!object.fileBacked() || access != Access.READ_WRITE || length == 0) {
            return;
        }
        long delta = mapLength - this.length;
        long start = delta + offset;
        long alignedStart = start - (start % Libc.pageSize());
        try {
            Libc.msync(mapAddress + alignedStart, start + length - alignedStart, Libc.MS_SYNC);
        } catch (NativeCallException e) {
            if (closed.get()) {
                throw closedException();
            }
            throw new SharedMemoryException("cannot flush view: object=" + describedAs + ", offset=" + offset
                    + ", length=" + length + ", errno=" + e.errnoName(), e);
        }
    }

    /**
     * Unmaps the view (Win32's {@code UnmapViewOfFile}) and drops its hold on the object; the last hold
     * anywhere flushes a file-backed object and destroys a paging-file one. Idempotent.
     */
    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        try {
            arena.close();
        } finally {
            object.release();
        }
    }

    @Override
    public String toString() {
        return "MappedView[object=" + describedAs + ", offset=" + offset + ", length=" + length + ", access="
                + access + (closed.get() ? ", closed" : "") + "]";
    }

    private void ensureOpen() {
        if (closed.get()) {
            throw closedException();
        }
    }

    private HandleClosedException closedException() {
        return new HandleClosedException("view closed: object=" + describedAs + ", offset=" + offset
                + ", length=" + length);
    }
}
