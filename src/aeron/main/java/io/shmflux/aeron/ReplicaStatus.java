package io.shmflux.aeron;

/**
 * Where a {@link MappingReplica} stands.
 *
 * @param state          what the replica is doing
 * @param sourceSequence the source's sequence the target's bytes are as of (0 before the first snapshot)
 * @param lost           for {@link State#GAP}: how many changes of the source were not received one by
 *                       one before the resync (the snapshot covers them); 0 otherwise, and 0 when the gap
 *                       is a torn change rather than a loss
 */
public record ReplicaStatus(State state, long sourceSequence, long lost) {

    /** The states, in the order a replica usually goes through them. */
    public enum State {
        /** Started; no source image yet. */
        CONNECTING,
        /** A source is there; a snapshot is requested and not applied yet. */
        CATCHING_UP,
        /** The snapshot is applied; every later change is applied as it arrives. */
        LIVE,
        /** A change was lost or torn: the replica resyncs from a snapshot (CATCHING_UP, then LIVE follow). */
        GAP,
        /**
         * The source closed (reported at once) or its image went away (Aeron's image liveness timeout: a
         * source killed); the target keeps its last consistent state.
         */
        SOURCE_LOST,
        /** The source's stream ended ({@code completeChanges}) and the target's was completed after the last change. */
        COMPLETED
    }

    static ReplicaStatus of(State state, long sourceSequence) {
        return new ReplicaStatus(state, sourceSequence, 0);
    }
}
