package io.shmflux.bench;

import io.aeron.driver.MediaDriver;
import io.aeron.driver.ThreadingMode;
import io.shmflux.ChangeOptions;
import io.shmflux.FileMapping;
import io.shmflux.MappingOptions;
import io.shmflux.SharedMemory;
import io.shmflux.aeron.EmbeddedDriver;
import io.shmflux.aeron.MappingReplicator;
import io.shmflux.internal.linux.Futex;
import org.HdrHistogram.Histogram;
import org.agrona.concurrent.SleepingMillisIdleStrategy;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.io.UncheckedIOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.net.DatagramSocket;
import java.net.InetSocketAddress;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import java.util.stream.Stream;

import static io.shmflux.bench.Wire.INT;
import static io.shmflux.bench.Wire.LONG;
import static io.shmflux.bench.Wire.WORD_OFFSET;

/**
 * The benchmark: one run, one machine, every scenario in every round, medians over rounds, ratios to
 * each scenario's baseline within the run. This process is the sender (publisher, futex writer, socket
 * client, Agrona transmitter, Aeron publisher with the embedded media driver, Chronicle appender); each
 * scenario's receivers are fresh child JVMs ({@link BenchChild}); in the replication scenarios this
 * process is the source, replicating through an embedded media driver of its own. Results go to
 * {@code target/benchmarks/results.json}, {@code results.md} and the charts. See
 * {@code src/site/markdown/benchmarks.md}.
 */
public final class ChangeFeedBenchmark {

    /** Tags every object, file and socket of this run. */
    static final String RUN = "bench-" + ProcessHandle.current().pid() + "-"
            + HexFormat.of().toHexDigits(ThreadLocalRandom.current().nextInt()).substring(4);
    private static final Set<Child> CHILDREN = ConcurrentHashMap.newKeySet();
    private static final Set<Path> TEMP_FILES = ConcurrentHashMap.newKeySet();
    private static final Set<FileMapping> MAPPINGS = ConcurrentHashMap.newKeySet();
    /** Every child started: shmflux-aeron's embedded drivers name their directories by pid. */
    private static final Set<Long> CHILD_PIDS = ConcurrentHashMap.newKeySet();
    /** UDP ports handed out in this run: each scenario's channels get ports of their own. */
    private static final Set<Integer> PORTS = ConcurrentHashMap.newKeySet();
    private static final Duration START_WAIT = Duration.ofSeconds(60);
    private static final Duration RESULT_WAIT = Duration.ofSeconds(120);
    /** The batch scenario's {@code maxBatch}: large enough that a batch is a page of the ring, not a change. */
    private static final int BATCH = 4096;
    private static final AtomicInteger STREAMS = new AtomicInteger(1000);
    private static final Path AERON_DIR = Path.of("/dev/shm", "aeron-shmflux-" + RUN);
    private static volatile MediaDriver driver;
    /** {@code -Dbench.only=REGEX}: run only the scenarios whose key matches (while developing). */
    private static final String ONLY = System.getProperty("bench.only", ".*");

    /**
     * Configuration, from system properties. The short run (default, about 3 minutes) and the long one
     * ({@code -Dbench.long=true}) differ only in these counts; each can be set on its own.
     */
    record Config(boolean longRun, long samples, long warmup, long paceNanos, long fastPaceNanos, long burstEvents,
                  long burstWarmup, long idleNanos, int rounds, long roundTrips, long roundTripWarmup, boolean jmh,
                  Path out, long udpWarmupNanos) {

        static Config fromProperties() {
            boolean longRun = Boolean.getBoolean("bench.long");
            return new Config(longRun,
                    Long.getLong("bench.samples", longRun ? 100_000 : 12_000),
                    Long.getLong("bench.warmup", longRun ? 20_000 : 2_000),
                    TimeUnit.MICROSECONDS.toNanos(Long.getLong("bench.paceMicros", 100)),
                    TimeUnit.MICROSECONDS.toNanos(Long.getLong("bench.fastPaceMicros", 20)),
                    Long.getLong("bench.burstEvents", longRun ? 5_000_000 : 1_000_000),
                    Long.getLong("bench.burstWarmup", longRun ? 1_000_000 : 200_000),
                    TimeUnit.MILLISECONDS.toNanos(Long.getLong("bench.idleMillis", 5_000)),
                    Integer.getInteger("bench.rounds", longRun ? 5 : 3),
                    Long.getLong("bench.roundTrips", longRun ? 1_000_000 : 150_000),
                    Long.getLong("bench.roundTripWarmup", longRun ? 100_000 : 20_000),
                    !Boolean.getBoolean("bench.jmh.skip"),
                    Path.of(System.getProperty("bench.out", "target/benchmarks")),
                    TimeUnit.MILLISECONDS.toNanos(Long.getLong("bench.udpWarmupMillis", 2_000)));
        }

        /**
         * {@return this configuration for the Aeron UDP latency scenarios at {@code pace}} Their warm-up
         * is at least {@code udpWarmupNanos} of paced messages: two media drivers (sender and receiver
         * JVM) run interpreted at first and queue messages for the first second or so (2,000 messages
         * at 100 µs measured a p50 of 0.8-2.4 ms against 75 µs after 15,000).
         */
        Config forUdp(long pace) {
            long udpWarmup = Math.max(warmup, udpWarmupNanos / pace);
            return new Config(longRun, samples, udpWarmup, paceNanos, fastPaceNanos, burstEvents, burstWarmup, idleNanos,
                    rounds, roundTrips, roundTripWarmup, jmh, out, udpWarmupNanos);
        }

        /** {@return the samples of one round, and likewise round-trips} */
        long roundSamples() {
            return (samples + rounds - 1) / rounds;
        }

        long roundRoundTrips() {
            return (roundTrips + rounds - 1) / rounds;
        }
    }

