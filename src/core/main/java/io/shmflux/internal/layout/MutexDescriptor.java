package io.shmflux.internal.layout;

import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.foreign.ValueLayout;

import static java.lang.foreign.MemoryLayout.PathElement.groupElement;

/**
 * Shared words of a named mutex: the kind-specific region of its control file (after the header of
 * {@link ControlBlockDescriptor}, page-aligned, zeroed at creation, {@code MAP_SHARED}).
 *
 * <pre>
 *   0                   1                   2                   3
 *   0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *  |                Lock Word (futex): 0 = free, else            |W|
 *  |     owner token = slot (10 bits) | generation (21 bits)     | |
 *  +---------------------------------------------------------------+
 *  |                     Reserved, up to offset 64                ...
 *  +---------------------------------------------------------------+
 *  |                   Slot Generation [0] (32 bits)               |
 *  +---------------------------------------------------------------+
 *  |                              ...                              |
 *  +---------------------------------------------------------------+
 *  |                 Slot Generation [1023] (32 bits)              |
 *  +---------------------------------------------------------------+
 * </pre>
 * (bit 31 of the lock word, drawn as {@code W}, is the waiters bit; bits 21..30 hold the owner's
 * slot, bits 0..20 the slot's generation when the owner claimed it.)
 *
 * <table class="striped">
 * <caption>Mutex words (native byte order: little-endian on x86_64 and aarch64, as futex(2) needs)</caption>
 * <thead><tr><th>Offset</th><th>Size</th><th>Field</th><th>Who writes it</th><th>Access mode</th></tr></thead>
 * <tbody>
 * <tr><td>0</td><td>4</td><td>lock word: owner token | waiters bit</td><td>lockers (CAS), the owner
 *     on unlock (getAndSet), waiters (CAS of the waiters bit)</td><td>CAS / volatile / futex</td></tr>
 * <tr><td>64</td><td>4 &times; 1024</td><td>slot generations</td><td>the process that claims a slot,
 *     holding that slot's OFD lock</td><td>CAS / volatile</td></tr>
 * </tbody>
 * </table>
 *
 * <h2>Owner liveness</h2>
 * Each process that holds the mutex open claims one <em>slot</em> {@code s} by taking an OFD write
 * lock on byte {@link #OWNER_LOCK_BASE}{@code + s} of the control file (a range no data lives in;
 * byte 0 carries the lifetime locks), then increments generation {@code s}. Its owner token is
 * {@code s << 21 | generation}. The kernel drops the lock when the process dies, however it dies, so
 * the owner of a token is alive exactly when byte {@code OWNER_LOCK_BASE + s} is locked and
 * generation {@code s} still equals the token's generation (a reused slot has a new generation). No
 * process id is involved, so pid reuse cannot fool it, and it works across pid namespaces.
 */
public final class MutexDescriptor {

    /** How many processes can hold one mutex open at once. */
    public static final int SLOTS = 1024;
    /** First byte of the per-slot OFD lock ranges in the control file (far past the lifetime lock at 0). */
    public static final long OWNER_LOCK_BASE = 1L << 20;

    public static final int WAITERS_BIT = 0x8000_0000;
    public static final int SLOT_SHIFT = 21;
    public static final int GENERATION_MASK = (1 << SLOT_SHIFT) - 1;
    public static final int SLOT_MASK = SLOTS - 1;

    /** The single source of truth for the offsets below. */
    public static final StructLayout LAYOUT = MemoryLayout.structLayout(
            ValueLayout.JAVA_INT.withName("lockWord"),
            MemoryLayout.paddingLayout(60),
            MemoryLayout.sequenceLayout(SLOTS, ValueLayout.JAVA_INT).withName("slotGenerations"));

    public static final long LOCK_WORD_OFFSET = LAYOUT.byteOffset(groupElement("lockWord"));
    public static final long SLOT_GENERATIONS_OFFSET = LAYOUT.byteOffset(groupElement("slotGenerations"));
    public static final long REGION_LENGTH = LAYOUT.byteSize();

    private MutexDescriptor() {
    }

    /**
     * Checks a mutex region before use: it must hold the lock word and every slot generation. Any
     * value of the words is valid (a token names a slot by its low bits and a dead or unknown owner
     * is taken over), so only the length can be wrong.
     */
    public static void checkRegion(MemorySegment region, String path) {
        CorruptField.checkRegionLength("mutex", region.byteSize(), REGION_LENGTH, path);
    }

    /** {@return the offset of slot {@code slot}'s generation} */
    public static long slotGenerationOffset(int slot) {
        return SLOT_GENERATIONS_OFFSET + 4L * slot;
    }

    /** {@return the owner token of a slot and generation} (never 0: generations start at 1) */
    public static int token(int slot, int generation) {
        return slot << SLOT_SHIFT | generation;
    }

    public static int slotOf(int token) {
        return (token >>> SLOT_SHIFT) & SLOT_MASK;
    }

    public static int generationOf(int token) {
        return token & GENERATION_MASK;
    }
}
