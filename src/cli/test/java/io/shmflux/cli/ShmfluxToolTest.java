package io.shmflux.cli;

import io.shmflux.testing.ChildJvm;
import io.shmflux.testing.FeedChild;
import io.shmflux.testing.MappingChild;
import io.shmflux.testing.NoLeftovers;
import io.shmflux.testing.Repository;
import io.shmflux.testing.TestNames;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Runs the tool as real processes against objects that other real processes hold. Every process here
 * uses a name-space directory of this test's own ({@code -Dshmflux.dir}), so that {@code list} and
 * {@code gc} see, and reclaim, only this test's objects and never those of builds running beside it.
 */
@Tag("cross-process")
@ExtendWith(NoLeftovers.class)
class ShmfluxToolTest {

    private static final Duration WAIT = Duration.ofSeconds(60);

    private Path dir;
    private final List<ChildJvm> children = new ArrayList<>();

    /** What one run of the tool printed, and how it exited. */
    record Run(int exit, String out, String err) {
    }

    @BeforeEach
    void makeNameSpace() throws IOException {
        dir = Files.createTempDirectory(NoLeftovers.DEV_SHM, "tool-test-" + TestNames.RUN + "-");
    }

    @AfterEach
    void killChildrenAndCheckNothingIsLeft() throws IOException {
        children.forEach(ChildJvm::close);
        try (Stream<Path> files = Files.list(dir)) {
            List<Path> left = files.toList();
            for (Path file : left) {
                Files.delete(file);
            }
            Files.delete(dir);
            assertEquals(List.of(), left, "files left in the test's name space");
        }
    }

    @Test
    void listAndInspectShowAnObjectItsHoldersAndItsSequence() {
        String name = TestNames.unique("list");
        ChildJvm holder = holder(name);

        Run list = tool("list");
        assertEquals(0, list.exit(), list.err());
        String row = line(list.out(), "Local\\" + name);
        assertTrue(row.matches("Local\\\\" + name + "\\s+file mapping\\s+4096\\s+paging file\\s+1\\s+0\\s+live"), row);
        assertTrue(list.out().startsWith("NAME"), list.out());

        ChildJvm second = child(MappingChild.class); // a second process: a second holder
        assertTrue(second.nextLine().startsWith("ready"));
        second.call("open " + name + " READ_WRITE");
        Run inspect = tool("inspect", name);
        assertEquals(0, inspect.exit(), inspect.err());
        assertTrue(inspect.out().contains("name:            Local\\" + name), inspect.out());
        assertTrue(inspect.out().contains("live holders:    2"), inspect.out());
        assertTrue(inspect.out().contains("size:            4096 bytes"), inspect.out());
        assertTrue(inspect.out().contains("layout version:  3"), inspect.out());
        assertTrue(inspect.out().contains("sequence:      0"), inspect.out());
        assertTrue(inspect.out().contains("writer lock:   free"), inspect.out());
        assertTrue(inspect.out().contains("created:         "), inspect.out());
        assertTrue(inspect.out().contains(" by pid " + holder.pid()), inspect.out());
        exit(second);
        exit(holder);
    }

    @Test
    void inspectShowsBackPressureSubscribersPositionsAndTheEndOfTheStream() throws Exception {
        String name = TestNames.unique("bp");
        ChildJvm holder = holder(name);
        holder.call("subscribeLossless " + name + " 2");
        assertEquals("ok 3", holder.call("publishMany " + name + " 3"));
        String expected = "  back-pressure subscribers:\n    slot 0: pid " + holder.pid() + ", next change 3 alive";
        Run inspect = tool("inspect", name);
        for (int tries = 0; !inspect.out().contains(expected) && tries < 50; tries++) {
            Thread.sleep(20); // the subscriber takes its two changes on its change thread
            inspect = tool("inspect", name);
        }
        assertEquals(0, inspect.exit(), inspect.err());
        assertTrue(inspect.out().contains("  ring:          capacity 16384 records, holds changes 1..3"), inspect.out());
        assertTrue(inspect.out().contains(expected), inspect.out());
        holder.call("cancel " + name);
        assertEquals("ok 4", holder.call("completeChanges " + name));
        inspect = tool("inspect", name);
        assertTrue(inspect.out().contains("  stream:        completed (end marker 4)"), inspect.out());
        assertFalse(inspect.out().contains("back-pressure subscribers"), "a cancelled subscriber frees its slot");
        exit(holder);
    }

