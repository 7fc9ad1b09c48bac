package io.shmflux.testing;

import java.util.HexFormat;
import java.util.concurrent.ThreadLocalRandom;

/** Object names no other test, run or process uses. */
public final class TestNames {

    private TestNames() {
    }

    public static String unique(String hint) {
        return "t-" + hint + "-" + HexFormat.of().toHexDigits(ThreadLocalRandom.current().nextInt());
    }
}
