package io.shmflux.security;

import io.shmflux.testing.ChildJvm;
import io.shmflux.testing.HeaderFuzzChild;
import io.shmflux.testing.NoLeftovers;
import io.shmflux.testing.TestNames;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Random and boundary values in every header field of live and stale control files (see
 * {@link HeaderFuzzChild}): each call succeeds or throws a {@code SharedMemoryException}, never
 * another exception, a hang or a JVM crash, and unrelated names keep working throughout.
 *
 * <p>{@code mvn verify} runs 2,000 cases; {@code -Dshmflux.fuzz.cases=N} runs N, and
 * {@code -Dshmflux.fuzz.seed=S} repeats a run (the seed is printed on failure). The cases run in a
 * child JVM whose name space is a private directory, so no corrupt file ever reaches {@code /dev/shm}
 * itself, where other tests and builds on this machine keep their objects.
 */
class HeaderFuzzTest {

    private static final int CASES = Integer.getInteger("shmflux.fuzz.cases", 2000);

    private Path dir;

    @BeforeEach
    void makePrivateNameSpace() throws IOException {
        dir = Files.createTempDirectory(NoLeftovers.DEV_SHM, "fuzz-" + TestNames.RUN + "-");
    }

    @AfterEach
    void removeIt() throws IOException {
        try (Stream<Path> files = Files.walk(dir)) {
            for (Path p : (Iterable<Path>) files.sorted(Comparator.reverseOrder())::iterator) {
                Files.delete(p);
            }
        }
    }

    @Test
    void everyCallOnAFuzzedHeaderSucceedsOrThrowsASharedMemoryExceptionAndOtherNamesKeepWorking() throws Exception {
        // the child's first call sweeps these: it must not fail (nor block) for them, and the corrupt ones go
        String tag = "shmflux.L" + Files.getAttribute(Path.of("/proc/self"), "unix:uid") + ".";
        Files.write(dir.resolve(tag + "corrupt-short.ctl"), new byte[100]);
        Files.write(dir.resolve(tag + "corrupt-zeros.ctl"), new byte[16384]);
        Files.write(dir.resolve(tag + "corrupt-zeros"), new byte[4096]);
        Path fifo = dir.resolve(tag + "fifo.ctl"); // opened by the sweep without blocking, and kept
        Process mkfifo = new ProcessBuilder("mkfifo", fifo.toString()).start();
        assertTrue(mkfifo.waitFor(10, java.util.concurrent.TimeUnit.SECONDS) && mkfifo.exitValue() == 0);
        long seed = Long.getLong("shmflux.fuzz.seed", ThreadLocalRandom.current().nextLong());
        Duration wait = Duration.ofSeconds(60 + CASES / 20);
        try (ChildJvm child = ChildJvm.start(List.of("--enable-native-access=ALL-UNNAMED", "-Dshmflux.dir=" + dir),
                HeaderFuzzChild.class, String.valueOf(CASES), String.valueOf(seed))) {
            String result = child.nextLine(wait);
            assertTrue(result.startsWith("ok " + CASES + " "), "seed=" + seed + ": " + result + "\n" + child.stderr());
            assertEquals(0, child.awaitExit(wait), child.stderr());
        }
        try (Stream<Path> left = Files.list(dir)) {
            assertEquals(List.of(fifo), left.toList(), "the sweep and the cases leave nothing but the FIFO behind");
        }
    }
}
