package io.shmflux.internal.sync;

import io.shmflux.SharedMemoryException;
import io.shmflux.internal.layout.MutexDescriptor;
import io.shmflux.internal.linux.Libc;
import io.shmflux.internal.linux.NativeCallException;
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
 * <p>The slot's OFD lock is held on a descriptor of its own, a second open file description of the
 * very file the handle checked ({@link ControlFile#reopen()}), never the file a path names now. It
 * is dropped when the process's last handle to the mutex closes, or when the process dies.
 */
final class OwnerSlot {

    private static final Map<String, OwnerSlot> SLOTS = new HashMap<>();

    private final String path;
    private final int fd;
    final int slot;
    final int token;
    private int references;
    final AtomicReference<@Nullable Thread> owner = new AtomicReference<>();
    /** Recursion count; written only by the owning thread. */
    int holds;

    private OwnerSlot(String path, int fd, int slot, int token) {
        this.path = path;
        this.fd = fd;
        this.slot = slot;
        this.token = token;
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
            for (int slot = 0; slot < MutexDescriptor.SLOTS; slot++) {
                if (Libc.ofdTryLock(fd, Libc.F_WRLCK, OWNER_LOCK_BASE + slot, 1)) {
                    MemorySegment region = control.region();
                    long offset = MutexDescriptor.slotGenerationOffset(slot);
                    int next;
                    while (true) {
                        int generation = Words.get(region, offset);
                        next = (generation + 1) & MutexDescriptor.GENERATION_MASK;
                        if (next == 0) {
                            next = 1;
                        }
                        if (Words.cas(region, offset, generation, next)) {
                            break;
                        }
                    }
                    return new OwnerSlot(control.path(), fd, slot, MutexDescriptor.token(slot, next));
                }
            }
        } catch (NativeCallException e) {
            Libc.close(fd);
            throw ControlFile.failure("cannot claim mutex owner slot", control.name(), control.path(), e);
        }
        Libc.close(fd);
        throw new SharedMemoryException("too many processes hold the mutex: name="
                + ObjectName.quote(control.name().text()) + ", slots=" + MutexDescriptor.SLOTS);
    }

    /**
     * {@return true if the process that holds {@code ownerToken} is alive}: its slot's lock is held
     * and the slot's generation is still the token's.
     */
    boolean isAlive(MemorySegment region, int ownerToken) {
        int ownerSlot = MutexDescriptor.slotOf(ownerToken);
        if (Words.get(region, MutexDescriptor.slotGenerationOffset(ownerSlot))
                != MutexDescriptor.generationOf(ownerToken)) {
            return false;
        }
        try {
            return !Libc.ofdCouldLock(fd, Libc.F_WRLCK, OWNER_LOCK_BASE + ownerSlot, 1);
        } catch (NativeCallException e) {
            throw new SharedMemoryException("cannot test mutex owner: path=" + path + ", call=" + e.call()
                    + ", errno=" + e.errnoName(), e);
        }
    }
}
