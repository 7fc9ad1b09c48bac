package io.shmflux.internal.namespace;

import io.shmflux.Access;
import io.shmflux.AccessDeniedException;
import io.shmflux.CorruptObjectException;
import io.shmflux.FileMapping;
import io.shmflux.InvalidNameException;
import io.shmflux.ObjectNotFoundException;
import io.shmflux.SharedMemory;
import io.shmflux.SharedMemoryException;
import io.shmflux.internal.layout.ChangeLogDescriptor;
import io.shmflux.internal.layout.ControlBlockDescriptor;
import io.shmflux.internal.layout.EventDescriptor;
import io.shmflux.internal.layout.MutexDescriptor;
import io.shmflux.internal.layout.SemaphoreDescriptor;
import io.shmflux.internal.protocol.ChangeLog;
import io.shmflux.internal.linux.Libc;
import io.shmflux.testing.NoLeftovers;
import io.shmflux.testing.TestNames;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import static io.shmflux.internal.layout.ControlBlockDescriptor.*;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The lifetime protocol against control files it did not write itself: left by dead processes, half
 * built, planted by someone else. The files are forged here byte by byte from the descriptor, as a
 * process that died at that point would have left them.
 */
@ExtendWith(NoLeftovers.class)
class ControlFileTest {

    private static final Duration SHORT = Duration.ofMillis(300);

    private final NameSpace ns = NameSpace.get();
    private final List<Path> planted = new ArrayList<>();
    private final List<Integer> held = new ArrayList<>();

    @AfterEach
    void removePlantedFiles() throws IOException {
        held.forEach(Libc::close);
        for (Path p : planted) {
            Files.deleteIfExists(p);
        }
    }

    @Test
    void anObjectWhoseHoldersAllDiedIsDestroyedByTheNextOpen() throws IOException {
        ObjectName name = ObjectName.parse(TestNames.unique("dead"));
        Path control = forge(name, ObjectKind.FILE_MAPPING, STATE_READY, 4096);
        Path data = plant(Path.of(ns.dataPath(name)), new byte[4096]);
        assertThrows(ObjectNotFoundException.class, () -> SharedMemory.open(name.text(), Access.READ));
        assertFalse(Files.exists(control));
        assertFalse(Files.exists(data));
    }

    @Test
    void aCreateOnTheNameOfADeadObjectMakesAFreshOne() throws IOException {
        ObjectName name = ObjectName.parse(TestNames.unique("dead-create"));
        forge(name, ObjectKind.FILE_MAPPING, STATE_READY, 4096);
        Path data = plant(Path.of(ns.dataPath(name)), new byte[4096]);
        Files.write(data, new byte[] {9});
        Files.write(data, new byte[4096], StandardOpenOption.APPEND);
        try (FileMapping mapping = SharedMemory.create(name.text(), 8192)) {
            assertTrue(mapping.created());
            assertEquals(8192, mapping.byteSize());
            assertEquals(8192, Files.size(data));
            assertEquals(0, Files.readAllBytes(data)[0], "fresh, zero-filled");
        }
    }

    @Test
    void reclaimStaleRemovesEveryObjectNobodyHoldsAndNothingElse() throws IOException {
        ObjectName dead = ObjectName.parse(TestNames.unique("sweep-dead"));
        Path deadControl = forge(dead, ObjectKind.FILE_MAPPING, STATE_READY, 4096);
        Path deadData = plant(Path.of(ns.dataPath(dead)), new byte[4096]);
        ObjectName deadEvent = ObjectName.parse(TestNames.unique("sweep-event"));
        Path eventControl = forge(deadEvent, ObjectKind.EVENT, STATE_READY, 0);
        String alive = TestNames.unique("sweep-alive");
        try (FileMapping mapping = SharedMemory.create(alive, 4096)) {
            SharedMemory.reclaimStale(); // (another build's first call may sweep them first: also fine)
            assertFalse(Files.exists(deadControl));
            assertFalse(Files.exists(deadData));
            assertFalse(Files.exists(eventControl));
            assertTrue(Files.exists(mapping.dataPath()), "a held object is never reclaimed");
            assertTrue(Files.exists(Path.of(mapping.dataPath() + ".ctl")));
        }
    }

