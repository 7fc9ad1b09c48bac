/**
 * Internal: the change protocol inside a file mapping's control file (seqlock, robust writer lock,
 * change ring, futex wait and wake) and the per-process dispatcher that serves subscribers. Not API.
 */
@NullMarked
package io.shmflux.internal.protocol;

import org.jspecify.annotations.NullMarked;
