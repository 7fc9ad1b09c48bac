package io.shmflux.bench;

import org.openjdk.jmh.results.RunResult;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.options.ChainedOptionsBuilder;
import org.openjdk.jmh.runner.options.OptionsBuilder;
import org.openjdk.jmh.runner.options.TimeValue;

import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.Map;

/** Runs the JMH benchmarks in this run (short settings unless the long run) and adds them to the results. */
final class Jmh {

    /** method, title, baseline method */
    private static final String[][] BENCHMARKS = {
            {"publish8", "publish 8 B, nobody waiting", null},
            {"publish64", "publish 64 B, nobody waiting", null},
            {"publish4k", "publish 4 KiB, nobody waiting", null},
            {"read64", "consistent read of 64 B", null},
            {"read4k", "consistent read of 4 KiB", null},
            {"read64Contended", "consistent read of 64 B, a writer publishing", "read64"},
            {"read4kContended", "consistent read of 4 KiB, a writer publishing", "read4k"},
            {"mapClose1MiB", "map + close of a 1 MiB view", null},
            {"createOrOpenClose", "createOrOpen + close (object open elsewhere)", null},
            {"copyIntoView1MiB", "bulk copy of 1 MiB into a view", "copyNativeToNative1MiB"},
            {"copyNativeToNative1MiB", "MemorySegment.copy of 1 MiB, native to native", null},
            {"publishRecord", "publish of a 32-byte record through RecordLayout", "publishByHand"},
            {"publishByHand", "publish of the same record, offsets written by hand", null},
            {"readRecord", "consistent read of a 32-byte record through RecordLayout", "readByHand"},
            {"readByHand", "consistent read of the same record, offsets written by hand", null},
    };

    private Jmh() {
    }

    static void run(ChangeFeedBenchmark.Config config, Results results) throws Exception {
        StringBuilder include = new StringBuilder();
        for (String[] b : BENCHMARKS) {
            include.append(include.isEmpty() ? "" : "|").append(b[0]);
        }
        ChainedOptionsBuilder options = new OptionsBuilder()
                .include("io\\.shmflux\\.bench\\.(PublishReadBenchmark|ContendedReadBenchmark|ViewBenchmark|RecordLayoutBenchmark)\\.("
                        + include + ")$")
                .shouldFailOnError(true);
        if (!config.longRun()) {
            options.warmupIterations(1).warmupTime(TimeValue.seconds(1))
                    .measurementIterations(2).measurementTime(TimeValue.seconds(1)).forks(1);
        }
        Collection<RunResult> runs = new Runner(options.build()).run();
        Map<String, Double> scores = new LinkedHashMap<>();
        for (RunResult run : runs) {
            String label = run.getParams().getBenchmark();
            scores.put(label.substring(label.lastIndexOf('.') + 1), run.getPrimaryResult().getScore());
        }
        for (String[] b : BENCHMARKS) {
            Double score = scores.get(b[0]);
            String key = "jmh_" + b[0];
            String baseline = b[2] == null ? null : "jmh_" + b[2];
            if (score == null) {
                results.fail(key, Results.Kind.JMH, b[1], baseline, "not run");
            } else {
                Map<String, Double> metrics = new LinkedHashMap<>();
                metrics.put("ns_per_op", score);
                results.add(key, Results.Kind.JMH, b[1], baseline, new Results.Round(metrics, null, ""));
            }
        }
    }
}
