package io.shmflux.cli;

import io.shmflux.Access;
import io.shmflux.ChangeEvent;
import io.shmflux.FileMapping;
import io.shmflux.SharedMemory;
import io.shmflux.SharedMemoryException;
import io.shmflux.internal.inspect.ObjectInfo;
import io.shmflux.internal.namespace.ControlFile;
import io.shmflux.internal.namespace.NameSpace;
import io.shmflux.internal.namespace.ObjectName;

import java.io.IOException;
import java.io.PrintStream;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * {@code shmflux}: {@code ipcs} and {@code ipcrm} for shmflux objects.
 *
 * <pre>
 * java --enable-native-access=ALL-UNNAMED -jar target/shmflux-tool.jar COMMAND [ARGS]
 * </pre>
 *
 * Exit codes: 0 done; 1 failed or refused (the message on stderr says why, as
 * {@code what: key=value, ...}); 2 bad command line.
 */
public final class ShmfluxTool {

    static final int OK = 0;
    static final int FAILED = 1;
    static final int USAGE = 2;

    private static final String USAGE_TEXT = """
            usage: shmflux COMMAND [ARGS]

            Commands:
              list                     every object of this user (Local\\) and of the machine (Global\\):
                                       name, kind, size, backing, live holders, last sequence, stale or live
              inspect NAME             the control block decoded: layout, sizes, sequence, change ring,
                                       holder slots with pids, writer lock owner,
                                       back-pressure subscribers, end of stream
              watch NAME [--count N] [--bytes N]
                                       print change events as they come (it subscribes), each with a
                                       consistent hex and 64-bit view of the changed range (first
                                       --bytes, default 64); stops after N events or on Ctrl-C
              rm NAME [--force]        remove an object; refused while live processes hold it, unless
                                       --force (the name goes; holders keep their mappings until they close)
              gc                       reclaim every object whose holders all died
              help                     this text

            NAME is as the program gave it: "prices" or "Local\\prices" (this user), "Global\\prices".
            Every JVM using shmflux needs --enable-native-access=ALL-UNNAMED.
            Exit codes: 0 done, 1 failed or refused (reason on stderr), 2 bad command line.
            """;

    private final PrintStream out;
    private final PrintStream err;

    ShmfluxTool(PrintStream out, PrintStream err) {
        this.out = out;
        this.err = err;
    }

    public static void main(String[] args) {
        int code = new ShmfluxTool(System.out, System.err).run(args);
        System.out.flush();
        System.exit(code);
    }

    /** Runs one command; {@return the exit code} */
    int run(String[] args) {
        try {
            if (args.length == 0) {
                err.print(USAGE_TEXT);
                return USAGE;
            }
            Options options = new Options(args);
            return switch (args[0]) {
                case "list" -> list(options.done());
                case "inspect" -> inspect(options.lastName());
                case "watch" -> {
                    long count = options.number("--count", Long.MAX_VALUE);
                    long bytes = options.number("--bytes", 64);
                    yield watch(options.lastName(), count, (int) Math.min(bytes, 1 << 20));
                }
                case "rm" -> {
                    boolean force = options.flag("--force");
                    yield remove(options.lastName(), force);
                }
                case "gc" -> gc(options.done());
                case "help", "--help", "-h" -> {
                    out.print(USAGE_TEXT);
                    yield OK;
                }
                default -> throw new UsageException("unknown command: command=" + args[0]);
            };
        } catch (UsageException e) {
            err.println("shmflux: " + e.getMessage());
            err.println("run 'shmflux help' for usage");
            return USAGE;
        } catch (SharedMemoryException e) {
            err.println("shmflux: " + e.getMessage());
            return FAILED;
        } catch (IOException e) {
            err.println("shmflux: i/o error: cause=" + e);
            return FAILED;
        }
    }

    // ---- list -----------------------------------------------------------------------------------

    private int list(Options options) throws IOException {
        List<ObjectInfo> objects = objects();
        out.printf("%-32s %-13s %12s %-24s %7s %10s  %s%n", "NAME", "KIND", "SIZE", "BACKING", "HOLDERS",
                "SEQUENCE", "STATUS");
        for (ObjectInfo o : objects) {
            out.printf("%-32s %-13s %12d %-24s %7d %10s  %s%n", o.name(), o.kind(), o.dataSize(), o.backing(),
                    o.holders(), o.changeLog() == null ? "-" : String.valueOf(o.changeLog().sequence()),
                    o.status());
        }
        out.println(objects.size() + (objects.size() == 1 ? " object" : " objects"));
        return OK;
    }

