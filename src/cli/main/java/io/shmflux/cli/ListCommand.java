package io.shmflux.cli;

import io.shmflux.internal.inspect.Inspector;
import io.shmflux.internal.inspect.ObjectInfo;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.IOException;
import java.io.PrintWriter;
import java.util.List;
import java.util.concurrent.Callable;

/** {@code shmflux list [--json]}: every object of this user and of the machine, one line each. */
@Command(name = "list",
        header = "Every object of this user and of the machine, one line each.",
        description = {"Every object of this user (Local\\) and of the machine (Global\\): name, kind, size, "
                + "backing, live holders, last sequence, and a status: live, stale, or why the library refuses "
                + "it (squatted, hard-linked, corrupt, ...). Looking never keeps an object alive nor removes it."})
final class ListCommand implements Callable<Integer> {

    @Option(names = "--json", description = "one JSON object: {\"directory\": ..., \"objects\": [...]} (fields in tool.md)")
    boolean json;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws IOException {
        Inspector inspector = Inspector.of();
        List<ObjectInfo> objects = inspector.list();
        PrintWriter out = spec.commandLine().getOut();
        if (json) {
            out.println(Json.write(ObjectJson.list(inspector.directory(), objects)));
            return ShmfluxTool.OK;
        }
        out.printf("%-32s %-13s %12s %-24s %7s %10s  %s%n", "NAME", "KIND", "SIZE", "BACKING", "HOLDERS",
                "SEQUENCE", "STATUS");
        for (ObjectInfo o : objects) {
            ObjectInfo.ChangeLogInfo log = o.changeLog();
            out.printf("%-32s %-13s %12d %-24s %7d %10s  %s%n", o.name(), o.kind(), o.dataSize(), o.backing(),
                    o.holders(), log == null ? "-" : String.valueOf(log.sequence()), o.status());
        }
        out.println(objects.size() + (objects.size() == 1 ? " object" : " objects"));
        return ShmfluxTool.OK;
    }
}
