package io.shmflux;

import io.shmflux.internal.linux.FileStat;
import io.shmflux.internal.linux.Libc;
import io.shmflux.internal.linux.NativeCallException;
import io.shmflux.internal.namespace.ControlFile;
import io.shmflux.internal.namespace.NameSpace;
import io.shmflux.internal.namespace.ObjectKind;
import io.shmflux.internal.namespace.ObjectName;
import io.shmflux.testing.NoLeftovers;
import io.shmflux.testing.TestNames;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.function.Executable;

import java.io.IOException;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Paging-file-backed objects: the {@link SharedMemory} factories and {@link FileMapping} handles. */
@ExtendWith(NoLeftovers.class)
class SharedMemoryTest {

    private static final long MIB = 1L << 20;
    private static final long GIB = 1L << 30;
    private static final Pattern MESSAGE_FORM = Pattern.compile("[a-z][a-z ]*: [a-zA-Z]+=.+");

    // ---- create, open, create-or-open ---------------------------------------------------------

    @Test
    void createMakesANewZeroFilledObjectOfTheGivenSize() {
        String name = TestNames.unique("create");
        try (FileMapping mapping = SharedMemory.create(name, 10_000);
             MappedView view = mapping.map(Access.READ)) {
            assertTrue(mapping.created());
            assertEquals(name, mapping.name());
            assertEquals(10_000, mapping.byteSize());
            assertEquals(Access.READ_WRITE, mapping.access());
            assertFalse(mapping.isFileBacked());
            assertTrue(mapping.isOpen());
            assertEquals(10_000, view.segment().byteSize());
            for (long i = 0; i < 10_000; i++) {
                assertEquals(0, view.segment().get(ValueLayout.JAVA_BYTE, i));
            }
        }
    }

    @Test
    void createFailsWithObjectAlreadyExistsWhenTheNameExists() {
        String name = TestNames.unique("exists");
        try (FileMapping first = SharedMemory.create(name, 4096)) {
            ObjectAlreadyExistsException e = assertThrows(ObjectAlreadyExistsException.class,
                    () -> SharedMemory.create(name, 4096));
            assertMessage(e, "object already exists: name=\"" + name + "\"");
            assertTrue(first.isOpen());
        }
    }

    @Test
    void openFailsWithObjectNotFoundWhenTheNameDoesNotExist() {
        String name = TestNames.unique("missing");
        ObjectNotFoundException e = assertThrows(ObjectNotFoundException.class,
                () -> SharedMemory.open(name, Access.READ));
        assertMessage(e, "object not found: name=\"" + name + "\"");
        assertThrows(ObjectNotFoundException.class, () -> SharedMemory.open(name, Access.READ_WRITE));
    }

    @Test
    void openFindsTheObjectWithItsSizeAndTheRequestedAccess() {
        String name = TestNames.unique("open");
        try (FileMapping created = SharedMemory.create(name, 12_345);
             FileMapping opened = SharedMemory.open(name, Access.READ)) {
            assertFalse(opened.created());
            assertEquals(12_345, opened.byteSize());
            assertEquals(Access.READ, opened.access());
            assertEquals(created.dataPath(), opened.dataPath());
        }
    }

    @Test
    void createOrOpenCreatesWhenTheNameIsFree() {
        String name = TestNames.unique("coo-new");
        try (FileMapping mapping = SharedMemory.createOrOpen(name, 8192)) {
            assertTrue(mapping.created());
            assertEquals(8192, mapping.byteSize());
        }
    }

    @Test
    void createOrOpenKeepsTheExistingObjectAndItsSizeAndSaysItDidNotCreate() {
        String name = TestNames.unique("coo-old");
        try (FileMapping first = SharedMemory.create(name, 8192);
             MappedView writer = first.map(Access.READ_WRITE);
             FileMapping second = SharedMemory.createOrOpen(name, 1_000_000);
             MappedView reader = second.map(Access.READ_WRITE)) {
            assertFalse(second.created());
            assertEquals(8192, second.byteSize());
            assertEquals(8192, reader.byteSize());
            writer.segment().set(ValueLayout.JAVA_LONG, 64, 99L);
            assertEquals(99L, reader.segment().get(ValueLayout.JAVA_LONG, 64));
        }
    }

