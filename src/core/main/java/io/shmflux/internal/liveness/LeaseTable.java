package io.shmflux.internal.liveness;

import io.shmflux.SharedMemoryException;
import io.shmflux.internal.linux.Libc;
import io.shmflux.internal.linux.NativeCallException;
import org.jspecify.annotations.Nullable;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.VarHandle;
import java.util.BitSet;

/**
 * A table of leases in one control file, as one descriptor of it sees them.
 *
 * <h2>The lease protocol</h2>
 * <ol>
 * <li><b>Claim.</b> Find a slot {@code s} whose lock byte {@code lockBase + s} nobody holds, and take
 *     an exclusive OFD lock on it through this table's descriptor (slots this descriptor holds already
 *     are skipped: a lock never conflicts with its own open file description). Where the table keeps
 *     generations, increment generation {@code s} (CAS, skipping 0). The token is
 *     {@code s << 21 | generation} (generations), or {@code s + 1} (no generations): never 0.</li>
 * <li><b>Probe.</b> A token of 0 never existed. Otherwise its slot's lock byte tells: held by another
 *     descriptor, or held here, means alive, unless the table keeps generations and the slot's
 *     generation is no longer the token's (the holder died and someone else claimed the slot): dead.
 *     A free lock byte means dead.</li>
 * <li><b>End.</b> {@link Lease#release()} unlocks the byte; the kernel does the same when the
 *     descriptor closes or the process dies. Nothing in shared memory needs cleaning up.</li>
 * </ol>
 * Without generations a dead holder's slot can be claimed again, and its token then probes alive: a
 * user of such a table who finds its own token in a shared word knows the previous holder of its slot
 * died (the change log's writer lock recovers exactly then).
 *
 * <p>The lock bytes are far past anything stored in the file's first pages or are simply beyond its end
 * (OFD locks may cover bytes past the end of a file), and each table has a range of its own.
 */
public final class LeaseTable {

    /** Bits of the token that hold the generation, in tables that keep generations. */
    public static final int GENERATION_BITS = 21;
    public static final int GENERATION_MASK = (1 << GENERATION_BITS) - 1;
    /** Most slots a table with generations can have (the rest of a 31-bit token). */
    public static final int MAX_SLOTS_WITH_GENERATIONS = 1 << (31 - GENERATION_BITS);

    private static final VarHandle INT = ValueLayout.JAVA_INT.varHandle();

    private final int fd;
    private final long lockBase;
    private final int slots;
    private final @Nullable MemorySegment generations;
    private final String what;
    private final String describedAs;
    private final BitSet held = new BitSet();

    /**
     * @param fd          the descriptor that takes and tests the locks (its open file description is the
     *                    holder: leases live as long as it stays open)
     * @param lockBase    the control-file offset of slot 0's lock byte
     * @param slots       how many slots the table has
     * @param generations {@code 4 * slots} bytes of shared memory for the slots' generations, or null for
     *                    a table without generations
     * @param what        what a slot is, for error messages ("writer slots", "mutex owner slots")
     * @param describedAs the object, for error messages
     */
    public LeaseTable(int fd, long lockBase, int slots, @Nullable MemorySegment generations, String what,
                      String describedAs) {
        if (generations != null && (slots > MAX_SLOTS_WITH_GENERATIONS || generations.byteSize() < 4L * slots)) {
            throw new IllegalArgumentException("lease table too large for its generations: slots=" + slots);
        }
        this.fd = fd;
        this.lockBase = lockBase;
        this.slots = slots;
        this.generations = generations;
        this.what = what;
        this.describedAs = describedAs;
    }

    public int slots() {
        return slots;
    }

    /** Step 1: {@return a new lease on the first free slot} */
    public synchronized Lease claim() {
        for (int slot = 0; slot < slots; slot++) {
            if (held.get(slot) || !lock(slot)) {
                continue;
            }
            held.set(slot);
            int generation = generations == null ? 0 : nextGeneration(generations, slot);
            return new Lease(this, slot, generation, token(slot, generation));
        }
        throw new SharedMemoryException("no free slot: object=" + describedAs + ", table=" + what + ", slots=" + slots
                + ", reason=every slot is held by a live holder");
    }

    /** Step 2: {@return what {@code token} says about its holder} */
    public LeaseState probe(int token) {
        if (token == 0) {
            return LeaseState.NEVER_EXISTED;
        }
        int slot = slotOf(token);
        if (slot < 0 || slot >= slots) {
            return LeaseState.DEAD; // no such slot: nobody can hold it (a word written by a foreign program)
        }
        if (generations != null && (int) INT.getVolatile(generations, 4L * slot) != (token & GENERATION_MASK)) {
            return LeaseState.DEAD;
        }
        boolean locked;
        synchronized (this) {
            locked = held.get(slot);
        }
        try {
            return locked || !Libc.ofdCouldLock(fd, Libc.F_WRLCK, lockBase + slot, 1) ? LeaseState.ALIVE : LeaseState.DEAD;
        } catch (NativeCallException e) {
            throw new SharedMemoryException("cannot probe a lease: object=" + describedAs + ", table=" + what
                    + ", slot=" + slot + ", call=" + e.call() + ", errno=" + e.errnoName(), e);
        }
    }

    /** {@return the slot a token names} */
    public int slotOf(int token) {
        return generations == null ? token - 1 : token >>> GENERATION_BITS;
    }

    /** {@return the token of a slot's current holder} (for readers such as the tool) */
    public int tokenOf(int slot) {
        return token(slot, generations == null ? 0 : (int) INT.getVolatile(generations, 4L * slot));
    }

    private int token(int slot, int generation) {
        return generations == null ? slot + 1 : slot << GENERATION_BITS | generation;
    }

    synchronized void release(int slot) {
        if (!held.get(slot)) {
            return;
        }
        held.clear(slot);
        try {
            Libc.ofdTryLock(fd, Libc.F_UNLCK, lockBase + slot, 1);
        } catch (NativeCallException e) {
            // the descriptor is gone, and the lock with it
        }
    }

    private boolean lock(int slot) {
        try {
            return Libc.ofdTryLock(fd, Libc.F_WRLCK, lockBase + slot, 1);
        } catch (NativeCallException e) {
            throw new SharedMemoryException("cannot claim a lease: object=" + describedAs + ", table=" + what
                    + ", slot=" + slot + ", call=" + e.call() + ", errno=" + e.errnoName(), e);
        }
    }

    private static int nextGeneration(MemorySegment generations, int slot) {
        long offset = 4L * slot;
        while (true) {
            int generation = (int) INT.getVolatile(generations, offset);
            int next = (generation + 1) & GENERATION_MASK;
            if (next == 0) {
                next = 1;
            }
            if (INT.compareAndSet(generations, offset, generation, next)) {
                return next;
            }
        }
    }
}
