package io.shmflux.aeron;

import org.agrona.DirectBuffer;
import org.jspecify.annotations.Nullable;

/**
 * Joins the pieces of one range (a change or a snapshot longer than one message) back into its bytes.
 * Aeron delivers an image's messages in order, so the pieces of a range arrive one after the other; a
 * piece that does not continue the range (the image was lost in between) breaks it.
 */
final class RangeAssembler {

    private byte @Nullable [] bytes;
    private long sequence;
    private int filled;
    private boolean broken;

    /** {@return the range's bytes when this piece completes it, else null} */
    byte @Nullable [] add(DirectBuffer buffer, int offset, int length, int flags, long pieceSequence) {
        broken = false;
        int pieceLength = length - MessageDescriptor.HEADER_LENGTH;
        long pieceOffset = MessageDescriptor.pieceOffset(buffer, offset);
        if ((flags & MessageDescriptor.FIRST) != 0) {
            bytes = new byte[Math.toIntExact(MessageDescriptor.rangeLength(buffer, offset))];
            sequence = pieceSequence;
            filled = 0;
        }
        byte[] range = bytes;
        if (range == null || pieceSequence != sequence || pieceOffset != filled || filled + pieceLength > range.length) {
            broken = range != null;
            reset();
            return null;
        }
        buffer.getBytes(offset + MessageDescriptor.HEADER_LENGTH, range, filled, pieceLength);
        filled += pieceLength;
        if ((flags & MessageDescriptor.LAST) == 0) {
            return null;
        }
        reset();
        return range;
    }

    /** {@return true if the last piece added did not continue the range begun} */
    boolean broken() {
        return broken;
    }

    void reset() {
        bytes = null;
        filled = 0;
    }
}