    @Test
    void watchPrintsEachChangeWithItsWriterItsFlagsAndAHexDumpOfTheChangedRange() throws Exception {
        String name = TestNames.unique("watch");
        ChildJvm holder = holder(name);
        Path out = Files.createTempFile("shmflux-watch-", ".out");
        Process watch = toolProcess(out, "watch", name, "--count", "3");
        try {
            awaitText(out, "watching Local\\" + name, watch);
            ChildJvm publisher = child(FeedChild.class, "publish", name, "3");
            assertEquals("ready", publisher.nextLine());
            publisher.send("go");
            assertEquals("published 3", publisher.nextLine());
            assertTrue(watch.waitFor(WAIT.toSeconds(), TimeUnit.SECONDS), "watch stops after --count events");
            assertEquals(0, watch.exitValue());
            String text = Files.readString(out);
            assertTrue(text.startsWith("watching Local\\" + name + ": size=4096, sequence=0, range=changed, format=hex, count=3\n"), text);
            for (int i = 1; i <= 3; i++) {
                assertTrue(text.contains("seq=" + i + " offset=" + i * 8 + " length=8 writer=" + publisher.pid()
                        + " missed=0 torn=false\n" + String.format("  %08x  %02x 00 00 00 00 00 00 00", i * 8, i)), text);
            }
            publisher.awaitBye(WAIT);
            exit(holder);
        } finally {
            watch.destroyForcibly();
            Files.deleteIfExists(out);
        }
    }

    @Test
    void watchDecodesARequestedRangeAsLongsDoublesAndEscapedUtf8() throws Exception {
        String name = TestNames.unique("formats");
        ChildJvm holder = holder(name);
        List<String[]> commands = List.of(
                new String[] {"watch", name, "--count", "3", "--format", "longs", "--length", "8"},
                new String[] {"watch", name, "--count", "3", "--format", "DOUBLES", "--offset", "8", "--length", "8"},
                new String[] {"watch", name, "--count", "3", "--format", "utf8", "--offset", "16", "--length",
                        String.valueOf(ValueWriterChild.TEXT_BYTES)});
        List<Path> outs = new ArrayList<>();
        List<Process> watches = new ArrayList<>();
        try {
            for (String[] command : commands) { // three watchers at once: one JVM start's time for all
                Path out = Files.createTempFile("shmflux-watch-", ".out");
                outs.add(out);
                watches.add(toolProcess(out, command));
            }
            for (int i = 0; i < watches.size(); i++) {
                awaitText(outs.get(i), "watching Local\\" + name, watches.get(i));
            }
            ChildJvm writer = child(ValueWriterChild.class, name);
            assertEquals("ready", writer.nextLine());
            writer.send("go");
            assertEquals("published 3", writer.nextLine());
            for (Process watch : watches) {
                assertTrue(watch.waitFor(WAIT.toSeconds(), TimeUnit.SECONDS), "watch stops after --count events");
                assertEquals(0, watch.exitValue());
            }
            String longs = Files.readString(outs.get(0));
            assertTrue(longs.contains("range=offset=0 length=8, format=longs, count=3"), longs);
            assertTrue(longs.contains("seq=1 offset=0 length=8 writer=" + writer.pid() + " missed=0 torn=false\n"), longs);
            assertTrue(longs.contains("seq=3 offset=16 length=" + ValueWriterChild.TEXT_BYTES), longs);
            // every change shows the requested range as it is now: the long stays from the first change on
            assertEquals(3, longs.lines().filter(l -> l.equals("  longs: " + ValueWriterChild.LONG)).count(), longs);
            String doubles = Files.readString(outs.get(1));
            assertTrue(doubles.endsWith("  doubles: " + ValueWriterChild.DOUBLE + "\n"), doubles);
            String utf8 = Files.readString(outs.get(2));
            assertTrue(utf8.endsWith("  utf8: \"h\\u00e9 \\\"q\\\" \\\\ \\t!\"\n"), utf8);
            assertEquals(ValueWriterChild.TEXT, JsonParser.parse(utf8.substring(utf8.lastIndexOf("utf8: ") + 6).strip()));
            writer.awaitExit(WAIT);
            exit(holder);
        } finally {
            watches.forEach(Process::destroyForcibly);
            for (Path out : outs) {
                Files.deleteIfExists(out);
            }
        }
    }

