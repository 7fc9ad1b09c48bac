package io.shmflux.bench;

import org.HdrHistogram.Histogram;

import java.nio.ByteBuffer;
import java.util.Base64;
import java.util.concurrent.TimeUnit;
import java.util.zip.DataFormatException;

/** A latency histogram in nanoseconds, and its transport as one line of text between processes. */
final class Latencies {

    static final long HIGHEST = TimeUnit.SECONDS.toNanos(10);

    private Latencies() {
    }

    static Histogram histogram() {
        return new Histogram(HIGHEST, 3);
    }

    /** Records {@code nanos}, clamped to the histogram's range. */
    static void record(Histogram histogram, long nanos) {
        histogram.recordValue(Math.max(0, Math.min(HIGHEST, nanos)));
    }

    static String encode(Histogram histogram) {
        ByteBuffer buffer = ByteBuffer.allocate(histogram.getNeededByteBufferCapacity());
        int length = histogram.encodeIntoCompressedByteBuffer(buffer);
        return Base64.getEncoder().encodeToString(java.util.Arrays.copyOf(buffer.array(), length));
    }

    static Histogram decode(String text) {
        try {
            return Histogram.decodeFromCompressedByteBuffer(ByteBuffer.wrap(Base64.getDecoder().decode(text)), HIGHEST);
        } catch (DataFormatException e) {
            throw new IllegalStateException("corrupt histogram from child: " + e, e);
        }
    }
}
