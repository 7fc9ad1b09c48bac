package io.shmflux.cli;

import io.shmflux.testing.ChildJvm;
import io.shmflux.testing.NoLeftovers;
import io.shmflux.testing.TestNames;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Runs the packaged tool jar as a user would, {@code java -jar target/shmflux-tool.jar}, without the
 * native-access flag (the manifest grants it): with JDK 25, and with an older {@code java} (
 * {@code /usr/bin/java}, or {@code -Dshmflux.test.oldJava}), where the jar's Java 8 launcher must find a
 * JDK 25 and give the same output and exit codes, or say what to install. An integration test:
 * failsafe runs it after {@code package} built the jar.
 */
class ToolJarIT {

    private static final Path JAR = Path.of("target", "shmflux-tool.jar");
    private static final String JAVA_25 = ChildJvm.javaExecutable();

    private Path dir;
    private final List<Path> temporary = new ArrayList<>();

    /** What one run printed, and how it exited. */
    record Run(int exit, String out, String err) {
    }

    @BeforeEach
    void makeNameSpace() throws IOException {
        assertTrue(Files.isRegularFile(JAR), "mvn package builds " + JAR);
        dir = Files.createTempDirectory(NoLeftovers.DEV_SHM, "tool-jar-test-" + TestNames.RUN + "-");
    }

    @AfterEach
    void removeNameSpace() throws IOException {
        Files.delete(dir);
        for (Path path : temporary.reversed()) {
            Files.deleteIfExists(path);
        }
    }

    @Test
    void thePackagedJarRunsWithJavaDashJarOnJdk25() throws Exception {
        Run version = run(JAVA_25, env -> { }, "--version");
        assertEquals(0, version.exit(), version.err());
        assertEquals("shmflux " + System.getProperty("project.version"), version.out().lines().findFirst().orElseThrow());
        Run list = run(JAVA_25, env -> { }, "list");
        assertEquals(0, list.exit(), list.err());
        assertTrue(list.out().startsWith("NAME "), list.out());
        assertTrue(list.out().endsWith("0 objects\n"), list.out());
        Run json = run(JAVA_25, env -> { }, "list", "--json");
        assertEquals("{\"directory\":" + Json.quote(dir.toString()) + ",\"objects\":[]}\n", json.out());
    }

    @Test
    void onAnOlderJavaTheLauncherFindsAJdk25AndGivesTheSameOutputAndExitCodes() throws Exception {
        String old = olderJava();
        Path jdk25 = Path.of(JAVA_25).getParent().getParent();
        // an empty search root: the JDK must come from SHMFLUX_JAVA, not from /usr/lib/jvm
        Path empty = temporary(Files.createTempDirectory("shmflux-no-jdks-"));
        for (String[] args : List.of(new String[] {"--version"}, new String[] {"list"}, new String[] {"inspect", "nope"},
                new String[] {"watch", "nope", "--count", "0"})) { // exit codes 0, 0, 1, 2
            Run on25 = run(JAVA_25, env -> { }, args);
            assertEquals(on25, run(old, env -> env.put("SHMFLUX_JAVA", jdk25.toString()), "-Dshmflux.jdkRoot=" + empty, args),
                    "SHMFLUX_JAVA=" + jdk25 + ", args=" + List.of(args));
        }
        Run inspect = run(JAVA_25, env -> { }, "inspect", "nope");
        assertEquals(1, inspect.exit(), "passed through: " + inspect);
        assertTrue(inspect.err().startsWith("shmflux: object not found: name=\"nope\", path=" + dir), inspect.err());

        // no SHMFLUX_JAVA, no JAVA_HOME: the search root, here one holding a link to the JDK 25
        Path root = temporary(Files.createTempDirectory("shmflux-jdks-"));
        temporary(Files.createSymbolicLink(root.resolve("jdk-25"), jdk25));
        Files.createDirectory(temporary(root.resolve("not-a-jdk")));
        Run list = run(old, env -> { }, "-Dshmflux.jdkRoot=" + root, "list");
        assertEquals(run(JAVA_25, env -> { }, "list"), list);
    }

