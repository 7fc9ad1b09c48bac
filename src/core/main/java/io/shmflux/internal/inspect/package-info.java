/**
 * Looking at objects without joining them, for the command-line tool: what a control file says and
 * who holds it. Not API: the module does not export it; the tool reaches it on the class path.
 */
@NullMarked
package io.shmflux.internal.inspect;

import org.jspecify.annotations.NullMarked;