    /** {@return every object of this user's Local\ scope and of Global\} */
    private List<ObjectInfo> objects() throws IOException {
        NameSpace ns = NameSpace.withoutReclaim();
        String local = NameSpace.PREFIX + ns.localTag() + ".";
        String global = NameSpace.PREFIX + "G.";
        List<ObjectInfo> objects = new ArrayList<>();
        try (DirectoryStream<Path> files = Files.newDirectoryStream(Path.of(ns.directory()),
                NameSpace.PREFIX + "*" + NameSpace.CONTROL_SUFFIX)) {
            for (Path file : files) {
                String fileName = file.getFileName().toString();
                String prefix = fileName.startsWith(local) ? "Local\\" : fileName.startsWith(global) ? "Global\\" : null;
                if (prefix == null) {
                    continue; // another user's Local\ object, or not an object
                }
                try {
                    objects.add(ObjectInfo.read(file, prefix));
                } catch (NoSuchFileException gone) {
                    // removed while we looked
                } catch (IOException e) {
                    objects.add(new ObjectInfo(prefix + "?", file, "?", "?", 0, 0, 0, "?", "?", 0, 0,
                            ObjectInfo.countHolders(ObjectInfo.lstat(file)), null, "unreadable: cause=" + e));
                }
            }
        }
        objects.sort((a, b) -> a.name().compareTo(b.name()));
        return objects;
    }

    // ---- inspect --------------------------------------------------------------------------------

    private int inspect(String name) throws IOException {
        ObjectInfo o = find(name);
        out.println("name:            " + o.name());
        out.println("kind:            " + o.kind());
        out.println("status:          " + (o.problem() != null ? o.problem() + " (the library refuses it"
                + (o.stale() && o.status().equals("corrupt") ? "; 'shmflux gc' removes it if it is yours" : "") + ")"
                : o.stale() ? "stale (no live holder: 'shmflux gc' reclaims it)" : "live"));
        out.println("state:           " + o.state());
        out.println("layout version:  " + o.layoutVersion());
        out.println("control file:    " + o.controlPath());
        out.println("data:            " + o.dataPath() + switch (o.backing()) {
            case "paging file" -> " (paging file)";
            case "-" -> " (no data: a sync object)";
            default -> " (file-backed)";
        });
        out.println("size:            " + o.dataSize() + " bytes");
        out.println("flags:           0x" + Integer.toHexString(o.flags()));
        out.println("created:         " + Instant.ofEpochMilli(o.createdMillis()) + " by pid " + o.creatorPid());
        out.println("live holders:    " + o.holders());
        ObjectInfo.ChangeLogInfo log = o.changeLog();
        if (log != null) {
            out.println("change log:");
            out.println("  sequence:      " + log.sequence() + (log.writing() ? " (a write is in progress)" : ""));
            out.println("  ring:          capacity " + log.ringCapacity() + " records, holds changes "
                    + (log.sequence() == 0 ? "none yet" : log.oldestRetained() + ".." + log.sequence()));
            if (log.endSequence() != 0) {
                out.println("  stream:        completed (end marker " + log.endSequence() + ")");
            }
            out.println("  writer lock:   " + (log.lockOwnerSlot() < 0 ? "free"
                    : "held by slot " + log.lockOwnerSlot() + " (pid " + log.lockOwnerPid() + ")"
                    + (log.lockContended() ? ", waiters" : "")));
            out.println("  holder slots:  " + log.liveSlots() + " live of " + log.slots().size() + " used");
            for (ObjectInfo.Slot slot : log.slots()) {
                out.println("    slot " + slot.index() + ": pid " + slot.pid() + (slot.alive() ? " alive" : " dead"));
            }
            if (!log.subscribers().isEmpty()) {
                out.println("  back-pressure subscribers:");
                for (ObjectInfo.Subscriber s : log.subscribers()) {
                    out.println("    slot " + s.index() + ": pid " + s.pid() + ", next change " + s.position()
                            + (s.alive() ? " alive" : " dead"));
                }
            }
        }
        return OK;
    }

