/**
 * Internal: the wait and wake protocols of the named sync objects (mutex, event, semaphore) and the
 * wait loop that runs them, alone or several at once. Not exported, not API.
 */
@NullMarked
package io.shmflux.internal.sync;

import org.jspecify.annotations.NullMarked;
