package io.shmflux.internal.sync;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.VarHandle;

/** Atomic access to aligned 32-bit words of a shared segment. Every access here is volatile (sequentially consistent). */
final class Words {

    private static final VarHandle INT = ValueLayout.JAVA_INT.varHandle();

    private Words() {
    }

    static int get(MemorySegment segment, long offset) {
        return (int) INT.getVolatile(segment, offset);
    }

    static void set(MemorySegment segment, long offset, int value) {
        INT.setVolatile(segment, offset, value);
    }

    static boolean cas(MemorySegment segment, long offset, int expected, int value) {
        return INT.compareAndSet(segment, offset, expected, value);
    }

    static int getAndSet(MemorySegment segment, long offset, int value) {
        return (int) INT.getAndSet(segment, offset, value);
    }

    static int getAndAdd(MemorySegment segment, long offset, int delta) {
        return (int) INT.getAndAdd(segment, offset, delta);
    }
}