    // ---- watch ----------------------------------------------------------------------------------

    private int watch(String name, long count, int bytes) {
        if (count <= 0 || bytes <= 0) {
            throw new UsageException("--count and --bytes must be positive: count=" + count + ", bytes=" + bytes);
        }
        FileMapping mapping = SharedMemory.open(name, Access.READ);
        Thread closer = new Thread(mapping::close, "shmflux-watch-stop"); // Ctrl-C: leave the object cleanly
        Runtime.getRuntime().addShutdownHook(closer);
        try (mapping) {
            ObjectName parsed = ObjectName.parse(name);
            String shown = (parsed.scope() == ObjectName.Scope.GLOBAL ? "Global\\" : "Local\\") + parsed.bare();
            mapping.changes()
                    .doOnSubscribe(subscription -> { // from now on no change is missed
                        out.println("watching " + shown + ": size=" + mapping.byteSize() + ", sequence="
                                + mapping.sequence() + (count == Long.MAX_VALUE ? " (Ctrl-C stops)" : ", count=" + count));
                        out.flush();
                    })
                    .take(count)
                    .doOnNext(event -> print(mapping, event, bytes))
                    .blockLast();
        } finally {
            try {
                Runtime.getRuntime().removeShutdownHook(closer);
            } catch (IllegalStateException shuttingDown) {
                // Ctrl-C: the hook is closing the mapping
            }
        }
        return OK;
    }

    private void print(FileMapping mapping, ChangeEvent e, int bytes) {
        StringBuilder s = new StringBuilder();
        if (e.missed() > 0) {
            s.append("lapped: missed ").append(e.missed()).append(" changes\n");
        }
        s.append("seq=").append(e.sequence()).append(" offset=").append(e.offset()).append(" length=")
                .append(e.length()).append(" writer=").append(e.writerPid())
                .append(e.torn() ? " TORN (the writer died mid-update)" : "").append('\n');
        int length = (int) Math.min(e.length(), bytes);
        if (length > 0) {
            // one consistent copy (the range's state now, which may be newer than the event)
            byte[] copy = mapping.read(e.offset(), length);
            hexDump(s, e.offset(), copy);
            if (length >= 8) {
                MemorySegment range = MemorySegment.ofArray(copy);
                s.append("  longs:");
                for (int i = 0; i + 8 <= length; i += 8) {
                    s.append(' ').append(range.get(ValueLayout.JAVA_LONG_UNALIGNED, i));
                }
                s.append('\n');
            }
            if (length < e.length()) {
                s.append("  (").append(e.length() - length).append(" more bytes; --bytes shows more)\n");
            }
        }
        out.print(s);
        out.flush();
    }

    private static void hexDump(StringBuilder s, long offset, byte[] bytes) {
        for (int row = 0; row < bytes.length; row += 16) {
            s.append(String.format(Locale.ROOT, "  %08x ", offset + row));
            StringBuilder ascii = new StringBuilder();
            for (int i = row; i < row + 16; i++) {
                if (i < bytes.length) {
                    int b = bytes[i] & 0xff;
                    s.append(String.format(" %02x", b));
                    ascii.append(b >= 0x20 && b < 0x7f ? (char) b : '.');
                } else {
                    s.append("   ");
                }
            }
            s.append("  |").append(ascii).append("|\n");
        }
    }

    // ---- rm and gc ------------------------------------------------------------------------------

