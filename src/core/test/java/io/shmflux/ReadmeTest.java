package io.shmflux;

import io.shmflux.testing.NoLeftovers;
import io.shmflux.testing.Repository;
import io.shmflux.testing.TestNames;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The README's quick starts run here, and the README is checked to show exactly this code, so the
 * examples cannot stop compiling unnoticed.
 */
@ExtendWith(NoLeftovers.class)
class ReadmeTest {

    @Test
    void theJavaQuickStartRuns(@TempDir Path dir) throws IOException {
        String name = TestNames.unique("quickstart");
        Path file = Files.write(dir.resolve("data.bin"), new byte[4096]);
        long value;
        // README java begins
        // process A: create the object (or open it if it exists) and write to it
        try (FileMapping mapping = SharedMemory.createOrOpen(name, 4096);
             MappedView view = mapping.map(Access.READ_WRITE)) {
            view.segment().set(ValueLayout.JAVA_LONG, 0, 42L);

            // process B (any JVM of the same user): open it by name and read
            try (FileMapping other = SharedMemory.open(name, Access.READ);
                 MappedView reader = other.map(Access.READ)) {
                value = reader.segment().get(ValueLayout.JAVA_LONG, 0); // 42
            }
        } // the last close anywhere removes the object's files from /dev/shm

        // a file-backed object: starts with the file's bytes, written back at the last close
        try (FileMapping mapping = SharedMemory.createFromFile(file, null, 0);
             MappedView view = mapping.map(Access.READ_WRITE, 100, 0)) {
            view.segment().set(ValueLayout.JAVA_BYTE, 0, (byte) 7); // byte 100 of the file
            view.flush();
        }
        // README java ends
        assertEquals(42L, value);
        assertEquals(7, Files.readAllBytes(file)[100]);
    }

    /** The README's record (declared in its set-up lines). */
    record Price(long price, long quantity) {
    }

    @Test
    void theChangeFeedQuickStartRuns() {
        String name = TestNames.unique("feedstart");
        ChangeEvent seen;
        Price read;
        // README feed begins
        RecordLayout<Price> layout = RecordLayout.of(Price.class); // 16 bytes: price at 0, quantity at 8

        try (FileMapping prices = SharedMemory.createOrOpen(name, 4096)) {
            // subscribe (in any process): every published change, in order
            CompletableFuture<ChangeEvent> next = prices.changes().next().toFuture();

            // publish (in any process): write a value under the protocol and announce it
            prices.publish(0, layout, new Price(10125L, 300L));

            ChangeEvent change = next.join();                   // sequence 1, offset 0, length 16
            Price price = prices.read(change.offset(), layout); // never half written
        // README feed ends
            seen = change;
            read = price;
        }
        assertEquals(1, seen.sequence());
        assertEquals(16, seen.length());
        assertEquals(new Price(10125L, 300L), read);
    }

    @Test
    void theReadmeShowsTheJavaQuickStartAsItRunsHere() throws IOException {
        assertReadmeBlockIsIn("java", Repository.file("src/core/test/java/io/shmflux/ReadmeTest.java"));
    }

    @Test
    void theReadmeShowsTheChangeFeedQuickStartAsItRunsHere() throws IOException {
        // the README closes the try block that the test keeps open to check the results
        assertReadmeBlockIsIn("java", 1, "feed", Repository.file("src/core/test/java/io/shmflux/ReadmeTest.java"), "}\n");
    }

    @Test
    void theReadmeShowsTheKotlinQuickStartAsItRunsInKotlinUsageTest() throws IOException {
        assertReadmeBlockIsIn("kotlin", Repository.file("src/kotlin/test/kotlin/io/shmflux/KotlinUsageTest.kt"));
    }

    @Test
    void tryItShowsTheDemoCommandAndThenTheCiTestCommand() throws IOException {
        String readme = Files.readString(Repository.file("README.md"));
        String tryIt = readme.substring(readme.indexOf("## Try it"));
        int demo = tryIt.indexOf("```\nmvn -q test-compile exec:exec@demo\n```");
        int testCommand = tryIt.indexOf("```\nmvn verify\n```");
        assertTrue(demo > 0, "demo command missing");
        assertTrue(testCommand > demo, "the test command follows the demo command");
        String pom = Files.readString(Repository.file("samples/pom.xml"));
        assertTrue(pom.contains("<id>demo</id>"), "the samples pom defines the exec execution the demo command runs");
        String ci = Files.readString(Repository.file(".ci/run"));
        assertTrue(Pattern.compile("(?m)^mvn verify$").matcher(ci).find(), ".ci/run runs exactly the README's command");
    }

    @Test
    void theReadmeLinksTheArchitecturePage() throws IOException {
        String readme = Files.readString(Repository.file("README.md"));
        assertTrue(readme.contains("(src/site/markdown/architecture.md)"));
        assertTrue(Files.exists(Repository.file("src/site/markdown/architecture.md")));
    }

    /** The README block, after its set-up lines (up to the first blank line), is the code between the markers. */
    private static void assertReadmeBlockIsIn(String language, Path source) throws IOException {
        assertReadmeBlockIsIn(language, 0, language, source, "");
    }

    /** Block number {@code index} of that language in the README is the code between the {@code marker} markers. */
    private static void assertReadmeBlockIsIn(String language, int index, String marker, Path source, String closing)
            throws IOException {
        String readme = Files.readString(Repository.file("README.md"));
        Matcher m = Pattern.compile("```" + language + "\n(.*?)```", Pattern.DOTALL).matcher(readme);
        for (int i = 0; i <= index; i++) {
            assertTrue(m.find(), "no " + language + " block number " + index + " in README.md");
        }
        String block = m.group(1);
        String body = block.substring(block.indexOf("\n\n") + 2);
        String code = Files.readString(source);
        String begin = "// README " + marker + " begins\n";
        String shown = code.substring(code.indexOf(begin) + begin.length(), code.indexOf("// README " + marker
                + " ends"));
        assertEquals(strip(shown) + closing, strip(body), "README.md " + language + " quick start differs from " + source);
    }

    private static String strip(String code) {
        return code.lines().map(String::strip).filter(l -> !l.isEmpty()).reduce("", (a, b) -> a + b + "\n");
    }
}