    /** The idle receiver's CPU. */
    record Idle(long windowNanos, long processNanos, String topThreads) {

        double processPercent() {
            return processNanos * 100.0 / windowNanos;
        }
    }

    private ChangeFeedBenchmark() {
    }

    static void track(Child child) {
        CHILDREN.add(child);
        CHILD_PIDS.add(child.pid());
    }

    static void untrack(Child child) {
        CHILDREN.remove(child);
    }

    public static void main(String[] args) throws Exception {
        System.setProperty("java.awt.headless", "true");
        Runtime.getRuntime().addShutdownHook(new Thread(ChangeFeedBenchmark::cleanUp, "bench-cleanup"));
        Config config = Config.fromProperties();
        Map<String, String> machine = Machine.describe();
        System.out.println("shmflux benchmark " + RUN + " (" + (config.longRun() ? "long" : "short") + " run): " + machine);
        System.out.println(config);
        Results results = new Results();
        try {
            for (int r = 1; r <= config.rounds(); r++) {
                System.out.println("round " + r + " of " + config.rounds());
                round(config, results, r == config.rounds());
            }
            if (config.jmh()) {
                Jmh.run(config, results);
            }
            Report report = new Report(config, machine, results);
            report.write(config.out());
            Charts.write(results, config.out());
            System.out.println();
            System.out.println(report.markdown());
            System.out.println("wrote " + config.out().resolve("results.json") + ", results.md and the charts");
        } finally {
            cleanUp();
        }
        List<String> left = leftovers();
        if (!left.isEmpty()) {
            System.err.println("FAILED: files left in /dev/shm: " + left);
            System.exit(1);
        }
        System.exit(0); // Aeron's and Chronicle's background threads must not keep the JVM
    }

