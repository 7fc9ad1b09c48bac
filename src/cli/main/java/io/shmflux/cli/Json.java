package io.shmflux.cli;

import org.jspecify.annotations.Nullable;

import java.util.List;
import java.util.Map;

/**
 * A JSON encoder for the tool's {@code --json} output, small enough to need no library: maps (written
 * in their iteration order), lists, strings, integers, booleans and null. The output is pure ASCII
 * (every other character is a {@code \\u} escape), so no terminal or pipe encoding can garble a name;
 * names and paths are hostile input (quotes, backslashes, control characters), and they always come out
 * as one valid JSON string.
 */
final class Json {

    private Json() {
    }

    /** {@return {@code value} as JSON} */
    static String write(@Nullable Object value) {
        StringBuilder out = new StringBuilder();
        write(out, value);
        return out.toString();
    }

    private static void write(StringBuilder out, @Nullable Object value) {
        switch (value) {
            case null -> out.append("null");
            case String s -> quote(out, s);
            case Boolean b -> out.append(b);
            case Long n -> out.append(n);
            case Integer n -> out.append(n);
            case Map<?, ?> map -> {
                out.append('{');
                String separator = "";
                for (Map.Entry<?, ?> entry : map.entrySet()) {
                    out.append(separator);
                    quote(out, (String) entry.getKey());
                    out.append(':');
                    write(out, entry.getValue());
                    separator = ",";
                }
                out.append('}');
            }
            case List<?> list -> {
                out.append('[');
                String separator = "";
                for (Object element : list) {
                    out.append(separator);
                    write(out, element);
                    separator = ",";
                }
                out.append(']');
            }
            default -> throw new IllegalArgumentException("not a JSON value: type=" + value.getClass().getName());
        }
    }

    /** {@return {@code text} as a JSON string literal, in ASCII} */
    static String quote(String text) {
        StringBuilder out = new StringBuilder(text.length() + 2);
        quote(out, text);
        return out.toString();
    }

    private static void quote(StringBuilder out, String text) {
        out.append('"');
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            switch (c) {
                case '"' -> out.append("\\\"");
                case '\\' -> out.append("\\\\");
                case '\n' -> out.append("\\n");
                case '\r' -> out.append("\\r");
                case '\t' -> out.append("\\t");
                case '\b' -> out.append("\\b");
                case '\f' -> out.append("\\f");
                default -> {
                    if (c < 0x20 || c >= 0x7f) { // controls, DEL and all non-ASCII (UTF-16 units, so pairs stay pairs)
                        out.append(String.format("\\u%04x", (int) c));
                    } else {
                        out.append(c);
                    }
                }
            }
        }
        out.append('"');
    }
}
