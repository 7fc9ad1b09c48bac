package io.shmflux.samples;

import java.util.HashMap;
import java.util.Map;

/**
 * The samples' command-line options, all of the form {@code --key value}.
 */
public final class SampleArgs {

    private final Map<String, String> values = new HashMap<>();

    public SampleArgs(String[] args) {
        for (int i = 0; i < args.length; i += 2) {
            if (!args[i].startsWith("--") || i + 1 >= args.length) {
                throw new IllegalArgumentException("bad option: expected=--key value, got=" + args[i]);
            }
            values.put(args[i].substring(2), args[i + 1]);
        }
    }

    /** {@return the option's value, or {@code fallback}} */
    public String string(String key, String fallback) {
        return values.getOrDefault(key, fallback);
    }

    /** {@return the option's value as a number, or {@code fallback}} */
    public long number(String key, long fallback) {
        String value = values.get(key);
        return value == null ? fallback : Long.parseLong(value);
    }
}
