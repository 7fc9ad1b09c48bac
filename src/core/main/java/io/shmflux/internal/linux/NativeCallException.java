package io.shmflux.internal.linux;

import org.jspecify.annotations.Nullable;

/**
 * A libc call that returned -1. Checked on purpose: every caller must decide which errno is a normal
 * outcome and which becomes a public {@code SharedMemoryException}.
 */
public final class NativeCallException extends Exception {

    private static final long serialVersionUID = 1L;

    private final String call;
    private final int errno;

    public NativeCallException(String call, int errno, @Nullable String object) {
        super(call + " failed: errno=" + Errno.name(errno) + " (" + errno + ")"
                + (object == null ? "" : ", object=" + object), null, false, false);
        this.call = call;
        this.errno = errno;
    }

    public String call() {
        return call;
    }

    public int errno() {
        return errno;
    }

    public String errnoName() {
        return Errno.name(errno);
    }
}