    @Test
    void aHalfBuiltObjectWhoseCreatorDiedIsReplacedByTheNextCreate() throws IOException {
        ObjectName name = ObjectName.parse(TestNames.unique("half"));
        Path control = forge(name, ObjectKind.FILE_MAPPING, STATE_INITIALIZING, 0);
        try (FileMapping mapping = SharedMemory.createOrOpen(name.text(), 4096)) {
            assertTrue(mapping.created(), "the half-built object does not count");
            assertEquals(4096, mapping.byteSize());
            assertTrue(Files.exists(control));
        }
        assertFalse(Files.exists(control));
    }

    @Test
    void anOpenWaitsForACreatorThatHoldsTheExclusiveLockAndGivesUpAfterItsTimeout() throws Exception {
        ObjectName name = ObjectName.parse(TestNames.unique("busy"));
        Path control = forge(name, ObjectKind.EVENT, STATE_INITIALIZING, 0);
        int fd = Libc.open(control.toString(), Libc.O_RDWR | Libc.O_CLOEXEC, 0);
        try {
            assertTrue(Libc.ofdTryLock(fd, Libc.F_WRLCK, 0, 1), "we play the creator");
            long start = System.nanoTime();
            SharedMemoryException e = assertThrows(SharedMemoryException.class, () -> acquire(name,
                    ControlFile.Disposition.OPEN_EXISTING, SHORT));
            assertTrue(Duration.ofNanos(System.nanoTime() - start).compareTo(SHORT) >= 0, "it waited");
            assertTrue(e.getMessage().startsWith("object busy: name=\"" + name.text() + "\", waited=PT0.3S"),
                    e.getMessage());
            assertTrue(Files.exists(control), "a held object is never destroyed");
        } finally {
            Libc.close(fd);
        }
    }

