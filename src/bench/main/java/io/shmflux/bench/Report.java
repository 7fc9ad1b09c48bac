package io.shmflux.bench;

import org.HdrHistogram.Histogram;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/** Turns the results into {@code changes.json} and {@code changes.md}, with a verdict for each target. */
final class Report {

    /** A target of issue 3 and whether this run met it. */
    record Target(String key, String what, double value, String unit, String comparison, double limit) {

        boolean met() {
            return switch (comparison) {
                case "<=" -> value <= limit;
                case "<" -> value < limit;
                case ">=" -> value >= limit;
                default -> throw new IllegalStateException(comparison);
            };
        }

        String verdict() {
            return Double.isNaN(value) ? "MISSED (not measured)" : met() ? "met" : "MISSED";
        }
    }

    private final ChangeFeedBenchmark.Config config;
    private final Map<String, String> machine;
    private final List<ChangeFeedBenchmark.Latency> latencies;
    private final List<ChangeFeedBenchmark.Burst> bursts;
    private final ChangeFeedBenchmark.Burst burst;
    private final ChangeFeedBenchmark.Idle idle;
    private final ChangeFeedBenchmark.Idle futexIdle;
    private final List<Target> targets = new ArrayList<>();

    Report(ChangeFeedBenchmark.Config config, Map<String, String> machine, List<ChangeFeedBenchmark.Latency> latencies,
           List<ChangeFeedBenchmark.Burst> bursts, ChangeFeedBenchmark.Idle idle, ChangeFeedBenchmark.Idle futexIdle) {
        this.futexIdle = futexIdle;
        this.config = config;
        this.machine = machine;
        this.latencies = latencies;
        this.bursts = bursts;
        this.burst = bursts.get(0); // REPORT, the reference
        this.idle = idle;
        double blocking = p50("shmflux_blocking");
        targets.add(new Target("blocking_vs_futex", "shmflux BLOCKING p50 / raw futex p50", blocking / p50("futex"), "×",
                "<=", 1.2));
        targets.add(new Target("blocking_vs_socket", "shmflux BLOCKING p50 / Unix socket p50", blocking / p50("socket"),
                "×", "<=", 0.8));
        targets.add(new Target("low_latency_p50", "shmflux LOW_LATENCY p50 (pace " + config.paceNanos() / 1000 + " µs)",
                p50("shmflux_low_latency") / 1e3, "µs", "<", 1.0));
        targets.add(new Target("burst_delivered_per_second", "burst: events/s delivered to one subscriber process",
                burst.deliveredPerSecond(), "events/s", ">=", 5_000_000));
        ChangeFeedBenchmark.Burst lossless = bursts.get(1);
        targets.add(new Target("back_pressure_burst_vs_report", "burst: BACK_PRESSURE / REPORT events/s delivered (ring "
                + lossless.ringCapacity() + ")", lossless.deliveredPerSecond() / burst.deliveredPerSecond(), "×", ">=", 0.5));
        targets.add(new Target("idle_cpu_percent", "idle BLOCKING subscriber process, % of one core over "
                + config.idleNanos() / 1_000_000_000 + " s", idle.processPercent(), "%", "<", 0.1));
    }

    private double p50(String key) {
        for (ChangeFeedBenchmark.Latency latency : latencies) {
            if (latency.key().equals(key)) {
                return latency.histogram().getValueAtPercentile(50);
            }
        }
        return Double.NaN;
    }

    List<Target> targets() {
        return targets;
    }

    void write(Path dir) throws IOException {
        Files.createDirectories(dir);
        Files.writeString(dir.resolve("changes.json"), json());
        Files.writeString(dir.resolve("changes.md"), markdown());
    }

    private static String us(double nanos) {
        return String.format(Locale.ROOT, "%.2f", nanos / 1e3);
    }

    private static String num(double value) {
        return Double.isNaN(value) || Double.isInfinite(value) ? "null" : String.format(Locale.ROOT, "%.4f", value);
    }

    private static String str(String s) {
        StringBuilder b = new StringBuilder("\"");
        for (char c : s.toCharArray()) {
            switch (c) {
                case '"' -> b.append("\\\"");
                case '\\' -> b.append("\\\\");
                case '\n' -> b.append("\\n");
                default -> {
                    if (c < 0x20) {
                        b.append(String.format("\\u%04x", (int) c));
                    } else {
                        b.append(c);
                    }
                }
            }
        }
        return b.append('"').toString();
    }

