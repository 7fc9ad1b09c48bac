package io.shmflux.faults;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;

/**
 * The fault campaign's scale and its report. {@code mvn verify} runs the short form; the long form
 * ({@code mvn -Pfaults verify}, which sets {@code -Dshmflux.faults.scale=25} and runs only the tests
 * tagged {@code fault}) multiplies every scenario's rounds. Each scenario prints one line with its
 * rounds, the faults it injected and its failures, and appends it to
 * {@code target/faults/report.txt}, from which {@code guarantees.md} quotes the last long run.
 */
final class Campaign {

    /** JVM options of the campaign's children: quick to start, as each kill costs a JVM. */
    static final List<String> CHILD_OPTIONS = List.of("--enable-native-access=ALL-UNNAMED",
            "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC", "-Xshare:auto", "-Xmx128m");

    private static final int SCALE = Integer.getInteger("shmflux.faults.scale", 1);

    private Campaign() {
    }

    /** {@return the rounds of a scenario: {@code shortForm} in {@code mvn verify}, times the scale in the long form} */
    static int rounds(int shortForm) {
        return shortForm * SCALE;
    }

    static int scale() {
        return SCALE;
    }

    /** {@return a random value in {@code [from, to)}} */
    static long between(long from, long to) {
        return ThreadLocalRandom.current().nextLong(from, to);
    }

    /** Prints and records one scenario's result line, such as {@code kill9.writer rounds=20 kills=20 failures=0}. */
    static void report(String scenario, String figures) {
        String line = Instant.now() + " scale=" + SCALE + " " + scenario + " " + figures;
        System.out.println("fault campaign: " + line);
        Path file = Path.of("target", "faults", "report.txt");
        try {
            Files.createDirectories(file.getParent());
            Files.writeString(file, line + System.lineSeparator(), StandardCharsets.UTF_8,
                    StandardOpenOption.CREATE, StandardOpenOption.APPEND);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
