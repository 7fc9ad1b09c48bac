package io.shmflux.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Turns the results into {@code results.json} and {@code results.md}, with a verdict for each target of
 * issue 11 and of issue 14 (replication over Aeron).
 */
final class Report {

    /** A target and this run's value; NaN when the scenarios it needs were not measured. */
    record Target(String key, String what, double value, String unit, String comparison, double limit) {

        boolean met() {
            return switch (comparison) {
                case "<=" -> value <= limit;
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
    private final Results results;
    private final List<Target> targets = new ArrayList<>();

    Report(ChangeFeedBenchmark.Config config, Map<String, String> machine, Results results) {
        this.config = config;
        this.machine = machine;
        this.results = results;
        double blocking = results.value("shmflux_blocking", "p50");
        double lowLatency = results.value("shmflux_low_latency", "p50");
        target("blocking_vs_futex", "BLOCKING p50 / raw futex p50", blocking / results.value("futex", "p50"), "<=", 1.2);
        target("blocking_vs_socket", "BLOCKING p50 / Unix socket p50", blocking / results.value("socket", "p50"), "<=", 1.0);
        target("blocking_idle_vs_futex", "idle CPU: BLOCKING subscriber JVM / idle raw-futex JVM",
                results.value("shmflux_blocking", "idle_cpu_percent") / results.value("futex", "idle_cpu_percent"), "<=", 1.0);
        target("low_latency_vs_agrona", "LOW_LATENCY p50 / Agrona p50", lowLatency / results.value("agrona", "p50"), "<=", 1.0);
        target("low_latency_vs_aeron", "LOW_LATENCY p50 / Aeron IPC busy-spin p50",
                lowLatency / results.value("aeron_spin", "p50"), "<=", 1.0);
        target("low_latency_vs_spin", "LOW_LATENCY p50 / raw spin p50", lowLatency / results.value("raw_spin", "p50"), "<=", 2.0);
        target("half_round_trip_vs_spin", "half round-trip: LOW_LATENCY / raw spin",
                results.value("rtt_shmflux_low_latency", "half_round_trip_ns") / results.value("rtt_raw_spin", "half_round_trip_ns"),
                "<=", 2.0);
        target("burst_delivered", "burst: changes/s delivered to one subscriber process (plain Flux)",
                results.value("burst_shmflux_report", "events_per_second"), ">=", 5_000_000);
        target("burst_batch_vs_raw_ring", "burst: batch path / raw ring",
                results.value("burst_shmflux_batch", "events_per_second") / results.value("burst_raw_ring", "events_per_second"),
                ">=", 0.5);
        target("burst_four_subscribers", "burst: changes/s delivered in total to 4 subscriber processes",
                results.value("burst_shmflux_report_x4", "events_per_second"), ">=", 4_000_000);
        target("back_pressure_vs_report", "burst: BACK_PRESSURE / REPORT",
                results.value("burst_shmflux_back_pressure", "events_per_second")
                        / results.value("burst_shmflux_report", "events_per_second"), ">=", 0.5);
        target("replica_vs_raw_udp", "replica over Aeron UDP: p50 / raw Aeron UDP p50",
                results.value("aeron_replica_udp", "p50") / results.value("aeron_raw_udp", "p50"), "<=", 1.5);
        target("replica_burst", "replica over Aeron UDP: 64-byte changes/s delivered to the replica's subscriber",
                results.value("burst_aeron_replica_udp", "events_per_second"), ">=", 1_000_000);
        target("jmh_publish8", "JMH: publish 8 B, nobody waiting (ns)", results.value("jmh_publish8", "ns_per_op"), "<=", 50);
        target("jmh_read64", "JMH: consistent read of 64 B (ns)", results.value("jmh_read64", "ns_per_op"), "<=", 100);
        target("jmh_bulk_copy", "JMH: bulk copy into a view, speed / native-to-native",
                results.value("jmh_copyNativeToNative1MiB", "ns_per_op") / results.value("jmh_copyIntoView1MiB", "ns_per_op"),
                ">=", 0.8);
    }

    private void target(String key, String what, double value, String comparison, double limit) {
        targets.add(new Target(key, what, value, limit >= 1000 ? "/s" : "", comparison, limit));
    }

    List<Target> targets() {
        return targets;
    }

    void write(Path dir) throws IOException {
        Files.createDirectories(dir);
        Files.writeString(dir.resolve("results.json"), json());
        Files.writeString(dir.resolve("results.md"), markdown());
    }

    private static String num(double value) {
        return Double.isNaN(value) || Double.isInfinite(value) ? "null" : String.format(Locale.ROOT, "%.4f", value);
    }

    static String str(String s) {
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
        StringBuilder b = new StringBuilder("{\n  \"benchmark\": \"shmflux\",\n  \"run\": ")
                .append(str(config.longRun() ? "long" : "short")).append(",\n  \"machine\": {");
        String sep = "\n";
        for (Map.Entry<String, String> e : machine.entrySet()) {
            b.append(sep).append("    ").append(str(e.getKey())).append(": ").append(str(e.getValue()));
            sep = ",\n";
        }
        b.append("\n  },\n  \"config\": ").append(str(config.toString())).append(",\n  \"scenarios\": [");
        sep = "\n";
        for (Results.Scenario s : results.all()) {
            b.append(sep).append("    {\"key\": ").append(str(s.key)).append(", \"kind\": ").append(str(s.kind.name()))
                    .append(", \"title\": ").append(str(s.title)).append(", \"rounds\": ").append(s.rounds.size())
                    .append(", \"baseline\": ").append(s.baseline == null ? "null" : str(s.baseline))
                    .append(", \"ratio_to_baseline\": ").append(num(results.ratio(s)));
            for (Map.Entry<String, Double> m : s.medians().entrySet()) {
                b.append(", ").append(str(m.getKey())).append(": ").append(num(m.getValue()));
            }
            if (!s.errors.isEmpty()) {
                b.append(", \"error\": ").append(str(String.join("; ", s.errors)));
            }
            if (!s.notes().isEmpty()) {
                b.append(", \"notes\": ").append(str(s.notes()));
            }
            b.append('}');
            sep = ",\n";
        }
        b.append("\n  ],\n  \"targets\": [");
        sep = "\n";
        for (Target t : targets) {
            b.append(sep).append("    {\"key\": ").append(str(t.key())).append(", \"what\": ").append(str(t.what()))
                    .append(", \"value\": ").append(num(t.value()))
                    .append(", \"goal\": ").append(str(t.comparison() + " " + fmt(t.limit())))
                    .append(", \"met\": ").append(!Double.isNaN(t.value()) && t.met()).append('}');
            sep = ",\n";
        }
        return b.append("\n  ]\n}\n").toString();
    }

    private static String fmt(double v) {
        return Double.isNaN(v) ? "—" : Math.abs(v) >= 1000 ? String.format(Locale.ROOT, "%,.0f", v)
                : String.format(Locale.ROOT, "%.2f", v);
    }

    private String ratio(Results.Scenario s) {
        return s.baseline == null ? "—" : fmt(results.ratio(s)) + "× " + s.baseline;
    }

    private static String error(Results.Scenario s) {
        return s.errors.isEmpty() ? "" : " **failed: " + String.join("; ", s.errors).replace("|", "\\|") + "**";
    }

    String markdown() {
        StringBuilder b = new StringBuilder("# shmflux benchmark results\n\n");
        b.append(String.format(Locale.ROOT, "%s run, %s; %s CPUs (%s); %s; %s; load before the run: %s. "
                        + "Every scenario in each of %d rounds, each with fresh receiver JVMs; every figure is the median "
                        + "over the rounds; ratios are between medians of this run.%n%n",
                config.longRun() ? "Long" : "Short", machine.get("date"), machine.get("nproc"), machine.get("cpu"),
                machine.get("kernel"), machine.get("jdk"), machine.get("loadavg"), config.rounds()));
        b.append(String.format(Locale.ROOT, "## One-way latency (µs), sender JVM → receiver JVM%n%n%,d samples per "
                + "scenario and pace (%,d warm-up messages per round first; the Aeron UDP scenarios at least %,d ms "
                + "of them at their pace). Idle CPU: %% of one core over %.0f s, the receiver subscribed and nothing "
                + "sent (last round).%n%n", config.samples(), config.warmup(), config.udpWarmupNanos() / 1_000_000,
                config.idleNanos() / 1e9));
        b.append("| scenario | p50 | p90 | p99 | p99.9 | max | missed | idle CPU % | p50 ratio |\n");
        b.append("|---|---:|---:|---:|---:|---:|---:|---:|---|\n");
        for (Results.Scenario s : results.of(Results.Kind.LATENCY)) {
            b.append("| ").append(s.title).append(error(s)).append(" | ").append(fmt(s.median("p50"))).append(" | ")
                    .append(fmt(s.median("p90"))).append(" | ").append(fmt(s.median("p99"))).append(" | ")
                    .append(fmt(s.median("p99_9"))).append(" | ").append(fmt(s.median("max"))).append(" | ")
                    .append(fmt(s.median("missed"))).append(" | ")
                    .append(Double.isNaN(s.median("idle_cpu_percent")) ? "" : String.format(Locale.ROOT, "%.3f",
                            s.median("idle_cpu_percent"))).append(" | ").append(ratio(s)).append(" |\n");
        }
        b.append(String.format(Locale.ROOT, "%n## Burst%n%n%,d events published as fast as one thread can (after %,d "
                        + "warm-up events); delivered/s is the total over the receiving processes.%n%n",
                config.burstEvents(), config.burstWarmup()));
        b.append("| scenario | delivered events/s | missed | publisher's events/s | ratio |\n|---|---:|---:|---:|---|\n");
        for (Results.Scenario s : results.of(Results.Kind.BURST)) {
            b.append("| ").append(s.title).append(error(s)).append(" | ").append(fmt(s.median("events_per_second")))
                    .append(" | ").append(fmt(s.median("missed"))).append(" | ")
                    .append(fmt(s.median("published_per_second"))).append(" | ").append(ratio(s)).append(" |\n");
        }
        b.append(String.format(Locale.ROOT, "%n## Half round-trip (ns), ping-pong, processes pinned to cores 0 and 1%n%n"
                + "Mean over %,d round-trips per run (%,d warm-up per round first), busy-polling on both sides.%n%n",
                config.roundTrips(), config.roundTripWarmup()));
        b.append("| scenario | half round-trip ns | ratio |\n|---|---:|---|\n");
        for (Results.Scenario s : results.of(Results.Kind.HALF_ROUND_TRIP)) {
            b.append("| ").append(s.title).append(error(s)).append(" | ").append(fmt(s.median("half_round_trip_ns")))
                    .append(" | ").append(ratio(s)).append(" |\n");
        }
        List<Results.Scenario> jmh = results.of(Results.Kind.JMH);
        if (!jmh.isEmpty()) {
            b.append(String.format(Locale.ROOT, "%n## JMH (%s settings), one thread, in-process%n%n",
                    config.longRun() ? "full" : "short"));
            b.append("| benchmark | ns/op | ratio |\n|---|---:|---|\n");
            for (Results.Scenario s : jmh) {
                b.append("| ").append(s.title).append(error(s)).append(" | ").append(fmt(s.median("ns_per_op")))
                        .append(" | ").append(ratio(s)).append(" |\n");
            }
        }
        b.append("\n## Targets\n\n| target | measured | goal | verdict |\n|---|---:|---:|---|\n");
        for (Target t : targets) {
            b.append("| ").append(t.what()).append(" | ").append(fmt(t.value())).append(t.unit()).append(" | ")
                    .append(t.comparison()).append(' ').append(fmt(t.limit())).append(t.unit())
                    .append(" | **").append(t.verdict()).append("** |\n");
        }
        return b.toString();
    }
}