    /** One round: every scenario once, each with fresh receiver JVMs; idle CPU in the last round. */
    private static void round(Config config, Results results, boolean last) {
        // -Dbench.fastPaceMicros=0 leaves the second pace out (the harness test does, to stay short)
        long[] paces = config.fastPaceNanos() > 0 ? new long[] {config.paceNanos(), config.fastPaceNanos()}
                : new long[] {config.paceNanos()};
        for (long pace : paces) {
            boolean idle = last && pace == config.paceNanos();
            String suffix = pace == config.paceNanos() ? "" : "_" + pace / 1000 + "us";
            String titleSuffix = " @" + pace / 1000 + " µs";
            run(results, "futex" + suffix, () -> futex(config, pace, idle), "raw futex wait/wake" + titleSuffix,
                    null);
            run(results, "socket" + suffix, () -> socket(config, pace, idle), "Unix-domain socket" + titleSuffix,
                    "futex" + suffix);
            run(results, "raw_spin" + suffix, () -> polled(config, Transport.RAW_SPIN, pace, idle),
                    "raw busy-spin on a sequence word" + titleSuffix, null);
            run(results, "park_poll" + suffix, () -> polled(config, Transport.PARK_POLL, pace, idle),
                    "naive parkNanos polling" + titleSuffix, "futex" + suffix);
            for (int subscribers : new int[] {1, 4}) {
                String subs = subscribers == 1 ? "" : "_x" + subscribers;
                String subsTitle = subscribers == 1 ? "" : ", " + subscribers + " subscriber processes";
                run(results, "shmflux_blocking" + subs + suffix,
                        () -> shmflux(config, ChangeOptions.WaitStrategy.BLOCKING, pace, subscribers, idle),
                        "shmflux BLOCKING" + subsTitle + titleSuffix, "futex" + suffix);
                run(results, "shmflux_low_latency" + subs + suffix,
                        () -> shmflux(config, ChangeOptions.WaitStrategy.LOW_LATENCY, pace, subscribers, idle),
                        "shmflux LOW_LATENCY" + subsTitle + titleSuffix, "raw_spin" + suffix);
            }
            run(results, "agrona" + suffix, () -> polled(config, Transport.AGRONA, pace, idle),
                    "Agrona broadcast buffer" + titleSuffix, "raw_spin" + suffix);
            run(results, "aeron_spin" + suffix, () -> polled(config, Transport.AERON_SPIN, pace, idle),
                    "Aeron IPC, busy-spin subscriber" + titleSuffix, "raw_spin" + suffix);
            run(results, "aeron_backoff" + suffix, () -> polled(config, Transport.AERON_BACKOFF, pace, idle),
                    "Aeron IPC, BackoffIdleStrategy subscriber" + titleSuffix, "futex" + suffix);
            run(results, "chronicle" + suffix, () -> polled(config, Transport.CHRONICLE, pace, idle),
                    "Chronicle Queue, spinning tailer" + titleSuffix, "raw_spin" + suffix);
            Config udp = config.forUdp(pace);
            run(results, "aeron_raw_udp" + suffix, () -> polled(udp, Transport.AERON_UDP, pace, idle),
                    "raw Aeron UDP 127.0.0.1, 64 B, backoff poll" + titleSuffix, null);
            run(results, "aeron_replica_udp" + suffix, () -> replica(udp, pace, idle),
                    "shmflux replica over Aeron UDP 127.0.0.1, 64 B, BLOCKING subscriber" + titleSuffix,
                    "aeron_raw_udp" + suffix);
        }
        MappingOptions wide = MappingOptions.DEFAULT.withChangeRingCapacity(1 << 20);
        double publishOnly = publishOnly(config, wide);
        run(results, "burst_raw_ring", () -> burst(config, Transport.RAW_RING, 1), "raw ring (2^20 slots), spinning reader", null);
        for (int subscribers : new int[] {1, 4}) {
            String subs = subscribers == 1 ? "" : "_x" + subscribers;
            String subsTitle = subscribers == 1 ? "" : ", " + subscribers + " subscriber processes (total)";
            run(results, "burst_shmflux_report" + subs,
                    () -> shmfluxBurst(config, ChangeOptions.Overflow.REPORT, 1 << 20, subscribers, publishOnly),
                    "shmflux changes() REPORT" + subsTitle, "burst_raw_ring");
            run(results, "burst_shmflux_back_pressure" + subs,
                    () -> shmfluxBurst(config, ChangeOptions.Overflow.BACK_PRESSURE, 1 << 20, subscribers, publishOnly),
                    "shmflux changes() BACK_PRESSURE" + subsTitle, "burst_shmflux_report" + subs);
        }
        run(results, "burst_shmflux_batch",
                () -> shmfluxBurst(config, ChangeOptions.Overflow.REPORT, 1 << 20, 1, BATCH, publishOnly),
                "shmflux changeBatches(REPORT, " + BATCH + ")", "burst_raw_ring");
        run(results, "burst_shmflux_back_pressure_ring1024",
                () -> shmfluxBurst(config, ChangeOptions.Overflow.BACK_PRESSURE, 1024, 1, publishOnly),
                "shmflux changes() BACK_PRESSURE, ring 1024", "burst_shmflux_report");
        run(results, "burst_agrona", () -> burst(config, Transport.AGRONA, 1), "Agrona broadcast buffer (lossy)",
                "burst_raw_ring");
        run(results, "burst_aeron", () -> burst(config, Transport.AERON_SPIN, 1), "Aeron IPC (back-pressured)",
                "burst_raw_ring");
        run(results, "burst_chronicle", () -> burst(config, Transport.CHRONICLE, 1), "Chronicle Queue",
                "burst_raw_ring");
        run(results, "burst_aeron_raw_udp", () -> burst(config, Transport.AERON_UDP, 1),
                "raw Aeron UDP 127.0.0.1, 64 B (back-pressured)", null);
        run(results, "burst_aeron_replica_udp", () -> replicaBurst(config),
                "shmflux replica over Aeron UDP 127.0.0.1, 64 B changes, BACK_PRESSURE subscriber", "burst_aeron_raw_udp");
        run(results, "rtt_raw_spin", () -> pingPong(config, "RAW_SPIN"), "raw busy-spin", null);
        run(results, "rtt_shmflux_low_latency", () -> pingPong(config, "SHMFLUX"), "shmflux LOW_LATENCY", "rtt_raw_spin");
        run(results, "rtt_agrona", () -> pingPong(config, "AGRONA"), "Agrona broadcast buffer", "rtt_raw_spin");
        run(results, "rtt_aeron", () -> pingPong(config, "AERON_SPIN"), "Aeron IPC", "rtt_raw_spin");
    }

    /** A scenario's measurement in one round. */
    interface Measure {
        Results.Round measure() throws Exception;
    }

