package io.shmflux.cli;

import org.junit.jupiter.api.Test;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The command line itself, run in this JVM (none of it touches an object): help on every command,
 * the version, usage errors as one line with exit code 2, and the completion script, sourced in a
 * real bash.
 */
class ShmfluxToolCommandLineTest {

    private static final List<String> COMMANDS = List.of("list", "inspect", "watch", "rm", "gc", "help",
            "generate-completion");

    /** What one in-process run printed, and how it exited. */
    record Run(int exit, String out, String err) {
    }

    private static Run run(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int exit = ShmfluxTool.run(new PrintWriter(out), new PrintWriter(err), args);
        return new Run(exit, out.toString(), err.toString());
    }

    @Test
    void everyCommandHasHelpByOptionAndByTheHelpCommandWithTheExitCodes() {
        Run top = run("--help");
        assertEquals(0, top.exit(), top.err());
        assertTrue(top.out().startsWith("Usage: shmflux [-hV] [COMMAND]"), top.out());
        for (String command : COMMANDS) {
            assertTrue(top.out().contains("\n  " + command + " "), command + " listed:\n" + top.out());
        }
        for (String command : List.of("list", "inspect", "watch", "rm", "gc")) {
            Run byOption = run(command, "--help");
            assertEquals(0, byOption.exit(), byOption.err());
            assertTrue(byOption.out().contains("\nUsage: shmflux " + command + " [-hV]"), byOption.out()); // after the header
            assertTrue(byOption.out().contains("Exit codes:\n  0   done\n  1   refused, not found or failed"), byOption.out());
            assertTrue(byOption.out().contains("  2   bad command line"), byOption.out());
            assertEquals(byOption, run("help", command), "shmflux help " + command);
            assertEquals(byOption, run(command, "-h"));
        }
        assertTrue(run("help", "watch").out().contains("--format=FORMAT   hex, longs, doubles or utf8 (default: hex)"));
        assertTrue(run("help", "inspect").out().contains("--json"));
        assertTrue(run("help", "rm").out().contains("--force"));
    }

    @Test
    void versionNamesTheProjectVersionAndTheJvm() {
        Run version = run("--version");
        assertEquals(0, version.exit(), version.err());
        List<String> lines = version.out().lines().toList();
        assertEquals(2, lines.size(), version.out());
        assertTrue(lines.get(0).matches("shmflux \\d+\\.\\d+\\.\\d+(-SNAPSHOT)?"), "filtered, not ${project.version}: " + lines);
        assertEquals("java " + System.getProperty("java.version") + " (" + System.getProperty("java.vendor") + ")",
                lines.get(1));
        assertEquals(version, run("list", "--version"), "every command knows the version");
    }

    @Test
    void badCommandLinesExitWithTwoAndSayWhyInOneLine() {
        assertUsage(run("frob"), "shmflux: bad command line: command=shmflux, reason=Unmatched argument at index 0: "
                + "'frob', help=shmflux --help");
        assertUsage(run("inspect"), "shmflux: bad command line: command=shmflux inspect, reason=Missing required "
                + "parameter: 'NAME', help=shmflux help inspect");
        assertUsage(run("list", "--frob"), "shmflux: bad command line: command=shmflux list, reason=Unknown option: "
                + "'--frob', help=shmflux help list");
        assertUsage(run("rm", "a", "b"), "shmflux: bad command line: command=shmflux rm, reason=Unmatched argument at "
                + "index 2: 'b', help=shmflux help rm");
        assertUsage(run("watch", "x", "--format", "octal"), "shmflux: bad command line: command=shmflux watch, "
                + "reason=Invalid value for option '--format': expected one of [HEX, LONGS, DOUBLES, UTF8] "
                + "(case-insensitive) but was 'octal', help=shmflux help watch");
        assertUsage(run("watch", "x", "--count", "many"), "shmflux: bad command line: command=shmflux watch, "
                + "reason=Invalid value for option '--count': 'many' is not a long, help=shmflux help watch");
        assertUsage(run(), "shmflux: missing command: commands=[list, inspect, watch, rm, gc, help, "
                + "generate-completion], help=shmflux --help");
    }

    private static void assertUsage(Run run, String line) {
        assertEquals(2, run.exit(), run.toString());
        assertEquals("", run.out());
        assertEquals(line + "\n", run.err());
    }

    @Test
    void theGeneratedCompletionScriptCompletesCommandsAndFormatsInARealBash() throws Exception {
        Path bash = Path.of("/bin/bash");
        org.junit.jupiter.api.Assumptions.assumeTrue(Files.isExecutable(bash), "no bash at /bin/bash");
        Run completion = run("generate-completion");
        assertEquals(0, completion.exit(), completion.err());
        Path script = Files.createTempFile("shmflux-completion-", ".bash");
        Path out = Files.createTempFile("shmflux-completion-", ".out");
        try {
            Files.writeString(script, completion.out());
            // complete as bash would after "shmflux l<TAB>" and "shmflux watch x --format <TAB>"
            String probe = "source " + script + " && complete -p shmflux"
                    + " && COMP_WORDS=(shmflux l) COMP_CWORD=1 && _complete_shmflux 2>/dev/null && echo \"1: ${COMPREPLY[*]}\""
                    + " && COMP_WORDS=(shmflux watch x --format '') COMP_CWORD=4 && _complete_shmflux 2>/dev/null"
                    + " && echo \"2: ${COMPREPLY[*]}\""; // compopt complains outside a real completion: 2>/dev/null
            Process process = new ProcessBuilder(bash.toString(), "--norc", "--noprofile", "-c", probe)
                    .redirectErrorStream(true).redirectOutput(out.toFile()).start();
            assertTrue(process.waitFor(30, TimeUnit.SECONDS), "bash exits");
            String text = Files.readString(out);
            assertEquals(0, process.exitValue(), text);
            assertEquals(List.of("complete -o default -F _complete_shmflux shmflux", "1: list",
                    "2: HEX LONGS DOUBLES UTF8"), text.lines().toList());
        } finally {
            Files.deleteIfExists(script);
            Files.deleteIfExists(out);
        }
    }
}
