package io.shmflux.internal.sync;

import io.shmflux.HandleClosedException;
import io.shmflux.internal.namespace.ControlFile;
import io.shmflux.internal.namespace.NameSpace;
import io.shmflux.internal.namespace.ObjectKind;
import io.shmflux.internal.namespace.ObjectName;

import java.lang.foreign.MemorySegment;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * One handle to a sync object: its control file (whose region holds the shared words), and the
 * bookkeeping that makes {@link #close()} idempotent and safe while other threads are inside a call.
 *
 * <p>Every operation runs between {@link #enter()} and {@link #exit()}. {@code close()} marks the
 * handle closed at once (new calls throw {@link HandleClosedException}; waits in progress throw it at
 * their next slice) and the control file is released when the last call in progress leaves, so no
 * thread ever touches an unmapped word.
 */
public final class SyncHandle implements AutoCloseable {

    /** Permission bits of sync objects' control files: the owner only. */
    public static final int MODE = 0600;
    static final Duration BUSY_TIMEOUT = Duration.ofSeconds(10);
    private static final int CLOSED = 1 << 30;

    private final ControlFile control;
    private final ObjectKind kind;
    private volatile Runnable onRelease = () -> { };
    private final AtomicInteger state = new AtomicInteger();
    private final AtomicBoolean released = new AtomicBoolean();

    private SyncHandle(ControlFile control, ObjectKind kind) {
        this.control = control;
        this.kind = kind;
    }

    /** Creates or opens the object; {@code initializer} fills a new object's region. */
    public static SyncHandle acquire(String nameText, ObjectKind kind, long regionLength,
                                     ControlFile.Disposition disposition, ControlFile.Initializer initializer) {
        ObjectName name = ObjectName.parse(nameText);
        NameSpace ns = NameSpace.get();
        ControlFile control = ControlFile.acquire(ns, name, new ControlFile.Spec(kind, regionLength, MODE, 0),
                disposition, false, BUSY_TIMEOUT, initializer);
        return new SyncHandle(control, kind);
    }

    /** Sets what runs (once) just before the control file is released. */
    void onRelease(Runnable action) {
        this.onRelease = action;
    }

    public ControlFile control() {
        return control;
    }

    public MemorySegment region() {
        return control.region();
    }

    public boolean created() {
        return control.created();
    }

    public String name() {
        return control.name().text();
    }

    /** {@return {@code kind name="..."}, for messages} */
    public String describe() {
        return kind.displayName() + " " + ObjectName.quote(control.name().text());
    }

    public boolean isOpen() {
        return (state.get() & CLOSED) == 0;
    }

    /** Starts a call on the handle. */
    public void enter() {
        while (true) {
            int s = state.get();
            if ((s & CLOSED) != 0) {
                throw closed();
            }
            if (state.compareAndSet(s, s + 1)) {
                return;
            }
        }
    }

    /** Ends a call started by {@link #enter()}. */
    public void exit() {
        if (state.decrementAndGet() == CLOSED) {
            releaseNow();
        }
    }

    /** Runs {@code call} between {@link #enter()} and {@link #exit()}. */
    public void run(Runnable call) {
        enter();
        try {
            call.run();
        } finally {
            exit();
        }
    }

    /** {@return what {@code call} returns}, run between {@link #enter()} and {@link #exit()} */
    public <T> T call(java.util.function.Supplier<T> call) {
        enter();
        try {
            return call.get();
        } finally {
            exit();
        }
    }

    /** Throws {@link HandleClosedException} if {@link #close()} was called (checked by waits at every slice). */
    public void checkOpen() {
        if (!isOpen()) {
            throw closed();
        }
    }

    public HandleClosedException closed() {
        return new HandleClosedException("handle closed: object=" + describe());
    }

    /** Idempotent. */
    @Override
    public void close() {
        while (true) {
            int s = state.get();
            if ((s & CLOSED) != 0) {
                return;
            }
            if (state.compareAndSet(s, s | CLOSED)) {
                if (s == 0) {
                    releaseNow();
                }
                return;
            }
        }
    }

    private void releaseNow() {
        if (released.compareAndSet(false, true)) {
            try {
                onRelease.run();
            } finally {
                control.close();
            }
        }
    }
}
