package io.shmflux.internal.protocol;

import io.shmflux.SharedMemoryException;
import io.shmflux.internal.namespace.ControlFile;

import java.lang.foreign.MemorySegment;

import static io.shmflux.internal.layout.ChangeLogDescriptor.HOLDER_LOCK_BASE;
import static io.shmflux.internal.layout.ChangeLogDescriptor.HOLDER_TABLE_OFFSET;
import static io.shmflux.internal.layout.ChangeLogDescriptor.LONG;

/**
 * A handle's slot in the holder table. The slot is owned through an exclusive OFD lock on control
 * byte {@code HOLDER_LOCK_BASE + slot}: the kernel drops it when the handle closes or its process
 * dies, so "is the owner of slot s alive?" is one {@code F_OFD_GETLK}, immune to pid reuse. The pid
 * in the table is for people (diagnostics), never for decisions.
 */
final class HolderSlot {

    private final ControlFile control;
    private final MemorySegment region;
    private final int slot;

    private HolderSlot(ControlFile control, MemorySegment region, int slot) {
        this.control = control;
        this.region = region;
        this.slot = slot;
    }

    /** Claims the first free slot. */
    static HolderSlot claim(ControlFile control, MemorySegment region, int slots) {
        for (int slot = 0; slot < slots; slot++) {
            if (control.tryLockByte(HOLDER_LOCK_BASE + slot)) {
                LONG.setRelease(region, HOLDER_TABLE_OFFSET + 8L * slot, ProcessHandle.current().pid());
                return new HolderSlot(control, region, slot);
            }
        }
        throw new SharedMemoryException("too many writers: object=" + control.name() + ", holderSlots=" + slots
                + ", reason=every slot is held by a live handle");
    }

    int index() {
        return slot;
    }

    /** {@return true while the handle owning {@code otherSlot} lives} */
    boolean isAlive(int otherSlot) {
        return otherSlot == slot || control.isByteLockedByOther(HOLDER_LOCK_BASE + otherSlot);
    }

    /** Clears the diagnostic pid; the lock itself goes with the control file descriptor. */
    void clear() {
        LONG.setRelease(region, HOLDER_TABLE_OFFSET + 8L * slot, 0L);
    }
}