    @Test
    void watchRefusesABadRangeOrCountWithExitTwoAndOneLine() {
        String name = TestNames.unique("badrange");
        ChildJvm holder = holder(name);
        Run outside = tool("watch", name, "--offset", "4090", "--length", "16");
        assertEquals(2, outside.exit(), outside.out());
        assertEquals("shmflux: range out of bounds: offset=4090, length=16, size=4096\n", outside.err());
        Run partial = tool("watch", name, "--format", "longs", "--length", "12");
        assertEquals(2, partial.exit(), partial.out());
        assertEquals("shmflux: range not whole values: offset=0, length=12, size=4096, format=longs, unit=8\n", partial.err());
        Run count = tool("watch", name, "--count", "0");
        assertEquals(2, count.exit(), count.out());
        assertEquals("shmflux: count must be positive: count=0\n", count.err());
        exit(holder);
    }

    @Test
    void listAndInspectJsonCarryEveryDocumentedFieldAndEscapeHostileNamesAndPaths() throws Exception {
        String plain = TestNames.unique("json");
        ChildJvm holder = holder(plain);
        // a name with quotes, a tab and a bracket, a backing file whose path has a quote and a backslash
        // (ASCII only: argv and file names follow the locale, which may be POSIX; JsonTest has the rest)
        String hostile = TestNames.unique("j\"s\to'n<");
        Path odd = Files.createTempDirectory("shmflux-we\"ird\\dir-");
        Path backing = Files.write(odd.resolve("data.bin"), new byte[8192]);
        try {
            holder.call("fromFile " + backing + " " + hostile + " 8192");
            checkJson(holder, plain, hostile, backing);
        } finally {
            Files.deleteIfExists(backing);
            Files.delete(odd);
        }
    }

    private void checkJson(ChildJvm holder, String plain, String hostile, Path backing) throws IOException {

        Run list = tool("list", "--json");
        assertEquals(0, list.exit(), list.err());
        assertEquals(1, list.out().lines().count(), "one line: " + list.out());
        Map<String, Object> listed = JsonParser.object(JsonParser.parse(list.out()));
        assertEquals(dir.toString(), listed.get("directory"));
        List<?> objects = (List<?>) listed.get("objects");
        assertEquals(2, objects.size(), list.out());
        Map<String, Object> file = JsonParser.object(objects.stream().map(JsonParser::object)
                .filter(o -> o.get("name").equals("Local\\" + hostile)).findFirst().orElseThrow());
        assertEquals(backing.toString(), file.get("backing"));
        assertEquals(backing.toString(), file.get("data_file"));
        assertEquals(8192L, file.get("size"));

        Run inspect = tool("inspect", "--json", plain);
        assertEquals(0, inspect.exit(), inspect.err());
        Map<String, Object> o = JsonParser.object(JsonParser.parse(inspect.out()));
        assertEquals(documentedFields(), List.copyOf(o.keySet()), "the fields tool.md lists, in its order");
        assertEquals("Local\\" + plain, o.get("name"));
        assertEquals("file mapping", o.get("kind"));
        assertEquals("live", o.get("status"));
        assertEquals(JsonParser.NULL, o.get("problem"));
        assertEquals("paging file", o.get("backing"));
        assertEquals(4096L, o.get("size"));
        assertEquals(1L, o.get("holders"));
        assertEquals(holder.pid(), o.get("creator_pid"));
        assertEquals(0L, o.get("sequence"));
        assertEquals(false, o.get("writing"));
        assertEquals(16384L, o.get("ring_capacity"));
        assertEquals(JsonParser.NULL, o.get("lock_owner_slot"));
        assertEquals(JsonParser.NULL, o.get("end_sequence"));
        assertEquals(List.of(), o.get("subscribers"));
        assertEquals(objects.stream().map(JsonParser::object).filter(l -> l.get("name").equals("Local\\" + plain))
                .findFirst().orElseThrow(), o, "list and inspect write one schema");
        Run inspectHostile = tool("inspect", "--json", hostile);
        assertEquals(file, JsonParser.parse(inspectHostile.out()));
        exit(holder);
    }

