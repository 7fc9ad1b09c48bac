package io.shmflux.internal.namespace;

import io.shmflux.Access;
import io.shmflux.FileMapping;
import io.shmflux.InvalidNameException;
import io.shmflux.MappedView;
import io.shmflux.SharedMemory;
import io.shmflux.testing.NoLeftovers;
import io.shmflux.testing.TestNames;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

@ExtendWith(NoLeftovers.class)
class ObjectNameTest {

    /** {@code what: key=value, ...} */
    private static final Pattern MESSAGE_FORM = Pattern.compile("[a-z][a-z ]*: [a-zA-Z]+=.+");
    /** What an encoded name may consist of. */
    private static final Pattern ENCODED_FORM = Pattern.compile("[A-Za-z0-9_%-]{1,200}|~[0-9a-f]{64}");

    // ---- rules -------------------------------------------------------------------------------

    @Test
    void aNameWithoutPrefixIsLocal() {
        ObjectName name = ObjectName.parse("prices");
        assertEquals(ObjectName.Scope.LOCAL, name.scope());
        assertEquals("prices", name.bare());
        assertEquals("prices", name.text());
    }

    @Test
    void theLocalPrefixIsTheDefaultScopeSpelledOut() {
        ObjectName name = ObjectName.parse("Local\\prices");
        assertEquals(ObjectName.Scope.LOCAL, name.scope());
        assertEquals("prices", name.bare());
        assertEquals(ObjectName.parse("prices").encoded(), name.encoded());
    }

    @Test
    void theGlobalPrefixMakesTheNameMachineWide() {
        ObjectName name = ObjectName.parse("Global\\prices");
        assertEquals(ObjectName.Scope.GLOBAL, name.scope());
        assertEquals("prices", name.bare());
    }

    @Test
    void localAndGlobalNamesOfTheSameBareNameAreDifferentFiles() {
        NameSpace ns = NameSpace.get();
        assertNotEquals(ns.dataPath(ObjectName.parse("Local\\x")), ns.dataPath(ObjectName.parse("Global\\x")));
    }

    @Test
    void oneCharacterIsTheShortestName() {
        assertEquals("a", ObjectName.parse("a").bare());
    }

    @Test
    void anEmptyNameIsRefused() {
        assertInvalid("", "empty");
        assertInvalid("Local\\", "empty");
        assertInvalid("Global\\", "empty");
    }

    @Test
    void twoHundredSixtyCharactersAfterThePrefixAreAllowedAndOneMoreIsNot() {
        String longest = "n".repeat(ObjectName.MAX_LENGTH);
        assertEquals(260, ObjectName.MAX_LENGTH);
        assertEquals(longest, ObjectName.parse(longest).bare());
        assertEquals(longest, ObjectName.parse("Local\\" + longest).bare());
        assertEquals(longest, ObjectName.parse("Global\\" + longest).bare());
        InvalidNameException e = assertThrows(InvalidNameException.class, () -> ObjectName.parse(longest + "n"));
        assertMessageForm(e);
        assertTrue(e.getMessage().contains("reason=longer than 260 characters"), e.getMessage());
        assertTrue(e.getMessage().contains("length=261"), e.getMessage());
        assertThrows(InvalidNameException.class, () -> ObjectName.parse("Global\\" + longest + "n"));
    }

    @Test
    void aBackslashAfterThePrefixIsRefused() {
        assertInvalid("a\\b", "contains '\\'");
        assertInvalid("Local\\a\\b", "contains '\\'");
        assertInvalid("Global\\Local\\b", "contains '\\'");
        assertInvalid("Session\\1\\b", "contains '\\'");
    }

    @Test
    void prefixesAreCaseSensitiveSoALowerCasePrefixIsABackslashInTheName() {
        assertInvalid("local\\a", "contains '\\'");
        assertInvalid("GLOBAL\\a", "contains '\\'");
    }

    @Test
    void aNulCharacterIsRefusedAndShownEscapedInTheMessage() {
        InvalidNameException e = assertInvalid("a\0b", "contains NUL");
        assertTrue(e.getMessage().contains("name=\"a\\u0000b\""), e.getMessage());
    }

