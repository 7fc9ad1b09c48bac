package io.shmflux.internal.observe;

import jdk.jfr.Category;
import jdk.jfr.Description;
import jdk.jfr.Label;
import jdk.jfr.Name;

/** A change whose writer died half-way was delivered to a subscriber, flagged torn. */
@Name("io.shmflux.TornChange")
@Label("Torn Change Delivered")
@Category("shmflux")
@Description("A change whose writer died half-way was delivered to a subscriber, flagged torn.")
final class TornChangeEvent extends jdk.jfr.Event {

    @Label("Object")
    String object = "";

    @Label("Sequence")
    long sequence;

    @Label("Offset")
    long offset;

    @Label("Length")
    long length;
}
