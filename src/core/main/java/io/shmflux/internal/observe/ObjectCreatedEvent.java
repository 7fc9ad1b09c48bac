package io.shmflux.internal.observe;

import jdk.jfr.Category;
import jdk.jfr.Description;
import jdk.jfr.Label;
import jdk.jfr.Name;

/** A process created a named object: its files now exist in the name space. */
@Name("io.shmflux.ObjectCreated")
@Label("Object Created")
@Category("shmflux")
@Description("A process created a named object: its files now exist in the name space.")
final class ObjectCreatedEvent extends jdk.jfr.Event {

    @Label("Name")
    String name = "";

    @Label("Kind")
    String kind = "";

    @Label("Control File")
    String path = "";
}