    /** Runs one scenario once; a failure is recorded with its exact error and the run goes on. */
    private static void run(Results results, String key, Measure measure, String title, String baseline) {
        if (!key.matches(ONLY)) {
            return;
        }
        Results.Kind kind = key.startsWith("burst_") ? Results.Kind.BURST
                : key.startsWith("rtt_") ? Results.Kind.HALF_ROUND_TRIP : Results.Kind.LATENCY;
        try {
            Results.Round round = measure.measure();
            results.add(key, kind, title, baseline, round);
            System.out.println("  " + key + ": " + round.metrics());
        } catch (Exception | Error e) {
            String error = e.toString() + (e.getCause() == null ? "" : "; cause: " + e.getCause());
            results.fail(key, kind, title, baseline, error.replaceAll("\\s+", " "));
            System.out.println("  " + key + ": FAILED " + e);
            e.printStackTrace(System.out);
        } finally {
            for (Child child : List.copyOf(CHILDREN)) {
                child.close();
            }
        }
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
        MediaDriver d = driver;
        if (d != null) {
            driver = null;
            d.close();
        }
        TEMP_FILES.add(AERON_DIR);
        for (Path file : List.copyOf(TEMP_FILES)) {
            deleteTree(file);
            TEMP_FILES.remove(file);
        }
        deleteEmbeddedDrivers(ProcessHandle.current().pid());
        CHILD_PIDS.forEach(ChangeFeedBenchmark::deleteEmbeddedDrivers);
    }

    /** {@return the prefix of the directories of the embedded drivers of process {@code pid}} (see {@code EmbeddedDriver}) */
    static String embeddedDriverPrefix(long pid) {
        return "shmflux-aeron-" + pid + "-";
    }

    /**
     * Deletes what embedded media drivers of process {@code pid} left in /dev/shm: a driver deletes its
     * directory when closed, a killed child's stays (it is named by the child's pid, not by the run).
     */
    static void deleteEmbeddedDrivers(long pid) {
        try (Stream<Path> files = Files.list(Path.of("/dev/shm"))) {
            files.filter(p -> p.getFileName().toString().startsWith(embeddedDriverPrefix(pid)))
                    .forEach(ChangeFeedBenchmark::deleteTree);
        } catch (IOException e) {
            System.err.println("cannot list /dev/shm: " + e);
        }
    }

    private static void deleteTree(Path path) {
        if (!Files.exists(path)) {
            return;
        }
        try (Stream<Path> walk = Files.walk(path)) {
            for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        } catch (IOException e) {
            System.err.println("cannot delete " + path + ": " + e);
        }
    }

    /** {@return what this run left in /dev/shm: names with its tag, embedded drivers' directories of its processes} */
    static List<String> leftovers() throws IOException {
        List<String> prefixes = new ArrayList<>();
        prefixes.add(embeddedDriverPrefix(ProcessHandle.current().pid()));
        CHILD_PIDS.forEach(pid -> prefixes.add(embeddedDriverPrefix(pid)));
        try (var files = Files.list(Path.of("/dev/shm"))) {
            return files.map(p -> p.getFileName().toString())
                    .filter(n -> n.contains(RUN) || prefixes.stream().anyMatch(n::startsWith)).toList();
        }
    }

    private static FileMapping tracked(FileMapping mapping) {
        MAPPINGS.add(mapping);
        return mapping;
    }

    /** {@return a fresh file of {@code size} bytes in /dev/shm, deleted by {@link #cleanUp()}} */
    private static Path tempFile(String what, long size) throws IOException {
        Path path = Path.of("/dev/shm", "shmflux-" + RUN + "-" + what);
        TEMP_FILES.add(path);
        try (RandomAccessFile file = new RandomAccessFile(path.toFile(), "rw")) {
            file.setLength(size);
        }
        return path;
    }

    private static void delete(Path path) {
        deleteTree(path);
        TEMP_FILES.remove(path);
    }

    /** {@return the Aeron directory of the run's embedded media driver, launched on first use} */
    private static synchronized String aeronDir() {
        if (driver == null) {
            driver = MediaDriver.launch(new MediaDriver.Context()
                    .aeronDirectoryName(AERON_DIR.toString())
                    .threadingMode(ThreadingMode.SHARED)
                    // the driver is not on the IPC data path: let it sleep, the machine has 2 cores
                    .sharedIdleStrategy(new SleepingMillisIdleStrategy(1))
                    .ipcTermBufferLength(1 << 22)
                    .dirDeleteOnStart(true)
                    .dirDeleteOnShutdown(true));
        }
        return AERON_DIR.toString();
    }

    private static Map<String, String> parse(String resultLine) {
        Map<String, String> fields = new HashMap<>();
        for (String token : resultLine.substring("result".length()).trim().split(" ")) {
            int eq = token.indexOf('=');
            fields.put(token.substring(0, eq), token.substring(eq + 1));
        }
        return fields;
    }

