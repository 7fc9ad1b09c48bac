/**
 * shmflux: named shared memory through file mapping, with a Reactor change feed.
 */
module io.shmflux {
    requires transitive reactor.core;
    requires transitive org.reactivestreams;
    requires static transitive org.jspecify;

    exports io.shmflux;
}
