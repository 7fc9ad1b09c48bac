package io.shmflux.cli;

import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class JsonTest {

    /** Names and paths are hostile: quotes, backslashes, every control character, non-ASCII, surrogate pairs. */
    private static final String HOSTILE = "q\"u\\o/te\n\r\t\b\f\u0000\u0001\u001f\u007f é 中 \uD83D\uDE00 \u2028 end";

    @Test
    void hostileStringsComeOutAsOneAsciiStringThatParsesBackToThemselves() {
        StringBuilder every = new StringBuilder(HOSTILE);
        for (char c = 0; c < 0x20; c++) {
            every.append(c);
        }
        String json = Json.quote(every.toString());
        assertTrue(json.chars().allMatch(c -> c >= 0x20 && c < 0x7f), json);
        assertEquals(every.toString(), JsonParser.parse(json));
        assertTrue(json.startsWith("\"q\\\"u\\\\o/te\\n\\r\\t\\b\\f\\u0000\\u0001\\u001f\\u007f \\u00e9 "), json);
    }

    @Test
    void mapsListsNumbersBooleansAndNullNestAndKeepTheirOrder() {
        Map<String, Object> inner = new LinkedHashMap<>();
        inner.put("z", 1);
        inner.put("a", Long.MIN_VALUE);
        Map<String, Object> outer = new LinkedHashMap<>();
        outer.put("list", Arrays.asList(inner, true, false, null, List.of()));
        outer.put(HOSTILE, "v");
        outer.put("empty", Map.of());
        String json = Json.write(outer);
        assertTrue(json.startsWith("{\"list\":[{\"z\":1,\"a\":-9223372036854775808},true,false,null,[]],"), json);
        Map<String, Object> back = JsonParser.object(JsonParser.parse(json));
        assertEquals(List.of("list", HOSTILE, "empty"), List.copyOf(back.keySet()));
        assertEquals("v", back.get(HOSTILE));
        assertEquals(List.of(Map.of("z", 1L, "a", Long.MIN_VALUE), true, false, JsonParser.NULL, List.of()), back.get("list"));
    }

    @Test
    void aValueThatIsNotJsonIsRefusedWithItsType() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Json.write(List.of(1.5)));
        assertEquals("not a JSON value: type=java.lang.Double", e.getMessage());
    }
}
