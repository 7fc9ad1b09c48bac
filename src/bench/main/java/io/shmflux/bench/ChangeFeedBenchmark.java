package io.shmflux.bench;

import io.shmflux.ChangeOptions;
import io.shmflux.FileMapping;
import io.shmflux.MappingOptions;
import io.shmflux.SharedMemory;
import io.shmflux.internal.linux.Futex;
import org.HdrHistogram.Histogram;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.io.UncheckedIOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.TreeMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.function.LongConsumer;

import static io.shmflux.bench.BenchChild.INT;
import static io.shmflux.bench.BenchChild.LONG;
import static io.shmflux.bench.BenchChild.WORD_OFFSET;

/**
 * The change-feed benchmark: one run, one machine, every scenario with the same pacing and sample
 * counts. This process is the sender (publisher, futex writer, socket client); each scenario's
 * receiver is a fresh child JVM ({@link BenchChild}). Results go to {@code target/benchmarks/changes.json}
 * and {@code changes.md}. See {@code src/site/markdown/benchmarks.md}.
 */
public final class ChangeFeedBenchmark {

    /** Tags every object, file and socket of this run. */
    static final String RUN = "bench-" + ProcessHandle.current().pid() + "-"
            + HexFormat.of().toHexDigits(ThreadLocalRandom.current().nextInt()).substring(4);
    private static final Set<Child> CHILDREN = ConcurrentHashMap.newKeySet();
    private static final Set<Path> TEMP_FILES = ConcurrentHashMap.newKeySet();
    private static final Set<FileMapping> MAPPINGS = ConcurrentHashMap.newKeySet();
    private static final Duration START_WAIT = Duration.ofSeconds(60);
    private static final Duration RESULT_WAIT = Duration.ofSeconds(120);

    /** Configuration, from system properties (defaults are the full run). */
    record Config(long samples, long warmup, long paceNanos, long fastPaceNanos, long burstEvents, long burstWarmup,
                  long idleNanos, int rounds, Path out) {

        /** {@return this configuration for one round: a share of the samples} */
        Config round() {
            return new Config((samples + rounds - 1) / rounds, warmup, paceNanos, fastPaceNanos, burstEvents, burstWarmup,
                    idleNanos, rounds, out);
        }

        static Config fromProperties() {
            long samples = Long.getLong("bench.samples", 100_000);
            return new Config(samples,
                    Long.getLong("bench.warmup", 20_000),
                    TimeUnit.MICROSECONDS.toNanos(Long.getLong("bench.paceMicros", 100)),
                    TimeUnit.MICROSECONDS.toNanos(Long.getLong("bench.fastPaceMicros", 20)),
                    Long.getLong("bench.burstEvents", 5_000_000),
                    Long.getLong("bench.burstWarmup", Math.min(1_000_000, Long.getLong("bench.burstEvents", 5_000_000))),
                    TimeUnit.SECONDS.toNanos(Long.getLong("bench.idleSeconds", 5)),
                    Integer.getInteger("bench.rounds", 4),
                    Path.of(System.getProperty("bench.out", "target/benchmarks")));
        }
    }

    /** One latency scenario's outcome. */
    record Latency(String key, String title, long paceNanos, Histogram histogram, Map<String, String> details) {
    }

    /** The burst scenario's outcome, for one overflow mode and ring capacity. */
    record Burst(ChangeOptions.Overflow overflow, int ringCapacity, long events, long delivered, long missed, long torn,
                 long orderErrors, long deliverNanos, long publishNanos, double publishOnlyPerSecond) {

        double deliveredPerSecond() {
            return delivered * 1e9 / deliverNanos;
        }

        double publishedPerSecond() {
            return events * 1e9 / publishNanos;
        }
    }

    /** The idle subscriber's CPU. */
    record Idle(long windowNanos, long processNanos, long changeThreadNanos, long changeThreadWakeUps, String topThreads) {

        double processPercent() {
            return processNanos * 100.0 / windowNanos;
        }

        double changeThreadPercent() {
            return changeThreadNanos * 100.0 / windowNanos;
        }
    }

    private ChangeFeedBenchmark() {
    }

    static void track(Child child) {
        CHILDREN.add(child);
    }

