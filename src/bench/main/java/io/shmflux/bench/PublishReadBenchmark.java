package io.shmflux.bench;

import io.shmflux.FileMapping;
import io.shmflux.MappingOptions;
import io.shmflux.SharedMemory;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.function.Function;

/**
 * In-process cost of {@code publish} and consistent {@code read}, one thread, nobody subscribed: the
 * publisher's own ceiling in the burst scenario of {@link ChangeFeedBenchmark}. Run by
 * {@code mvn -Pbench verify} after the change-feed benchmark (results in
 * {@code target/benchmarks/jmh-publish-read.json}).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = "--enable-native-access=ALL-UNNAMED")
public class PublishReadBenchmark {

    private FileMapping mapping;
    private final byte[] bytes64 = new byte[64];
    private final byte[] into64 = new byte[64];
    private final byte[] into4k = new byte[4096];
    private final Consumer<MemorySegment> writer64 = range -> range.fill((byte) this.value);
    private final Consumer<MemorySegment> writer4k = range -> range.fill((byte) this.value);
    private final Function<MemorySegment, byte[]> copy64 = range -> copyInto(range, into64);
    private final Function<MemorySegment, byte[]> copy4k = range -> copyInto(range, into4k);
    private long value;
    private final Consumer<MemorySegment> writer = range -> range.set(ValueLayout.JAVA_LONG, 0, value);
    private static final Function<MemorySegment, Long> READ_LONG = range -> range.get(ValueLayout.JAVA_LONG, 0);

    @Setup
    public void open() {
        mapping = SharedMemory.create("jmh-" + ProcessHandle.current().pid(), 8192,
                MappingOptions.DEFAULT.withChangeRingCapacity(1 << 20));
        mapping.publish(0, bytes64);
    }

    @TearDown
    public void close() {
        mapping.close();
    }

    /** publish(offset, length, writer) of one long. */
    @Benchmark
    public long publish8() {
        value++;
        return mapping.publish(0, 8, writer);
    }

    /** publish(offset, 64, writer): 64 bytes written in place. */
    @Benchmark
    public long publish64() {
        value++;
        return mapping.publish(0, 64, writer64);
    }

    /** publish(offset, 4096, writer): a page written in place. */
    @Benchmark
    public long publish4k() {
        value++;
        return mapping.publish(0, 4096, writer4k);
    }

    /** read(offset, 64, reader): a consistent copy of 64 bytes into the caller's buffer, nobody writing. */
    @Benchmark
    public byte[] read64() {
        return mapping.read(0, 64, copy64);
    }

    /** read(offset, 4096, reader): a consistent copy of a page into the caller's buffer, nobody writing. */
    @Benchmark
    public byte[] read4k() {
        return mapping.read(0, 4096, copy4k);
    }

    static byte[] copyInto(MemorySegment range, byte[] into) {
        MemorySegment.copy(range, ValueLayout.JAVA_BYTE, 0, into, 0, into.length);
        return into;
    }

    /** publish(offset, byte[64]): the copying variant. */
    @Benchmark
    public long publishBytes64() {
        return mapping.publish(0, bytes64);
    }

    /** read(offset, 8): a consistent copy. */
    @Benchmark
    public byte[] readCopy8() {
        return mapping.read(0, 8);
    }

    /** read(offset, 8, reader): zero-copy parse of one long. */
    @Benchmark
    public long readParse8() {
        return mapping.read(0, 8, READ_LONG);
    }
}
