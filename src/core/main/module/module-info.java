/**
 * shmflux: named shared memory through file mapping, with a Reactor change feed.
 *
 * <p>Only the API packages are exported; {@code io.shmflux.internal.*} stays inside the module. This
 * file is compiled apart from the other sources and added to the jar after packaging (see pom.xml):
 * Maven runs on an older JDK here, and its plugins cannot read a Java 25 module descriptor.
 */
module io.shmflux {
    requires transitive reactor.core;
    requires transitive org.reactivestreams;
    requires static transitive org.jspecify;
    // JFR events (io.shmflux.*): part of the JDK, no dependency
    requires jdk.jfr;

    exports io.shmflux;
    exports io.shmflux.sync;
}
