package io.shmflux.aeron;

import org.agrona.DirectBuffer;
import org.agrona.MutableDirectBuffer;

import java.nio.ByteOrder;

/**
 * The wire format: every message, on the data stream and on the control stream, is this header
 * followed by its payload (the bytes of a piece of a range, none for the other types). Little-endian.
 *
 * <pre>
 *   0                   1                   2                   3
 *   0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *  +---------------------------------------------------------------+
 *  |                             type                              |  0
 *  +---------------------------------------------------------------+
 *  |                             flags                             |  4
 *  +---------------------------------------------------------------+
 *  |                     sequence (64 bits)                        |  8
 *  +---------------------------------------------------------------+
 *  |                   range offset (64 bits)                      | 16
 *  +---------------------------------------------------------------+
 *  |                   range length (64 bits)                      | 24
 *  +---------------------------------------------------------------+
 *  |           piece offset, within the range (64 bits)            | 32
 *  +---------------------------------------------------------------+
 *  |                   source size (64 bits)                       | 40
 *  +---------------------------------------------------------------+
 *  |               payload: the piece's bytes ...                  | 48
 *  +---------------------------------------------------------------+
 * </pre>
 *
 * A range (a change, or the whole mapping for a snapshot) longer than one message can carry is sent as
 * consecutive pieces of the same sequence, the first flagged {@link #FIRST}, the last {@link #LAST};
 * Aeron fragments each message into frames and {@code FragmentAssembler} joins them again.
 */
final class MessageDescriptor {

    /** Data stream: one change of the source (or one piece of it). */
    static final int CHANGE = 1;
    /** Data stream: the whole mapping as of {@code sequence} (or one piece of it). */
    static final int SNAPSHOT = 2;
    /** Data stream: the source's stream ended; {@code sequence} is its end marker's. */
    static final int END = 3;
    /** Control stream: a replica asks for a snapshot; {@code sequence} is the one it has applied. */
    static final int SNAPSHOT_REQUEST = 4;
    /**
     * Data stream, right before a snapshot flagged {@link #TORN}: the part of it that may be half
     * written ({@code range offset}, {@code range length}), with the snapshot's {@code sequence}; no
     * payload. The replica publishes that part of its target flagged torn after the snapshot.
     */
    static final int TORN_PART = 5;

    static final int FIRST = 1;
    static final int LAST = 2;
    /** The source flagged the range torn (a writer failed or died in it): the replica resyncs. */
    static final int TORN = 4;
    /** On a snapshot: the source's stream had ended when it was taken. */
    static final int COMPLETED = 8;
    /**
     * On an end message: the source closed ({@link MappingReplicator#close()}) without ending its stream;
     * {@code sequence} is its last. The replica reports the source lost at once instead of after Aeron's
     * image liveness timeout.
     */
    static final int CLOSED = 16;

    static final int TYPE_OFFSET = 0;
    static final int FLAGS_OFFSET = 4;
    static final int SEQUENCE_OFFSET = 8;
    static final int RANGE_OFFSET_OFFSET = 16;
    static final int RANGE_LENGTH_OFFSET = 24;
    static final int PIECE_OFFSET_OFFSET = 32;
    static final int SOURCE_SIZE_OFFSET = 40;
    static final int HEADER_LENGTH = 48;

    private static final ByteOrder ORDER = ByteOrder.LITTLE_ENDIAN;

    private MessageDescriptor() {
    }

    static void write(MutableDirectBuffer buffer, int type, int flags, long sequence, long rangeOffset,
                      long rangeLength, long pieceOffset, long sourceSize) {
        buffer.putInt(TYPE_OFFSET, type, ORDER);
        buffer.putInt(FLAGS_OFFSET, flags, ORDER);
        buffer.putLong(SEQUENCE_OFFSET, sequence, ORDER);
        buffer.putLong(RANGE_OFFSET_OFFSET, rangeOffset, ORDER);
        buffer.putLong(RANGE_LENGTH_OFFSET, rangeLength, ORDER);
        buffer.putLong(PIECE_OFFSET_OFFSET, pieceOffset, ORDER);
        buffer.putLong(SOURCE_SIZE_OFFSET, sourceSize, ORDER);
    }

    static int type(DirectBuffer buffer, int offset) {
        return buffer.getInt(offset + TYPE_OFFSET, ORDER);
    }

    static int flags(DirectBuffer buffer, int offset) {
        return buffer.getInt(offset + FLAGS_OFFSET, ORDER);
    }

    static long sequence(DirectBuffer buffer, int offset) {
        return buffer.getLong(offset + SEQUENCE_OFFSET, ORDER);
    }

    static long rangeOffset(DirectBuffer buffer, int offset) {
        return buffer.getLong(offset + RANGE_OFFSET_OFFSET, ORDER);
    }

    static long rangeLength(DirectBuffer buffer, int offset) {
        return buffer.getLong(offset + RANGE_LENGTH_OFFSET, ORDER);
    }

    static long pieceOffset(DirectBuffer buffer, int offset) {
        return buffer.getLong(offset + PIECE_OFFSET_OFFSET, ORDER);
    }

    static long sourceSize(DirectBuffer buffer, int offset) {
        return buffer.getLong(offset + SOURCE_SIZE_OFFSET, ORDER);
    }
}
