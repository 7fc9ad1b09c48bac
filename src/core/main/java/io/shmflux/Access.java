package io.shmflux;

/**
 * What a handle or a view may do with the object's pages (Win32's {@code FILE_MAP_*} rights).
 *
 * <p>A view's access cannot exceed its handle's: a {@code READ} handle maps {@code READ} and
 * {@code COPY_ON_WRITE} views; a {@code READ_WRITE} handle maps all three.
 */
public enum Access {
    /** Read only; the view's segment is {@linkplain java.lang.foreign.MemorySegment#isReadOnly() read-only}. Win32 {@code FILE_MAP_READ}. */
    READ,
    /** Read and write, shared with every other view of the object. Win32 {@code FILE_MAP_WRITE}. */
    READ_WRITE,
    /**
     * Read, and write into private copies of the pages: other views never see these writes, and they
     * never reach the file. Win32 {@code FILE_MAP_COPY}; Linux {@code MAP_PRIVATE}.
     */
    COPY_ON_WRITE;

    /** {@return true if a handle with this access may map a view with {@code view} access} */
    boolean permitsView(Access view) {
        return this == READ_WRITE || view != READ_WRITE;
    }
}
