package io.shmflux.cli;

import io.shmflux.testing.ChildJvm;
import io.shmflux.testing.NoLeftovers;
import io.shmflux.testing.TestNames;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Runs the packaged tool jar as a user would, {@code java -jar target/shmflux-tool.jar}, without the
 * native-access flag (the manifest grants it). An integration test: failsafe runs it after
 * {@code package} built the jar.
 */
class ToolJarIT {

    @Test
    void thePackagedJarRunsWithJavaDashJar() throws Exception {
        Path jar = Path.of("target", "shmflux-tool.jar");
        assertTrue(Files.isRegularFile(jar), "mvn package builds " + jar);
        Path dir = Files.createTempDirectory(NoLeftovers.DEV_SHM, "tool-jar-test-" + TestNames.RUN + "-");
        try {
            assertEquals("usage: shmflux COMMAND [ARGS]", run(jar, dir, "help").getFirst());
            List<String> list = run(jar, dir, "list");
            assertTrue(list.getFirst().startsWith("NAME "), list.toString());
            assertEquals("0 objects", list.getLast());
        } finally {
            Files.delete(dir);
        }
    }

    private static List<String> run(Path jar, Path dir, String command) throws IOException, InterruptedException {
        Path out = Files.createTempFile("shmflux-tool-jar-", ".out");
        Process process = new ProcessBuilder(ChildJvm.javaExecutable(), "-Dshmflux.dir=" + dir, "-jar",
                jar.toString(), command).redirectErrorStream(true).redirectOutput(out.toFile()).start();
        try {
            assertTrue(process.waitFor(60, TimeUnit.SECONDS), "the tool exits");
            List<String> lines = Files.readAllLines(out);
            assertEquals(0, process.exitValue(), lines.toString());
            return lines;
        } finally {
            process.destroyForcibly();
            Files.deleteIfExists(out);
        }
    }
}
