package io.shmflux.bench;

import io.shmflux.Access;
import io.shmflux.FileMapping;
import io.shmflux.MappedView;
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

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.concurrent.TimeUnit;

/**
 * The costs around the data: {@code map} + {@code close} of a 1 MiB view, {@code createOrOpen} +
 * {@code close} of an object another handle keeps open (the open path), and a 1 MiB bulk copy into a
 * view beside {@code MemorySegment.copy} between two native segments (the target: at least 0.8x).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = "--enable-native-access=ALL-UNNAMED")
public class ViewBenchmark {

    static final long SIZE = 1 << 20;
    private final String name = "jmh-view-" + ProcessHandle.current().pid();
    private Arena arena;
    private FileMapping mapping;
    private MappedView view;
    private MemorySegment source;
    private MemorySegment nativeTarget;

    @Setup
    public void open() {
        arena = Arena.ofShared();
        mapping = SharedMemory.create(name, SIZE);
        view = mapping.map(Access.READ_WRITE, 0, SIZE);
        source = arena.allocate(SIZE, 4096).fill((byte) 7);
        nativeTarget = arena.allocate(SIZE, 4096);
        MemorySegment.copy(source, 0, view.segment(), 0, SIZE); // the view's pages are in: measure the copy, not faults
    }

    @TearDown
    public void close() {
        view.close();
        mapping.close();
        arena.close();
    }

    @Benchmark
    public void mapClose1MiB() {
        mapping.map(Access.READ_WRITE, 0, SIZE).close();
    }

    @Benchmark
    public void createOrOpenClose() {
        SharedMemory.createOrOpen(name, SIZE).close();
    }

    @Benchmark
    public MemorySegment copyIntoView1MiB() {
        MemorySegment.copy(source, 0, view.segment(), 0, SIZE);
        return view.segment();
    }

    @Benchmark
    public MemorySegment copyNativeToNative1MiB() {
        MemorySegment.copy(source, 0, nativeTarget, 0, SIZE);
        return nativeTarget;
    }
}
