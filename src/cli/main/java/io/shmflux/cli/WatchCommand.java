package io.shmflux.cli;

import io.shmflux.Access;
import io.shmflux.ChangeEvent;
import io.shmflux.FileMapping;
import io.shmflux.SharedMemory;
import io.shmflux.internal.inspect.Inspector;
import org.jspecify.annotations.Nullable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.util.concurrent.Callable;

/**
 * {@code shmflux watch NAME}: subscribes and prints each change as it comes, with a consistent read of
 * a range decoded as hex, longs, doubles or UTF-8. It is an ordinary subscriber: it holds the object
 * while it runs, and closes it on Ctrl-C.
 */
@Command(name = "watch",
        header = "Print each change as it comes, with a decoded read of a range.",
        description = {"Prints each change as it comes: sequence, offset, length, writer pid, missed (lapped) and "
                + "torn flags, then one consistent read of a range, decoded: the range given by --offset and "
                + "--length, or else the changed range (its first " + WatchCommand.CHANGED_RANGE_LIMIT + " bytes). "
                + "Stops after --count changes, or on Ctrl-C."})
final class WatchCommand implements Callable<Integer> {

    /** How much of a changed range is shown when no range was asked for. */
    static final int CHANGED_RANGE_LIMIT = 4096;
    /** The longest range one read may copy. */
    static final int MAX_RANGE = 1 << 20;

    @Parameters(paramLabel = "NAME", description = "the object's name")
    String name = "";

    @Option(names = "--offset", paramLabel = "BYTES", description = "where the range starts (default 0 if --length is given)")
    @Nullable Long offset;

    @Option(names = "--length", paramLabel = "BYTES", description = "the range's length (default: to the end of the object, "
            + "at most " + MAX_RANGE + ")")
    @Nullable Integer length;

    @Option(names = "--format", paramLabel = "FORMAT", defaultValue = "hex",
            description = "hex, longs, doubles or utf8 (default: ${DEFAULT-VALUE}); numbers in the platform's byte order")
    RangeFormat format = RangeFormat.HEX;

    @Option(names = "--count", paramLabel = "N", description = "stop after N changes (default: run until Ctrl-C)")
    @Nullable Long count;

    @Spec
    CommandSpec spec;

    /** A range of the object, checked against its size. */
    private record Range(long offset, int length) {
    }

    @Override
    public Integer call() {
        if (count != null && count <= 0) {
            throw usage("count must be positive: count=" + count);
        }
        FileMapping mapping = SharedMemory.open(name, Access.READ);
        Thread closer = new Thread(mapping::close, "shmflux-watch-stop"); // Ctrl-C: leave the object cleanly
        Runtime.getRuntime().addShutdownHook(closer);
        try (mapping) {
            Range range = requestedRange(mapping.byteSize());
            PrintWriter out = spec.commandLine().getOut();
            long limit = count == null ? Long.MAX_VALUE : count;
            String shown = Inspector.qualifiedName(name);
            mapping.changes()
                    .doOnSubscribe(subscription -> { // from now on no change is missed
                        out.println("watching " + shown + ": size=" + mapping.byteSize() + ", sequence="
                                + mapping.sequence() + ", range=" + (range == null ? "changed"
                                : "offset=" + range.offset() + " length=" + range.length()) + ", format="
                                + format.name().toLowerCase(java.util.Locale.ROOT)
                                + (count == null ? " (Ctrl-C stops)" : ", count=" + count));
                        out.flush();
                    })
                    .take(limit)
                    .doOnNext(event -> print(out, mapping, event, range))
                    .blockLast();
        } finally {
            try {
                Runtime.getRuntime().removeShutdownHook(closer);
            } catch (IllegalStateException shuttingDown) {
                // Ctrl-C: the hook is closing the mapping
            }
        }
        return ShmfluxTool.OK;
    }

    /** {@return the range --offset and --length ask for, or null for the changed ranges} */
    private @Nullable Range requestedRange(long size) {
        if (offset == null && length == null) {
            return null;
        }
        long start = offset == null ? 0 : offset;
        long bytes = length == null ? Math.min(size - start, MAX_RANGE) : length;
        String range = "offset=" + start + ", length=" + bytes + ", size=" + size;
        if (start < 0 || bytes <= 0 || start > size - bytes) {
            throw usage("range out of bounds: " + range);
        }
        if (bytes > MAX_RANGE) {
            throw usage("range too long: " + range + ", max=" + MAX_RANGE);
        }
        if (bytes % format.unit != 0) {
            throw usage("range not whole values: " + range + ", format=" + format.name().toLowerCase(java.util.Locale.ROOT)
                    + ", unit=" + format.unit);
        }
        return new Range(start, (int) bytes);
    }

    private void print(PrintWriter out, FileMapping mapping, ChangeEvent e, @Nullable Range range) {
        StringBuilder s = new StringBuilder();
        s.append("seq=").append(e.sequence()).append(" offset=").append(e.offset()).append(" length=")
                .append(e.length()).append(" writer=").append(e.writerPid()).append(" missed=").append(e.missed())
                .append(" torn=").append(e.torn()).append('\n');
        // one consistent copy (the range's state now, which may be newer than the event)
        if (range != null) {
            format.render(s, range.offset(), mapping.read(range.offset(), range.length()));
        } else if (e.length() > 0) {
            int shown = (int) Math.min(e.length(), CHANGED_RANGE_LIMIT);
            format.render(s, e.offset(), mapping.read(e.offset(), shown));
            if (shown < e.length()) {
                s.append("  (").append(e.length() - shown).append(" more bytes; --offset and --length choose a range)\n");
            }
        }
        out.print(s);
        out.flush();
    }

    private ShmfluxTool.UsageError usage(String message) {
        return new ShmfluxTool.UsageError(spec.commandLine(), message);
    }
}