    @Test
    void unpairedSurrogatesAreRefused() {
        assertInvalid("a\uD800", "unpaired surrogate");
        assertInvalid("\uDC00a", "unpaired surrogate");
        assertInvalid("a\uD800b", "unpaired surrogate");
        assertInvalid("\uDC00\uD800", "unpaired surrogate");
    }

    @Test
    void pairedSurrogatesAreAllowed() {
        String emoji = "rocket-\uD83D\uDE80";
        assertEquals(emoji, ObjectName.parse(emoji).bare());
    }

    @Test
    void namesAreCaseSensitive() {
        assertNotEquals(ObjectName.parse("Prices").encoded(), ObjectName.parse("prices").encoded());
    }

    @Test
    void aNameOfOtherCharactersIsAllowed() {
        for (String name : List.of("..", "/", "a/b", "a b", "tab\there", "line\nbreak", "%", "~", "a:b*c?",
                "Ünïcødé", "\u0001\u001f\u007f")) {
            assertEquals(name, ObjectName.parse(name).bare());
        }
    }

    // ---- encoding ----------------------------------------------------------------------------

    @Test
    void lettersDigitsUnderscoreAndDashStandForThemselves() {
        assertEquals("Az09_-", ObjectName.parse("Az09_-").encoded());
    }

    @Test
    void everyOtherByteIsPercentEncodedInUpperCaseHex() {
        assertEquals("a%2Eb", ObjectName.parse("a.b").encoded());
        assertEquals("a%2Fb", ObjectName.parse("a/b").encoded());
        assertEquals("%25", ObjectName.parse("%").encoded());
        assertEquals("%C3%9C", ObjectName.parse("Ü").encoded());
        assertEquals("%0A", ObjectName.parse("\n").encoded());
    }

    @Test
    void theEncodingIsInjectiveBecauseThePercentSignIsItselfEncoded() {
        List<String> names = List.of("a.b", "a%2Eb", "a/b", "a%2Fb", "a%252Eb", "a_b", "a-b", "a b", "A.b", "a..b",
                "..", ".", "%2E%2E", "~", "~" + "0".repeat(64));
        Set<String> encodings = new HashSet<>();
        for (String name : names) {
            assertTrue(encodings.add(ObjectName.parse(name).encoded()), () -> "two names encode alike: " + name);
        }
    }

    @Test
    void anEncodingLongerThanTwoHundredBytesIsReplacedByATildeAndTheSha256OfTheName() {
        String exactly200 = "x".repeat(200);
        assertEquals(exactly200, ObjectName.parse(exactly200).encoded());
        String longName = "x".repeat(201);
        assertTrue(ObjectName.parse(longName).encoded().matches("~[0-9a-f]{64}"));
        // 67 dots: 67 * 3 = 201 encoded bytes from a 67-character name
        String dots = ".".repeat(67);
        assertTrue(ObjectName.parse(dots).encoded().startsWith("~"));
        assertEquals("%2E".repeat(66), ObjectName.parse(".".repeat(66)).encoded());
        // hashed encodings differ from each other and are stable
        assertNotEquals(ObjectName.parse(longName).encoded(), ObjectName.parse("y".repeat(201)).encoded());
        assertEquals(ObjectName.parse(longName).encoded(), ObjectName.parse("Local\\" + longName).encoded());
    }

    static Stream<String> hostileNames() {
        return Stream.of("..", ".", "../../etc/passwd", "/", "//", "a/b", "/etc/passwd", "..\u2215..", "~",
                "%", "%2F", "%2E%2E", "-", "ctl.ctl", "x.ctl", "tmp.1.2",
                "\u0001\u0002\u001b[31m\u007f", "\n", "\r\n", "\t", " ", "\uFEFF", "\uD83D\uDE80",
                "/".repeat(260), ".".repeat(260), "\u00ff".repeat(260), "\uD83D\uDE80".repeat(130));
    }

