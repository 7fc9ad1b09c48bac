package io.shmflux.internal.observe;

import jdk.jfr.Category;
import jdk.jfr.Description;
import jdk.jfr.Label;
import jdk.jfr.Name;

/** The last holder anywhere closed a named object: its files were removed (a file-backed object was written back first). */
@Name("io.shmflux.ObjectDestroyed")
@Label("Object Destroyed")
@Category("shmflux")
@Description("The last holder anywhere closed a named object: its files were removed (a file-backed object was written back first).")
final class ObjectDestroyedEvent extends jdk.jfr.Event {

    @Label("Name")
    String name = "";

    @Label("Kind")
    String kind = "";

    @Label("Control File")
    String path = "";
}