    @Test
    void withoutAJdk25TheLauncherSaysWhatToInstallOrSetInOneLineAndExitsWithThree() throws Exception {
        String old = olderJava();
        Path empty = temporary(Files.createTempDirectory("shmflux-no-jdks-"));
        Run none = run(old, env -> env.put("JAVA_HOME", "/nonexistent"), "-Dshmflux.jdkRoot=" + empty, "list");
        assertEquals(3, none.exit(), none.toString());
        assertEquals("", none.out());
        assertEquals(1, none.err().lines().count(), none.err());
        assertTrue(none.err().startsWith("shmflux: no JDK 25 or later found: running="), none.err());
        assertTrue(none.err().endsWith(", tried=[JAVA_HOME=/nonexistent (no java there), " + empty + "/* (0 entries)], "
                + "fix=install a JDK 25 (such as Temurin 25) or set SHMFLUX_JAVA=/path/to/jdk-25\n"), none.err());

        Run tooOld = run(old, env -> env.put("SHMFLUX_JAVA", old), "-Dshmflux.jdkRoot=" + empty, "list");
        assertEquals(3, tooOld.exit(), tooOld.toString());
        assertTrue(tooOld.err().contains(", tried=[SHMFLUX_JAVA=" + old + " (version " + majorOf(old) + ")], "),
                "named, never replaced by another JDK: " + tooOld.err());
    }

    /** {@return a java older than 25} Skips the test, saying so, where there is none. */
    private static String olderJava() throws Exception {
        String old = System.getProperty("shmflux.test.oldJava", "/usr/bin/java");
        Assumptions.assumeTrue(Files.isExecutable(Path.of(old)), "skipped: no older java at " + old
                + " (set -Dshmflux.test.oldJava=/path/to/java)");
        int major = majorOf(old);
        Assumptions.assumeTrue(major > 0 && major < 25, "skipped: " + old + " is java " + major + ", not older than 25");
        return old;
    }

    private static int majorOf(String java) throws Exception {
        Process process = new ProcessBuilder(java, "-XshowSettings:properties", "-version").redirectErrorStream(true).start();
        String text = new String(process.getInputStream().readAllBytes());
        assertTrue(process.waitFor(30, TimeUnit.SECONDS), "java -version exits");
        return text.lines().map(String::strip).filter(l -> l.startsWith("java.specification.version = "))
                .map(l -> Integer.parseInt(l.substring("java.specification.version = ".length()).replace("1.", "")))
                .findFirst().orElse(0);
    }

    private Path temporary(Path path) {
        temporary.add(path);
        return path;
    }

    private Run run(String java, Consumer<Map<String, String>> environment, String... args) throws Exception {
        List<String> jvmOptions = new ArrayList<>();
        List<String> toolArgs = new ArrayList<>();
        for (String arg : args) {
            (arg.startsWith("-D") && toolArgs.isEmpty() ? jvmOptions : toolArgs).add(arg);
        }
        return run(java, environment, jvmOptions, toolArgs);
    }

    private Run run(String java, Consumer<Map<String, String>> environment, String jvmOption, String[] args) throws Exception {
        return run(java, environment, List.of(jvmOption), List.of(args));
    }

    private Run run(String java, Consumer<Map<String, String>> environment, List<String> jvmOptions, List<String> args)
            throws IOException, InterruptedException {
        Path out = Files.createTempFile("shmflux-tool-jar-", ".out");
        Path err = Files.createTempFile("shmflux-tool-jar-", ".err");
        List<String> command = new ArrayList<>(List.of(java, "-Dshmflux.dir=" + dir));
        command.addAll(jvmOptions);
        command.addAll(List.of("-jar", JAR.toString()));
        command.addAll(args);
        ProcessBuilder builder = new ProcessBuilder(command).redirectOutput(out.toFile()).redirectError(err.toFile());
        builder.environment().remove("SHMFLUX_JAVA");
        builder.environment().remove("JAVA_HOME");
        environment.accept(builder.environment());
        Process process = builder.start();
        try {
            assertTrue(process.waitFor(60, TimeUnit.SECONDS), "the tool exits: " + command);
            return new Run(process.exitValue(), Files.readString(out), Files.readString(err));
        } finally {
            process.destroyForcibly();
            Files.deleteIfExists(out);
            Files.deleteIfExists(err);
        }
    }
}
