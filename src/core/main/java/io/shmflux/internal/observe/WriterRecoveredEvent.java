package io.shmflux.internal.observe;

import jdk.jfr.Category;
import jdk.jfr.Description;
import jdk.jfr.Label;
import jdk.jfr.Name;

/** A writer died inside a change; this process took the writer lock over and finished the change, flagged torn. */
@Name("io.shmflux.WriterRecovered")
@Label("Writer Recovered")
@Category("shmflux")
@Description("A writer died inside a change; this process took the writer lock over and finished the change, flagged torn.")
final class WriterRecoveredEvent extends jdk.jfr.Event {

    @Label("Object")
    String object = "";

    @Label("Sequence")
    long sequence;

    @Label("Offset")
    long offset;

    @Label("Length")
    long length;

    @Label("Dead Writer Pid")
    long writerPid;

    @Label("End Marker")
    @Description("the writer died completing the stream, not inside a change")
    boolean endMarker;
}