    @Test
    void threadsRacingCreateOrOpenCreateExactlyOnceAndShareOneObject() throws Exception {
        String name = TestNames.unique("thread-race");
        int threads = 8;
        CountDownLatch start = new CountDownLatch(1);
        List<Future<FileMapping>> results = new ArrayList<>();
        List<FileMapping> mappings = new ArrayList<>();
        try (var pool = Executors.newFixedThreadPool(threads)) {
            for (int i = 0; i < threads; i++) {
                results.add(pool.submit(() -> {
                    start.await();
                    return SharedMemory.createOrOpen(name, 65536);
                }));
            }
            start.countDown();
            for (var result : results) {
                mappings.add(result.get(30, TimeUnit.SECONDS));
            }
        } finally {
            for (var result : results) {
                if (result.state() == Future.State.SUCCESS && !mappings.contains(result.resultNow())) {
                    mappings.add(result.resultNow());
                }
            }
        }
        try {
            assertEquals(1, mappings.stream().filter(FileMapping::created).count(), "exactly one creates");
            for (int i = 0; i < threads; i++) {
                try (MappedView view = mappings.get(i).map(Access.READ_WRITE)) {
                    assertEquals(65536, view.byteSize());
                    view.segment().set(ValueLayout.JAVA_LONG, i * 8L, i + 1L);
                }
            }
            try (MappedView view = mappings.getFirst().map(Access.READ)) {
                for (int i = 0; i < threads; i++) {
                    assertEquals(i + 1L, view.segment().get(ValueLayout.JAVA_LONG, i * 8L), "all share one object");
                }
            }
        } finally {
            mappings.forEach(FileMapping::close);
        }
    }

    @Test
    void theObjectIsGoneOnceTheLastHandleCloses() {
        String name = TestNames.unique("gone");
        FileMapping first = SharedMemory.create(name, 4096);
        FileMapping second = SharedMemory.open(name, Access.READ);
        Path data = first.dataPath();
        first.close();
        assertTrue(Files.exists(data), "the second handle keeps it");
        second.close();
        assertFalse(Files.exists(data));
        assertFalse(Files.exists(Path.of(data + ".ctl")));
        assertThrows(ObjectNotFoundException.class, () -> SharedMemory.open(name, Access.READ));
    }

    @Test
    void closeIsIdempotentAndAClosedHandleRefusesToMap() {
        FileMapping mapping = SharedMemory.create(TestNames.unique("closed"), 4096);
        mapping.close();
        mapping.close();
        assertFalse(mapping.isOpen());
        assertThrows(HandleClosedException.class, () -> mapping.map(Access.READ));
        assertThrows(HandleClosedException.class, () -> mapping.commit(0, 4096));
        assertTrue(mapping.toString().contains("closed"), mapping.toString());
    }

    // ---- interoperability with shm_open users --------------------------------------------------

    @Test
    void theDataPathIsThePosixSharedMemoryObjectOfTheUsersLocalNameSpace() throws IOException {
        String name = TestNames.unique("path");
        int uid = (Integer) Files.getAttribute(Path.of("/proc/self"), "unix:uid");
        try (FileMapping mapping = SharedMemory.create(name, 4096);
             FileMapping local = SharedMemory.open("Local\\" + name, Access.READ)) {
            assertEquals(Path.of("/dev/shm/shmflux.L" + uid + "." + name), mapping.dataPath());
            assertEquals(mapping.dataPath(), local.dataPath());
            assertTrue(Files.isRegularFile(mapping.dataPath()));
            assertTrue(Files.isRegularFile(Path.of(mapping.dataPath() + ".ctl")));
        }
    }

    @Test
    void aGlobalNameLivesInTheMachineWideFile() {
        String name = TestNames.unique("global");
        try (FileMapping mapping = SharedMemory.create("Global\\" + name, 4096)) {
            assertEquals(Path.of("/dev/shm/shmflux.G." + name), mapping.dataPath());
            assertThrows(ObjectNotFoundException.class, () -> SharedMemory.open(name, Access.READ),
                    "Local and Global are separate name spaces");
        }
    }

    @Test
    void aPlainFileChannelOnTheDataPathSeesTheSameBytesAtOffsetZero() throws IOException {
        String name = TestNames.unique("interop");
        try (FileMapping mapping = SharedMemory.create(name, 4096);
             MappedView view = mapping.map(Access.READ_WRITE);
             FileChannel channel = FileChannel.open(mapping.dataPath(), StandardOpenOption.READ,
                     StandardOpenOption.WRITE)) {
            assertEquals(4096, channel.size());
            view.segment().set(ValueLayout.JAVA_LONG, 0, 0x1122334455667788L);
            ByteBuffer buffer = ByteBuffer.allocate(8).order(ByteOrder.nativeOrder());
            channel.read(buffer, 0);
            assertEquals(0x1122334455667788L, buffer.flip().getLong());

            channel.write(ByteBuffer.wrap("from a shm_open user".getBytes()), 100);
            byte[] seen = view.segment().asSlice(100, 20).toArray(ValueLayout.JAVA_BYTE);
            assertEquals("from a shm_open user", new String(seen));
        }
    }

