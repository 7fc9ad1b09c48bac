package io.shmflux.testing;

import java.util.HexFormat;
import java.util.concurrent.ThreadLocalRandom;

/** Object names no other test, run or process uses. */
public final class TestNames {

    /** Marks every name this JVM's tests make, so that leak checks only look at their own files. */
    public static final String RUN = "r" + HexFormat.of().toHexDigits(ThreadLocalRandom.current().nextInt()).substring(2);

    private TestNames() {
    }

    public static String unique(String hint) {
        return "t-" + RUN + "-" + hint + "-" + HexFormat.of().toHexDigits(ThreadLocalRandom.current().nextInt());
    }
}
