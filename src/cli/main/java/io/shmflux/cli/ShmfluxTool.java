package io.shmflux.cli;

import io.shmflux.SharedMemoryException;
import picocli.AutoComplete;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;

/**
 * {@code shmflux}: {@code ipcs} and {@code ipcrm} for shmflux objects, on picocli.
 *
 * <pre>
 * java -jar src/cli/target/shmflux-tool.jar COMMAND [ARGS]
 * </pre>
 *
 * Exit codes: 0 done; 1 refused, not found or failed (one line on stderr,
 * {@code shmflux: what: key=value, ...}); 2 bad command line (likewise); 3 no JDK 25 found (only the
 * jar's launcher, {@code io.shmflux.cli.launch.Launcher}, says that).
 */
@Command(name = "shmflux", mixinStandardHelpOptions = true, versionProvider = ToolVersion.class,
        scope = CommandLine.ScopeType.INHERIT, // -h, --help, -V, --version, the exit codes and the footer on every command
        description = "ipcs and ipcrm for shmflux objects: list, inspect, watch, remove and reclaim the "
                + "objects in the name space (/dev/shm, or -Dshmflux.dir).",
        subcommands = {ListCommand.class, InspectCommand.class, WatchCommand.class, RemoveCommand.class,
                GcCommand.class, CommandLine.HelpCommand.class, AutoComplete.GenerateCompletion.class},
        exitCodeListHeading = "%nExit codes:%n",
        exitCodeList = {
                "0:done",
                "1:refused, not found or failed: one line on stderr, 'shmflux: what: key=value, ...'",
                "2:bad command line (likewise one line)",
                "3:no JDK 25 or later found (the jar's launcher)"},
        footer = {"", "NAME is as the program gave it: prices or 'Local\\prices' (this user), 'Global\\prices'.",
                "'shmflux help COMMAND' or 'shmflux COMMAND --help' describes one command."})
public final class ShmfluxTool implements Runnable {

    static final int OK = 0;
    static final int FAILED = 1;
    static final int USAGE = 2;

    @Spec
    CommandSpec spec;

    public static void main(String[] args) {
        int code = run(args);
        System.exit(code);
    }

    /** Runs one command line; {@return the exit code} */
    static int run(String... args) {
        return run(commandLine(), args);
    }

    /** Runs one command line printing to {@code out} and {@code err}; {@return the exit code} */
    static int run(PrintWriter out, PrintWriter err, String... args) {
        return run(commandLine().setOut(out).setErr(err), args);
    }

    private static int run(CommandLine commandLine, String[] args) {
        int code = commandLine.execute(args);
        commandLine.getOut().flush();
        commandLine.getErr().flush();
        return code;
    }

    /** {@return the command tree, its handlers set: every error is one line on stderr} */
    static CommandLine commandLine() {
        CommandLine commandLine = new CommandLine(new ShmfluxTool());
        commandLine.setCaseInsensitiveEnumValuesAllowed(true);
        commandLine.getSubcommands().get("generate-completion").getCommandSpec().usageMessage().hidden(false);
        commandLine.setParameterExceptionHandler((e, args) -> {
            PrintWriter err = e.getCommandLine().getErr();
            err.println("shmflux: " + (e instanceof UsageError ? e.getMessage()
                    : "bad command line: command=" + e.getCommandLine().getCommandSpec().qualifiedName()
                    + ", reason=" + e.getMessage() + ", help=" + helpOf(e.getCommandLine())));
            return USAGE;
        });
        commandLine.setExecutionExceptionHandler((e, command, parseResult) -> {
            PrintWriter err = command.getErr();
            switch (e) {
                case SharedMemoryException failed -> err.println("shmflux: " + failed.getMessage());
                case IOException io -> err.println("shmflux: i/o error: cause=" + io);
                case UncheckedIOException io -> err.println("shmflux: i/o error: cause=" + io.getCause());
                default -> throw e; // a bug: the stack trace is worth more than one line
            }
            return FAILED;
        });
        return commandLine;
    }

    /** No command: a usage error, with the list of commands. */
    @Override
    public void run() {
        throw new UsageError(spec.commandLine(), "missing command: commands=" + spec.subcommands().keySet()
                + ", help=shmflux --help");
    }

    private static String helpOf(CommandLine command) {
        return command.getParent() == null ? "shmflux --help" : "shmflux help " + command.getCommandName();
    }

    /** A bad command line found by a command itself (a range out of bounds): exit 2, the message as it is. */
    static final class UsageError extends CommandLine.ParameterException {
        private static final long serialVersionUID = 1;

        UsageError(CommandLine commandLine, String message) {
            super(commandLine, message);
        }
    }
}
