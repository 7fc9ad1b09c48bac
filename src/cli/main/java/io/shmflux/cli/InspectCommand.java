package io.shmflux.cli;

import io.shmflux.internal.inspect.Inspector;
import io.shmflux.internal.inspect.ObjectInfo;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

import java.io.IOException;
import java.io.PrintWriter;
import java.time.Instant;
import java.util.concurrent.Callable;

/** {@code shmflux inspect NAME [--json]}: one object's control block decoded. */
@Command(name = "inspect",
        header = "One object's control block decoded.",
        description = {"The control block decoded: kind, state, layout, files, size, creator, live holders; "
                + "for a file mapping its change log: sequence, the ring and the changes it holds, the writer "
                + "lock, the holder slots with their pids, the back-pressure subscribers, the end of the stream."})
final class InspectCommand implements Callable<Integer> {

    @Parameters(paramLabel = "NAME", description = "the object's name: prices, 'Local\\prices', 'Global\\prices'")
    String name = "";

    @Option(names = "--json", description = "one JSON object (fields in tool.md)")
    boolean json;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws IOException {
        ObjectInfo o = Inspector.of().inspect(name);
        PrintWriter out = spec.commandLine().getOut();
        if (json) {
            out.println(Json.write(ObjectJson.of(o)));
            return ShmfluxTool.OK;
        }
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
        return ShmfluxTool.OK;
    }
}
