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
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Consumer;
import java.util.function.Function;

/**
 * Consistent {@code read} of 64 B and 4 KiB while another thread publishes into the same range all
 * the time: the seqlock's retry cost. The writer publishes, then pauses 1 µs, so that it does not
 * take the second core of a 2-core machine entirely; it stops at tear-down (and after 10 minutes).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = "--enable-native-access=ALL-UNNAMED")
public class ContendedReadBenchmark {

    private FileMapping mapping;
    private volatile boolean stop;
    private Thread writer;
    private final byte[] into64 = new byte[64];
    private final byte[] into4k = new byte[4096];
    private final Function<MemorySegment, byte[]> copy64 = range -> PublishReadBenchmark.copyInto(range, into64);
    private final Function<MemorySegment, byte[]> copy4k = range -> PublishReadBenchmark.copyInto(range, into4k);

    @Setup
    public void open() {
        mapping = SharedMemory.create("jmh-contended-" + ProcessHandle.current().pid(), 8192,
                MappingOptions.DEFAULT.withChangeRingCapacity(1 << 16));
        long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(10);
        writer = Thread.ofPlatform().daemon().name("jmh-writer").start(() -> {
            byte[] b = {0};
            Consumer<MemorySegment> fill = range -> range.fill(b[0]++);
            while (!stop && System.nanoTime() < deadline) {
                mapping.publish(0, 4096, fill);
                LockSupport.parkNanos(1_000);
            }
        });
    }

    @TearDown
    public void close() throws InterruptedException {
        stop = true;
        writer.join(10_000);
        mapping.close();
    }

    @Benchmark
    public byte[] read64Contended() {
        return mapping.read(0, 64, copy64);
    }

    @Benchmark
    public byte[] read4kContended() {
        return mapping.read(0, 4096, copy4k);
    }
}
