package io.shmflux.internal.layout;

import io.shmflux.testing.Repository;
import io.shmflux.CorruptObjectException;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static io.shmflux.internal.layout.ControlBlockDescriptor.*;
import static java.lang.foreign.MemoryLayout.PathElement.groupElement;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ControlBlockDescriptorTest {

    /** The fields in header order, with the constant derived from the layout and its size. */
    private record Field(String layoutName, long offset, long size) {
    }

    private static final List<Field> FIELDS = List.of(
            new Field("magic", MAGIC_OFFSET, 8),
            new Field("layoutVersion", LAYOUT_VERSION_OFFSET, 4),
            new Field("kind", KIND_OFFSET, 4),
            new Field("state", STATE_OFFSET, 4),
            new Field("flags", FLAGS_OFFSET, 4),
            new Field("dataSize", DATA_SIZE_OFFSET, 8),
            new Field("creatorPid", CREATOR_PID_OFFSET, 8),
            new Field("createdMillis", CREATED_MILLIS_OFFSET, 8),
            new Field("backingDevice", BACKING_DEVICE_OFFSET, 8),
            new Field("backingInode", BACKING_INODE_OFFSET, 8),
            new Field("nameLength", NAME_LENGTH_OFFSET, 4),
            new Field("pathLength", PATH_LENGTH_OFFSET, 4),
            new Field("name", NAME_OFFSET, NAME_CAPACITY),
            new Field("path", PATH_OFFSET, PATH_CAPACITY));

    @Test
    void theOffsetsInTheJavadocTableAreTheOffsetsOfTheLayout() {
        assertEquals(0, MAGIC_OFFSET);
        assertEquals(8, LAYOUT_VERSION_OFFSET);
        assertEquals(12, KIND_OFFSET);
        assertEquals(16, STATE_OFFSET);
        assertEquals(20, FLAGS_OFFSET);
        assertEquals(24, DATA_SIZE_OFFSET);
        assertEquals(32, CREATOR_PID_OFFSET);
        assertEquals(40, CREATED_MILLIS_OFFSET);
        assertEquals(48, BACKING_DEVICE_OFFSET);
        assertEquals(56, BACKING_INODE_OFFSET);
        assertEquals(64, NAME_LENGTH_OFFSET);
        assertEquals(68, PATH_LENGTH_OFFSET);
        assertEquals(128, NAME_OFFSET);
        assertEquals(1152, PATH_OFFSET);
    }

    @Test
    void eachConstantIsTheByteOffsetOfItsNamedLayoutMemberAndHasTheDocumentedSize() {
        for (Field field : FIELDS) {
            MemoryLayout member = LAYOUT.select(groupElement(field.layoutName()));
            assertEquals(LAYOUT.byteOffset(groupElement(field.layoutName())), field.offset(), field.layoutName());
            assertEquals(field.size(), member.byteSize(), field.layoutName());
        }
    }

    @Test
    void theJavadocTableListsEveryFieldWithTheLayoutsOffsetAndSize() throws IOException {
        String source = Files.readString(
                Repository.file("src/core/main/java/io/shmflux/internal/layout/ControlBlockDescriptor.java"));
        assertDocumentedTable(source, "<tr><td>(\\d+)</td><td>(\\d+)</td><td>");
    }

    @Test
    void theArchitectureDocumentListsEveryFieldWithTheLayoutsOffsetAndSize() throws IOException {
        String doc = Files.readString(Repository.file("src/site/markdown/architecture.md"));
        String table = doc.substring(doc.indexOf("<!-- control-block table -->"));
        assertDocumentedTable(table.substring(0, table.indexOf("\n\n")), "(?m)^\\| (\\d+) \\| (\\d+) \\|");
    }

    private static void assertDocumentedTable(String text, String row) {
        Matcher m = Pattern.compile(row).matcher(text);
        List<long[]> rows = new ArrayList<>();
        while (m.find()) {
            rows.add(new long[] {Long.parseLong(m.group(1)), Long.parseLong(m.group(2))});
        }
        assertEquals(FIELDS.size(), rows.size(), "rows in the table");
        for (int i = 0; i < FIELDS.size(); i++) {
            Field field = FIELDS.get(i);
            assertEquals(field.offset(), rows.get(i)[0], "documented offset of " + field.layoutName());
            assertEquals(field.size(), rows.get(i)[1], "documented size of " + field.layoutName());
        }
    }

    @Test
    void protocolWordsAreNaturallyAlignedAndLittleEndian() {
        for (MemoryLayout member : LAYOUT.memberLayouts()) {
            if (member instanceof ValueLayout value) {
                long offset = LAYOUT.byteOffset(groupElement(member.name().orElseThrow()));
                assertEquals(0, offset % value.byteSize(), member.toString());
                assertEquals(ByteOrder.LITTLE_ENDIAN, value.order(), member.toString());
            }
        }
    }

    @Test
    void theHeaderFitsInItsTwoPagesAndTheRegionAfterItIsPageAligned() {
        assertTrue(LAYOUT.byteSize() <= HEADER_LENGTH, () -> "layout " + LAYOUT.byteSize());
        assertEquals(PATH_OFFSET + PATH_CAPACITY, LAYOUT.byteSize());
        assertEquals(8192, HEADER_LENGTH);
        assertEquals(0, HEADER_LENGTH % 4096);
    }

    @Test
    void theMagicIsShmflux1ReadAsALittleEndianLong() {
        byte[] ascii = "SHMFLUX1".getBytes(StandardCharsets.US_ASCII);
        assertEquals(ByteBuffer.wrap(ascii).order(ByteOrder.LITTLE_ENDIAN).getLong(), MAGIC);
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment header = arena.allocate(HEADER_LENGTH, 8);
            putLong(header, MAGIC_OFFSET, MAGIC);
            assertArrayEquals(ascii, header.asSlice(MAGIC_OFFSET, 8).toArray(ValueLayout.JAVA_BYTE));
        }
    }

    @Test
    void checkHeaderAcceptsWhatACreatorWritesAndNamesTheFirstFieldThatBreaksARule() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment file = arena.allocate(HEADER_LENGTH, 8);
            putLong(file, MAGIC_OFFSET, MAGIC);
            putInt(file, LAYOUT_VERSION_OFFSET, LAYOUT_VERSION);
            putInt(file, KIND_OFFSET, KIND_FILE_MAPPING);
            putInt(file, STATE_OFFSET, STATE_READY);
            putInt(file, FLAGS_OFFSET, FLAG_RESERVE);
            putLong(file, DATA_SIZE_OFFSET, 4096);
            putInt(file, NAME_LENGTH_OFFSET, 1);
            checkHeader(file, "p");
            assertCorrupt("corrupt object: field=fileSize, value=8191, expected=at least 8192, path=p",
                    file.asSlice(0, HEADER_LENGTH - 1));
            putInt(file, LAYOUT_VERSION_OFFSET, LAYOUT_VERSION + 1);
            assertCorrupt("corrupt object: field=layoutVersion, value=" + (LAYOUT_VERSION + 1) + ", expected="
                    + LAYOUT_VERSION + ", path=p", file);
            putInt(file, LAYOUT_VERSION_OFFSET, LAYOUT_VERSION);
            putInt(file, KIND_OFFSET, 5);
            assertCorrupt("corrupt object: field=kind, value=5, expected=1 to 4, path=p", file);
            putInt(file, KIND_OFFSET, KIND_MUTEX);
            assertCorrupt("corrupt object: field=flags, value=0x2, expected=bits of 0x0, path=p", file);
            putInt(file, KIND_OFFSET, KIND_FILE_MAPPING);
            putInt(file, NAME_LENGTH_OFFSET, NAME_CAPACITY + 1);
            assertCorrupt("corrupt object: field=nameLength, value=1025, expected=1 to 1024, path=p", file);
            putInt(file, NAME_LENGTH_OFFSET, 1);
            putInt(file, PATH_LENGTH_OFFSET, -5);
            assertCorrupt("corrupt object: field=pathLength, value=-5, expected=0, path=p", file);
            putInt(file, FLAGS_OFFSET, FLAG_FILE_BACKED);
            putInt(file, PATH_LENGTH_OFFSET, 0x7fffffff);
            assertCorrupt("corrupt object: field=pathLength, value=2147483647, expected=1 to 4096, path=p", file);
            putInt(file, STATE_OFFSET, STATE_INITIALIZING);
            checkHeader(file, "p"); // the creator writes the path after the file got its name
            putLong(file, MAGIC_OFFSET, 0);
            assertCorrupt("corrupt object: field=magic, value=0x0, expected=0x" + Long.toHexString(MAGIC)
                    + ", path=p", file);
        }
    }

    private static void assertCorrupt(String message, MemorySegment file) {
        assertEquals(message, assertThrows(CorruptObjectException.class, () -> checkHeader(file, "p")).getMessage());
    }

    @Test
    void accessorsReadAndWriteLittleEndianWhateverTheNativeOrder() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment header = arena.allocate(HEADER_LENGTH, 8);
            putInt(header, STATE_OFFSET, 0x01020304);
            putLong(header, DATA_SIZE_OFFSET, 0x0102030405060708L);
            assertEquals(0x04, header.get(ValueLayout.JAVA_BYTE, STATE_OFFSET));
            assertEquals(0x08, header.get(ValueLayout.JAVA_BYTE, DATA_SIZE_OFFSET));
            assertEquals(0x01020304, getInt(header, STATE_OFFSET));
            assertEquals(0x0102030405060708L, getLong(header, DATA_SIZE_OFFSET));
        }
    }
}