    static void untrack(Child child) {
        CHILDREN.remove(child);
    }

    public static void main(String[] args) throws Exception {
        Runtime.getRuntime().addShutdownHook(new Thread(ChangeFeedBenchmark::cleanUp, "bench-cleanup"));
        Config config = Config.fromProperties();
        Map<String, String> machine = Machine.describe();
        System.out.println("shmflux change-feed benchmark " + RUN + ": " + machine);
        System.out.printf("samples=%d in %d rounds, warmup=%d per round, pace=%dus fastPace=%dus burst=%d (+%d warm-up) idle=%ds%n",
                config.samples(), config.rounds(), config.warmup(), config.paceNanos() / 1000, config.fastPaceNanos() / 1000,
                config.burstEvents(), config.burstWarmup(), config.idleNanos() / 1_000_000_000);
        try {
            // the latency scenarios take turns, in rounds, each with fresh child JVMs, so that load from
            // elsewhere on the machine, which drifts, is spread over all of them alike
            Map<String, Latency> merged = new LinkedHashMap<>();
            Idle[] futexIdle = new Idle[1];
            Idle[] idle = new Idle[1];
            Config round = config.round();
            for (int r = 1; r <= config.rounds(); r++) {
                boolean last = r == config.rounds();
                System.out.println("round " + r + " of " + config.rounds() + ": " + round.samples() + " samples each");
                merge(merged, futex(round, last ? futexIdle : null));
                merge(merged, socket(round));
                merge(merged, shmflux(round, ChangeOptions.WaitStrategy.BLOCKING, config.paceNanos(), last ? idle : null));
                merge(merged, shmflux(round, ChangeOptions.WaitStrategy.LOW_LATENCY, config.paceNanos(), null));
                merge(merged, shmflux(round, ChangeOptions.WaitStrategy.LOW_LATENCY, config.fastPaceNanos(), null));
            }
            List<Latency> latencies = List.copyOf(merged.values());
            System.out.println("all rounds:");
            for (Latency l : latencies) {
                print(l);
            }
            MappingOptions wide = MappingOptions.DEFAULT.withChangeRingCapacity(1 << 20);
            double publishOnly = publishOnly(config, wide);
            List<Burst> bursts = List.of(
                    burst(config, ChangeOptions.Overflow.REPORT, 1 << 20, publishOnly),
                    burst(config, ChangeOptions.Overflow.BACK_PRESSURE, 1 << 20, publishOnly),
                    burst(config, ChangeOptions.Overflow.BACK_PRESSURE, 1024, publishOnly));
            Report report = new Report(config, machine, latencies, bursts, idle[0], futexIdle[0]);
            report.write(config.out());
            System.out.println();
            System.out.println(report.markdown());
            System.out.println("wrote " + config.out().resolve("changes.json") + " and " + config.out().resolve("changes.md"));
        } finally {
            cleanUp();
        }
        List<String> left = leftovers();
        if (!left.isEmpty()) {
            System.err.println("FAILED: files left in /dev/shm: " + left);
            System.exit(1);
        }
    }

    /** {@return the mapping, closed by {@link #cleanUp()} too if the run is interrupted} */
    private static FileMapping tracked(FileMapping mapping) {
        MAPPINGS.add(mapping);
        return mapping;
    }

    private static void cleanUp() {
        for (Child child : List.copyOf(CHILDREN)) {
            child.close();
        }
        for (FileMapping mapping : List.copyOf(MAPPINGS)) {
            try {
                mapping.close(); // idempotent; after a normal run all are closed already
            } catch (RuntimeException e) {
                System.err.println("cannot close " + mapping + ": " + e);
            }
            MAPPINGS.remove(mapping);
        }
        for (Path file : List.copyOf(TEMP_FILES)) {
            try {
                Files.deleteIfExists(file);
            } catch (IOException e) {
                System.err.println("cannot delete " + file + ": " + e);
            }
            TEMP_FILES.remove(file);
        }
    }

    private static List<String> leftovers() throws IOException {
        try (var files = Files.list(Path.of("/dev/shm"))) {
            return files.map(p -> p.getFileName().toString()).filter(n -> n.contains(RUN)).toList();
        }
    }

