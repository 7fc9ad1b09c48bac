package io.shmflux.internal.liveness;

/**
 * One held lease: a slot of a {@link LeaseTable}, its generation when claimed, and the token that
 * others store in shared words (a lock word, a slot table) to say "held by this lease". The kernel
 * ends it when the descriptor it was taken on closes or the process dies; {@link #release()} ends it
 * earlier. Release is idempotent.
 */
public final class Lease {

    private final LeaseTable table;
    private final int slot;
    private final int generation;
    private final int token;
    private boolean released;

    Lease(LeaseTable table, int slot, int generation, int token) {
        this.table = table;
        this.slot = slot;
        this.generation = generation;
        this.token = token;
    }

    public int slot() {
        return slot;
    }

    public int generation() {
        return generation;
    }

    /** {@return the non-zero token naming this lease in shared words} */
    public int token() {
        return token;
    }

    /** Ends the lease now: its lock is dropped and its slot may be claimed again. Idempotent. */
    public synchronized void release() {
        if (!released) {
            released = true;
            table.release(slot);
        }
    }

    @Override
    public String toString() {
        return "Lease[slot=" + slot + ", generation=" + generation + ", token=0x" + Integer.toHexString(token) + "]";
    }
}
