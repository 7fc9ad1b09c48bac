package io.shmflux;

import io.shmflux.testing.NoLeftovers;
import io.shmflux.testing.TestNames;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

import static io.shmflux.SharedMemoryTest.assertMessage;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

@ExtendWith(NoLeftovers.class)
class MappedViewTest {

    private static final long SIZE = 3 * 4096 + 100;

    @Test
    void aViewCanStartAtAnyOffsetAndSeesTheObjectsBytesFromThere() {
        try (FileMapping mapping = SharedMemory.create(TestNames.unique("offsets"), SIZE);
             MappedView whole = mapping.map(Access.READ_WRITE)) {
            for (long i = 0; i < SIZE; i++) {
                whole.segment().set(ValueLayout.JAVA_BYTE, i, (byte) (i * 31));
            }
            for (long offset : new long[] {0, 1, 5, 4095, 4096, 4097, 8191, 2 * 4096 + 3, SIZE - 1}) {
                for (long length : new long[] {1, 3, SIZE - offset}) {
                    if (length > SIZE - offset) {
                        continue;
                    }
                    try (MappedView view = mapping.map(Access.READ, offset, length)) {
                        assertEquals(offset, view.offset());
                        assertEquals(length, view.byteSize());
                        assertEquals(length, view.segment().byteSize());
                        for (long i = 0; i < length; i++) {
                            assertEquals((byte) ((offset + i) * 31), view.segment().get(ValueLayout.JAVA_BYTE, i),
                                    "offset " + offset + " byte " + i);
                        }
                    }
                }
            }
        }
    }

    @Test
    void lengthZeroMapsToTheEndOfTheObject() {
        try (FileMapping mapping = SharedMemory.create(TestNames.unique("to-end"), SIZE);
             MappedView whole = mapping.map(Access.READ_WRITE);
             MappedView tail = mapping.map(Access.READ_WRITE, 4097, 0)) {
            assertEquals(SIZE, whole.byteSize());
            assertEquals(0, whole.offset());
            assertEquals(SIZE - 4097, tail.byteSize());
            tail.segment().set(ValueLayout.JAVA_BYTE, tail.byteSize() - 1, (byte) 7);
            assertEquals(7, whole.segment().get(ValueLayout.JAVA_BYTE, SIZE - 1));
        }
    }

    @Test
    void aRangeOutsideTheObjectIsAnInvalidParameterNamingOffsetLengthAndSize() {
        try (FileMapping mapping = SharedMemory.create(TestNames.unique("range"), SIZE)) {
            long[][] bad = {{-1, 0}, {0, -1}, {SIZE, 0}, {SIZE, 1}, {0, SIZE + 1}, {5, SIZE - 4},
                    {SIZE - 1, 2}, {1, Long.MAX_VALUE}, {Long.MAX_VALUE, 1}, {Long.MIN_VALUE, 0}};
            for (long[] r : bad) {
                InvalidParameterException e = assertThrows(InvalidParameterException.class,
                        () -> mapping.map(Access.READ, r[0], r[1]), () -> "accepted " + r[0] + "+" + r[1]);
                assertEquals("view out of range: offset=" + r[0] + ", length=" + r[1] + ", size=" + SIZE,
                        e.getMessage());
            }
        }
    }

    // ---- access ------------------------------------------------------------------------------

    @Test
    void aReadHandleCannotMapAWritableViewButCanMapACopyOnWriteOne() {
        String name = TestNames.unique("ro-handle");
        try (FileMapping owner = SharedMemory.create(name, 4096);
             FileMapping reader = SharedMemory.open(name, Access.READ)) {
            AccessDeniedException e = assertThrows(AccessDeniedException.class,
                    () -> reader.map(Access.READ_WRITE));
            assertMessage(e, "view access exceeds handle access: object=\"" + name
                    + "\", access=READ_WRITE, handleAccess=READ");
            try (MappedView cow = reader.map(Access.COPY_ON_WRITE);
                 MappedView read = reader.map(Access.READ)) {
                cow.segment().set(ValueLayout.JAVA_INT, 0, 5);
                assertEquals(5, cow.segment().get(ValueLayout.JAVA_INT, 0));
                assertEquals(0, read.segment().get(ValueLayout.JAVA_INT, 0));
            }
        }
    }

