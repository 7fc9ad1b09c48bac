package io.shmflux.internal.protocol;

/**
 * The change a {@link ChangeCursor} took last, in fields the cursor overwrites at each
 * {@link ChangeCursor#advance()}: a feed reads them into its own event or batch, so that taking a change
 * allocates nothing. Not thread-safe, like the cursor.
 */
public final class TakenChange {

    private long sequence;
    private long offset;
    private long length;
    private long writerPid;
    private long timestamp;
    private boolean torn;
    private boolean end;

    TakenChange() {
    }

    void set(long sequence, long offset, long length, long writerPid, long timestamp, boolean torn, boolean end) {
        this.sequence = sequence;
        this.offset = offset;
        this.length = length;
        this.writerPid = writerPid;
        this.timestamp = timestamp;
        this.torn = torn;
        this.end = end;
    }

    void set(ChangeRecord record) {
        set(record.sequence(), record.offset(), record.length(), record.writerPid(), record.timestamp(), record.torn(),
                record.end());
    }

    /** {@return the change's sequence} */
    public long sequence() {
        return sequence;
    }

    /** {@return where the changed range starts} */
    public long offset() {
        return offset;
    }

    /** {@return how many bytes changed} */
    public long length() {
        return length;
    }

    /** {@return the process that published it} */
    public long writerPid() {
        return writerPid;
    }

    /** {@return the writer's {@code System.nanoTime()} at the change} */
    public long timestamp() {
        return timestamp;
    }

    /** {@return true if the writer died mid-change} */
    public boolean torn() {
        return torn;
    }

    boolean end() {
        return end;
    }
}