    private static Map<String, String> parse(String resultLine) {
        Map<String, String> fields = new HashMap<>();
        for (String token : resultLine.substring("result".length()).trim().split(" ")) {
            int eq = token.indexOf('=');
            fields.put(token.substring(0, eq), token.substring(eq + 1));
        }
        return fields;
    }

    private static Latency latency(String key, String title, long pace, String resultLine) {
        Map<String, String> fields = parse(resultLine);
        Histogram histogram = Latencies.decode(fields.remove("hist"));
        Latency latency = new Latency(key, title, pace, histogram, fields);
        print(latency);
        return latency;
    }

    private static void print(Latency l) {
        Histogram h = l.histogram();
        System.out.printf("  %-34s p10=%7.2fus p50=%8.2fus p99=%8.2fus p99.9=%9.2fus max=%9.2fus n=%d %s%n", l.title(),
                h.getValueAtPercentile(10) / 1e3, h.getValueAtPercentile(50) / 1e3, h.getValueAtPercentile(99) / 1e3, h.getValueAtPercentile(99.9) / 1e3,
                h.getMaxValue() / 1e3, h.getTotalCount(), l.details());
    }

    /** Adds a round's result to the totals: histograms added, counters summed. */
    private static void merge(Map<String, Latency> merged, Latency round) {
        Latency total = merged.get(round.key());
        if (total == null) {
            merged.put(round.key(), new Latency(round.key(), round.title(), round.paceNanos(), round.histogram().copy(),
                    new TreeMap<>(round.details())));
            return;
        }
        total.histogram().add(round.histogram());
        round.details().forEach((k, v) -> total.details().merge(k, v,
                (a, b) -> Long.toString(Long.parseLong(a) + Long.parseLong(b))));
    }

