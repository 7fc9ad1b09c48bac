/**
 * The {@code shmflux} command-line tool ({@code ipcs}/{@code ipcrm} for shmflux objects): list,
 * inspect, watch, remove and reclaim the objects in the name space. Run it from the packaged jar:
 * {@code java --enable-native-access=ALL-UNNAMED -jar target/shmflux-tool.jar help}. Not API.
 */
@NullMarked
package io.shmflux.cli;

import org.jspecify.annotations.NullMarked;