    String json() {
        StringBuilder b = new StringBuilder("{\n");
        b.append("  \"benchmark\": \"shmflux change feed\",\n");
        b.append("  \"machine\": {");
        String sep = "\n";
        for (Map.Entry<String, String> e : machine.entrySet()) {
            b.append(sep).append("    ").append(str(e.getKey())).append(": ").append(str(e.getValue()));
            sep = ",\n";
        }
        b.append("\n  },\n");
        b.append("  \"config\": {\"samples\": ").append(config.samples()).append(", \"rounds\": ").append(config.rounds())
                .append(", \"warmup_per_round\": ").append(config.warmup())
                .append(", \"pace_us\": ").append(config.paceNanos() / 1000).append(", \"fast_pace_us\": ")
                .append(config.fastPaceNanos() / 1000).append(", \"burst_events\": ").append(config.burstEvents())
                .append(", \"burst_warmup\": ").append(config.burstWarmup()).append(", \"idle_seconds\": ")
                .append(config.idleNanos() / 1_000_000_000).append("},\n");
        b.append("  \"latency_us\": {");
        sep = "\n";
        for (ChangeFeedBenchmark.Latency l : latencies) {
            Histogram h = l.histogram();
            b.append(sep).append("    ").append(str(l.key())).append(": {\"title\": ").append(str(l.title()))
                    .append(", \"pace_us\": ").append(l.paceNanos() / 1000)
                    .append(", \"samples\": ").append(h.getTotalCount())
                    .append(", \"p10\": ").append(us(h.getValueAtPercentile(10)))
                    .append(", \"p25\": ").append(us(h.getValueAtPercentile(25)))
                    .append(", \"p50\": ").append(us(h.getValueAtPercentile(50)))
                    .append(", \"p90\": ").append(us(h.getValueAtPercentile(90)))
                    .append(", \"p99\": ").append(us(h.getValueAtPercentile(99)))
                    .append(", \"p99_9\": ").append(us(h.getValueAtPercentile(99.9)))
                    .append(", \"max\": ").append(us(h.getMaxValue()))
                    .append(", \"mean\": ").append(us(h.getMean()));
            for (Map.Entry<String, String> e : l.details().entrySet()) {
                b.append(", ").append(str(e.getKey())).append(": ").append(e.getValue().matches("-?\\d+") ? e.getValue()
                        : str(e.getValue()));
            }
            b.append('}');
            sep = ",\n";
        }
        b.append("\n  },\n");
        b.append("  \"bursts\": [");
        sep = "\n";
        for (ChangeFeedBenchmark.Burst burst : bursts) {
            b.append(sep).append("    {\"overflow\": ").append(str(burst.overflow().name()))
                    .append(", \"ring_capacity\": ").append(burst.ringCapacity())
                    .append(", \"events\": ").append(burst.events()).append(", \"delivered\": ").append(burst.delivered())
                    .append(", \"missed\": ").append(burst.missed()).append(", \"torn\": ").append(burst.torn())
                    .append(", \"order_errors\": ").append(burst.orderErrors())
                    .append(", \"delivered_per_second\": ").append(num(burst.deliveredPerSecond()))
                    .append(", \"published_per_second\": ").append(num(burst.publishedPerSecond()))
                    .append(", \"publish_only_per_second\": ").append(num(burst.publishOnlyPerSecond())).append('}');
            sep = ",\n";
        }
        b.append("\n  ],\n");
        b.append("  \"idle\": {\"seconds\": ").append(num(idle.windowNanos() / 1e9))
                .append(", \"process_cpu_percent\": ").append(num(idle.processPercent()))
                .append(", \"change_thread_cpu_percent\": ").append(num(idle.changeThreadPercent()))
                .append(", \"change_thread_wake_ups\": ").append(idle.changeThreadWakeUps())
                .append(", \"top_threads\": ").append(str(idle.topThreads()))
                .append(", \"raw_futex_waiter_process_cpu_percent\": ").append(num(futexIdle.processPercent()))
                .append(", \"raw_futex_waiter_top_threads\": ").append(str(futexIdle.topThreads()))
                .append("},\n");
        b.append("  \"targets\": [");
        sep = "\n";
        for (Target t : targets) {
            b.append(sep).append("    {\"key\": ").append(str(t.key())).append(", \"what\": ").append(str(t.what()))
                    .append(", \"value\": ").append(num(t.value())).append(", \"unit\": ").append(str(t.unit()))
                    .append(", \"target\": ").append(str(t.comparison() + " " + fmt(t.limit())))
                    .append(", \"met\": ").append(!Double.isNaN(t.value()) && t.met()).append('}');
            sep = ",\n";
        }
        b.append("\n  ]\n}\n");
        return b.toString();
    }

