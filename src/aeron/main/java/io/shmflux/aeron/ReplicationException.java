package io.shmflux.aeron;

import io.shmflux.SharedMemoryException;
import org.jspecify.annotations.Nullable;

/** Replication cannot go on: the transport closed, or source and target do not match. */
public class ReplicationException extends SharedMemoryException {

    private static final long serialVersionUID = 1L;

    public ReplicationException(String message) {
        super(message);
    }

    public ReplicationException(String message, @Nullable Throwable cause) {
        super(message, cause);
    }
}
