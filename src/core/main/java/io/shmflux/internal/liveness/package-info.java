/**
 * Liveness, one concept: a <em>lease</em> proven by an open-file-description lock that the kernel
 * drops when its holder closes the file or dies, however it dies. {@link io.shmflux.internal.liveness.LeaseTable}
 * hands out and probes leases ({@link io.shmflux.internal.liveness.LeaseState}: alive, dead, never
 * existed); {@link io.shmflux.internal.liveness.RobustLock} is the one lock algorithm built on them,
 * used by the change log's writer lock and by named mutexes. No process id is ever involved, so pid
 * reuse cannot fool it, and it works across pid namespaces.
 */
@NullMarked
package io.shmflux.internal.liveness;

import org.jspecify.annotations.NullMarked;
