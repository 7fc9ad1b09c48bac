package io.shmflux.cli;

import io.shmflux.Access;
import io.shmflux.FileMapping;
import io.shmflux.SharedMemory;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * A child JVM that writes one value of each kind {@code watch} decodes, as three published changes:
 * the long {@link #LONG} at offset 0, the double {@link #DOUBLE} at 8, and {@link #TEXT} in UTF-8 at
 * 16, NUL-padded to {@link #TEXT_BYTES}. Args: NAME. Prints "ready", waits for "go" on stdin, then
 * prints "published 3" and exits.
 */
public final class ValueWriterChild {

    static final long LONG = -42;
    static final double DOUBLE = 2.5;
    /** Quotes, a backslash, a tab and non-ASCII: what a decoder must escape, not pass to a terminal. */
    static final String TEXT = "h\u00e9 \"q\" \\ \t!";
    static final int TEXT_BYTES = 32;

    public static void main(String[] args) throws Exception {
        try (FileMapping mapping = SharedMemory.open(args[0], Access.READ_WRITE)) {
            System.out.println("ready");
            String go = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8)).readLine();
            if (!"go".equals(go)) {
                throw new IllegalStateException("expected go: line=" + go);
            }
            mapping.publish(0, 8, r -> r.set(ValueLayout.JAVA_LONG, 0, LONG));
            mapping.publish(8, 8, r -> r.set(ValueLayout.JAVA_DOUBLE, 0, DOUBLE));
            mapping.publish(16, Arrays.copyOf(TEXT.getBytes(StandardCharsets.UTF_8), TEXT_BYTES));
            System.out.println("published 3");
        }
    }
}