    @Test
    void aCopyOnWriteHandleMapsReadAndCopyOnWriteViewsOnly() {
        String name = TestNames.unique("cow-handle");
        try (FileMapping owner = SharedMemory.create(name, 4096);
             FileMapping cow = SharedMemory.open(name, Access.COPY_ON_WRITE)) {
            assertThrows(AccessDeniedException.class, () -> cow.map(Access.READ_WRITE));
            cow.map(Access.READ).close();
            cow.map(Access.COPY_ON_WRITE).close();
        }
    }

    @Test
    void aReadViewsSegmentIsReadOnlyAndRefusesWrites() {
        try (FileMapping mapping = SharedMemory.create(TestNames.unique("ro-view"), 4096);
             MappedView view = mapping.map(Access.READ)) {
            assertEquals(Access.READ, view.access());
            assertTrue(view.segment().isReadOnly());
            assertThrows(IllegalArgumentException.class, () -> view.segment().set(ValueLayout.JAVA_INT, 0, 1));
            assertThrows(IllegalArgumentException.class, () -> view.segment().fill((byte) 1));
        }
    }

    @Test
    void copyOnWriteWritesStayPrivateToTheView(@TempDir Path dir) throws IOException {
        try (FileMapping mapping = SharedMemory.create(TestNames.unique("cow"), 8192);
             MappedView shared = mapping.map(Access.READ_WRITE);
             MappedView cow = mapping.map(Access.COPY_ON_WRITE)) {
            shared.segment().set(ValueLayout.JAVA_LONG, 0, 1L);
            assertEquals(1L, cow.segment().get(ValueLayout.JAVA_LONG, 0), "untouched pages are shared");
            cow.segment().set(ValueLayout.JAVA_LONG, 0, 2L);
            cow.segment().set(ValueLayout.JAVA_LONG, 4096, 3L);
            assertEquals(2L, cow.segment().get(ValueLayout.JAVA_LONG, 0));
            assertEquals(1L, shared.segment().get(ValueLayout.JAVA_LONG, 0));
            assertEquals(0L, shared.segment().get(ValueLayout.JAVA_LONG, 4096));
            assertEquals(1L, readLong(mapping.dataPath(), 0), "the object's file never sees them");
            cow.flush();
            assertEquals(0L, readLong(mapping.dataPath(), 4096));
        }
        Path file = Files.write(dir.resolve("cow.bin"), new byte[4096]);
        try (FileMapping mapping = SharedMemory.createFromFile(file, null, 0);
             MappedView cow = mapping.map(Access.COPY_ON_WRITE)) {
            cow.segment().set(ValueLayout.JAVA_LONG, 8, 9L);
            cow.flush();
        }
        assertEquals(0L, readLong(file, 8), "a copy-on-write view never writes the backing file");
    }

    // ---- many views --------------------------------------------------------------------------

    @Test
    void manyViewsOfOneObjectEachHaveTheirOwnAddressAndShareTheBytes() {
        List<MappedView> views = new ArrayList<>();
        try (FileMapping mapping = SharedMemory.create(TestNames.unique("many"), 8192)) {
            for (int i = 0; i < 64; i++) {
                views.add(mapping.map(Access.READ_WRITE));
            }
            Set<Long> addresses = new HashSet<>();
            for (MappedView view : views) {
                assertTrue(addresses.add(view.segment().address()), "a view reused an address");
            }
            views.get(0).segment().set(ValueLayout.JAVA_LONG, 4096, 123L);
            for (MappedView view : views) {
                assertEquals(123L, view.segment().get(ValueLayout.JAVA_LONG, 4096));
            }
        } finally {
            views.forEach(MappedView::close);
        }
    }