    // ---- sizes -------------------------------------------------------------------------------

    @Test
    void aSizeOfZeroOrLessIsAnInvalidParameter() {
        String name = TestNames.unique("size");
        for (long size : new long[] {0, -1, Long.MIN_VALUE}) {
            InvalidParameterException e = assertThrows(InvalidParameterException.class,
                    () -> SharedMemory.create(name, size));
            assertMessage(e, "invalid size: size=" + size);
            assertThrows(InvalidParameterException.class, () -> SharedMemory.createOrOpen(name, size));
        }
        assertThrows(ObjectNotFoundException.class, () -> SharedMemory.open(name, Access.READ), "nothing was made");
    }

    @Test
    void anObjectLargerThanTwoGibibytesWorksWhenReserved() {
        String name = TestNames.unique("big");
        long size = 3 * GIB;
        long near = 2 * GIB + GIB / 2 + 12_345;
        MappingOptions reserve = MappingOptions.DEFAULT.withPageCommit(PageCommit.RESERVE);
        try (FileMapping mapping = SharedMemory.create(name, size, reserve);
             MappedView whole = mapping.map(Access.READ_WRITE)) {
            assertEquals(size, mapping.byteSize());
            assertEquals(size, whole.segment().byteSize());
            whole.segment().set(ValueLayout.JAVA_LONG_UNALIGNED, near, 0x5eed_cafeL);
            whole.segment().set(ValueLayout.JAVA_LONG, size - 8, -1L);
            try (MappedView second = mapping.map(Access.READ, near - 5, 4096)) {
                assertEquals(0x5eed_cafeL, second.segment().get(ValueLayout.JAVA_LONG_UNALIGNED, 5));
            }
            try (FileMapping other = SharedMemory.open(name, Access.READ);
                 MappedView tail = other.map(Access.READ, size - 4096, 0)) {
                assertEquals(size, other.byteSize());
                assertEquals(-1L, tail.segment().get(ValueLayout.JAVA_LONG, 4088));
            }
        }
    }

    @Test
    void commitAllocatesEveryPageAtCreate() throws Exception {
        try (FileMapping mapping = SharedMemory.create(TestNames.unique("commit"), 8 * MIB)) {
            FileStat stat = stat(mapping.dataPath());
            assertEquals(8 * MIB, stat.size());
            assertTrue(stat.allocatedBytes() >= 8 * MIB, () -> "allocated " + stat.allocatedBytes());
        }
    }

    @Test
    void reserveLeavesTheObjectSparseUntilPagesAreTouched() throws Exception {
        MappingOptions reserve = MappingOptions.DEFAULT.withPageCommit(PageCommit.RESERVE);
        try (FileMapping mapping = SharedMemory.create(TestNames.unique("reserve"), 8 * MIB, reserve)) {
            assertEquals(8 * MIB, stat(mapping.dataPath()).size());
            assertEquals(0, stat(mapping.dataPath()).allocatedBytes());
            try (MappedView view = mapping.map(Access.READ_WRITE)) {
                view.segment().set(ValueLayout.JAVA_BYTE, 3 * MIB, (byte) 1);
            }
            long allocated = stat(mapping.dataPath()).allocatedBytes();
            assertTrue(allocated > 0 && allocated < MIB, () -> "one touched page allocates little: " + allocated);
        }
    }

    @Test
    void anObjectLargerThanAllOfDevShmFailsAtCreateWithOutOfSpaceAndLeavesNothing() throws IOException {
        String name = TestNames.unique("huge");
        long total = Files.getFileStore(NoLeftovers.DEV_SHM).getTotalSpace();
        long size = total + GIB;
        OutOfSpaceException e = assertThrows(OutOfSpaceException.class, () -> SharedMemory.create(name, size));
        assertMessage(e, "not enough space to commit the object: name=\"" + name + "\", size=" + size);
        assertTrue(e.getMessage().contains("errno=ENOSPC"), e.getMessage());
        assertTrue(e.getMessage().contains("hint=use PageCommit.RESERVE"), e.getMessage());
        assertTrue(NoLeftovers.ours().stream().noneMatch(f -> f.contains(name)), () -> "left: " + NoLeftovers.ours());
        assertThrows(ObjectNotFoundException.class, () -> SharedMemory.open(name, Access.READ));

        assertThrows(OutOfSpaceException.class, () -> SharedMemory.createOrOpen(name, size));
        assertTrue(NoLeftovers.ours().stream().noneMatch(f -> f.contains(name)), () -> "left: " + NoLeftovers.ours());
    }