    private int remove(String name, boolean force) throws IOException {
                   ObjectName parsed = ObjectName.parse(name);
        NameSpace ns = NameSpace.withoutReclaim();
        ObjectInfo o = find(name);
        if (o.stale()) {
            ControlFile.Reclaim reclaim = ns.reclaimIfStale(parsed);
            switch (reclaim.outcome()) {
                case RECLAIMED, GONE -> {
                }
                case LIVE -> throw new SharedMemoryException("cannot remove object: name=" + o.name()
                        + ", reason=a process took hold of it meanwhile");
                case KEPT -> throw new SharedMemoryException("cannot remove object: name=" + o.name() + ", path="
                        + o.controlPath() + ", " + reclaim.detail());
            }
            out.println("removed " + o.name() + " (" + (o.problem() != null ? o.status() : "stale") + ")");
            return OK;
        }
        if (!force) {
            err.println("shmflux: object in use: name=" + o.name() + ", holders=" + o.holders()
                    + ", reason=live processes hold it; --force removes the name anyway");
            return FAILED;
        }
        // like shm_unlink: the name goes now; live holders keep their mappings until they close
        if (o.backing().equals("paging file")) {
            Files.deleteIfExists(Path.of(ns.dataPath(parsed)));
        }
        Files.deleteIfExists(o.controlPath());
        out.println("removed " + o.name() + " (forced; " + o.holders() + " live holder"
                + (o.holders() == 1 ? "" : "s") + " keep their mappings until they close)");
        return OK;
    }

    /**
     * Reclaims with the library's own sweep, and reports each object it kept although nobody holds
     * it (squatted, hard-linked, another user's), with the reason; the next gc does not retry harder.
     */
    private int gc(Options options) throws IOException {
        List<ObjectInfo> stale = objects().stream().filter(ObjectInfo::stale).toList();
        Map<Path, ControlFile.Reclaim> outcomes = NameSpace.withoutReclaim().sweep();
        int reclaimed = 0;
        for (ObjectInfo o : stale) {
            ControlFile.Reclaim outcome = outcomes.get(o.controlPath());
            if (outcome == null) {
                continue;
            }
            switch (outcome.outcome()) {
                case RECLAIMED -> {
                    reclaimed++;
                    out.println("reclaimed " + o.name() + (o.problem() != null ? " (" + o.status() + ")" : ""));
                }
                case KEPT -> out.println("kept " + o.name() + ": path=" + o.controlPath() + ", " + outcome.detail());
                case LIVE, GONE -> {
                }
            }
        }
        out.println(reclaimed + (reclaimed == 1 ? " object" : " objects") + " reclaimed");
        return OK;
    }

    private ObjectInfo find(String name) throws IOException {
                   ObjectName parsed = ObjectName.parse(name);
        NameSpace ns = NameSpace.withoutReclaim();
        Path control = Path.of(ns.controlPath(parsed));
        try {
            return ObjectInfo.read(control, parsed.scope() == ObjectName.Scope.GLOBAL ? "Global\\" : "Local\\");
        } catch (NoSuchFileException e) {
            throw new io.shmflux.ObjectNotFoundException("object not found: name=" + ObjectName.quote(name)
                    + ", path=" + control);
        }
    }

    // ---- command line ---------------------------------------------------------------------------

    /** A bad command line: exit code 2. */
    static final class UsageException extends RuntimeException {
        UsageException(String message) {
            super(message);
        }
    }

    /** {@code COMMAND [NAME] [--flag] [--key value]}, parsed by hand: five commands need no library. */
    private static final class Options {
        private final String command;
        private final List<String> rest;

        Options(String[] args) {
            this.command = args[0];
            this.rest = new ArrayList<>(List.of(args).subList(1, args.length));
        }

        /** {@return the NAME argument, which must be the only one left} */
        String lastName() {
            if (rest.isEmpty() || rest.getFirst().startsWith("--")) {
                throw new UsageException(rest.isEmpty() ? "missing NAME: command=" + command
                        : "unknown option: command=" + command + ", option=" + rest.getFirst());
            }
            String name = rest.removeFirst();
            done();
            return name;
        }

        /** {@return this, after checking that every argument was used} */
        Options done() {
            if (!rest.isEmpty()) {
                throw new UsageException("unexpected arguments: command=" + command + ", arguments=" + rest);
            }
            return this;
        }

        boolean flag(String key) {
            return rest.remove(key);
        }

        long number(String key, long fallback) {
            int i = rest.indexOf(key);
            if (i < 0) {
                return fallback;
            }
            if (i + 1 >= rest.size()) {
                throw new UsageException("missing value: option=" + key);
            }
            try {
                long value = Long.parseLong(rest.get(i + 1));
                rest.subList(i, i + 2).clear();
                return value;
            } catch (NumberFormatException e) {
                throw new UsageException("not a number: option=" + key + ", value=" + rest.get(i + 1));
            }
        }
    }
}
