package io.shmflux.bench;

import io.shmflux.FileMapping;
import io.shmflux.MappingOptions;
import io.shmflux.RecordLayout;
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
import java.nio.ByteOrder;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;

/**
 * {@code publish(offset, layout, value)} and {@code read(offset, layout)} of a 32-byte record against
 * the hand-written equivalent (the same offsets and accessors written out by hand), in one run: the
 * target is at most 1.5x. Run by {@code mvn -Pbench verify} (results in
 * {@code target/benchmarks/jmh-record-layout.json}).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = "--enable-native-access=ALL-UNNAMED")
public class RecordLayoutBenchmark {

    /** 32 bytes: sequence@0, price@8, quantity@16, venue@20, stamp@24. */
    public record Tick(long sequence, double price, int quantity, int venue, long stamp) {
    }

    private static final RecordLayout<Tick> TICK = RecordLayout.of(Tick.class);
    private static final ValueLayout.OfLong LONG = ValueLayout.JAVA_LONG.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfDouble DOUBLE = ValueLayout.JAVA_DOUBLE.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfInt INT = ValueLayout.JAVA_INT.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final Function<MemorySegment, Tick> DECODE_BY_HAND = s -> new Tick(s.get(LONG, 0), s.get(DOUBLE, 8),
            s.get(INT, 16), s.get(INT, 20), s.get(LONG, 24));

    private FileMapping mapping;
    private long sequence;

    @Setup
    public void open() {
        mapping = SharedMemory.create("jmh-record-" + ProcessHandle.current().pid(), 4096,
                MappingOptions.DEFAULT.withChangeRingCapacity(1 << 20));
        mapping.publish(0, TICK, new Tick(0, 1.5, 2, 3, 4));
    }

    @TearDown
    public void close() {
        mapping.close();
    }

    @Benchmark
    public long publishRecord() {
        long n = ++sequence;
        return mapping.publish(0, TICK, new Tick(n, 1.5, 2, 3, n));
    }

    @Benchmark
    public long publishByHand() {
        long n = ++sequence;
        Tick tick = new Tick(n, 1.5, 2, 3, n);
        return mapping.publish(0, 32, s -> {
            s.set(LONG, 0, tick.sequence());
            s.set(DOUBLE, 8, tick.price());
            s.set(INT, 16, tick.quantity());
            s.set(INT, 20, tick.venue());
            s.set(LONG, 24, tick.stamp());
        });
    }

    @Benchmark
    public Tick readRecord() {
        return mapping.read(0, TICK);
    }

    @Benchmark
    public Tick readByHand() {
        return mapping.read(0, 32, DECODE_BY_HAND);
    }
}
