package io.shmflux.internal.protocol;

import io.shmflux.internal.liveness.Lease;
import io.shmflux.internal.liveness.LeaseTable;
import io.shmflux.internal.namespace.ControlFile;

import java.lang.foreign.MemorySegment;

import static io.shmflux.internal.layout.ChangeLogDescriptor.HOLDER_LOCK_BASE;
import static io.shmflux.internal.layout.ChangeLogDescriptor.HOLDER_TABLE_OFFSET;
import static io.shmflux.internal.layout.ChangeLogDescriptor.LONG;

/**
 * A handle's slot in the holder table: a {@link Lease} of the table of writer slots (lock bytes
 * {@code HOLDER_LOCK_BASE + slot} of the control file, taken on the handle's own descriptor, no
 * generations), so "is the owner of slot s alive?" is one probe, immune to pid reuse. The pid in the
 * table is for people (diagnostics), never for decisions. A handle claims one the first time it takes
 * the writer lock (to publish, or to finish a dead writer's change), not before.
 */
final class HolderSlot {

    private final MemorySegment region;
    private final LeaseTable table;
    private final Lease lease;

    private HolderSlot(MemorySegment region, LeaseTable table, Lease lease) {
        this.region = region;
        this.table = table;
        this.lease = lease;
    }

    /** {@return the table of writer slots as the handle's descriptor sees it} (for probing; claims nothing) */
    static LeaseTable table(ControlFile control, int slots) {
        return new LeaseTable(control.descriptor(), HOLDER_LOCK_BASE, slots, null, "writer slots",
                control.name().toString());
    }

    /** Claims the first free slot of {@code table}. */
    static HolderSlot claim(MemorySegment region, LeaseTable table) {
        Lease lease = table.claim();
        LONG.setRelease(region, HOLDER_TABLE_OFFSET + 8L * lease.slot(), ProcessHandle.current().pid());
        return new HolderSlot(region, table, lease);
    }

    /** {@return the token the writer lock word holds while this handle owns it} */
    int token() {
        return lease.token();
    }

    /** {@return the table of writer slots, as this handle sees it} */
    LeaseTable table() {
        return table;
    }

    /** Clears the diagnostic pid; the lease itself goes with the control file descriptor. */
    void clear() {
        LONG.setRelease(region, HOLDER_TABLE_OFFSET + 8L * lease.slot(), 0L);
    }
}
