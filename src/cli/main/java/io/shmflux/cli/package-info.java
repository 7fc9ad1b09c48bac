/**
 * The {@code shmflux} command-line tool ({@code ipcs}/{@code ipcrm} for shmflux objects) on picocli:
 * list, inspect, watch, remove and reclaim the objects in the name space, through the library's
 * {@code io.shmflux.internal.inspect.Inspector}. Run it from the packaged jar:
 * {@code java -jar src/cli/target/shmflux-tool.jar --help}. Not API.
 */
@NullMarked
package io.shmflux.cli;

import org.jspecify.annotations.NullMarked;
