package io.shmflux.internal.observe;

import jdk.jfr.Category;
import jdk.jfr.Description;
import jdk.jfr.Label;
import jdk.jfr.Name;

/** A publisher waited for the slowest BACK_PRESSURE subscriber to make room in the ring. */
@Name("io.shmflux.BackPressureWait")
@Label("Back-Pressure Wait")
@Category("shmflux")
@Description("A publisher waited for the slowest BACK_PRESSURE subscriber to make room in the ring.")
final class BackPressureWaitEvent extends jdk.jfr.Event {

    @Label("Object")
    String object = "";

    @Label("Sequence")
    @Description("the change that waited for room")
    long sequence;

    @Label("Timed Out")
    boolean timedOut;
}