    @Test
    void anObjectLargerThanAllOfDevShmCanBeReservedButNotCommitted() throws IOException {
        long total = Files.getFileStore(NoLeftovers.DEV_SHM).getTotalSpace();
        MappingOptions reserve = MappingOptions.DEFAULT.withPageCommit(PageCommit.RESERVE);
        try (FileMapping mapping = SharedMemory.create(TestNames.unique("huge-reserved"), total + GIB, reserve)) {
            assertEquals(total + GIB, mapping.byteSize());
            OutOfSpaceException e = assertThrows(OutOfSpaceException.class, () -> mapping.commit(0, total + GIB));
            assertMessage(e, "not enough space to commit: object=");
            mapping.commit(0, MIB); // a small range still fits
        }
    }

    @Test
    void theLargestPossibleSizeIsOutOfSpaceCommittedAndOutOfAddressSpaceWhenMapped() {
        String name = TestNames.unique("max");
        OutOfSpaceException committed = assertThrows(OutOfSpaceException.class,
                () -> SharedMemory.create(name, Long.MAX_VALUE));
        assertMessage(committed, "not enough space to commit the object: name=\"" + name + "\"");
        MappingOptions reserve = MappingOptions.DEFAULT.withPageCommit(PageCommit.RESERVE);
        try (FileMapping mapping = SharedMemory.create(name, Long.MAX_VALUE, reserve)) {
            OutOfSpaceException e = assertThrows(OutOfSpaceException.class, () -> mapping.map(Access.READ));
            assertMessage(e, "cannot map view: object=\"" + name + "\"");
            assertTrue(e.getMessage().contains("errno=ENOMEM, reason=no address space left"), e.getMessage());
            try (MappedView small = mapping.map(Access.READ_WRITE, 1L << 40, 4096)) { // a TiB deep
                small.segment().set(ValueLayout.JAVA_BYTE, 4095, (byte) 1);
            }
        }
    }

    // ---- commit ------------------------------------------------------------------------------

    @Test
    void commitAllocatesTheRangeOfAReservedObject() throws Exception {
        MappingOptions reserve = MappingOptions.DEFAULT.withPageCommit(PageCommit.RESERVE);
        try (FileMapping mapping = SharedMemory.create(TestNames.unique("commit-range"), 16 * MIB, reserve)) {
            assertEquals(0, stat(mapping.dataPath()).allocatedBytes());
            mapping.commit(4 * MIB, 2 * MIB);
            long allocated = stat(mapping.dataPath()).allocatedBytes();
            assertTrue(allocated >= 2 * MIB && allocated < 4 * MIB, () -> "allocated " + allocated);
            mapping.commit(0, 16 * MIB);
            assertTrue(stat(mapping.dataPath()).allocatedBytes() >= 16 * MIB);
        }
    }

    @Test
    void commitOnACommittedObjectIsHarmless() {
        try (FileMapping mapping = SharedMemory.create(TestNames.unique("commit-again"), 8192)) {
            mapping.commit(0, 8192);
            mapping.commit(1, 1);
        }
    }

    @Test
    void commitRefusesARangeOutsideTheObject() {
        try (FileMapping mapping = SharedMemory.create(TestNames.unique("commit-bad"), 8192)) {
            long[][] bad = {{-1, 10}, {0, 0}, {0, -1}, {8192, 1}, {0, 8193}, {4096, 4097}, {1, Long.MAX_VALUE}};
            for (long[] range : bad) {
                InvalidParameterException e = assertThrows(InvalidParameterException.class,
                        () -> mapping.commit(range[0], range[1]));
                assertMessage(e, "commit range out of object: offset=" + range[0] + ", length=" + range[1]
                        + ", size=8192");
            }
        }
    }

    @Test
    void commitNeedsAWritableHandle() {
        String name = TestNames.unique("commit-ro");
        try (FileMapping mapping = SharedMemory.create(name, 8192);
             FileMapping reader = SharedMemory.open(name, Access.READ)) {
            AccessDeniedException e = assertThrows(AccessDeniedException.class, () -> reader.commit(0, 4096));
            assertMessage(e, "commit needs write access: object=\"" + name + "\"");
        }
    }

    // ---- permissions -------------------------------------------------------------------------

    @Test
    void objectsAreOwnerOnlyByDefault() throws IOException {
        try (FileMapping mapping = SharedMemory.create(TestNames.unique("perm"), 4096)) {
            assertEquals("rw-------", permissions(mapping.dataPath()));
            assertEquals("rw-------", permissions(Path.of(mapping.dataPath() + ".ctl")));
        }
    }