    /** Scenario 3: a raw futex wake between two processes on a word in a /dev/shm file. */
    static Latency futex(Config config, Idle[] idle) throws Exception {
        Path path = Path.of("/dev/shm", "shmflux-" + RUN + ".futex");
        TEMP_FILES.add(path);
        try (RandomAccessFile file = new RandomAccessFile(path.toFile(), "rw")) {
            file.setLength(BenchChild.FILE_SIZE);
        }
        long total = config.warmup() + config.samples();
        try (Arena arena = Arena.ofShared();
             FileChannel channel = FileChannel.open(path, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            MemorySegment shared = channel.map(FileChannel.MapMode.READ_WRITE, 0, BenchChild.FILE_SIZE, arena);
            MemorySegment word = shared.asSlice(WORD_OFFSET, 4);
            try (Child child = Child.start("futex", path.toString(), Long.toString(config.warmup()),
                    Long.toString(config.samples()))) {
                child.await("ready", START_WAIT);
                long[] wakes = new long[1];
                String line = sendUntilResult(child, total, config.paceNanos(), i -> {
                    // the writer half of the handshake: timestamp, then swap the word; wake only if someone sleeps
                    LONG.set(shared, BenchChild.timestampOffset(i), System.nanoTime());
                    int previous = (int) INT.getAndSet(shared, WORD_OFFSET, (int) (i & 0x7fff_ffffL) << 1);
                    if ((previous & 1) != 0) {
                        Futex.wake(word, Integer.MAX_VALUE);
                        wakes[0]++;
                    }
                });
                Latency result = latency("futex", "raw futex wake (baseline)", config.paceNanos(), line);
                result.details().put("wakeSyscalls", Long.toString(wakes[0]));
                if (idle != null) {
                    idle[0] = idle(config, child.pid(), "raw futex waiter");
                }
                child.exit();
                return result;
            }
        } finally {
            Files.deleteIfExists(path);
            TEMP_FILES.remove(path);
        }
    }

    /** Scenario 4: a 16-byte message over a Unix-domain socket. */
    static Latency socket(Config config) throws Exception {
        Path path = Path.of(System.getProperty("java.io.tmpdir"), "shmflux-" + RUN + ".sock");
        TEMP_FILES.add(path);
        long total = config.warmup() + config.samples();
        try (Child child = Child.start("socket", path.toString(), Long.toString(config.warmup()),
                Long.toString(config.samples()))) {
            child.await("ready", START_WAIT);
            try (SocketChannel channel = SocketChannel.open(UnixDomainSocketAddress.of(path))) {
                ByteBuffer buffer = ByteBuffer.allocateDirect(16);
                String line = sendUntilResult(child, total, config.paceNanos(), i -> {
                    buffer.clear();
                    buffer.putLong(0, i).putLong(8, System.nanoTime());
                    try {
                        while (buffer.hasRemaining()) {
                            channel.write(buffer);
                        }
                    } catch (IOException e) {
                        throw new UncheckedIOException(e);
                    }
                });
                Latency result = latency("socket", "Unix-domain socket (baseline)", config.paceNanos(), line);
                child.exit();
                return result;
            }
        } finally {
            Files.deleteIfExists(path);
            TEMP_FILES.remove(path);
        }
    }

    /** Scenarios 1 and 2 (and 6 when {@code idle} is given): publish, paced, to a subscriber process. */
    static Latency shmflux(Config config, ChangeOptions.WaitStrategy strategy, long pace, Idle[] idle)
            throws Exception {
        String name = RUN + "-" + strategy + "-" + pace / 1000 + "us";
        long total = config.warmup() + config.samples();
        try (FileMapping mapping = tracked(SharedMemory.create(name, 4096))) {
            long[] value = new long[1];
            Consumer<MemorySegment> writer = range -> range.set(ValueLayout.JAVA_LONG, 0, value[0]);
            try (Child child = Child.start("shmflux", name, strategy.name(), Long.toString(config.warmup()),
                    Long.toString(config.samples()))) {
                child.await("ready", START_WAIT);
                String line = sendUntilResult(child, total, pace, i -> {
                    value[0] = i;
                    mapping.publish(0, 8, writer);
                });
                String key = "shmflux_" + strategy.name().toLowerCase() + (pace == config.paceNanos() ? "" : "_" + pace / 1000 + "us");
                String title = "shmflux " + strategy + (pace == config.paceNanos() ? "" : " (pace " + pace / 1000 + " µs)");
                Latency result = latency(key, title, pace, line);
                if (idle != null) {
                    idle[0] = idle(config, child.pid(), "shmflux BLOCKING subscriber");
                }
                child.exit();
                return result;
            }
        }
    }

    /**
     * Sends {@code total} messages, one per {@code pace}, then keeps sending (paced) until the child
     * reports its result: a receiver that could not see every message (the futex baseline keeps only
     * the latest) still gets its full sample count. {@return the result line}
     */
    static String sendUntilResult(Child child, long total, long pace, LongConsumer send) {
        Pacer pacer = new Pacer(pace);
        long i = 1;
        for (; i <= total; i++) {
            pacer.await();
            send.accept(i);
        }
        long limit = 2 * total;
        while (true) {
            String line = child.poll("result", Duration.ofMillis(200));
            if (line != null) {
                return line;
            }
            if (i > limit) {
                return child.await("result", RESULT_WAIT); // fails with the child's stderr
            }
            for (long end = i + 100; i < end; i++) {
                pacer.await();
                send.accept(i);
            }
        }
    }

    /** Scenario 6: the CPU a subscribed, idle receiver process burns. */
    static Idle idle(Config config, long pid, String what) throws InterruptedException {
        Thread.sleep(1_000); // let the last events and any JIT work settle
        Map<String, Long> threadsBefore = ProcCpu.perThread(pid);
        long process = ProcCpu.processNanos(pid);
        long thread = ProcCpu.threadNanos(pid, "shmflux-change");
        long sleeps = ProcCpu.voluntarySwitches(pid, "shmflux-change");
        long start = System.nanoTime();
        TimeUnit.NANOSECONDS.sleep(config.idleNanos());
        long window = System.nanoTime() - start;
        long processNanos = ProcCpu.processNanos(pid) - process;
        long threadNanos = ProcCpu.threadNanos(pid, "shmflux-change") - thread;
        long wakeUps = ProcCpu.voluntarySwitches(pid, "shmflux-change") - sleeps;
        Map<String, Long> threadsAfter = ProcCpu.perThread(pid);
        StringBuilder top = new StringBuilder();
        threadsAfter.entrySet().stream()
                .map(e -> Map.entry(e.getKey().substring(0, e.getKey().lastIndexOf('/')),
                        e.getValue() - threadsBefore.getOrDefault(e.getKey(), 0L)))
                .filter(e -> e.getValue() > 0)
                .sorted(Map.Entry.<String, Long>comparingByValue().reversed())
                .limit(6)
                .forEach(e -> top.append(top.isEmpty() ? "" : ", ").append(e.getKey()).append(' ')
                        .append(String.format(java.util.Locale.ROOT, "%.3f%%", e.getValue() * 100.0 / window)));
        Idle idle = new Idle(window, processNanos, threadNanos, wakeUps, top.toString());
        System.out.printf("  idle %s: %.4f%% of a core (shmflux change thread %.4f%%, %d wake-ups) over %.1f s; top threads: %s%n",
                what, idle.processPercent(), idle.changeThreadPercent(), wakeUps, window / 1e9, top);
        return idle;
    }

    /** {@return publishes per second into a mapping nobody subscribes to: the publisher's own ceiling} */
    static double publishOnly(Config config, MappingOptions options) {
        try (FileMapping mapping = tracked(SharedMemory.create(RUN + "-publish-only", 4096, options))) {
            long[] value = new long[1];
            Consumer<MemorySegment> writer = range -> range.set(ValueLayout.JAVA_LONG, 0, value[0]);
            long start = 0;
            for (long i = 1; i <= config.burstWarmup() + config.burstEvents(); i++) {
                if (i == config.burstWarmup() + 1) {
                    start = System.nanoTime();
                }
                value[0] = i;
                mapping.publish(0, 8, writer);
            }
            double rate = config.burstEvents() * 1e9 / (System.nanoTime() - start);
            System.out.printf("  publish only, no subscriber: %,.0f/s (%.0f ns per publish)%n", rate, 1e9 / rate);
            return rate;
        }
    }

    /**
     * Scenario 5: publish as fast as possible; count what one subscriber process gets. With
     * {@code BACK_PRESSURE} the publisher waits whenever it is a whole ring ahead of the subscriber.
     */
    static Burst burst(Config config, ChangeOptions.Overflow overflow, int ringCapacity, double publishOnly)
            throws Exception {
        String name = RUN + "-burst-" + overflow.name().toLowerCase(java.util.Locale.ROOT) + "-" + ringCapacity;
        MappingOptions options = MappingOptions.DEFAULT.withChangeRingCapacity(ringCapacity);
        try (FileMapping mapping = tracked(SharedMemory.create(name, 4096, options))) {
            long[] value = new long[1];
            Consumer<MemorySegment> writer = range -> range.set(ValueLayout.JAVA_LONG, 0, value[0]);
            try (Child child = Child.start("burst", name, Long.toString(config.burstWarmup()),
                    Long.toString(config.burstEvents()), overflow.name())) {
                child.await("ready", START_WAIT);
                for (long i = 1; i <= config.burstWarmup(); i++) {
                    value[0] = i;
                    mapping.publish(0, 8, writer);
                }
                child.await("warm", RESULT_WAIT);
                Thread.sleep(200);
                long start = System.nanoTime();
                for (long i = 1; i <= config.burstEvents(); i++) {
                    value[0] = i;
                    mapping.publish(0, 8, writer);
                }
                long publishNanos = System.nanoTime() - start;
                Map<String, String> r = parse(child.await("result", RESULT_WAIT));
                Burst burst = new Burst(overflow, ringCapacity, config.burstEvents(), Long.parseLong(r.get("delivered")),
                        Long.parseLong(r.get("missed")), Long.parseLong(r.get("torn")),
                        Long.parseLong(r.get("orderErrors")), Long.parseLong(r.get("nanos")), publishNanos, publishOnly);
                System.out.printf("  burst %s, ring %d: published %,.0f/s, delivered %,d (%,.0f/s), missed %,d, torn %d, order errors %d%n",
                        overflow, ringCapacity, burst.publishedPerSecond(), burst.delivered(), burst.deliveredPerSecond(), burst.missed(),
                        burst.torn(), burst.orderErrors());
                child.exit();
                return burst;
            }
        }
    }
}
