package io.shmflux.internal.observe;

import jdk.jfr.Category;
import jdk.jfr.Description;
import jdk.jfr.Label;
import jdk.jfr.Name;

/** An object nobody holds any more (its holders died), or a corrupt or half-created one, was removed. */
@Name("io.shmflux.ObjectReclaimed")
@Label("Object Reclaimed")
@Category("shmflux")
@Description("An object nobody holds any more (its holders died), or a corrupt or half-created one, was removed.")
final class ObjectReclaimedEvent extends jdk.jfr.Event {

    @Label("Control File")
    String path = "";

    @Label("Reason")
    @Description("stale (every holder died), corrupt, half-created (its creator died), leftover temporary file")
    String reason = "";
}
