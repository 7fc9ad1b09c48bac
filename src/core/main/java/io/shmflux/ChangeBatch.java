package io.shmflux;

import java.util.AbstractList;
import java.util.List;
import java.util.Objects;

/**
 * Consecutive changes delivered in one signal of {@link FileMapping#changeBatches(ChangeOptions, int)}:
 * for bulk consumers that would rather pay one {@code onNext} and one allocation per batch than per
 * change. Every promise of {@link FileMapping#changes(ChangeOptions)} holds per change: order, loss
 * counted in {@link #missed(int)}, torn changes flagged. Immutable: a batch may be handed to another
 * thread.
 *
 * <p>Indexes run from 0 to {@link #size()} - 1, in sequence order; a bad index throws
 * {@link IndexOutOfBoundsException}, as for a list.
 */
public final class ChangeBatch {

    /** Fields per change in {@link #fields}: sequence, offset, length, writer pid, timestamp, missed, torn. */
    private static final int STRIDE = 7;

    private final long[] fields;
    private final int size;

    ChangeBatch(long[] fields, int size) {
        this.fields = fields;
        this.size = size;
    }

    /** {@return a batch of at most {@code capacity} changes, to fill with {@link #set}} */
    static long[] storage(int capacity) {
        return new long[capacity * STRIDE];
    }

    static void set(long[] fields, int i, long sequence, long offset, long length, long writerPid, long timestamp,
                    long missed, boolean torn) {
        int at = i * STRIDE;
        fields[at] = sequence;
        fields[at + 1] = offset;
        fields[at + 2] = length;
        fields[at + 3] = writerPid;
        fields[at + 4] = timestamp;
        fields[at + 5] = missed;
        fields[at + 6] = torn ? 1 : 0;
    }

    /** {@return how many changes the batch holds, at least 1} */
    public int size() {
        return size;
    }

    private long field(int i, int field) {
        Objects.checkIndex(i, size);
        return fields[i * STRIDE + field];
    }

    /** {@return change {@code i}'s sequence number} */
    public long sequence(int i) {
        return field(i, 0);
    }

    /** {@return where change {@code i}'s range starts in the object} */
    public long offset(int i) {
        return field(i, 1);
    }

    /** {@return how many bytes change {@code i} covers} */
    public long length(int i) {
        return field(i, 2);
    }

    /** {@return the process that published change {@code i}} */
    public long writerPid(int i) {
        return field(i, 3);
    }

    /** {@return the writer's {@link System#nanoTime()} when it began change {@code i}} */
    public long timestamp(int i) {
        return field(i, 4);
    }

    /** {@return how many changes were lost just before change {@code i} (0 normally)} */
    public long missed(int i) {
        return field(i, 5);
    }

    /** {@return true if change {@code i}'s writer died or failed mid-change} */
    public boolean torn(int i) {
        return field(i, 6) != 0;
    }

    /** {@return the sequence of the first change} */
    public long firstSequence() {
        return sequence(0);
    }

    /** {@return the sequence of the last change} */
    public long lastSequence() {
        return sequence(size - 1);
    }

    /** {@return the changes lost inside and just before this batch, in all} */
    public long missed() {
        long total = 0;
        for (int i = 0; i < size; i++) {
            total += fields[i * STRIDE + 5];
        }
        return total;
    }

    /** {@return change {@code i} as the event {@link FileMapping#changes()} would deliver} */
    public ChangeEvent event(int i) {
        return new ChangeEvent(sequence(i), offset(i), length(i), writerPid(i), timestamp(i), missed(i), torn(i));
    }

    /** {@return the changes as events: a view, each event made when it is read} */
    public List<ChangeEvent> events() {
        return new AbstractList<>() {
            @Override
            public ChangeEvent get(int index) {
                return event(index);
            }

            @Override
            public int size() {
                return size;
            }
        };
    }

    @Override
    public String toString() {
        return "ChangeBatch[size=" + size + ", sequences=" + firstSequence() + ".." + lastSequence() + ", missed="
                + missed() + "]";
    }
}
