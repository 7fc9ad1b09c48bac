/**
 * The tool jar's launcher, compiled for Java 8: it runs the tool in a JDK 25 or later, whichever
 * {@code java} started the jar. Not API.
 */
@NullMarked
package io.shmflux.cli.launch;

import org.jspecify.annotations.NullMarked;