    /**
     * The common part of every latency scenario: start the receivers, let {@code open} set up the
     * sender once they are ready, send paced until each reported, measure the first receiver's idle CPU.
     */
    private static Results.Round latency(Config config, long pace, boolean idle, List<String[]> receivers,
                                         SenderFactory open) throws Exception {
        long total = config.warmup() + config.roundSamples();
        List<Child> children = startReady(receivers);
        try (Transport.Sender sender = open.open()) {
            List<String> lines = sendUntilResult(children, total, pace, sender);
            Histogram histogram = Latencies.histogram();
            long missed = 0;
            for (String line : lines) {
                Map<String, String> fields = parse(line);
                histogram.add(Latencies.decode(fields.get("hist")));
                missed += Long.parseLong(fields.getOrDefault("missed", "0"));
            }
            Map<String, Double> metrics = Results.percentiles(histogram);
            metrics.put("missed", (double) missed);
            String notes = "";
            if (idle) {
                Idle i = idle(config, children.get(0).pid());
                metrics.put("idle_cpu_percent", i.processPercent());
                notes = "idle threads: " + i.topThreads();
            }
            children.forEach(Child::exit);
            return new Results.Round(metrics, histogram, notes);
        }
    }

    /** {@return the receiver JVMs, started, once each has said it is ready} */
    private static List<Child> startReady(List<String[]> receivers) {
        List<Child> children = new ArrayList<>();
        for (String[] args : receivers) {
            children.add(Child.start(args));
        }
        for (Child child : children) {
            child.await("ready", START_WAIT);
        }
        return children;
    }

    /** Makes the sender once the receivers are ready. */
    interface SenderFactory {
        Transport.Sender open() throws Exception;
    }

    private static String[] receiverArgs(String role, String where, long warmup, long samples) {
        return new String[] {role, where, Long.toString(warmup), Long.toString(samples)};
    }

    /** Raw futex wait/wake between two processes on a word in a /dev/shm file (the waiter-bit handshake). */
    static Results.Round futex(Config config, long pace, boolean idle) throws Exception {
        Path path = tempFile("futex", Wire.FILE_SIZE);
        try (Arena arena = Arena.ofShared()) {
            MemorySegment shared = Wire.map(path, Wire.FILE_SIZE, arena);
            MemorySegment word = shared.asSlice(WORD_OFFSET, 4);
            return latency(config, pace, idle, List.<String[]>of(receiverArgs("futex", path.toString(), config.warmup(),
                    config.roundSamples())), () -> (i, now) -> {
                // the writer half of the handshake: timestamp, then swap the word; wake only if someone sleeps
                LONG.set(shared, Wire.timestampOffset(i), now);
                int previous = (int) INT.getAndSet(shared, WORD_OFFSET, (int) (i & 0x7fff_ffffL) << 1);
                if ((previous & 1) != 0) {
                    Futex.wake(word, Integer.MAX_VALUE);
                }
            });
        } finally {
            delete(path);
        }
    }

    /** A 16-byte message over a Unix-domain socket. */
    static Results.Round socket(Config config, long pace, boolean idle) throws Exception {
        Path path = Path.of(System.getProperty("java.io.tmpdir"), "shmflux-" + RUN + ".sock");
        TEMP_FILES.add(path);
        try {
            return latency(config, pace, idle, List.<String[]>of(receiverArgs("socket", path.toString(), config.warmup(),
                    config.roundSamples())), () -> {
                SocketChannel channel = SocketChannel.open(UnixDomainSocketAddress.of(path));
                ByteBuffer buffer = ByteBuffer.allocateDirect(16);
                return new Transport.Sender() {
                    @Override
                    public void send(long i, long now) {
                        buffer.clear();
                        buffer.putLong(0, i).putLong(8, now);
                        try {
                            while (buffer.hasRemaining()) {
                                channel.write(buffer);
                            }
                        } catch (IOException e) {
                            throw new UncheckedIOException(e);
                        }
                    }

                    @Override
                    public void close() {
                        try {
                            channel.close();
                        } catch (IOException ignored) {
                            // the receiver is gone already
                        }
                    }
                };
            });
        } finally {
            delete(path);
        }
    }

    /** shmflux {@code changes()} in {@code strategy}, paced, to {@code subscribers} subscriber processes. */
    static Results.Round shmflux(Config config, ChangeOptions.WaitStrategy strategy, long pace, int subscribers,
                                 boolean idle) throws Exception {
        String name = RUN + "-" + strategy + "-" + pace / 1000 + "us-x" + subscribers;
        try (FileMapping mapping = tracked(SharedMemory.create(name, 4096))) {
            long[] value = new long[1];
            Consumer<MemorySegment> writer = range -> range.set(ValueLayout.JAVA_LONG, 0, value[0]);
            List<String[]> receivers = new ArrayList<>();
            for (int s = 0; s < subscribers; s++) {
                receivers.add(new String[] {"shmflux", name, strategy.name(), Long.toString(config.warmup()),
                        Long.toString(config.roundSamples())});
            }
            // the event's timestamp is the publisher's own, taken inside publish
            return latency(config, pace, idle && subscribers == 1, receivers, () -> (i, now) -> {
                value[0] = i;
                mapping.publish(0, 8, writer);
            });
        }
    }

