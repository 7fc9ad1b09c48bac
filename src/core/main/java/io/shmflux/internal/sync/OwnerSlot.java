package io.shmflux.internal.sync;

import io.shmflux.internal.layout.MutexDescriptor;
import io.shmflux.internal.liveness.Lease;
import io.shmflux.internal.liveness.LeaseState;
import io.shmflux.internal.liveness.LeaseTable;
import io.shmflux.internal.linux.Libc;
import io.shmflux.internal.namespace.ControlFile;
import io.shmflux.internal.namespace.ObjectName;
import org.jspecify.annotations.Nullable;

import java.lang.foreign.MemorySegment;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;

import static io.shmflux.internal.layout.MutexDescriptor.OWNER_LOCK_BASE;

/**
 * This process's slot in one mutex (see "Owner liveness" in {@link MutexDescriptor}), shared by all
 * of the process's handles to that mutex, and the process-local half of the mutex state: which
 * thread owns it and how often it locked it. A mutex is owned by a thread, not a handle, as in
 * Win32: a thread may lock through one handle and unlock through another.
 *
 * <p>The slot is a {@link Lease} of the table of owner slots (generations in the mutex region); its
 * OFD lock is held on a descriptor of its own, a second open file description of the
 * very file the handle checked ({@link ControlFile#reopen()}), never the file a path names now. It
 * is dropped when the process's last handle to the mutex closes, or when the process dies.
 */
final class OwnerSlot {

    private static final Map<String, OwnerSlot> SLOTS = new HashMap<>();

    private final String path;
    private final int fd;
    private final LeaseTable table;
    final int slot;
    final int token;
    private int references;
    final AtomicReference<@Nullable Thread> owner = new AtomicReference<>();
    /** Recursion count; written only by the owning thread. */
    int holds;

    private OwnerSlot(String path, int fd, LeaseTable table, Lease lease) {
        this.path = path;
        this.fd = fd;
        this.table = table;
        this.slot = lease.slot();
        this.token = lease.token();
    }

    /** {@return this process's slot in the mutex of {@code control}}, claimed on first use. */
    static synchronized OwnerSlot retain(ControlFile control) {
        OwnerSlot existing = SLOTS.get(control.path());
        if (existing != null) {
            existing.references++;
            return existing;
        }
        OwnerSlot claimed = claim(control);
        claimed.references = 1;
        SLOTS.put(control.path(), claimed);
        return claimed;
    }

    /** Drops one reference; the last drops the slot's lock (a mutex still owned is then abandoned). */
    static synchronized void release(OwnerSlot slot) {
        if (--slot.references == 0) {
            SLOTS.remove(slot.path);
            Libc.close(slot.fd);
        }
    }

    private static OwnerSlot claim(ControlFile control) {
        int fd = control.reopen();
        try {
            LeaseTable table = owners(control, fd);
            return new OwnerSlot(control.path(), fd, table, table.claim());
        } catch (RuntimeException e) {
            Libc.close(fd);
            throw e;
        }
    }

    /** {@return the table of owner slots} as seen through {@code fd} */
    private static LeaseTable owners(ControlFile control, int fd) {
        MemorySegment generations = control.region().asSlice(MutexDescriptor.SLOT_GENERATIONS_OFFSET,
                4L * MutexDescriptor.SLOTS);
        return new LeaseTable(fd, OWNER_LOCK_BASE, MutexDescriptor.SLOTS, generations, "mutex owner slots",
                ObjectName.quote(control.name().text()));
    }

    /** {@return the table of owner slots, whose tokens the lock word holds} */
    LeaseTable table() {
        return table;
    }

    /** {@return true if the process that holds {@code ownerToken} is alive} */
    boolean isAlive(int ownerToken) {
        return table.probe(ownerToken) == LeaseState.ALIVE;
    }
}
