package io.shmflux;

import io.shmflux.internal.linux.Libc;
import io.shmflux.internal.linux.NativeCallException;
import io.shmflux.internal.namespace.ControlFile;

import java.util.concurrent.atomic.AtomicInteger;

/**
 * One handle's hold on a mapping object in this process: the data file descriptor and, for a named
 * object, the control file. Counted: the handle holds one reference and every open view one more,
 * so closing the handle while views remain keeps the object alive, as in Win32.
 */
final class ObjectReference {

    private final ControlFile control;
    private final int dataFd;
    private final boolean fileBacked;
    private final String describedAs;
    private final AtomicInteger references = new AtomicInteger(1);

    ObjectReference(ControlFile control, int dataFd, boolean fileBacked, String describedAs) {
        this.control = control;
        this.dataFd = dataFd;
        this.fileBacked = fileBacked;
        this.describedAs = describedAs;
    }

    /** {@return the control file: every object has one, an unnamed one an anonymous file} */
    ControlFile control() {
        return control;
    }

    int dataFd() {
        return dataFd;
    }

    boolean fileBacked() {
        return fileBacked;
    }

    /** {@return false if the object is already released in this process} */
    boolean retain() {
        while (true) {
            int current = references.get();
            if (current == 0) {
                return false;
            }
            if (references.compareAndSet(current, current + 1)) {
                return true;
            }
        }
    }

    /**
     * Drops one reference; the last one leaves the object: the last holder anywhere flushes a
     * file-backed object to its file and destroys a paging-file one.
     */
    void release() {
        if (references.decrementAndGet() != 0) {
            return;
        }
        SharedMemoryException failure = null;
        try {
            if (control.anonymous()) {
                syncToFile(); // unnamed: this handle is the only holder
                control.close();
            } else {
                control.release(this::syncToFile);
            }
        } catch (SharedMemoryException e) {
            failure = e;
        } finally {
            Libc.close(dataFd); // drops the file's exclusive-use lock
        }
        if (failure != null) {
            throw failure;
        }
    }

    private void syncToFile() {
        if (fileBacked) {
            try {
                Libc.fsync(dataFd);
            } catch (NativeCallException e) {
                throw new SharedMemoryException("cannot write the mapping back to its file: object=" + describedAs
                        + ", call=fsync, errno=" + e.errnoName(), e);
            }
        }
    }
}