    @Test
    void aViewAtAnUnalignedOffsetStartsExactlyThere() {
        try (FileMapping mapping = SharedMemory.create(TestNames.unique("unaligned"), 3 * 4096);
             MappedView whole = mapping.map(Access.READ_WRITE);
             MappedView at4097 = mapping.map(Access.READ_WRITE, 4097, 10)) {
            at4097.segment().set(ValueLayout.JAVA_BYTE, 0, (byte) 42);
            assertEquals(42, whole.segment().get(ValueLayout.JAVA_BYTE, 4097));
            assertEquals(0, whole.segment().get(ValueLayout.JAVA_BYTE, 4096));
            assertEquals(1, at4097.segment().address() % 4096, "the segment starts one byte into its page");
            assertThrows(IndexOutOfBoundsException.class, () -> at4097.segment().get(ValueLayout.JAVA_BYTE, 10));
        }
    }

    // ---- close -------------------------------------------------------------------------------

    @Test
    void closeIsIdempotent() {
        try (FileMapping mapping = SharedMemory.create(TestNames.unique("close-twice"), 4096)) {
            MappedView view = mapping.map(Access.READ_WRITE);
            assertTrue(view.isOpen());
            view.close();
            view.close();
            assertFalse(view.isOpen());
            assertTrue(view.toString().contains("closed"), view.toString());
        }
    }

    @Test
    void segmentAfterCloseThrowsHandleClosed() {
        String name = TestNames.unique("closed-view");
        try (FileMapping mapping = SharedMemory.create(name, 4096)) {
            MappedView view = mapping.map(Access.READ_WRITE, 100, 50);
            view.close();
            HandleClosedException e = assertThrows(HandleClosedException.class, view::segment);
            assertMessage(e, "view closed: object=\"" + name + "\", offset=100, length=50");
            assertThrows(HandleClosedException.class, view::flush);
            assertThrows(HandleClosedException.class, () -> view.flush(0, 1));
        }
    }

    @Test
    void aSegmentKeptFromBeforeCloseThrowsIllegalStateOnAccessInsteadOfCrashing() {
        try (FileMapping mapping = SharedMemory.create(TestNames.unique("stale"), 4096)) {
            MappedView view = mapping.map(Access.READ_WRITE);
            MemorySegment kept = view.segment();
            kept.set(ValueLayout.JAVA_LONG, 0, 1L);
            view.close();
            assertFalse(kept.scope().isAlive());
            assertThrows(IllegalStateException.class, () -> kept.get(ValueLayout.JAVA_LONG, 0));
            assertThrows(IllegalStateException.class, () -> kept.set(ValueLayout.JAVA_LONG, 0, 2L));
            assertThrows(IllegalStateException.class, () -> kept.fill((byte) 0));
        }
    }

    @Test
    void mapOnAClosedMappingThrowsHandleClosed() {
        String name = TestNames.unique("closed-mapping");
        FileMapping mapping = SharedMemory.create(name, 4096);
        mapping.close();
        HandleClosedException e = assertThrows(HandleClosedException.class, () -> mapping.map(Access.READ));
        assertMessage(e, "mapping closed: object=\"" + name + "\"");
        assertThrows(HandleClosedException.class, () -> mapping.map(Access.READ, 0, 1));
    }