    @ParameterizedTest
    @MethodSource("hostileNames")
    void theFilesOfAnyNameAreDirectlyInTheNameSpaceDirectory(String bare) {
        NameSpace ns = NameSpace.get();
        Path directory = Path.of(ns.directory());
        for (String text : List.of(bare, "Local\\" + bare, "Global\\" + bare)) {
            ObjectName name = ObjectName.parse(text);
            assertTrue(ENCODED_FORM.matcher(name.encoded()).matches(), name.encoded());
            for (String file : List.of(ns.dataPath(name), ns.controlPath(name))) {
                Path path = Path.of(file);
                assertEquals(directory, path.getParent(), file);
                assertEquals(path, path.normalize(), file);
                String fileName = file.substring(ns.directory().length() + 1);
                assertFalse(fileName.contains("/"), file);
                assertTrue(fileName.startsWith(NameSpace.PREFIX), file);
                assertTrue(fileName.chars().allMatch(c -> c > 0x20 && c < 0x7f), file);
                assertTrue(fileName.length() <= 255, () -> "longer than NAME_MAX: " + file);
            }
        }
    }

    @ParameterizedTest
    @MethodSource("hostileNames")
    void anObjectWithAnyNameReallyWorksAndItsFilesLandInTheNameSpaceDirectoryOnly(String bare) {
        Set<String> before = NoLeftovers.ours();
        String text = uniqueVariantOf(bare);
        Path data;
        try (FileMapping mapping = SharedMemory.create(text, 4096);
             MappedView view = mapping.map(Access.READ_WRITE)) {
            data = mapping.dataPath();
            assertEquals(NoLeftovers.DEV_SHM, data.getParent());
            assertEquals(text, mapping.name());
            view.segment().set(ValueLayout.JAVA_LONG, 0, 4242L);
            try (FileMapping again = SharedMemory.open(text, Access.READ);
                 MappedView other = again.map(Access.READ)) {
                assertEquals(4242L, other.segment().get(ValueLayout.JAVA_LONG, 0));
            }
            Set<String> added = NoLeftovers.ours();
            added.removeAll(before);
            String dataFile = data.getFileName().toString();
            assertTrue(added.contains(dataFile) && added.contains(dataFile + ".ctl"), () -> "new files: " + added);
            assertTrue(Files.isRegularFile(data));
        }
        assertFalse(Files.exists(data));
        assertFalse(Files.exists(Path.of(data + ".ctl")));
    }

    @Test
    void aNameTooLongForTheFileSystemStillWorksThroughItsHash() {
        String base = TestNames.unique("long");
        String text = base + "\u00ff".repeat(ObjectName.MAX_LENGTH - base.length());
        try (FileMapping mapping = SharedMemory.create(text, 4096)) {
            assertTrue(mapping.dataPath().getFileName().toString().matches("shmflux\\.L\\d+\\.~[0-9a-f]{64}"),
                    mapping.dataPath().toString());
            try (FileMapping again = SharedMemory.open(text, Access.READ)) {
                assertEquals(mapping.dataPath(), again.dataPath());
            }
        }
    }

    @Test
    void quoteMakesControlCharactersVisible() {
        assertEquals("\"a\\u000ab\\u007f\"", ObjectName.quote("a\nb\u007f"));
    }

    /** {@return the name made unique by a suffix, still at most 260 characters, surrogate pairs kept whole} */
    private static String uniqueVariantOf(String bare) {
        String suffix = "." + TestNames.unique("hostile");
        int keep = Math.min(bare.length(), ObjectName.MAX_LENGTH - suffix.length());
        if (keep > 0 && Character.isHighSurrogate(bare.charAt(keep - 1))) {
            keep--;
        }
        return bare.substring(0, keep) + suffix;
    }

    private static InvalidNameException assertInvalid(String name, String reason) {
        InvalidNameException e = assertThrows(InvalidNameException.class, () -> ObjectName.parse(name),
                () -> "accepted: " + ObjectName.quote(name));
        assertMessageForm(e);
        assertTrue(e.getMessage().startsWith("invalid name: reason="), e.getMessage());
        assertTrue(e.getMessage().contains(reason), e.getMessage());
        assertTrue(e.getMessage().contains("name=\""), e.getMessage());
        return e;
    }

    private static void assertMessageForm(Exception e) {
        assertTrue(MESSAGE_FORM.matcher(e.getMessage()).matches(), () -> "not 'what: key=value': " + e.getMessage());
    }
}