    /** A polled transport (baseline or peer), paced. */
    static Results.Round polled(Config config, Transport transport, long pace, boolean idle) throws Exception {
        Where where = where(transport, "lat");
        try {
            return latency(config, pace, idle, List.<String[]>of(new String[] {"poll", transport.name(), where.where(),
                    Long.toString(config.warmup()), Long.toString(config.roundSamples())}),
                    () -> transport.sender(where.where()));
        } finally {
            delete(where.path());
        }
    }

    /**
     * shmflux replicated over Aeron UDP on 127.0.0.1, paced: this process publishes 64-byte changes
     * into the source (the sequence and {@code nanoTime} in the first 16 bytes, as the raw Aeron UDP
     * baseline sends them), the receiver JVM's replica applies them to its target and a default
     * ({@code BLOCKING}) subscriber of the target measures.
     */
    static Results.Round replica(Config config, long pace, boolean idle) throws Exception {
        return replicated("lat", (source, replicaArgs) -> latency(config, pace, idle,
                List.<String[]>of(replicaArgs("replica", replicaArgs, config.warmup(), config.roundSamples())),
                () -> changeSender(source)));
    }

    /** An unpaced burst of 64-byte changes through a replica to a {@code BACK_PRESSURE} subscriber of its target. */
    static Results.Round replicaBurst(Config config) throws Exception {
        return replicated("burst", (source, replicaArgs) -> burst(config,
                List.<String[]>of(replicaArgs("replicaburst", replicaArgs, config.burstWarmup(), config.burstEvents())),
                () -> changeSender(source)));
    }

    /** A replication scenario, given the source and the replica's arguments (target, data, control, stream). */
    interface Replicated {
        Results.Round run(FileMapping source, List<String> replicaArgs) throws Exception;
    }

    /**
     * Creates the source and the target mapping, starts this process's embedded driver and a
     * {@code MappingReplicator} of the source on a UDP channel of fresh ports (data to the replica,
     * control to this process), and runs {@code scenario}, whose receiver JVM runs the replica.
     */
    private static Results.Round replicated(String what, Replicated scenario) throws Exception {
        String name = RUN + "-replica-" + what + "-" + STREAMS.incrementAndGet();
        String data = Wire.udpChannel(Wire.LOOPBACK + ":" + freePort());
        String control = Wire.udpChannel(Wire.LOOPBACK + ":" + freePort());
        int stream = STREAMS.incrementAndGet();
        try (FileMapping source = tracked(SharedMemory.create(name + "-source", Wire.REPLICA_MAPPING_SIZE));
             FileMapping target = tracked(SharedMemory.create(name + "-target", Wire.REPLICA_MAPPING_SIZE));
             EmbeddedDriver driver = EmbeddedDriver.launch();
             MappingReplicator replicator = MappingReplicator.start(source, driver.aeron(), data, stream, control)) {
            Results.Round round = scenario.run(source, List.of(name + "-target", data, control, Integer.toString(stream)));
            Throwable failure = replicator.failure();
            if (failure != null) {
                throw new IllegalStateException("replicator failed: " + failure, failure);
            }
            return round;
        }
    }

    private static String[] replicaArgs(String role, List<String> replicaArgs, long warmup, long count) {
        List<String> args = new ArrayList<>(List.of(role));
        args.addAll(replicaArgs);
        args.add(Long.toString(warmup));
        args.add(Long.toString(count));
        return args.toArray(String[]::new);
    }

    /** {@return a sender that publishes change {@code i} into slot {@code i}: its sequence and stamp, 64 bytes in all} */
    private static Transport.Sender changeSender(FileMapping source) {
        long[] stamp = new long[2];
        Consumer<MemorySegment> writer = range -> {
            range.set(ValueLayout.JAVA_LONG, 0, stamp[0]);
            range.set(ValueLayout.JAVA_LONG, 8, stamp[1]);
        };
        return (i, now) -> {
            stamp[0] = i;
            stamp[1] = now;
            source.publish(Wire.replicaSlot(i), Wire.CHANGE_LENGTH, writer);
        };
    }

    /** {@return a UDP port free on 127.0.0.1 now and not handed out before in this run} */
    static int freePort() {
        for (int attempt = 0; attempt < 100; attempt++) {
            try (DatagramSocket socket = new DatagramSocket(new InetSocketAddress(Wire.LOOPBACK, 0))) {
                if (PORTS.add(socket.getLocalPort())) {
                    return socket.getLocalPort();
                }
            } catch (IOException e) {
                throw new UncheckedIOException("cannot bind a UDP socket: address=" + Wire.LOOPBACK, e);
            }
        }
        throw new IllegalStateException("no fresh UDP port: address=" + Wire.LOOPBACK + ", tries=100");
    }

    /** What a transport's two sides share: {@code where} for {@link Transport}, {@code path} to delete after. */
    record Where(String where, Path path) {
    }