    @Test
    void rmRefusesWhileAProcessHoldsTheObjectAndForceRemovesTheName() {
        String name = TestNames.unique("rm");
        ChildJvm holder = holder(name);

        Run refused = tool("rm", name);
        assertEquals(1, refused.exit(), refused.out());
        assertTrue(refused.err().startsWith("shmflux: object in use: name=Local\\" + name + ", holders=1"), refused.err());
        assertTrue(Files.exists(dir.resolve(controlFile(name))), "still there");

        Run forced = tool("rm", name, "--force");
        assertEquals(0, forced.exit(), forced.err());
        assertTrue(forced.out().startsWith("removed Local\\" + name), forced.out());
        assertFalse(Files.exists(dir.resolve(controlFile(name))), "the name is gone");
        assertFalse(tool("list").out().contains(name));

        Run missing = tool("rm", name);
        assertEquals(1, missing.exit());
        assertTrue(missing.err().startsWith("shmflux: object not found: name=\"" + name + "\""), missing.err());
        exit(holder); // its close finds the name gone and leaves it so
    }

    @Test
    void gcReclaimsAnObjectWhoseHolderWasKilledAndLeavesALiveOneAlone() {
        String dead = TestNames.unique("gc-dead");
        String live = TestNames.unique("gc-live");
        ChildJvm killed = holder(dead);
        ChildJvm holder = holder(live);
        killed.kill9();

        Run list = tool("list");
        assertTrue(line(list.out(), "Local\\" + dead).matches(".*\\s0\\s+0\\s+stale"), list.out());
        assertTrue(line(list.out(), "Local\\" + live).endsWith("live"), list.out());

        Run gc = tool("gc");
        assertEquals(0, gc.exit(), gc.err());
        assertTrue(gc.out().contains("reclaimed Local\\" + dead + "\n"), gc.out());
        assertTrue(gc.out().endsWith("1 object reclaimed\n"), gc.out());
        assertFalse(Files.exists(dir.resolve(controlFile(dead))));
        assertTrue(Files.exists(dir.resolve(controlFile(live))));
        exit(holder);
    }

    @Test
    void listInspectAndGcShowCorruptAndSquattedObjectsAsSuchAndGcRemovesOnlyTheCorruptOnesItOwns() throws Exception {
        String corrupt = TestNames.unique("corrupt");
        Path corruptControl = Files.write(dir.resolve(controlFile(corrupt)), new byte[16384]);
        Path corruptData = Files.write(dir.resolve(controlFile(corrupt).replace(".ctl", "")), new byte[4096]);
        String squatted = TestNames.unique("squatted");
        Path squattedControl = dir.resolve(controlFile(squatted));
        boolean root = uid().equals("0");
        if (root) { // another user plants a file under this user's Local\ name, as in the sticky /dev/shm
            Files.setPosixFilePermissions(dir, java.nio.file.attribute.PosixFilePermissions.fromString("rwxrwxrwx"));
            Process plant = new ProcessBuilder("setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
                    "sh", "-c", "head -c 16384 /dev/zero > " + squattedControl).start();
            assertTrue(plant.waitFor(30, TimeUnit.SECONDS) && plant.exitValue() == 0, "planted as uid 65534");
        }

        Run list = tool("list");
        assertEquals(0, list.exit(), list.err());
        assertTrue(line(list.out(), "Local\\?(" + corruptControl.getFileName() + ")").endsWith("corrupt"), list.out());
        Run inspect = tool("inspect", corrupt);
        assertEquals(0, inspect.exit(), inspect.err());
        assertTrue(inspect.out().contains("status:          corrupt: field=magic, value=0x0, expected=0x"
                + Long.toHexString(io.shmflux.internal.layout.ControlBlockDescriptor.MAGIC) + ", path=" + corruptControl
                + " (the library refuses it; 'shmflux gc' removes it if it is yours)"), inspect.out());
        if (root) {
            assertTrue(line(list.out(), "Local\\?(" + squattedControl.getFileName() + ")").endsWith("squatted"),
                    list.out());
            Run inspectSquatted = tool("inspect", squatted);
            assertTrue(inspectSquatted.out().contains("status:          squatted: owner=65534, expected=0"),
                    inspectSquatted.out());
            Run rm = tool("rm", squatted);
            assertEquals(1, rm.exit(), rm.out());
            assertTrue(rm.err().startsWith("shmflux: cannot remove object: name=Local\\?(" + squattedControl.getFileName()
                    + "), path=" + squattedControl + ", status=squatted, owner=65534"), rm.err());
        }

        Run gc = tool("gc");
        assertEquals(0, gc.exit(), gc.err());
        assertTrue(gc.out().contains("reclaimed Local\\?(" + corruptControl.getFileName() + ") (corrupt)\n"), gc.out());
        assertFalse(Files.exists(corruptControl), "a corrupt leftover goes whole");
        assertFalse(Files.exists(corruptData));
        if (root) {
            assertTrue(gc.out().contains("kept Local\\?(" + squattedControl.getFileName() + "): path=" + squattedControl
                    + ", status=squatted, owner=65534, expected=0"), gc.out());
            assertTrue(Files.exists(squattedControl), "another user's file is never removed");
            assertTrue(tool("gc").out().contains("kept Local\\?(" + squattedControl.getFileName()),
                    "reported again, not retried harder");
            Files.delete(squattedControl);
        }
    }