    @Test
    void optionsCanGrantTheGroupRegardlessOfTheUmask() throws IOException {
        MappingOptions options = MappingOptions.DEFAULT.withPermissions("rw-rw----");
        try (FileMapping mapping = SharedMemory.create(TestNames.unique("perm-group"), 4096, options)) {
            assertEquals("rw-rw----", permissions(mapping.dataPath()));
            assertEquals("rw-rw----", permissions(Path.of(mapping.dataPath() + ".ctl")));
        }
        MappingOptions everyone = MappingOptions.DEFAULT.withPermissions("rw-r--r--");
        try (FileMapping mapping = SharedMemory.createOrOpen(TestNames.unique("perm-all"), 4096, everyone)) {
            assertEquals("rw-r--r--", permissions(mapping.dataPath()));
            assertEquals("rw-r--r--", permissions(Path.of(mapping.dataPath() + ".ctl")));
        }
    }

    @Test
    void executeBitsAndOwnersWithoutReadWriteAreRefused() {
        for (String bad : new String[] {"rwx------", "rw-rwx---", "rw-rw-r-x", "r--------", "-w-------"}) {
            InvalidParameterException e = assertThrows(InvalidParameterException.class,
                    () -> MappingOptions.DEFAULT.withPermissions(bad));
            assertMessage(e, "invalid permissions: ");
        }
        InvalidParameterException e = assertThrows(InvalidParameterException.class,
                () -> MappingOptions.DEFAULT.withPermissions("rw"));
        assertMessage(e, "invalid permissions: expected=rw-------, permissions=rw");
    }

    @Test
    void theDefaultOptionsAreOwnerOnlyAndCommitted() {
        assertEquals(PosixFilePermissions.fromString("rw-------"), MappingOptions.DEFAULT.permissions());
        assertEquals(PageCommit.COMMIT, MappingOptions.DEFAULT.pageCommit());
    }

    // ---- one name space across kinds -----------------------------------------------------------

    @Test
    void aNameHeldByAnEventIsTheWrongKindForEveryMappingCall(@org.junit.jupiter.api.io.TempDir Path dir)
            throws IOException {
        String name = TestNames.unique("event");
        NameSpace ns = NameSpace.get();
        Path file = Files.write(dir.resolve("f"), new byte[4096]);
        try (ControlFile event = ControlFile.acquire(ns, ObjectName.parse(name),
                new ControlFile.Spec(ObjectKind.EVENT, io.shmflux.internal.layout.EventDescriptor.REGION_LENGTH, 0600, 0),
                ControlFile.Disposition.CREATE_NEW, false, Duration.ofSeconds(10),
                created -> created.region().set(ValueLayout.JAVA_INT, io.shmflux.internal.layout.EventDescriptor.RESET_MODE_OFFSET,
                        io.shmflux.internal.layout.EventDescriptor.MODE_AUTO))) {
            assertTrue(event.created());
            for (Executable call : new Executable[] {
                    () -> SharedMemory.open(name, Access.READ),
                    () -> SharedMemory.open(name, Access.READ_WRITE),
                    () -> SharedMemory.create(name, 4096),
                    () -> SharedMemory.createOrOpen(name, 4096),
                    () -> SharedMemory.createFromFile(file, name, 0)}) {
                WrongObjectKindException e = assertThrows(WrongObjectKindException.class, call);
                assertMessage(e, "name held by another kind of object: name=\"" + name
                        + "\", kind=event, requested=file mapping");
            }
            assertFalse(Files.exists(Path.of(ns.dataPath(ObjectName.parse(name)))), "no data file was made");
            assertTrue(Files.exists(Path.of(ns.controlPath(ObjectName.parse(name)))));
            // the file was not claimed by the failed createFromFile
            SharedMemory.createFromFile(file, null, 0).close();
        }
        assertTrue(NoLeftovers.ours().stream().noneMatch(f -> f.contains(name)), () -> "left: " + NoLeftovers.ours());
    }

    // ---- helpers -----------------------------------------------------------------------------

    private static FileStat stat(Path path) throws NativeCallException {
        return Libc.lstat(path.toString());
    }

    private static String permissions(Path path) throws IOException {
        return PosixFilePermissions.toString(Files.getPosixFilePermissions(path));
    }

    static void assertMessage(Exception e, String startsWith) {
        assertTrue(MESSAGE_FORM.matcher(e.getMessage()).matches(), () -> "not 'what: key=value': " + e.getMessage());
        assertTrue(e.getMessage().startsWith(startsWith), () -> "expected '" + startsWith + "...' but was: "
                + e.getMessage());
    }
}