    private static Where where(Transport transport, String what) throws IOException {
        String tag = transport.name().toLowerCase(Locale.ROOT) + "-" + what + "-" + STREAMS.incrementAndGet();
        return switch (transport) {
            case RAW_SPIN, PARK_POLL, RAW_RING -> {
                Path path = tempFile(tag, Wire.FILE_SIZE);
                yield new Where(path.toString(), path);
            }
            case AGRONA -> {
                Path path = tempFile(tag, Wire.BROADCAST_FILE_SIZE);
                yield new Where(path.toString(), path);
            }
            case AERON_SPIN, AERON_BACKOFF -> new Where(aeronDir() + ":" + STREAMS.incrementAndGet(),
                    Path.of("/dev/shm", "shmflux-" + RUN + "-none"));
            case AERON_UDP -> new Where(Wire.LOOPBACK + ":" + freePort() + ":" + STREAMS.incrementAndGet(),
                    Path.of("/dev/shm", "shmflux-" + RUN + "-none"));
            case CHRONICLE -> {
                Path path = Path.of("/dev/shm", "shmflux-" + RUN + "-" + tag);
                TEMP_FILES.add(path);
                yield new Where(path.toString(), path);
            }
        };
    }

    /**
     * Sends {@code total} messages, one per {@code pace}, then keeps sending (paced) until every child
     * reports its result: a receiver that could not see every message (the futex and spin baselines
     * keep only the latest) still gets its full sample count. {@return the result lines}
     */
    static List<String> sendUntilResult(List<Child> children, long total, long pace, Transport.Sender sender) {
        Pacer pacer = new Pacer(pace);
        long i = 1;
        for (; i <= total; i++) {
            pacer.await();
            sender.send(i, System.nanoTime());
        }
        long deadline = System.nanoTime() + RESULT_WAIT.toNanos();
        List<String> lines = new ArrayList<>();
        for (Child child : children) {
            while (true) {
                String line = child.poll("result", Duration.ofMillis(20));
                if (line != null) {
                    lines.add(line);
                    break;
                }
                if (System.nanoTime() > deadline) {
                    lines.add(child.await("result", Duration.ofSeconds(1))); // fails with the child's stderr
                    break;
                }
                for (long end = i + 100; i < end; i++) {
                    pacer.await();
                    sender.send(i, System.nanoTime());
                }
            }
        }
        return lines;
    }

