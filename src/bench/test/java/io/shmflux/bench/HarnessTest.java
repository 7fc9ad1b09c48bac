package io.shmflux.bench;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * The harness cannot rot: it runs in a tiny configuration (a few hundred samples, 1 round, every
 * scenario at one pace, JMH left out) in its own JVM, as {@code mvn -Pbench verify} runs it, and must
 * write every scenario into results.json without an error, write the charts, and leave no child
 * JVM, no /dev/shm file and no Aeron directory behind (neither the run's IPC driver's nor any
 * embedded driver's of the replication scenarios, which shmflux-aeron names by pid).
 */
class HarnessTest {

    /** Every scenario of a run (at the first pace); a scenario that is dropped or fails fails this test. */
    static final List<String> SCENARIOS = List.of("futex", "socket", "raw_spin", "park_poll", "shmflux_blocking",
            "shmflux_low_latency", "shmflux_blocking_x4", "shmflux_low_latency_x4", "agrona", "aeron_spin",
            "aeron_backoff", "chronicle", "aeron_raw_udp", "aeron_replica_udp", "burst_raw_ring", "burst_shmflux_report", "burst_shmflux_back_pressure",
            "burst_shmflux_report_x4", "burst_shmflux_back_pressure_x4", "burst_shmflux_batch", "burst_shmflux_back_pressure_ring1024",
            "burst_agrona", "burst_aeron", "burst_chronicle", "burst_aeron_raw_udp", "burst_aeron_replica_udp", "rtt_raw_spin", "rtt_shmflux_low_latency",
            "rtt_agrona", "rtt_aeron");
    private static final long TIMEOUT_SECONDS = 150;

    @Test
    void tinyRunWritesEveryScenarioAndLeavesNothingBehind() throws Exception {
        Path out = Path.of("target", "harness-test");
        Files.createDirectories(out);
        Files.deleteIfExists(out.resolve("results.json"));
        List<String> command = new ArrayList<>(List.of(Child.javaExecutable(), "--enable-native-access=ALL-UNNAMED"));
        command.addAll(Child.PEER_OPTIONS);
        command.addAll(List.of("-Djava.awt.headless=true", "-Dbench.samples=200", "-Dbench.warmup=50",
                "-Dbench.rounds=1", "-Dbench.fastPaceMicros=0", "-Dbench.burstEvents=5000",
                "-Dbench.burstWarmup=1000", "-Dbench.idleMillis=100", "-Dbench.roundTrips=500",
                "-Dbench.roundTripWarmup=100", "-Dbench.udpWarmupMillis=0", "-Dbench.jmh.skip=true", "-Dbench.out=" + out,
                "-cp", System.getProperty("java.class.path"), ChangeFeedBenchmark.class.getName()));
        Path log = out.resolve("harness.log");
        Process harness = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile()).start();
        try {
            if (!harness.waitFor(TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
                fail("harness did not finish within " + TIMEOUT_SECONDS + " s; log:\n" + Files.readString(log));
            }
        } finally {
            harness.descendants().forEach(ProcessHandle::destroyForcibly);
            harness.destroyForcibly();
            harness.waitFor(30, TimeUnit.SECONDS);
        }
        String output = Files.readString(log, StandardCharsets.UTF_8);
        assertEquals(0, harness.exitValue(), output);

        String json = Files.readString(out.resolve("results.json"));
        for (String key : SCENARIOS) {
            assertTrue(json.contains("{\"key\": \"" + key + "\","), "results.json lacks scenario " + key + "\n" + output);
        }
        assertFalse(json.contains("\"error\""), "a scenario failed:\n" + json);
        // the replication over Aeron UDP is lossless: every change of the burst arrives, in order
        assertTrue(json.matches("(?s).*\\{\"key\": \"burst_aeron_replica_udp\",[^}]*\"delivered\": 5000\\.0000, "
                + "\"missed\": 0\\.0000, \"torn\": 0\\.0000, \"order_errors\": 0\\.0000,.*"), json);
        assertTrue(json.contains("\"key\": \"replica_vs_raw_udp\"") && json.contains("\"key\": \"replica_burst\""), json);
        assertTrue(json.contains("\"nproc\"") && json.contains("\"kernel\"") && json.contains("\"jdk\""), json);
        assertTrue(Files.readString(out.resolve("results.md")).contains("| target | measured | goal | verdict |"));
        assertTrue(Files.size(out.resolve("latency-percentiles.png")) > 10_000);
        assertTrue(Files.size(out.resolve("burst-events-per-second.png")) > 5_000);

        Matcher run = Pattern.compile("shmflux benchmark (bench-\\d+-[0-9a-f]+)").matcher(output);
        assertTrue(run.find(), output);
        try (Stream<Path> shm = Files.list(Path.of("/dev/shm"))) {
            List<String> left = shm.map(p -> p.getFileName().toString()).filter(n -> n.contains(run.group(1))).toList();
            assertEquals(List.of(), left, "left in /dev/shm (files, queue and Aeron directories)");
        }
        Matcher child = Pattern.compile("child pid (\\d+)").matcher(output);
        List<String> drivers = new ArrayList<>(List.of(ChangeFeedBenchmark.embeddedDriverPrefix(harness.pid())));
        int children = 0;
        while (child.find()) {
            children++;
            long pid = Long.parseLong(child.group(1));
            assertFalse(ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false), "child JVM alive: " + pid);
            drivers.add(ChangeFeedBenchmark.embeddedDriverPrefix(pid));
        }
        try (Stream<Path> shm = Files.list(Path.of("/dev/shm"))) {
            List<String> left = shm.map(p -> p.getFileName().toString())
                    .filter(n -> drivers.stream().anyMatch(n::startsWith)).toList();
            assertEquals(List.of(), left, "embedded Aeron drivers' directories left in /dev/shm");
        }
        assertTrue(children >= SCENARIOS.size(), "children started: " + children);
    }

    @Test
    void peerOptionsFileMatchesTheChildJvms() throws IOException {
        assertEquals(Child.PEER_OPTIONS, Files.readAllLines(Path.of("peer-jvm.options")));
    }
}
