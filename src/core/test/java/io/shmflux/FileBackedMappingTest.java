package io.shmflux;

import io.shmflux.testing.NoLeftovers;
import io.shmflux.testing.TestNames;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

import static io.shmflux.SharedMemoryTest.assertMessage;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Objects backed by a file the caller names: {@link SharedMemory#createFromFile}. */
@ExtendWith(NoLeftovers.class)
class FileBackedMappingTest {

    @TempDir
    Path dir;

    @Test
    void theMappingStartsWithTheFilesContents() throws IOException {
        byte[] contents = "hello, file mapping".getBytes(StandardCharsets.US_ASCII);
        Path file = Files.write(dir.resolve("hello.txt"), contents);
        try (FileMapping mapping = SharedMemory.createFromFile(file, null, 0);
             MappedView view = mapping.map(Access.READ)) {
            assertTrue(mapping.created());
            assertTrue(mapping.isFileBacked());
            assertNull(mapping.name());
            assertEquals(file.toRealPath(), mapping.dataPath());
            assertEquals(contents.length, mapping.byteSize());
            assertArrayEquals(contents, view.segment().toArray(ValueLayout.JAVA_BYTE));
        }
        assertArrayEquals(contents, Files.readAllBytes(file), "closing changes nothing");
    }

    @Test
    void aSizeLargerThanTheFileGrowsItWithZeros() throws IOException {
        Path file = Files.write(dir.resolve("grow.bin"), new byte[] {1, 2, 3});
        try (FileMapping mapping = SharedMemory.createFromFile(file, null, 10_000);
             MappedView view = mapping.map(Access.READ)) {
            assertEquals(10_000, mapping.byteSize());
            assertEquals(10_000, Files.size(file));
            assertEquals(3, view.segment().get(ValueLayout.JAVA_BYTE, 2));
            assertEquals(0, view.segment().get(ValueLayout.JAVA_BYTE, 9_999));
        }
        assertEquals(10_000, Files.size(file));
    }

    @Test
    void aSizeSmallerThanTheFileMapsItsBeginningAndLeavesTheFileAlone() throws IOException {
        Path file = Files.write(dir.resolve("part.bin"), new byte[8192]);
        try (FileMapping mapping = SharedMemory.createFromFile(file, null, 100)) {
            assertEquals(100, mapping.byteSize());
            assertThrows(InvalidParameterException.class, () -> mapping.map(Access.READ, 100, 1));
        }
        assertEquals(8192, Files.size(file));
    }

    @Test
    void sizeZeroMeansTheFilesSize() throws IOException {
        Path file = Files.write(dir.resolve("size0.bin"), new byte[12_345]);
        try (FileMapping mapping = SharedMemory.createFromFile(file, null, 0)) {
            assertEquals(12_345, mapping.byteSize());
        }
    }

    @Test
    void anEmptyFileWithSizeZeroIsAnInvalidParameter() throws IOException {
        Path file = Files.createFile(dir.resolve("empty.bin"));
        InvalidParameterException e = assertThrows(InvalidParameterException.class,
                () -> SharedMemory.createFromFile(file, null, 0));
        assertMessage(e, "invalid size: size=0, fileSize=0, path=" + file);
        String name = TestNames.unique("empty");
        assertThrows(InvalidParameterException.class, () -> SharedMemory.createFromFile(file, name, 0));
        assertThrows(ObjectNotFoundException.class, () -> SharedMemory.open(name, Access.READ), "nothing was made");
        // the failed attempts released the file
        try (FileMapping mapping = SharedMemory.createFromFile(file, null, 4096)) {
            assertEquals(4096, mapping.byteSize());
        }
    }

    @Test
    void aNegativeSizeIsAnInvalidParameter() throws IOException {
        Path file = Files.write(dir.resolve("neg.bin"), new byte[10]);
        InvalidParameterException e = assertThrows(InvalidParameterException.class,
                () -> SharedMemory.createFromFile(file, null, -1));
        assertMessage(e, "invalid size: size=-1");
    }

    @Test
    void aMissingFileIsNotFound() {
        Path file = dir.resolve("missing.bin");
        ObjectNotFoundException e = assertThrows(ObjectNotFoundException.class,
                () -> SharedMemory.createFromFile(file, null, 4096));
        assertMessage(e, "file not found: path=" + file);
        String name = TestNames.unique("missing-file");
        assertThrows(ObjectNotFoundException.class, () -> SharedMemory.createFromFile(file, name, 4096));
        assertThrows(ObjectNotFoundException.class, () -> SharedMemory.open(name, Access.READ), "nothing was made");
        assertFalse(Files.exists(file), "not created either");
    }

    @Test
    void aDirectoryOrADeviceIsNotAFileToMap() {
        InvalidParameterException e = assertThrows(InvalidParameterException.class,
                () -> SharedMemory.createFromFile(dir, null, 0));
        assertMessage(e, "not a regular file: path=" + dir);
        assertThrows(InvalidParameterException.class,
                () -> SharedMemory.createFromFile(dir, TestNames.unique("dir"), 0));
        assertThrows(InvalidParameterException.class,
                () -> SharedMemory.createFromFile(Path.of("/dev/null"), null, 10));
    }

    @Test
    void aSizeTheFileSystemCannotHoldIsOutOfSpaceAndLeavesTheFileAsItWas() throws IOException {
        Path file = Files.write(dir.resolve("toobig.bin"), new byte[10]);
        OutOfSpaceException e = assertThrows(OutOfSpaceException.class,
                () -> SharedMemory.createFromFile(file, null, Long.MAX_VALUE));
        assertMessage(e, "cannot grow file: path=" + file + ", fileSize=10, size=" + Long.MAX_VALUE);
        assertEquals(10, Files.size(file));
        SharedMemory.createFromFile(file, null, 0).close(); // and released it
    }

    @Test
    void aSecondObjectOnTheSameFileIsASharingViolationUntilTheFirstCloses() throws IOException {
        Path file = Files.write(dir.resolve("shared.bin"), new byte[4096]);
        String name = TestNames.unique("holder");
        String other = TestNames.unique("other");
        try (FileMapping first = SharedMemory.createFromFile(file, null, 0)) {
            SharingViolationException e = assertThrows(SharingViolationException.class,
                    () -> SharedMemory.createFromFile(file, null, 0));
            assertMessage(e, "file already mapped by another object: path=" + file);
            assertThrows(SharingViolationException.class, () -> SharedMemory.createFromFile(file, name, 0));
            assertThrows(ObjectNotFoundException.class, () -> SharedMemory.open(name, Access.READ),
                    "the refused named object was not left behind");
        }
        try (FileMapping named = SharedMemory.createFromFile(file, name, 0)) {
            assertTrue(named.created());
            assertThrows(SharingViolationException.class, () -> SharedMemory.createFromFile(file, null, 0));
            assertThrows(SharingViolationException.class, () -> SharedMemory.createFromFile(file, other, 0));
            assertThrows(SharingViolationException.class,
                    () -> SharedMemory.createFromFile(dir.resolve(".").resolve("shared.bin"), other, 0),
                    "another spelling of the path is the same file");
        }
        SharedMemory.createFromFile(file, other, 0).close();
    }

    @Test
    void aHardLinkToAHeldFileIsTheSameFile() throws IOException {
        Path file = Files.write(dir.resolve("orig.bin"), new byte[4096]);
        Path link = Files.createLink(dir.resolve("link.bin"), file);
        try (FileMapping first = SharedMemory.createFromFile(file, null, 0)) {
            assertThrows(SharingViolationException.class, () -> SharedMemory.createFromFile(link, null, 0));
        }
    }

    @Test
    void aNameHeldByAMappingOfAnotherFileIsAlreadyExists() throws IOException {
        Path file = Files.write(dir.resolve("a.bin"), new byte[4096]);
        Path another = Files.write(dir.resolve("b.bin"), new byte[4096]);
        String name = TestNames.unique("taken");
        try (FileMapping first = SharedMemory.createFromFile(file, name, 0)) {
            ObjectAlreadyExistsException e = assertThrows(ObjectAlreadyExistsException.class,
                    () -> SharedMemory.createFromFile(another, name, 0));
            assertMessage(e, "name held by a mapping of another file: name=\"" + name + "\", file=" + another);
            assertTrue(first.isOpen());
            // the refused file was not claimed
            SharedMemory.createFromFile(another, null, 0).close();
        }
    }

    @Test
    void aNameHeldByAPagingFileObjectIsAlreadyExists() throws IOException {
        Path file = Files.write(dir.resolve("p.bin"), new byte[4096]);
        String name = TestNames.unique("paging");
        try (FileMapping paging = SharedMemory.create(name, 4096)) {
            assertThrows(ObjectAlreadyExistsException.class, () -> SharedMemory.createFromFile(file, name, 0));
        }
    }

    @Test
    void theSameNameAndTheSameFileOpensTheExistingObject() throws IOException {
        Path file = Files.write(dir.resolve("same.bin"), new byte[4096]);
        String name = TestNames.unique("same");
        try (FileMapping first = SharedMemory.createFromFile(file, name, 0);
             MappedView writer = first.map(Access.READ_WRITE);
             FileMapping second = SharedMemory.createFromFile(file, name, 8192);
             MappedView reader = second.map(Access.READ)) {
            assertTrue(first.created());
            assertFalse(second.created());
            assertEquals(4096, second.byteSize(), "the existing object keeps its size");
            assertEquals(name, second.name());
            assertEquals(first.dataPath(), second.dataPath());
            writer.segment().set(ValueLayout.JAVA_INT, 0, 31);
            assertEquals(31, reader.segment().get(ValueLayout.JAVA_INT, 0));
        }
        assertEquals(4096, Files.size(file));
    }

    @Test
    void aNamedFileBackedObjectIsOpenedByNameWithoutThePath() throws IOException {
        Path file = Files.write(dir.resolve("byname.bin"), new byte[4096]);
        String name = TestNames.unique("byname");
        try (FileMapping created = SharedMemory.createFromFile(file, name, 0);
             FileMapping opened = SharedMemory.open(name, Access.READ)) {
            assertTrue(opened.isFileBacked());
            assertEquals(file.toRealPath(), opened.dataPath());
            assertEquals(4096, opened.byteSize());
            assertFalse(Files.exists(NoLeftovers.DEV_SHM.resolve(
                    created.dataPath().getFileName())), "no data file in /dev/shm");
        }
    }

    @Test
    void dataWrittenThroughAViewIsInTheFileAfterClose() throws IOException {
        Path file = Files.write(dir.resolve("written.bin"), new byte[2 * 4096]);
        String name = TestNames.unique("written");
        FileMapping mapping = SharedMemory.createFromFile(file, name, 0);
        try (MappedView view = mapping.map(Access.READ_WRITE, 4096 + 3, 0)) {
            view.segment().set(ValueLayout.JAVA_LONG_UNALIGNED, 0, 0x0102030405060708L);
        } finally {
            mapping.close();
        }
        ByteBuffer bytes = ByteBuffer.wrap(Files.readAllBytes(file)).order(ByteOrder.nativeOrder());
        assertEquals(0x0102030405060708L, bytes.getLong(4096 + 3));
        assertEquals(2 * 4096, bytes.capacity());
        assertThrows(ObjectNotFoundException.class, () -> SharedMemory.open(name, Access.READ),
                "the last close removed the name");
        assertTrue(Files.exists(file), "but never the file");
    }

    @Test
    void anUnnamedObjectWithAViewOpenKeepsTheFileClaimedAfterItsHandleCloses() throws IOException {
        Path file = Files.write(dir.resolve("unnamed.bin"), new byte[4096]);
        FileMapping mapping = SharedMemory.createFromFile(file, null, 0);
        MappedView view = mapping.map(Access.READ_WRITE);
        try {
            mapping.close();
            assertThrows(SharingViolationException.class, () -> SharedMemory.createFromFile(file, null, 0));
            view.segment().set(ValueLayout.JAVA_INT, 0, 6);
        } finally {
            view.close();
        }
        assertEquals(6, ByteBuffer.wrap(Files.readAllBytes(file)).order(ByteOrder.nativeOrder()).getInt(0));
        SharedMemory.createFromFile(file, null, 0).close();
    }

    @Test
    void touchingAPageTheFileNoLongerHasIsAnInternalErrorNotACrash() throws IOException {
        // the same SIGBUS a full /dev/shm raises on an uncommitted page of a RESERVE object
        Path file = Files.write(dir.resolve("shrunk.bin"), new byte[3 * 4096]);
        try (FileMapping mapping = SharedMemory.createFromFile(file, null, 0);
             MappedView view = mapping.map(Access.READ_WRITE)) {
            try (var channel = java.nio.channels.FileChannel.open(file, java.nio.file.StandardOpenOption.WRITE)) {
                channel.truncate(4096);
            }
            InternalError e = assertThrows(InternalError.class,
                    () -> view.segment().set(ValueLayout.JAVA_LONG, 2 * 4096, 1L));
            assertTrue(e.getMessage().contains("a fault occurred in an unsafe memory access operation"),
                    e.getMessage());
            view.segment().set(ValueLayout.JAVA_LONG, 0, 1L); // the pages the file still has work
        }
    }
}
