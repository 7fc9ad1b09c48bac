package io.shmflux.internal.namespace;

import io.shmflux.InvalidNameException;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Objects;

/**
 * A validated object name and its file-name encoding.
 *
 * <p>Rules: an optional {@code Local\} (per user, the default) or {@code Global\} (machine-wide)
 * prefix, then 1 to {@value #MAX_LENGTH} characters, case-sensitive, with no {@code \}, no NUL and no
 * unpaired surrogate. Every other character is allowed.
 *
 * <p>Encoding ({@link #encoded()}): the bytes {@code A-Z a-z 0-9 _ -} of the UTF-8 form stand for
 * themselves; every other byte becomes {@code %XX} (upper-case hex). The result never contains
 * {@code /}, {@code .} or a control character, so it cannot leave the name-space directory, and it is
 * injective because {@code %} is itself escaped. An encoding longer than {@value #MAX_ENCODED} bytes is
 * replaced by {@code ~} and the SHA-256 of the UTF-8 name in hex; the full name is kept in the control
 * block and compared on every open, so a collision would be an error, never an alias.
 *
 * @param text  the name as the caller gave it, prefix included
 * @param scope the scope named by the prefix
 * @param bare  the name without its prefix
 */
public record ObjectName(String text, Scope scope, String bare) {

    /** The most characters after the prefix (Win32's MAX_PATH). */
    public static final int MAX_LENGTH = 260;
    /** The longest encoding used as is; longer ones are hashed. Leaves room for the prefix and suffix in NAME_MAX. */
    static final int MAX_ENCODED = 200;

    private static final String LOCAL_PREFIX = "Local\\";
    private static final String GLOBAL_PREFIX = "Global\\";

    /** Where the name is visible. */
    public enum Scope {
        /** Per user: the file name carries the user id. */
        LOCAL,
        /** Machine-wide. */
        GLOBAL
    }

    public ObjectName {
        Objects.requireNonNull(text, "text");
        Objects.requireNonNull(scope, "scope");
        Objects.requireNonNull(bare, "bare");
    }

    /**
     * Validates a name.
     *
     * @throws InvalidNameException if the name breaks a rule; the message says which
     */
    public static ObjectName parse(String name) {
        Objects.requireNonNull(name, "name");
        Scope scope = Scope.LOCAL;
        String bare = name;
        if (name.startsWith(LOCAL_PREFIX)) {
            bare = name.substring(LOCAL_PREFIX.length());
        } else if (name.startsWith(GLOBAL_PREFIX)) {
            scope = Scope.GLOBAL;
            bare = name.substring(GLOBAL_PREFIX.length());
        }
        if (bare.isEmpty()) {
            throw invalid("empty", name);
        }
        if (bare.length() > MAX_LENGTH) {
            throw new InvalidNameException("invalid name: reason=longer than " + MAX_LENGTH
                    + " characters, length=" + bare.length() + ", name=" + quote(name.substring(0, 40)) + "...");
        }
        for (int i = 0; i < bare.length(); i++) {
            char c = bare.charAt(i);
            if (c == '\\') {
                throw invalid("contains '\\' after the prefix (only Local\\ and Global\\ are prefixes)", name);
            }
            if (c == '\0') {
                throw invalid("contains NUL", name);
            }
            if (Character.isHighSurrogate(c) && i + 1 < bare.length() && Character.isLowSurrogate(bare.charAt(i + 1))) {
                i++;
            } else if (Character.isSurrogate(c)) {
                throw invalid("contains an unpaired surrogate at index " + i, name);
            }
        }
        return new ObjectName(name, scope, bare);
    }

    /** {@return the injective, path-safe encoding of the bare name} */
    public String encoded() {
        byte[] utf8 = bare.getBytes(StandardCharsets.UTF_8);
        StringBuilder out = new StringBuilder(utf8.length * 3);
        for (byte b : utf8) {
            int c = b & 0xff;
            if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-') {
                out.append((char) c);
            } else {
                out.append('%').append(Character.toUpperCase(Character.forDigit(c >> 4, 16)))
                        .append(Character.toUpperCase(Character.forDigit(c & 0xf, 16)));
            }
        }
        if (out.length() <= MAX_ENCODED) {
            return out.toString();
        }
        try {
            return "~" + HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(utf8));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is required of every JDK", e);
        }
    }

    /** {@return the name with control characters made visible, for messages} */
    public static String quote(String name) {
        StringBuilder out = new StringBuilder(name.length() + 2).append('"');
        name.codePoints().forEach(cp -> {
            if (cp < 0x20 || cp == 0x7f) {
                out.append(String.format("\\u%04x", cp));
            } else {
                out.appendCodePoint(cp);
            }
        });
        return out.append('"').toString();
    }

    @Override
    public String toString() {
        return text;
    }

    private static InvalidNameException invalid(String reason, String name) {
        return new InvalidNameException("invalid name: reason=" + reason + ", name=" + quote(name));
    }
}