    /** The fields of the JSON table in tool.md, in its order: the docs cannot drift from the output. */
    private static List<String> documentedFields() throws IOException {
        String doc = Files.readString(Repository.file("src/site/markdown/tool.md"));
        String table = doc.substring(doc.indexOf("| Field | Type |"), doc.indexOf("\n\n", doc.indexOf("| Field | Type |")));
        return table.lines().skip(2).map(row -> row.substring(row.indexOf('`') + 1, row.indexOf('`', row.indexOf('`') + 1)))
                .toList();
    }

    // ---- helpers --------------------------------------------------------------------------------

    /** Tells a {@link MappingChild} to close everything and exit. */
    private static void exit(ChildJvm child) {
        child.send("exit");
        child.awaitBye(WAIT);
    }

    /** A process that creates {@code name} (4096 bytes) and holds it until told to exit. */
    private ChildJvm holder(String name) {
        ChildJvm child = child(MappingChild.class);
        assertTrue(child.nextLine().startsWith("ready"));
        child.call("create " + name + " 4096");
        children.add(child);
        return child;
    }

    private ChildJvm child(Class<?> main, String... args) {
        ChildJvm child = ChildJvm.start(List.of("--enable-native-access=ALL-UNNAMED", "-Dshmflux.dir=" + dir), main, args);
        children.add(child);
        return child;
    }

    /** Runs the tool to its end; output goes to files, so none of it is lost when it exits. */
    private Run tool(String... args) {
        try {
            Path out = Files.createTempFile("shmflux-tool-", ".out");
            Path err = Files.createTempFile("shmflux-tool-", ".err");
            Process process = null;
            try {
                process = toolProcess(out, args, err);
                if (!process.waitFor(WAIT.toSeconds(), TimeUnit.SECONDS)) {
                    fail("tool did not exit: " + List.of(args));
                }
                return new Run(process.exitValue(), Files.readString(out), Files.readString(err));
            } finally {
                if (process != null) {
                    process.destroyForcibly();
                }
                Files.deleteIfExists(out);
                Files.deleteIfExists(err);
            }
        } catch (IOException e) {
            throw new IllegalStateException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    private Process toolProcess(Path out, String... args) throws IOException {
        return toolProcess(out, args, out);
    }

    private Process toolProcess(Path out, String[] args, Path err) throws IOException {
        List<String> command = new ArrayList<>(List.of(ChildJvm.javaExecutable(), "-XX:TieredStopAtLevel=1",
                "--enable-native-access=ALL-UNNAMED", "-Dshmflux.dir=" + dir,
                "-cp", System.getProperty("java.class.path"), ShmfluxTool.class.getName()));
        command.addAll(List.of(args));
        ProcessBuilder builder = new ProcessBuilder(command).redirectOutput(out.toFile());
        if (err.equals(out)) {
            builder.redirectErrorStream(true);
        } else {
            builder.redirectError(err.toFile());
        }
        return builder.start();
    }

    private static void awaitText(Path file, String text, Process process) throws Exception {
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (!Files.readString(file, StandardCharsets.UTF_8).contains(text)) {
            if (!process.isAlive() || System.nanoTime() - deadline > 0) {
                fail("no '" + text + "' from the tool (alive=" + process.isAlive() + "):\n" + Files.readString(file));
            }
            TimeUnit.MILLISECONDS.sleep(50);
        }
    }

    private static String line(String text, String start) {
        return text.lines().filter(l -> l.startsWith(start + " ")).findFirst()
                .orElseThrow(() -> new AssertionError("no line for " + start + " in:\n" + text));
    }

    private static String controlFile(String name) {
        return "shmflux.L" + uid() + "." + name + ".ctl";
    }

    private static String uid() {
        try {
            return String.valueOf(Files.getAttribute(Path.of("/proc/self"), "unix:uid"));
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }
}