    @Test
    void anOpenWaitingForACreatorGetsTheObjectOnceItIsReady() throws Exception {
        ObjectName name = ObjectName.parse(TestNames.unique("ready"));
        Path control = forge(name, ObjectKind.EVENT, STATE_INITIALIZING, 0);
        int fd = Libc.open(control.toString(), Libc.O_RDWR | Libc.O_CLOEXEC, 0);
        try {
            assertTrue(Libc.ofdTryLock(fd, Libc.F_WRLCK, 0, 1));
            Thread creator = Thread.ofPlatform().start(() -> {
                try {
                    Thread.sleep(200);
                    try (FileChannel channel = FileChannel.open(control, StandardOpenOption.WRITE)) {
                        channel.write(intAt(STATE_READY), STATE_OFFSET);
                    }
                    Libc.ofdTryLock(fd, Libc.F_RDLCK, 0, 1); // downgrade: the object is published
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            });
            try (ControlFile opened = acquire(name, ControlFile.Disposition.OPEN_EXISTING, Duration.ofSeconds(10))) {
                assertFalse(opened.created());
            }
            creator.join();
            assertTrue(Files.exists(control), "the creator still holds it");
        } finally {
            Libc.close(fd);
        }
        SharedMemory.reclaimStale();
        assertFalse(Files.exists(control));
    }

    @Test
    void aControlFileWithAnotherNameInsideIsACollisionNotAnAlias() throws IOException {
        ObjectName name = ObjectName.parse(TestNames.unique("collide"));
        Path control = holdShared(forge(name, ObjectKind.FILE_MAPPING, STATE_READY, 4096, "someone-else"));
        plant(Path.of(ns.dataPath(name)), new byte[4096]);
        InvalidNameException e = assertThrows(InvalidNameException.class,
                () -> SharedMemory.open(name.text(), Access.READ));
        assertTrue(e.getMessage().startsWith("name collides with another name's file: name=\"" + name.text()
                + "\", other=\"someone-else\""), e.getMessage());
        assertTrue(Files.exists(control), "another name's object is left alone");
    }

    @Test
    void aControlFileOfAnotherLayoutIsRefusedAndLeftAlone() throws IOException {
        ObjectName name = ObjectName.parse(TestNames.unique("layout"));
        Path control = forge(name, ObjectKind.FILE_MAPPING, STATE_READY, 4096);
        try (FileChannel channel = FileChannel.open(control, StandardOpenOption.WRITE)) {
            channel.write(intAt(LAYOUT_VERSION + 1), LAYOUT_VERSION_OFFSET);
        }
        holdShared(control);
        byte[] before = Files.readAllBytes(control);
        CorruptObjectException e = assertThrows(CorruptObjectException.class,
                () -> SharedMemory.open(name.text(), Access.READ));
        assertEquals("corrupt object: field=layoutVersion, value=" + (LAYOUT_VERSION + 1) + ", expected="
                + LAYOUT_VERSION + ", path=" + control, e.getMessage());
        assertArrayEquals(before, Files.readAllBytes(control));
    }

    @Test
    void aTooShortControlFileIsNotAnObject() throws IOException {
        ObjectName name = ObjectName.parse(TestNames.unique("short"));
        holdShared(plant(Path.of(ns.controlPath(name)), new byte[100]));
        CorruptObjectException e = assertThrows(CorruptObjectException.class,
                () -> SharedMemory.open(name.text(), Access.READ));
        assertTrue(e.getMessage().startsWith("corrupt object: field=fileSize, value=100, expected=at least "
                + HEADER_LENGTH), e.getMessage());
    }

    @Test
    void aSymbolicLinkPlantedAsAControlFileIsRefusedAndItsTargetUntouched(@TempDir Path dir) throws IOException {
        ObjectName name = ObjectName.parse(TestNames.unique("symlink"));
        Path target = Files.write(dir.resolve("victim"), new byte[] {1, 2, 3});
        Path link = Path.of(ns.controlPath(name));
        Files.createSymbolicLink(link, target);
        planted.add(link);
        for (var call : List.<org.junit.jupiter.api.function.Executable>of(
                () -> SharedMemory.open(name.text(), Access.READ),
                () -> SharedMemory.create(name.text(), 4096),
                () -> SharedMemory.createOrOpen(name.text(), 4096))) {
            AccessDeniedException e = assertThrows(AccessDeniedException.class, call);
            assertTrue(e.getMessage().endsWith("status=not a regular file, owner=0, type=symbolic link"), e.getMessage());
        }
        assertArrayEquals(new byte[] {1, 2, 3}, Files.readAllBytes(target));
    }

    @Test
    void aSymbolicLinkPlantedAsADataFileIsReplacedAndItsTargetUntouched(@TempDir Path dir) throws IOException {
        ObjectName name = ObjectName.parse(TestNames.unique("data-link"));
        Path target = Files.write(dir.resolve("victim"), new byte[] {1, 2, 3});
        Path link = Path.of(ns.dataPath(name));
        Files.createSymbolicLink(link, target);
        planted.add(link);
        try (FileMapping mapping = SharedMemory.create(name.text(), 4096)) {
            assertTrue(Files.isRegularFile(mapping.dataPath(), java.nio.file.LinkOption.NOFOLLOW_LINKS));
            assertEquals(4096, Files.size(mapping.dataPath()));
        }
        assertArrayEquals(new byte[] {1, 2, 3}, Files.readAllBytes(target));
    }

    @Test
    void aFifoOrADirectoryPlantedAsAControlFileIsRefusedAtOnceAndSkippedByReclaim(@TempDir Path dir) throws Exception {
        // in a private directory: a FIFO in /dev/shm would block other programs that open it blocking
        NameSpace privateNs = NameSpace.at(dir.toString());
        for (String type : List.of("fifo", "directory")) {
            ObjectName name = ObjectName.parse(TestNames.unique(type));
            Path file = Path.of(privateNs.controlPath(name));
            Process make = new ProcessBuilder(type.equals("fifo") ? "mkfifo" : "mkdir", file.toString()).start();
            assertTrue(make.waitFor(10, java.util.concurrent.TimeUnit.SECONDS) && make.exitValue() == 0);
            for (ControlFile.Disposition disposition : ControlFile.Disposition.values()) {
                for (boolean readOnlyAllowed : new boolean[] {false, true}) {
                    AccessDeniedException e = assertThrows(AccessDeniedException.class, // and never blocks
                            () -> ControlFile.acquire(privateNs, name, new ControlFile.Spec(ObjectKind.MUTEX,
                                    MutexDescriptor.REGION_LENGTH, 0600, 0), disposition, readOnlyAllowed, SHORT,
                                    created -> { }).close());
                    assertTrue(e.getMessage().contains("path=" + file + ", status=not a regular file, owner=0, type="
                            + type), e.getMessage());
                }
            }
            assertEquals(ControlFile.ReclaimOutcome.KEPT,
                    ControlFile.reclaimIfStale(file.toString(), privateNs.uid()).outcome());
            assertEquals(1, privateNs.sweep().size(), "the sweep looks at it and keeps it");
            assertTrue(Files.exists(file, java.nio.file.LinkOption.NOFOLLOW_LINKS));
            assertEquals("not a regular file", ControlFile.look(file.toString(), privateNs.uid(),
                    look -> look.distrust().status()), "the tool's look does not block either");
            Files.delete(file);
        }
    }

    @Test
    void filesAreCreatedWithExactlyTheRequestedModeWhateverTheUmask() throws Throwable {
        java.lang.invoke.MethodHandle umask = java.lang.foreign.Linker.nativeLinker().downcallHandle(
                java.lang.foreign.Linker.nativeLinker().defaultLookup().find("umask").orElseThrow(),
                java.lang.foreign.FunctionDescriptor.of(java.lang.foreign.ValueLayout.JAVA_INT,
                        java.lang.foreign.ValueLayout.JAVA_INT));
        int old = (int) umask.invokeExact(0777); // nothing would be granted by open(2) alone
        try (FileMapping everyone = SharedMemory.create(TestNames.unique("mode-666"), 4096,
                io.shmflux.MappingOptions.DEFAULT.withPermissions("rw-rw-rw-"))) {
            assertEquals("rw-rw-rw-", permissions(everyone.dataPath()));
            assertEquals("rw-rw-rw-", permissions(Path.of(everyone.dataPath() + NameSpace.CONTROL_SUFFIX)));
        } finally {
            int ignored = (int) umask.invokeExact(old);
        }
        old = (int) umask.invokeExact(0); // everything would be granted by open(2) alone
        try (FileMapping owner = SharedMemory.create(TestNames.unique("mode-600"), 4096)) {
            assertEquals("rw-------", permissions(owner.dataPath()));
            assertEquals("rw-------", permissions(Path.of(owner.dataPath() + NameSpace.CONTROL_SUFFIX)));
        } finally {
            int ignored = (int) umask.invokeExact(old);
        }
    }


    private static String permissions(Path file) throws IOException {
        return java.nio.file.attribute.PosixFilePermissions.toString(Files.getPosixFilePermissions(file,
                java.nio.file.LinkOption.NOFOLLOW_LINKS));
    }

    @Test
    void aCorruptLeftoverGoesWholeWithTheNextCreateOfItsNameAndAHeldOneFailsOnlyItsOwnName() throws Exception {
        ObjectName name = ObjectName.parse(TestNames.unique("corrupt-left"));
        Path control = forge(name, ObjectKind.FILE_MAPPING, STATE_READY, 4096);
        try (FileChannel channel = FileChannel.open(control, StandardOpenOption.WRITE)) {
            channel.write(intAt(3), HEADER_LENGTH + ChangeLogDescriptor.RING_CAPACITY_OFFSET); // not a power of two
        }
        Path data = plant(Path.of(ns.dataPath(name)), new byte[] {7, 7, 7});
        int lock = Libc.open(control.toString(), Libc.O_RDWR | Libc.O_CLOEXEC, 0);
        try {
            Libc.ofdTryLock(lock, Libc.F_RDLCK, 0, 1); // held: refused, for this name only
            CorruptObjectException e = assertThrows(CorruptObjectException.class,
                    () -> SharedMemory.createOrOpen(name.text(), 8192));
            assertEquals("corrupt object: field=changeLog.ringCapacity, value=3, expected=a power of two from 2 to "
                    + ChangeLogDescriptor.MAX_RING_CAPACITY + ", path=" + control, e.getMessage());
            try (FileMapping other = SharedMemory.create(TestNames.unique("unrelated"), 4096)) {
                assertTrue(other.created());
            }
            SharedMemory.reclaimStale(); // a sweep neither fails nor touches it
            assertTrue(Files.exists(control));
        } finally {
            Libc.close(lock);
        }
        try (FileMapping fresh = SharedMemory.create(name.text(), 8192)) { // nobody holds it now: it goes whole
            assertTrue(fresh.created());
            assertEquals(8192, Files.size(data));
            assertEquals(0, Files.readAllBytes(data)[0], "a fresh data file, not the leftover's");
        }
        assertFalse(Files.exists(control));
        assertFalse(Files.exists(data));
    }

    @Test
    void theKindTagsAreStableAndDistinct() {
        assertEquals(1, ObjectKind.FILE_MAPPING.tag());
        assertEquals(2, ObjectKind.MUTEX.tag());
        assertEquals(3, ObjectKind.EVENT.tag());
        assertEquals(4, ObjectKind.SEMAPHORE.tag());
        for (ObjectKind kind : ObjectKind.values()) {
            assertEquals(kind, ObjectKind.fromTag(kind.tag()));
        }
        assertEquals(null, ObjectKind.fromTag(0));
    }

    @Test
    void aControlFileCreatedByAcquireCarriesTheHeaderOfItsSpec() {
        ObjectName name = ObjectName.parse("Global\\" + TestNames.unique("header"));
        long region = ChangeLog.regionLength(2);
        try (ControlFile control = ControlFile.acquire(ns, name, new ControlFile.Spec(ObjectKind.FILE_MAPPING, region,
                0640, 0), ControlFile.Disposition.CREATE_NEW, false, SHORT, created -> {
                    created.initDataSize(77);
                    ChangeLog.initialize(created.region(), 2, io.shmflux.MappingOptions.DEFAULT_PUBLISH_TIMEOUT.toNanos());
                })) {
            var header = control.segment();
            assertEquals(HEADER_LENGTH + region, header.byteSize());
            assertEquals(region, control.region().byteSize());
            assertEquals(MAGIC, getLong(header, MAGIC_OFFSET));
            assertEquals(LAYOUT_VERSION, getInt(header, LAYOUT_VERSION_OFFSET));
            assertEquals(ObjectKind.FILE_MAPPING.tag(), getInt(header, KIND_OFFSET));
            assertEquals(STATE_READY, getInt(header, STATE_OFFSET));
            assertEquals(77, control.dataSize());
            assertEquals(ProcessHandle.current().pid(), getLong(header, CREATOR_PID_OFFSET));
            int length = getInt(header, NAME_LENGTH_OFFSET);
            String stored = new String(header.asSlice(NAME_OFFSET, length).toArray(java.lang.foreign.ValueLayout.JAVA_BYTE),
                    StandardCharsets.UTF_8);
            assertEquals(name.bare(), stored, "the bare name: the scope is in the file name");
            assertEquals(Path.of(ns.controlPath(name)).toString(), control.path());
        }
    }

    // ---- helpers -----------------------------------------------------------------------------

    private ControlFile acquire(ObjectName name, ControlFile.Disposition disposition, Duration timeout) {
        return ControlFile.acquire(ns, name, new ControlFile.Spec(ObjectKind.EVENT, EventDescriptor.REGION_LENGTH, 0600,
                0), disposition, false, timeout, created -> created.region().set(java.lang.foreign.ValueLayout.JAVA_INT,
                EventDescriptor.RESET_MODE_OFFSET, EventDescriptor.MODE_MANUAL));
    }

    private Path forge(ObjectName name, ObjectKind kind, int state, long dataSize) throws IOException {
        return forge(name, kind, state, dataSize, name.bare());
    }

    /**
     * Writes a control file as a process that died at that point would have left it (no lock held):
     * the header, and the region of its kind as the kind's creator initializes it.
     */
    private Path forge(ObjectName name, ObjectKind kind, int state, long dataSize, String storedName)
            throws IOException {
        long region = switch (kind) {
            case FILE_MAPPING -> ChangeLog.regionLength(2);
            case MUTEX -> MutexDescriptor.REGION_LENGTH;
            case EVENT -> EventDescriptor.REGION_LENGTH;
            case SEMAPHORE -> SemaphoreDescriptor.REGION_LENGTH;
        };
        ByteBuffer header = ByteBuffer.allocate((int) (HEADER_LENGTH + region)).order(ByteOrder.LITTLE_ENDIAN);
        int base = (int) HEADER_LENGTH;
        switch (kind) {
            case FILE_MAPPING -> header.putInt(base + (int) ChangeLogDescriptor.RING_CAPACITY_OFFSET, 2)
                    .putInt(base + (int) ChangeLogDescriptor.HOLDER_SLOTS_OFFSET, ChangeLogDescriptor.HOLDER_SLOTS)
                    .putInt(base + (int) ChangeLogDescriptor.SUBSCRIBER_SLOTS_OFFSET, ChangeLogDescriptor.SUBSCRIBER_SLOTS)
                    .putLong(base + (int) ChangeLogDescriptor.PUBLISH_TIMEOUT_OFFSET,
                            ChangeLogDescriptor.MIN_PUBLISH_TIMEOUT_NANOS);
            case EVENT -> header.putInt(base + (int) EventDescriptor.RESET_MODE_OFFSET, EventDescriptor.MODE_MANUAL);
            case SEMAPHORE -> header.putInt(base + (int) SemaphoreDescriptor.MAXIMUM_OFFSET, 1);
            case MUTEX -> {
            }
        }
        byte[] nameBytes = storedName.getBytes(StandardCharsets.UTF_8);
        header.putLong((int) MAGIC_OFFSET, MAGIC)
                .putInt((int) LAYOUT_VERSION_OFFSET, LAYOUT_VERSION)
                .putInt((int) KIND_OFFSET, kind.tag())
                .putInt((int) STATE_OFFSET, state)
                .putInt((int) FLAGS_OFFSET, 0)
                .putLong((int) DATA_SIZE_OFFSET, dataSize)
                .putLong((int) CREATOR_PID_OFFSET, ProcessHandle.current().pid())
                .putInt((int) NAME_LENGTH_OFFSET, nameBytes.length)
                .put((int) NAME_OFFSET, nameBytes);
        return plant(Path.of(ns.controlPath(name)), header.array());
    }

    private Path plant(Path path, byte[] bytes) throws IOException {
        planted.add(path);
        Files.write(path, bytes, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
        Files.setPosixFilePermissions(path, java.nio.file.attribute.PosixFilePermissions.fromString("rw-------"));
        return path;
    }

    /**
     * Holds a shared lock on a planted control file, as a live holder would, so that no process's
     * reclaim sweep (other builds may run on this machine) removes it while the test looks at it.
     */
    private Path holdShared(Path control) {
        try {
            int fd = Libc.open(control.toString(), Libc.O_RDWR | Libc.O_CLOEXEC, 0);
            held.add(fd);
            assertTrue(Libc.ofdTryLock(fd, Libc.F_RDLCK, 0, 1));
            return control;
        } catch (io.shmflux.internal.linux.NativeCallException e) {
            throw new AssertionError(e);
        }
    }

    private static ByteBuffer intAt(int value) {
        return ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(0, value);
    }

    static {
        // the forged headers use the descriptor's offsets; a header must fit the int-indexed buffer
        assertTrue(ControlBlockDescriptor.HEADER_LENGTH < Integer.MAX_VALUE);
    }
}
