package io.shmflux.cli;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.charset.CharacterCodingException;
import java.util.Locale;

/**
 * How {@code watch} shows the bytes of a range: {@code --format hex|longs|doubles|utf8}. Numbers are
 * read in the platform's byte order (little-endian on x86_64 and aarch64), the order the library's
 * views and record layouts write.
 */
enum RangeFormat {
    /** A hex dump, 16 bytes a row, with the offsets in the object and the printable ASCII. */
    HEX(1),
    /** 64-bit signed integers. */
    LONGS(8),
    /** 64-bit IEEE 754 doubles. */
    DOUBLES(8),
    /** UTF-8 text as a JSON string literal (control characters escaped), trailing NUL padding dropped. */
    UTF8(1);

    /** The size of one value: a requested range must be a multiple of it. */
    final int unit;

    RangeFormat(int unit) {
        this.unit = unit;
    }

    /** Appends {@code bytes}, read from {@code offset} of the object, as lines indented by two spaces. */
    void render(StringBuilder s, long offset, byte[] bytes) {
        switch (this) {
            case HEX -> hexDump(s, offset, bytes);
            case LONGS, DOUBLES -> {
                MemorySegment range = MemorySegment.ofArray(bytes);
                s.append(this == LONGS ? "  longs:" : "  doubles:");
                int whole = bytes.length - bytes.length % 8;
                for (int i = 0; i < whole; i += 8) {
                    s.append(' ').append(this == LONGS ? String.valueOf(range.get(ValueLayout.JAVA_LONG_UNALIGNED, i))
                            : String.valueOf(range.get(ValueLayout.JAVA_DOUBLE_UNALIGNED, i)));
                }
                if (whole < bytes.length) {
                    s.append(" (+").append(bytes.length - whole).append(" bytes)");
                }
                s.append('\n');
            }
            case UTF8 -> {
                int end = bytes.length;
                while (end > 0 && bytes[end - 1] == 0) {
                    end--;
                }
                s.append("  utf8: ").append(Json.quote(decode(bytes, end))).append('\n');
            }
        }
    }

    private static String decode(byte[] bytes, int length) {
        try {
            return StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPLACE)
                    .onUnmappableCharacter(CodingErrorAction.REPLACE).decode(ByteBuffer.wrap(bytes, 0, length)).toString();
        } catch (CharacterCodingException e) {
            throw new IllegalStateException("REPLACE never throws", e);
        }
    }

    private static void hexDump(StringBuilder s, long offset, byte[] bytes) {
        for (int row = 0; row < bytes.length; row += 16) {
            s.append(String.format(Locale.ROOT, "  %08x ", offset + row));
            StringBuilder ascii = new StringBuilder();
            for (int i = row; i < row + 16; i++) {
                if (i < bytes.length) {
                    int b = bytes[i] & 0xff;
                    s.append(String.format(Locale.ROOT, " %02x", b));
                    ascii.append(b >= 0x20 && b < 0x7f ? (char) b : '.');
                } else {
                    s.append("   ");
                }
            }
            s.append("  |").append(ascii).append("|\n");
        }
    }
}
