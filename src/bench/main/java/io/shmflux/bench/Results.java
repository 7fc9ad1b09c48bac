package io.shmflux.bench;

import org.HdrHistogram.Histogram;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Every scenario's measurements, round by round: the reported figure of each metric is its median
 * over the rounds, and each ratio is taken between two such medians of the same run. Latency
 * histograms of all rounds are also added up, for the percentile chart.
 */
final class Results {

    /** What a scenario measures; its headline metric is the one ratios are taken of. */
    enum Kind {
        LATENCY("p50"), BURST("events_per_second"), HALF_ROUND_TRIP("half_round_trip_ns"), JMH("ns_per_op");

        final String headline;

        Kind(String headline) {
            this.headline = headline;
        }
    }

    /** One round of one scenario: its metrics, its latency histogram (latency scenarios) and notes. */
    record Round(Map<String, Double> metrics, Histogram histogram, String notes) {
    }

    /** One scenario over all rounds. */
    static final class Scenario {
        final String key;
        final Kind kind;
        final String title;
        final String baseline;
        final List<Round> rounds = new ArrayList<>();
        final List<String> errors = new ArrayList<>();
        Histogram merged;

        Scenario(String key, Kind kind, String title, String baseline) {
            this.key = key;
            this.kind = kind;
            this.title = title;
            this.baseline = baseline;
        }

        /** {@return the median of {@code metric} over the rounds that measured it, NaN if none did} */
        double median(String metric) {
            double[] values = rounds.stream().map(r -> r.metrics().get(metric)).filter(v -> v != null)
                    .mapToDouble(Double::doubleValue).sorted().toArray();
            if (values.length == 0) {
                return Double.NaN;
            }
            int mid = values.length / 2;
            return values.length % 2 == 1 ? values[mid] : (values[mid - 1] + values[mid]) / 2;
        }

        /** {@return every metric's median, in the order first measured} */
        Map<String, Double> medians() {
            Set<String> names = new LinkedHashSet<>();
            rounds.forEach(r -> names.addAll(r.metrics().keySet()));
            Map<String, Double> medians = new LinkedHashMap<>();
            names.forEach(n -> medians.put(n, median(n)));
            return medians;
        }

        String notes() {
            return rounds.isEmpty() ? "" : rounds.get(rounds.size() - 1).notes();
        }
    }

    private final Map<String, Scenario> scenarios = new LinkedHashMap<>();

    private Scenario scenario(String key, Kind kind, String title, String baseline) {
        return scenarios.computeIfAbsent(key, k -> new Scenario(key, kind, title, baseline));
    }

    void add(String key, Kind kind, String title, String baseline, Round round) {
        Scenario s = scenario(key, kind, title, baseline);
        s.rounds.add(round);
        if (round.histogram() != null) {
            if (s.merged == null) {
                s.merged = round.histogram().copy();
            } else {
                s.merged.add(round.histogram());
            }
        }
    }

    void fail(String key, Kind kind, String title, String baseline, String error) {
        Scenario s = scenario(key, kind, title, baseline);
        if (!s.errors.contains(error)) {
            s.errors.add(error);
        }
    }

    List<Scenario> all() {
        return List.copyOf(scenarios.values());
    }

    List<Scenario> of(Kind kind) {
        return scenarios.values().stream().filter(s -> s.kind == kind).toList();
    }

    Scenario get(String key) {
        return scenarios.get(key);
    }

    /** {@return the median of {@code metric} of scenario {@code key}, NaN if it was not measured} */
    double value(String key, String metric) {
        Scenario s = scenarios.get(key);
        return s == null ? Double.NaN : s.median(metric);
    }

    /** {@return the scenario's headline over its baseline's, NaN without a baseline} */
    double ratio(Scenario s) {
        if (s.baseline == null) {
            return Double.NaN;
        }
        return s.median(s.kind.headline) / value(s.baseline, s.kind.headline);
    }

    /** {@return p50, p90, p99, p99.9 and max of {@code h}, in microseconds, and its sample count} */
    static Map<String, Double> percentiles(Histogram h) {
        Map<String, Double> m = new LinkedHashMap<>();
        m.put("p50", h.getValueAtPercentile(50) / 1e3);
        m.put("p90", h.getValueAtPercentile(90) / 1e3);
        m.put("p99", h.getValueAtPercentile(99) / 1e3);
        m.put("p99_9", h.getValueAtPercentile(99.9) / 1e3);
        m.put("max", h.getMaxValue() / 1e3);
        m.put("samples", (double) h.getTotalCount());
        return m;
    }
}
