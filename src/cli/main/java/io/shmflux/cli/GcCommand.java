package io.shmflux.cli;

import io.shmflux.internal.inspect.Inspector;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

import java.io.IOException;
import java.io.PrintWriter;
import java.util.concurrent.Callable;

/** {@code shmflux gc}: reclaims every object whose holders all died. */
@Command(name = "gc",
        header = "Reclaim every object whose holders all died.",
        description = {"Reclaims every object whose holders all died (kill -9, crash), corrupt ones with both "
                + "their files, and names each; a stale object it may not remove is reported (kept NAME: ...), "
                + "never retried harder."})
final class GcCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws IOException {
        PrintWriter out = spec.commandLine().getOut();
        int reclaimed = 0;
        for (Inspector.Collected c : Inspector.of().gc()) {
            switch (c.outcome()) {
                case RECLAIMED -> {
                    reclaimed++;
                    out.println("reclaimed " + c.object().name()
                            + (c.object().problem() != null ? " (" + c.object().status() + ")" : ""));
                }
                case KEPT -> out.println("kept " + c.object().name() + ": path=" + c.object().controlPath() + ", "
                        + c.detail());
            }
        }
        out.println(reclaimed + (reclaimed == 1 ? " object" : " objects") + " reclaimed");
        return ShmfluxTool.OK;
    }
}