    private static String fmt(double v) {
        return v == Math.rint(v) && Math.abs(v) >= 1000 ? String.format(Locale.ROOT, "%,.0f", v)
                : String.format(Locale.ROOT, "%.2f", v).replaceAll("\\.?0+$", "");
    }

    String markdown() {
        StringBuilder b = new StringBuilder();
        b.append("# shmflux change feed: benchmark results\n\n");
        b.append(String.format(Locale.ROOT, "%s; %s CPUs (%s); %s; %s; load before the run: %s%n%n",
                machine.get("date"), machine.get("nproc"), machine.get("cpu"), machine.get("kernel"),
                machine.get("jdk"), machine.get("loadavg")));
        b.append(String.format(Locale.ROOT,
                "One-way latency, sender process → receiver process, one message every %d µs (unless another pace is "
                        + "shown), %,d samples per scenario in %d rounds; in each round every scenario gets a fresh "
                        + "receiver JVM and %,d warm-up messages first:%n%n",
                config.paceNanos() / 1000, config.samples(), config.rounds(), config.warmup()));
        b.append("| scenario | pace | samples | p50 µs | p99 µs | p99.9 µs | max µs |\n");
        b.append("|---|---:|---:|---:|---:|---:|---:|\n");
        for (ChangeFeedBenchmark.Latency l : latencies) {
            Histogram h = l.histogram();
            b.append("| ").append(l.title()).append(" | ").append(l.paceNanos() / 1000).append(" µs | ")
                    .append(String.format(Locale.ROOT, "%,d", h.getTotalCount())).append(" | ")
                    .append(us(h.getValueAtPercentile(50))).append(" | ").append(us(h.getValueAtPercentile(99)))
                    .append(" | ").append(us(h.getValueAtPercentile(99.9))).append(" | ").append(us(h.getMaxValue()))
                    .append(" |\n");
        }
        b.append(String.format(Locale.ROOT,
                "%nBurst: %,d events published as fast as one thread can, one subscriber process. The same publishing "
                        + "with no subscriber anywhere: %,.0f events/s.%n%n", burst.events(), burst.publishOnlyPerSecond()));
        b.append("| overflow | ring | published events/s | delivered | delivered events/s | missed (reported) | torn | order errors |\n");
        b.append("|---|---:|---:|---:|---:|---:|---:|---:|\n");
        for (ChangeFeedBenchmark.Burst burst : bursts) {
            b.append(String.format(Locale.ROOT, "| %s | %,d | %,.0f | %,d | %,.0f | %,d | %d | %d |%n",
                    burst.overflow(), burst.ringCapacity(), burst.publishedPerSecond(), burst.delivered(),
                    burst.deliveredPerSecond(), burst.missed(), burst.torn(), burst.orderErrors()));
        }
        b.append(String.format(Locale.ROOT,
                "%nIdle BLOCKING subscriber process over %.1f s: %.4f%% of one core; its change thread %.4f%% "
                        + "(%d wake-ups); busiest threads: %s. For comparison, the idle raw-futex receiver JVM "
                        + "(waiting in 100 ms slices): %.4f%% (%s).%n",
                idle.windowNanos() / 1e9, idle.processPercent(), idle.changeThreadPercent(), idle.changeThreadWakeUps(),
                idle.topThreads(), futexIdle.processPercent(), futexIdle.topThreads()));
        b.append("\n| target | measured | goal | verdict |\n|---|---:|---:|---|\n");
        for (Target t : targets) {
            String value = t.unit().equals("events/s") ? String.format(Locale.ROOT, "%,.0f", t.value())
                    : t.unit().equals("%") ? String.format(Locale.ROOT, "%.4f", t.value())
                    : String.format(Locale.ROOT, "%.2f", t.value());
            b.append("| ").append(t.what()).append(" | ").append(value).append(' ').append(t.unit()).append(" | ")
                    .append(t.comparison()).append(' ').append(fmt(t.limit())).append(' ').append(t.unit())
                    .append(" | **").append(t.verdict()).append("** |\n");
        }
        return b.toString();
    }
}