    /** The CPU a subscribed, idle receiver process burns over the idle window. */
    static Idle idle(Config config, long pid) throws InterruptedException {
        Thread.sleep(500); // let the last events and any JIT work settle
        Map<String, Long> threadsBefore = ProcCpu.perThread(pid);
        long process = ProcCpu.processNanos(pid);
        long start = System.nanoTime();
        TimeUnit.NANOSECONDS.sleep(config.idleNanos());
        long window = System.nanoTime() - start;
        long processNanos = ProcCpu.processNanos(pid) - process;
        Map<String, Long> threadsAfter = ProcCpu.perThread(pid);
        StringBuilder top = new StringBuilder();
        threadsAfter.entrySet().stream()
                .map(e -> Map.entry(e.getKey().substring(0, e.getKey().lastIndexOf('/')),
                        e.getValue() - threadsBefore.getOrDefault(e.getKey(), 0L)))
                .filter(e -> e.getValue() > 0)
                .sorted(Map.Entry.<String, Long>comparingByValue().reversed())
                .limit(4)
                .forEach(e -> top.append(top.isEmpty() ? "" : ", ").append(e.getKey()).append(' ')
                        .append(String.format(Locale.ROOT, "%.3f%%", e.getValue() * 100.0 / window)));
        return new Idle(window, processNanos, top.toString());
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
            return config.burstEvents() * 1e9 / (System.nanoTime() - start);
        }
    }

    /** Burst through shmflux {@code changes()}: publish as fast as one thread can, count what arrives. */
    static Results.Round shmfluxBurst(Config config, ChangeOptions.Overflow overflow, int ringCapacity, int subscribers,
                                      double publishOnly) throws Exception {
        return shmfluxBurst(config, overflow, ringCapacity, subscribers, 0, publishOnly);
    }

    /** The same; with {@code maxBatch > 0} the subscribers take {@code changeBatches(options, maxBatch)}. */
    static Results.Round shmfluxBurst(Config config, ChangeOptions.Overflow overflow, int ringCapacity, int subscribers,
                                      int maxBatch, double publishOnly) throws Exception {
        String name = RUN + "-burst-" + overflow.name().toLowerCase(Locale.ROOT) + "-" + ringCapacity + "-x" + subscribers
                + "-b" + maxBatch;
        MappingOptions options = MappingOptions.DEFAULT.withChangeRingCapacity(ringCapacity);
        try (FileMapping mapping = tracked(SharedMemory.create(name, 4096, options))) {
            long[] value = new long[1];
            Consumer<MemorySegment> writer = range -> range.set(ValueLayout.JAVA_LONG, 0, value[0]);
            List<String[]> receivers = new ArrayList<>();
            for (int s = 0; s < subscribers; s++) {
                receivers.add(new String[] {"burst", name, Long.toString(config.burstWarmup()),
                        Long.toString(config.burstEvents()), overflow.name(), Integer.toString(maxBatch)});
            }
            Results.Round round = burst(config, receivers, () -> (i, now) -> {
                value[0] = i;
                mapping.publish(0, 8, writer);
            });
            round.metrics().put("publish_only_per_second", publishOnly);
            return round;
        }
    }

    /** Burst through a polled transport. */
    static Results.Round burst(Config config, Transport transport, int subscribers) throws Exception {
        Where where = where(transport, "burst");
        try {
            List<String[]> receivers = new ArrayList<>();
            for (int s = 0; s < subscribers; s++) {
                receivers.add(new String[] {"drain", transport.name(), where.where(),
                        Long.toString(config.burstWarmup()), Long.toString(config.burstEvents())});
            }
            return burst(config, receivers, () -> transport.sender(where.where()));
        } finally {
            delete(where.path());
        }
    }

    /** The common part of the bursts: warm up, wait, burst, collect. Delivered/s is the total over receivers. */
    private static Results.Round burst(Config config, List<String[]> receivers, SenderFactory open) throws Exception {
        List<Child> children = startReady(receivers);
        try (Transport.Sender sender = open.open()) {
            return burst(config, children, sender);
        }
    }

    private static Results.Round burst(Config config, List<Child> children, Transport.Sender sender) {
        long i = 1;
        for (; i <= config.burstWarmup(); i++) {
            sender.send(i, System.nanoTime());
        }
        for (Child child : children) {
            child.await("warm", RESULT_WAIT);
        }
        long start = System.nanoTime();
        for (long end = config.burstWarmup() + config.burstEvents(); i <= end; i++) {
            sender.send(i, System.nanoTime());
        }
        long publishNanos = System.nanoTime() - start;
        long delivered = 0;
        long missed = 0;
        long torn = 0;
        long orderErrors = 0;
        long nanos = 0;
        for (Child child : children) {
            Map<String, String> r = parse(child.await("result", RESULT_WAIT));
            delivered += Long.parseLong(r.get("delivered"));
            missed += Long.parseLong(r.get("missed"));
            torn += Long.parseLong(r.get("torn"));
            orderErrors += Long.parseLong(r.get("orderErrors"));
            nanos = Math.max(nanos, Long.parseLong(r.get("nanos")));
        }
        children.forEach(Child::exit);
        Map<String, Double> metrics = new LinkedHashMap<>();
        metrics.put("events_per_second", delivered * 1e9 / nanos);
        metrics.put("delivered", (double) delivered);
        metrics.put("missed", (double) missed);
        metrics.put("torn", (double) torn);
        metrics.put("order_errors", (double) orderErrors);
        metrics.put("published_per_second", config.burstEvents() * 1e9 / publishNanos);
        return new Results.Round(metrics, null, "");
    }

    /** Ping-pong between two child JVMs pinned to cores 0 and 1: the mean half round-trip. */
    static Results.Round pingPong(Config config, String transport) throws Exception {
        List<Path> cleanup = new ArrayList<>();
        List<FileMapping> mappings = new ArrayList<>();
        String where;
        if (transport.equals("SHMFLUX")) {
            String a = RUN + "-ping";
            String b = RUN + "-pong";
            mappings.add(tracked(SharedMemory.create(a, 4096)));
            mappings.add(tracked(SharedMemory.create(b, 4096)));
            where = a + "," + b;
        } else {
            Where a = where(Transport.valueOf(transport), "ping");
            Where b = where(Transport.valueOf(transport), "pong");
            cleanup.add(a.path());
            cleanup.add(b.path());
            where = a.where() + "," + b.where();
        }
        try {
            String warmup = Long.toString(config.roundTripWarmup());
            String trips = Long.toString(config.roundRoundTrips());
            boolean pin = Runtime.getRuntime().availableProcessors() >= 2;
            Child pong = Child.start(pin ? List.of("taskset", "-c", "1") : List.of(), "pong", transport, where, warmup, trips);
            pong.await("ready", START_WAIT);
            Child ping = Child.start(pin ? List.of("taskset", "-c", "0") : List.of(), "ping", transport, where, warmup, trips);
            ping.await("ready", START_WAIT);
            pong.send("go");
            ping.send("go");
            Map<String, String> r = parse(ping.await("result", RESULT_WAIT));
            ping.exit();
            pong.exit();
            Map<String, Double> metrics = new LinkedHashMap<>();
            metrics.put("half_round_trip_ns", Double.parseDouble(r.get("halfRoundTripNanos")));
            metrics.put("round_trips", Double.parseDouble(r.get("roundTrips")));
            return new Results.Round(metrics, null, pin ? "pinned to cores 0 and 1 (taskset)" : "not pinned: 1 CPU");
        } finally {
            for (FileMapping m : mappings) {
                m.close();
                MAPPINGS.remove(m);
            }
            cleanup.forEach(ChangeFeedBenchmark::delete);
        }
    }
}
