package io.shmflux.cli;

import io.shmflux.internal.inspect.Inspector;
import io.shmflux.internal.inspect.ObjectInfo;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

import java.io.IOException;
import java.util.concurrent.Callable;

/** {@code shmflux rm NAME [--force]}: removes one object, refused while live processes hold it. */
@Command(name = "rm",
        header = "Remove an object (refused while live processes hold it, unless --force).",
        description = {"Removes an object. A stale one is reclaimed by the lifetime protocol; one the library "
                + "may not remove (squatted, hard-linked, another user's) is refused with the reason; one that "
                + "live processes hold is refused unless --force. A file-backed object's file is never deleted."})
final class RemoveCommand implements Callable<Integer> {

    @Parameters(paramLabel = "NAME", description = "the object's name")
    String name = "";

    @Option(names = "--force", description = "remove the name even while live processes hold it (like shm_unlink: "
            + "they keep their mappings until they close)")
    boolean force;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws IOException {
        Inspector.Removal removal = Inspector.of().remove(name, force ? Inspector.Force.YES : Inspector.Force.NO);
        ObjectInfo o = removal.object();
        switch (removal.outcome()) {
            case RECLAIMED -> spec.commandLine().getOut().println("removed " + o.name() + " ("
                    + (o.problem() != null ? o.status() : "stale") + ")");
            case FORCED -> spec.commandLine().getOut().println("removed " + o.name() + " (forced; " + o.holders()
                    + " live holder" + (o.holders() == 1 ? "" : "s") + " keep their mappings until they close)");
            case IN_USE -> {
                spec.commandLine().getErr().println("shmflux: object in use: name=" + o.name() + ", holders="
                        + o.holders() + ", " + removal.detail() + (force ? "" : "; --force removes the name anyway"));
                return ShmfluxTool.FAILED;
            }
            case KEPT -> {
                spec.commandLine().getErr().println("shmflux: cannot remove object: name=" + o.name() + ", path="
                        + o.controlPath() + ", " + removal.detail());
                return ShmfluxTool.FAILED;
            }
        }
        return ShmfluxTool.OK;
    }
}
