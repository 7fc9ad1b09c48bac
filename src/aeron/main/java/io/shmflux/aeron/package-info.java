/**
 * A file mapping and its change feed replicated to other processes and hosts over Aeron.
 *
 * <p>{@link io.shmflux.aeron.MappingReplicator} sends every change of a source mapping, in order, on
 * an Aeron stream and answers snapshot requests; {@link io.shmflux.aeron.MappingReplica} applies them
 * to a target mapping through {@code publish}, so that the target's local subscribers see an ordinary
 * change feed. {@link io.shmflux.aeron.EmbeddedDriver} starts a media driver of its own where there is
 * none. The wire format is {@link io.shmflux.aeron.MessageDescriptor}.
 */
@NullMarked
package io.shmflux.aeron;

import org.jspecify.annotations.NullMarked;
