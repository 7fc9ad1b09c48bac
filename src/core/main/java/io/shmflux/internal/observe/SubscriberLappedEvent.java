package io.shmflux.internal.observe;

import jdk.jfr.Category;
import jdk.jfr.Description;
import jdk.jfr.Label;
import jdk.jfr.Name;

/** A REPORT subscriber fell a whole ring behind: changes were overwritten before it read them, and counted. */
@Name("io.shmflux.SubscriberLapped")
@Label("Subscriber Lapped")
@Category("shmflux")
@Description("A REPORT subscriber fell a whole ring behind: changes were overwritten before it read them, and counted.")
final class SubscriberLappedEvent extends jdk.jfr.Event {

    @Label("Object")
    String object = "";

    @Label("Missed")
    @Description("changes lost since the previous delivered change")
    long missed;

    @Label("Next Sequence")
    @Description("the sequence of the change delivered after the gap")
    long sequence;
}