    @Test
    void closingTheHandleWhileAViewIsOpenKeepsTheObjectAliveUntilTheViewCloses() {
        String name = TestNames.unique("view-keeps");
        FileMapping mapping = SharedMemory.create(name, 4096);
        Path data = mapping.dataPath();
        Path control = Path.of(data + ".ctl");
        MappedView view = mapping.map(Access.READ_WRITE);
        try {
            mapping.close();
            assertTrue(Files.exists(data) && Files.exists(control), "the view keeps the object");
            view.segment().set(ValueLayout.JAVA_LONG, 0, 77L);
            try (FileMapping again = SharedMemory.open(name, Access.READ);
                 MappedView other = again.map(Access.READ)) {
                assertEquals(77L, other.segment().get(ValueLayout.JAVA_LONG, 0));
            }
            assertTrue(Files.exists(data), "still held by the view");
        } finally {
            view.close();
        }
        assertFalse(Files.exists(data));
        assertFalse(Files.exists(control));
        assertThrows(ObjectNotFoundException.class, () -> SharedMemory.open(name, Access.READ));
    }

    @Test
    void theDataFileIsMappedInThisProcessWhileTheViewIsOpenAndNotAfterClose() throws IOException {
        try (FileMapping mapping = SharedMemory.create(TestNames.unique("maps"), 4096)) {
            String data = mapping.dataPath().toString();
            assertEquals(0, mappingsOf(data), "the handle alone maps no data");
            MappedView first = mapping.map(Access.READ_WRITE);
            MappedView second = mapping.map(Access.READ, 5, 0);
            assertEquals(2, mappingsOf(data));
            first.close();
            assertEquals(1, mappingsOf(data));
            second.close();
            assertEquals(0, mappingsOf(data));
        }
    }

    private static long mappingsOf(String path) throws IOException {
        try (var lines = Files.lines(Path.of("/proc/self/maps"))) {
            return lines.filter(line -> line.endsWith(" " + path)).count();
        }
    }

    // ---- flush -------------------------------------------------------------------------------

    @Test
    void flushOnAPagingFileObjectIsACheapSuccess() {
        try (FileMapping mapping = SharedMemory.create(TestNames.unique("flush"), 8192);
             MappedView view = mapping.map(Access.READ_WRITE, 7, 0)) {
            view.segment().set(ValueLayout.JAVA_LONG_UNALIGNED, 0, 1L);
            view.flush();
            view.flush(0, view.byteSize());
            view.flush(3, 10);
            view.flush(view.byteSize(), 0);
        }
    }

    @Test
    void flushWritesAFileBackedViewToItsFile(@TempDir Path dir) throws IOException {
        Path file = Files.write(dir.resolve("flush.bin"), new byte[3 * 4096]);
        try (FileMapping mapping = SharedMemory.createFromFile(file, null, 0);
             MappedView view = mapping.map(Access.READ_WRITE, 4097, 0)) {
            view.segment().set(ValueLayout.JAVA_LONG_UNALIGNED, 0, 0xABCDL);
            view.segment().set(ValueLayout.JAVA_LONG_UNALIGNED, 4096, 0xEF01L);
            view.flush(0, 8);
            view.flush(4096, 8);
            view.flush();
            assertEquals(0xABCDL, readLong(file, 4097));
            assertEquals(0xEF01L, readLong(file, 4097 + 4096));
        }
    }

    @Test
    void flushRefusesARangeOutsideTheView() {
        try (FileMapping mapping = SharedMemory.create(TestNames.unique("flush-range"), 8192);
             MappedView view = mapping.map(Access.READ_WRITE, 100, 1000)) {
            long[][] bad = {{-1, 1}, {0, -1}, {1001, 0}, {0, 1001}, {999, 2}, {1, Long.MAX_VALUE}};
            for (long[] r : bad) {
                InvalidParameterException e = assertThrows(InvalidParameterException.class,
                        () -> view.flush(r[0], r[1]));
                assertEquals("flush range out of view: offset=" + r[0] + ", length=" + r[1] + ", viewLength=1000",
                        e.getMessage());
            }
        }
    }

    private static long readLong(Path file, long offset) throws IOException {
        byte[] bytes = Files.readAllBytes(file);
        return ByteBuffer.wrap(bytes).order(ByteOrder.nativeOrder()).getLong((int) offset);
    }
}
