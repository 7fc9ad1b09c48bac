package io.shmflux;

import io.shmflux.internal.layout.ControlBlockDescriptor;
import io.shmflux.internal.linux.Libc;
import io.shmflux.internal.namespace.ControlFile;
import io.shmflux.internal.namespace.NameSpace;
import io.shmflux.internal.namespace.ObjectKind;
import io.shmflux.internal.namespace.ObjectName;
import io.shmflux.sync.EventReset;
import io.shmflux.sync.EventState;
import io.shmflux.sync.NamedEvent;
import io.shmflux.sync.NamedMutex;
import io.shmflux.sync.NamedSemaphore;
import io.shmflux.testing.ChildJvm;
import io.shmflux.testing.MappingChild;
import io.shmflux.testing.NoLeftovers;
import io.shmflux.testing.TestNames;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.function.Executable;

import java.io.File;
import java.io.IOException;
import java.lang.foreign.ValueLayout;
import java.net.URISyntaxException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Comparator;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.Set;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Permissions between users: a child JVM running as {@code nobody} (uid 65534, through
 * {@code setpriv}) opens objects this root process created. Only {@code Global\} names are visible
 * to another user; {@code Local\} is per user.
 *
 * <p>And the attacks of {@code security.md}: a hostile user (uid 65534) plants files under names of a
 * victim (this root process, and an unprivileged uid 65533), hard-links objects under them, and
 * patches its own control files to point at files it cannot read. The victim refuses each, and the
 * files attacked keep their bytes and their modification time.
 */
@Tag("cross-process")
@ExtendWith(NoLeftovers.class)
class CrossUserAccessTest {

    private static final String NOBODY = "65534";
    /** An unprivileged victim of the attacks below. */
    private static final String VICTIM = "65533";

    private static Path classes;

    @BeforeAll
    static void copyTheClassesWhereNobodyCanReadThem() throws IOException, URISyntaxException {
        int uid = (Integer) Files.getAttribute(Path.of("/proc/self"), "unix:uid");
        assumeTrue(uid == 0, "needs root to start a child as another user (setpriv --reuid); running as uid " + uid);
        assumeTrue(onPath("setpriv"), "needs setpriv (util-linux) on the PATH to start a child as another user");

        classes = Files.createTempDirectory("shmflux-cross-user-");
        Path main = Path.of(SharedMemory.class.getProtectionDomain().getCodeSource().getLocation().toURI());
        Path test = Path.of(MappingChild.class.getProtectionDomain().getCodeSource().getLocation().toURI());
        copyTree(main, classes.resolve("classes"));
        copyTree(test, classes.resolve("test-classes"));
        Files.createDirectories(classes.resolve("lib"));
        for (Class<?> dependency : List.of(reactor.core.publisher.Flux.class, org.reactivestreams.Publisher.class)) {
            Path jar = Path.of(dependency.getProtectionDomain().getCodeSource().getLocation().toURI());
            Files.copy(jar, classes.resolve("lib").resolve(jar.getFileName()), StandardCopyOption.REPLACE_EXISTING);
        }
        try (Stream<Path> all = Files.walk(classes)) {
            for (Path p : (Iterable<Path>) all::iterator) {
                Files.setPosixFilePermissions(p, PosixFilePermissions.fromString(
                        Files.isDirectory(p) ? "rwxr-xr-x" : "rw-r--r--"));
            }
        }
        for (Path p = classes.getParent(); p != null; p = p.getParent()) {
            Set<PosixFilePermission> perms = Files.getPosixFilePermissions(p);
            assertTrue(perms.contains(PosixFilePermission.OTHERS_EXECUTE),
                    "the child running as nobody cannot traverse " + p + " (" + PosixFilePermissions.toString(perms)
                            + "); set java.io.tmpdir to a directory every user can reach");
        }
    }

    @AfterAll
    static void removeTheCopies() throws IOException {
        if (classes != null) {
            try (Stream<Path> all = Files.walk(classes)) {
                for (Path p : (Iterable<Path>) all.sorted(Comparator.reverseOrder())::iterator) {
                    Files.delete(p);
                }
            }
        }
    }

    @Test
    void anotherUserCannotOpenAnOwnerOnlyObject() {
        String name = "Global\\" + TestNames.unique("owner-only");
        try (FileMapping mapping = SharedMemory.create(name, 4096)) {
            try (ChildJvm child = nobody()) {
                assertOpenDenied(child, name, Access.READ_WRITE);
                assertOpenDenied(child, name, Access.READ);
                assertOpenDenied(child, name, Access.COPY_ON_WRITE);
            }
            assertTrue(mapping.isOpen());
        }
    }

    @Test
    void anotherUserOpensAndWritesAnObjectThatGrantsEveryoneReadAndWrite() {
        String name = "Global\\" + TestNames.unique("everyone");
        MappingOptions everyone = MappingOptions.DEFAULT.withPermissions("rw-rw-rw-");
        try (FileMapping mapping = SharedMemory.create(name, 4096, everyone);
             MappedView view = mapping.map(Access.READ_WRITE)) {
            view.segment().set(ValueLayout.JAVA_LONG_UNALIGNED, 8, 4711L);
            try (ChildJvm child = nobody()) {
                String reply = child.call("open " + name + " READ_WRITE");
                assertTrue(reply.contains("created=false") && reply.contains("size=4096"), reply);
                String childView = child.call("map " + name + " READ_WRITE 0 0").substring(3);
                assertEquals("ok 4711", child.call("getLong " + childView + " 8"));
                child.call("putLong " + childView + " 16 815");
                assertEquals(815L, view.segment().get(ValueLayout.JAVA_LONG_UNALIGNED, 16));
                child.call("close " + childView);
                child.call("close " + name);
            }
        }
    }

    @Test
    void anotherUserMayOnlyReadAnObjectThatGrantsOthersRead() {
        String name = "Global\\" + TestNames.unique("others-read");
        MappingOptions othersRead = MappingOptions.DEFAULT.withPermissions("rw-r--r--");
        try (FileMapping mapping = SharedMemory.create(name, 4096, othersRead);
             MappedView view = mapping.map(Access.READ_WRITE)) {
            view.segment().set(ValueLayout.JAVA_LONG_UNALIGNED, 0, 99L);
            try (ChildJvm child = nobody()) {
                assertOpenDenied(child, name, Access.READ_WRITE);
                child.call("open " + name + " READ");
                String childView = child.call("map " + name + " READ 0 0").substring(3);
                assertEquals("ok 99", child.call("getLong " + childView + " 0"));
                child.call("close " + childView);
                child.call("close " + name);
            }
        }
    }

    @Test
    void aLocalNameIsInvisibleToAnotherUser() {
        String name = TestNames.unique("local");
        MappingOptions everyone = MappingOptions.DEFAULT.withPermissions("rw-rw-rw-");
        try (FileMapping mapping = SharedMemory.create(name, 4096, everyone);
             ChildJvm child = nobody()) {
            child.send("open " + name + " READ");
            String reply = child.nextLine();
            assertTrue(reply.startsWith("error ObjectNotFoundException object not found: name=\"" + name + "\""), reply);
        }
    }

    @Test
    void anObjectWhoseLastHolderCouldOnlyReadIsGoneForEveryone() {
        String name = "Global\\" + TestNames.unique("ro-last");
        MappingOptions othersRead = MappingOptions.DEFAULT.withPermissions("rw-r--r--");
        FileMapping mapping = SharedMemory.create(name, 4096, othersRead);
        Path data = mapping.dataPath();
        try (ChildJvm child = nobody(); ChildJvm later = nobody()) {
            child.call("open " + name + " READ");
            mapping.close();
            assertTrue(Files.exists(data), "the child holds it");
            child.call("close " + name);
            later.send("open " + name + " READ");
            String reply = later.nextLine();
            assertTrue(reply.startsWith("error ObjectNotFoundException "), "the last holder closed: " + reply);
        } finally {
            mapping.close();
        }
        assertThrows(ObjectNotFoundException.class, () -> SharedMemory.open(name, Access.READ));
        assertFalse(Files.exists(data));
        assertFalse(Files.exists(Path.of(data + ".ctl")));
    }

    @Test
    void anObjectWhoseLastHolderIsAnotherUserIsGoneForEveryone() {
        String name = "Global\\" + TestNames.unique("other-last");
        MappingOptions everyone = MappingOptions.DEFAULT.withPermissions("rw-rw-rw-");
        FileMapping mapping = SharedMemory.create(name, 4096, everyone);
        Path data = mapping.dataPath();
        try (ChildJvm child = nobody(); ChildJvm later = nobody()) {
            child.call("open " + name + " READ_WRITE");
            mapping.close();
            child.call("close " + name);
            later.send("open " + name + " READ");
            String reply = later.nextLine();
            assertTrue(reply.startsWith("error ObjectNotFoundException "), "the last holder closed: " + reply);
            later.send("createOrOpen " + name + " 4096");
            reply = later.nextLine();
            if (reply.startsWith("ok")) {
                // root's files were gone already: any root process's first call sweeps /dev/shm, and other
                // builds may run on this machine. Then the name is free and nobody creates its own object.
                assertTrue(reply.contains("created=true"), reply);
                later.call("close " + name);
            } else {
                assertTrue(reply.startsWith("error AccessDeniedException cannot replace a closed object: name=\""
                        + name + "\""), "nobody may remove root's files from the sticky /dev/shm: " + reply);
            }
        } finally {
            mapping.close();
        }
        assertThrows(ObjectNotFoundException.class, () -> SharedMemory.open(name, Access.READ));
        assertFalse(Files.exists(data));
        assertFalse(Files.exists(Path.of(data + ".ctl")));
    }

    @Test
    void aReadOnlySurvivorOfAWriterKilledMidChangeGetsItFlaggedTornWithinASecond() {
        String name = "Global\\" + TestNames.unique("ro-dead-writer");
        FileMapping creator = SharedMemory.create(name, 4096, MappingOptions.DEFAULT.withPermissions("rw-r--r--"));
        try (ChildJvm writer = ChildJvm.start(io.shmflux.testing.FeedChild.class, "hang-in-publish", name);
             ChildJvm reader = nobody()) {
            try (creator) {
                assertEquals("mid-update", writer.nextLine());
                reader.call("open " + name + " READ"); // nobody may only read: its control file is read-only
                reader.call("subscribe " + name);
            }
            writer.kill9(); // the read-only reader is now the only holder, and cannot finish the change
            Matcher change = Pattern.compile("ok sequence=1 torn=true millis=(\\d+)").matcher(reader.call("awaitChange " + name));
            assertTrue(change.matches(), change.toString());
            assertTrue(Long.parseLong(change.group(1)) < 1000, "the feed delivered the dead writer's change within 1 s");
            Matcher snapshot = Pattern.compile("ok torn=true sequence=0 first=999 millis=(\\d+)")
                    .matcher(reader.call("snapshot " + name + " 0 64"));
            assertTrue(snapshot.matches(), snapshot.toString());
            assertTrue(Long.parseLong(snapshot.group(1)) < 1000, "the snapshot returned within 1 s");
            reader.send("read " + name + " 0 8");
            String read = reader.nextLine();
            assertTrue(read.startsWith("error TornDataException range holds a torn change: "), read);
            reader.call("close " + name);
        }
        // nobody may not unlink root's files from the sticky /dev/shm; the next root open reclaims them
        assertThrows(ObjectNotFoundException.class, () -> SharedMemory.open(name, Access.READ));
    }

    // ---- attacks (security.md) -----------------------------------------------------------------

    @Test
    void anotherUsersFileUnderMyLocalNameIsRefusedForEveryKindAndLeftUntouched() throws Exception {
        NameSpace ns = NameSpace.get();
        for (ObjectKind kind : ObjectKind.values()) {
            String name = TestNames.unique("squat-" + kind.tag());
            ObjectName parsed = ObjectName.parse(name);
            byte[] control = templateOf(kind, name);
            Path planted = Path.of(ns.controlPath(parsed));
            plantAs(NOBODY, planted, control);
            int holder = holdShared(planted);
            try {
                FileTime before = Files.getLastModifiedTime(planted);
                for (Executable call : callsOn(kind, name)) {
                    AccessDeniedException e = assertThrows(AccessDeniedException.class, call, kind.displayName());
                    assertTrue(e.getMessage().contains("path=" + planted), e.getMessage());
                    assertTrue(e.getMessage().contains("status=squatted, owner=" + NOBODY + ", expected=0"),
                            e.getMessage());
                }
                ControlFile.Reclaim reclaim = ns.reclaimIfStale(parsed);
                assertEquals(ControlFile.ReclaimOutcome.KEPT, reclaim.outcome(), "skipped, held or not");
                assertTrue(reclaim.detail().startsWith("status=squatted, owner=" + NOBODY), reclaim.detail());
                SharedMemory.reclaimStale();
                assertArrayEquals(control, Files.readAllBytes(planted), "nothing written");
                assertEquals(before, Files.getLastModifiedTime(planted));
            } finally {
                Libc.close(holder);
                Files.deleteIfExists(planted);
            }
        }
    }

    @Test
    void anUnprivilegedVictimRefusesAnotherUsersFileUnderItsLocalName() throws Exception {
        String name = TestNames.unique("squat-victim");
        byte[] control = templateOf(ObjectKind.FILE_MAPPING, name);
        Path planted = NoLeftovers.DEV_SHM.resolve("shmflux.L" + VICTIM + "." + ObjectName.parse(name).encoded() + ".ctl");
        plantAs(NOBODY, planted, control);
        int holder = holdShared(planted);
        try (ChildJvm victim = child(VICTIM)) {
            for (String command : List.of("open " + name + " READ", "create " + name + " 4096",
                    "createOrOpen " + name + " 4096")) {
                victim.send(command);
                String reply = victim.nextLine();
                assertTrue(reply.startsWith("error AccessDeniedException "), reply);
                assertTrue(reply.contains("path=" + planted + ", status=squatted, owner=" + NOBODY + ", expected="
                        + VICTIM), reply);
            }
            assertArrayEquals(control, Files.readAllBytes(planted));
        } finally {
            Libc.close(holder);
            Files.deleteIfExists(planted);
        }
    }

    @Test
    void anotherUsersDataFileUnderMyLocalNameIsNeverRemovedNorWritten() throws Exception {
        String name = TestNames.unique("squat-data");
        Path planted = Path.of(NameSpace.get().dataPath(ObjectName.parse(name)));
        byte[] bytes = {4, 7, 1, 1};
        plantAs(NOBODY, planted, bytes);
        try {
            AccessDeniedException e = assertThrows(AccessDeniedException.class, () -> SharedMemory.create(name, 4096));
            assertTrue(e.getMessage().contains("status=squatted, owner=" + NOBODY), e.getMessage());
            assertArrayEquals(bytes, Files.readAllBytes(planted));
            assertFalse(Files.exists(Path.of(planted + ".ctl")), "the failed create left nothing");
        } finally {
            Files.deleteIfExists(planted);
        }
    }

    @Test
    void aDataFileOfAnotherUserThanTheControlFilesOwnerIsRefused() throws Exception {
        String name = "Global\\" + TestNames.unique("foreign-data");
        ObjectName parsed = ObjectName.parse(name);
        NameSpace ns = NameSpace.get();
        byte[] control = templateOf(ObjectKind.FILE_MAPPING, name);
        Path controlPath = Path.of(ns.controlPath(parsed));
        Path data = Path.of(ns.dataPath(parsed));
        Files.write(controlPath, control, StandardOpenOption.CREATE_NEW);
        int holder = Libc.open(controlPath.toString(), Libc.O_RDWR | Libc.O_CLOEXEC, 0);
        try {
            Libc.ofdTryLock(holder, Libc.F_RDLCK, 0, 1); // live: a holder of root's object
            plantAs(NOBODY, data, new byte[4096]); // the data file of the right size, but another user's
            FileTime before = Files.getLastModifiedTime(data);
            for (Access access : Access.values()) {
                AccessDeniedException e = assertThrows(AccessDeniedException.class,
                        () -> SharedMemory.open(name, access).close());
                assertTrue(e.getMessage().contains("path=" + data + ", status=untrusted data file, owner=" + NOBODY
                        + ", controlOwner=0"), e.getMessage());
            }
            assertArrayEquals(new byte[4096], Files.readAllBytes(data));
            assertEquals(before, Files.getLastModifiedTime(data));
        } finally {
            Libc.close(holder);
            Files.deleteIfExists(controlPath);
            Files.deleteIfExists(data);
        }
    }

    @Test
    void aHardLinkUnderMyLocalNameIsRefusedWhoeverOwnsTheLinkedObject() throws Exception {
        String mine = "Global\\" + TestNames.unique("linked-mine");
        String theirs = "Global\\" + TestNames.unique("linked-theirs");
        String local = TestNames.unique("link-target");
        MappingOptions everyone = MappingOptions.DEFAULT.withPermissions("rw-rw-rw-");
        Path link = Path.of(NameSpace.get().controlPath(ObjectName.parse(local)));
        try (FileMapping mapping = SharedMemory.create(mine, 4096, everyone); ChildJvm attacker = nobody()) {
            // the attacker links the victim's own object (mode 0666, so the kernel lets it) under the victim's name
            Path control = Path.of(mapping.dataPath() + ".ctl");
            byte[] before = Files.readAllBytes(control);
            runAs(NOBODY, null, "ln", control.toString(), link.toString());
            for (Executable call : callsOn(ObjectKind.FILE_MAPPING, local)) {
                AccessDeniedException e = assertThrows(AccessDeniedException.class, call);
                assertTrue(e.getMessage().contains("path=" + link + ", status=hard-linked, owner=0, links=2"),
                        e.getMessage());
            }
            assertArrayEquals(before, Files.readAllBytes(control));
            Files.delete(link);
            // ... and then an object of its own
            String reply = attacker.call("create " + theirs + " 4096");
            Path own = Path.of(reply.substring(reply.indexOf("path=") + 5) + ".ctl");
            runAs(NOBODY, null, "ln", own.toString(), link.toString());
            for (Executable call : callsOn(ObjectKind.FILE_MAPPING, local)) {
                AccessDeniedException e = assertThrows(AccessDeniedException.class, call);
                assertTrue(e.getMessage().contains("path=" + link + ", status=squatted, owner=" + NOBODY), e.getMessage());
            }
            attacker.call("close " + theirs);
        } finally {
            Files.deleteIfExists(link);
        }
    }

    @Test
    void aControlFilePatchedToPointAtAFileItsOwnerCannotWriteIsRefusedLiveAndStale() throws Exception {
        String name = "Global\\" + TestNames.unique("patched");
        Path own = attackersFile();
        Path attackerDir = own.getParent();
        Path secret = Files.write(classes.resolve("secret"), new byte[] {5, 5, 5, 5});
        Files.setPosixFilePermissions(secret, PosixFilePermissions.fromString("rw-------"));
        FileTime before = Files.getLastModifiedTime(secret);
        ChildJvm attacker = nobody();
        try {
            attacker.call("fromFile " + own + " " + name + " 0");
            Path control = NoLeftovers.DEV_SHM.resolve("shmflux.G." + ObjectName.parse(name).encoded() + ".ctl");
            patchBackingFile(control, secret);
            for (Executable call : new Executable[] {
                    () -> SharedMemory.open(name, Access.READ_WRITE),
                    () -> SharedMemory.open(name, Access.READ),
                    () -> SharedMemory.createOrOpen(name, 4096)}) {
                AccessDeniedException e = assertThrows(AccessDeniedException.class, call);
                assertTrue(e.getMessage().contains("path=" + secret + ", status=untrusted backing file, owner=0, "
                        + "controlOwner=" + NOBODY), e.getMessage());
            }
            attacker.kill9(); // now a stale object whose header names the secret: reclaim must not touch it
            SharedMemory.reclaimStale();
            try (FileMapping fresh = SharedMemory.createOrOpen(name, 4096)) {
                assertTrue(fresh.created(), "the attacker's leftover is gone, the name is free");
                assertFalse(fresh.isFileBacked());
                assertEquals(0, fresh.ownerUid());
            }
            assertArrayEquals(new byte[] {5, 5, 5, 5}, Files.readAllBytes(secret));
            assertEquals(before, Files.getLastModifiedTime(secret));
        } finally {
            attacker.close();
            Files.deleteIfExists(secret);
            Files.deleteIfExists(own);
            Files.deleteIfExists(attackerDir);
        }
    }

    @Test
    void anUnprivilegedVictimRefusesAControlFilePointingAtItsOwnFile() throws Exception {
        String name = "Global\\" + TestNames.unique("patched-victim");
        Path own = attackersFile();
        Path shared = own.getParent();
        Path secret = shared.resolve("victims");
        runAs(VICTIM, new byte[] {9, 9}, "sh", "-c", "umask 077; cat > " + secret);
        FileTime before = Files.getLastModifiedTime(secret);
        try (ChildJvm attacker = nobody(); ChildJvm victim = child(VICTIM)) {
            attacker.call("fromFile " + own + " " + name + " 0");
            Path control = NoLeftovers.DEV_SHM.resolve("shmflux.G." + ObjectName.parse(name).encoded() + ".ctl");
            runAs(NOBODY, null, "chmod", "666", control.toString()); // so that the victim may open it
            patchBackingFile(control, secret);
            victim.send("open " + name + " READ_WRITE");
            String reply = victim.nextLine();
            assertTrue(reply.startsWith("error AccessDeniedException ") && reply.contains("status=untrusted backing file, owner="
                    + VICTIM + ", controlOwner=" + NOBODY), reply);
            attacker.call("close " + name);
        } finally {
            assertArrayEquals(new byte[] {9, 9}, Files.readAllBytes(secret));
            assertEquals(before, Files.getLastModifiedTime(secret));
            Files.deleteIfExists(secret);
            Files.deleteIfExists(own);
            Files.deleteIfExists(shared);
        }
    }

    @Test
    void aCorruptLeftoverTheCallerMayNotRemoveIsReportedAtOnceAndRootsSweepRemovesIt() throws Exception {
        String name = "Global\\" + TestNames.unique("corrupt-global");
        Path planted = NoLeftovers.DEV_SHM.resolve("shmflux.G." + ObjectName.parse(name).encoded() + ".ctl");
        try (ChildJvm victim = child(VICTIM)) {
            String reply = "";
            // a stale file: the first call of any root process on this machine (other builds) may sweep it
            // away before the victim gets to it; then the victim creates the name and the test tries again
            for (int attempt = 0; attempt < 5 && !reply.startsWith("error"); attempt++) {
                if (reply.startsWith("ok")) {
                    victim.call("close " + name);
                }
                runAs(NOBODY, new byte[16384], "sh", "-c", "umask 0; set -o noclobber; cat > " + planted);
                long start = System.nanoTime();
                victim.send("createOrOpen " + name + " 4096");
                reply = victim.nextLine();
                assertTrue(System.nanoTime() - start < java.util.concurrent.TimeUnit.SECONDS.toNanos(5),
                        "not retried: the busy timeout is 10 s");
            }
            assertTrue(reply.startsWith("error CorruptObjectException corrupt object: field=magic, value=0x0"), reply);
            assertTrue(Files.exists(planted), "the sticky directory keeps it from the victim");
        } finally {
            // root may remove it, and does: it is corrupt and nobody holds it (another build's sweep may be
            // removing it at this very moment, holding its exclusive lock: then it is gone a moment later)
            ObjectName parsed = ObjectName.parse(name);
            for (int i = 0; i < 100 && NameSpace.get().reclaimIfStale(parsed).outcome() == ControlFile.ReclaimOutcome.LIVE; i++) {
                Thread.sleep(10);
            }
            assertFalse(Files.exists(planted));
        }
    }

    /** Holds a shared lock on a planted file, so that another build's sweep (as root) leaves it alone. */
    private static int holdShared(Path file) throws Exception {
        int fd = Libc.open(file.toString(), Libc.O_RDWR | Libc.O_CLOEXEC, 0);
        assertTrue(Libc.ofdTryLock(fd, Libc.F_RDLCK, 0, 1));
        return fd;
    }

    @Test
    void aGlobalObjectTellsWhoOwnsIt() {
        String name = "Global\\" + TestNames.unique("owner");
        try (ChildJvm other = nobody()) {
            other.call("create " + name + " 4096");
            // the object is nobody's (mode 0600), and root may open it: root passes every mode check
            try (FileMapping mapping = SharedMemory.open(name, Access.READ)) {
                assertEquals(Integer.parseInt(NOBODY), mapping.ownerUid());
            }
            other.call("close " + name);
        }
        try (NamedMutex mine = NamedMutex.create(name)) {
            assertEquals(0, mine.ownerUid());
        }
    }

    /** {@return a 4096-byte file of the attacker's own, in a new directory every user may write} */
    private static Path attackersFile() throws Exception {
        Path dir = Files.createTempDirectory(classes, "shared-");
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxrwxrwx"));
        Path own = dir.resolve("own");
        runAs(NOBODY, new byte[4096], "sh", "-c", "cat > " + own);
        return own;
    }

    /**
     * The attacker writes, into its own control file, the path, device and inode of {@code target}
     * (the inode anyone can learn with stat(1) where the directory can be searched).
     */
    private static void patchBackingFile(Path control, Path target) throws Exception {
        Object inode = Files.getAttribute(target, "unix:ino");
        long device = ((Number) Files.getAttribute(target, "unix:dev")).longValue();
        byte[] path = target.toString().getBytes(StandardCharsets.UTF_8);
        ByteBuffer fields = ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN);
        // the header stores makedev(major, minor) as major << 32 | minor; stat's st_dev is the glibc encoding
        long major = ((device >>> 8) & 0xfff) | ((device >>> 32) & ~0xfffL);
        long minor = (device & 0xff) | ((device >>> 12) & ~0xffL);
        fields.putLong(0, major << 32 | minor).putLong(8, ((Number) inode).longValue());
        writeAs(NOBODY, control, ControlBlockDescriptor.BACKING_DEVICE_OFFSET, fields.array());
        writeAs(NOBODY, control, ControlBlockDescriptor.PATH_LENGTH_OFFSET,
                ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(0, path.length).array());
        writeAs(NOBODY, control, ControlBlockDescriptor.PATH_OFFSET, path);
    }

    /** {@return the control file bytes of a real object of the kind named {@code name}} (gone again after) */
    private static byte[] templateOf(ObjectKind kind, String name) throws Exception {
        AutoCloseable object = switch (kind) {
            case FILE_MAPPING -> SharedMemory.create(name, 4096);
            case MUTEX -> NamedMutex.create(name);
            case EVENT -> NamedEvent.create(name, EventReset.MANUAL, EventState.NOT_SIGNALED);
            case SEMAPHORE -> NamedSemaphore.create(name, 1, 1);
        };
        try (object) {
            return Files.readAllBytes(Path.of(NameSpace.get().controlPath(ObjectName.parse(name))));
        }
    }

    /** {@return open, create and create-or-open of {@code name} as {@code kind}} */
    private static List<Executable> callsOn(ObjectKind kind, String name) {
        return switch (kind) {
            case FILE_MAPPING -> List.of(() -> SharedMemory.open(name, Access.READ).close(),
                    () -> SharedMemory.create(name, 4096).close(), () -> SharedMemory.createOrOpen(name, 4096).close());
            case MUTEX -> List.of(() -> NamedMutex.open(name).close(), () -> NamedMutex.create(name).close(),
                    () -> NamedMutex.createOrOpen(name).close());
            case EVENT -> List.of(() -> NamedEvent.open(name).close(),
                    () -> NamedEvent.create(name, EventReset.MANUAL, EventState.NOT_SIGNALED).close(),
                    () -> NamedEvent.createOrOpen(name, EventReset.MANUAL).close());
            case SEMAPHORE -> List.of(() -> NamedSemaphore.open(name).close(),
                    () -> NamedSemaphore.create(name, 1, 1).close(), () -> NamedSemaphore.createOrOpen(name, 1, 1).close());
        };
    }

    private static void plantAs(String uid, Path path, byte[] bytes) throws Exception {
        runAs(uid, bytes, "sh", "-c", "umask 077; set -o noclobber; cat > " + path);
    }

    private static void writeAs(String uid, Path file, long offset, byte[] bytes) throws Exception {
        runAs(uid, bytes, "dd", "of=" + file, "bs=1", "seek=" + offset, "conv=notrunc", "status=none");
    }

    /** Runs a command as another user (no JVM needed to write a file), with {@code stdin}; bounded. */
    private static void runAs(String uid, byte @org.jspecify.annotations.Nullable [] stdin, String... command)
            throws Exception {
        List<String> full = new java.util.ArrayList<>(as(uid));
        full.addAll(List.of(command));
        Process process = new ProcessBuilder(full).redirectErrorStream(true).start();
        try (var in = process.getOutputStream()) {
            if (stdin != null) {
                in.write(stdin);
            }
        }
        if (!process.waitFor(30, java.util.concurrent.TimeUnit.SECONDS)) {
            process.destroyForcibly();
            throw new AssertionError("timed out: " + full);
        }
        String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(0, process.exitValue(), full + ": " + output);
    }

    private static List<String> as(String uid) {
        return List.of("setpriv", "--reuid=" + uid, "--regid=" + uid, "--clear-groups");
    }

    private static void assertOpenDenied(ChildJvm child, String name, Access access) {
        child.send("open " + name + " " + access);
        String reply = child.nextLine();
        assertTrue(reply.startsWith("error AccessDeniedException "), reply);
        assertTrue(reply.contains("errno=EACCES"), reply);
    }

    private static ChildJvm nobody() {
        return child(NOBODY);
    }

    private static ChildJvm child(String uid) {
        StringBuilder classPath = new StringBuilder(classes.resolve("classes") + File.pathSeparator
                + classes.resolve("test-classes"));
        try (Stream<Path> jars = Files.list(classes.resolve("lib"))) {
            jars.forEach(jar -> classPath.append(File.pathSeparator).append(jar));
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        ChildJvm child = ChildJvm.startWith(as(uid), List.of("--enable-native-access=ALL-UNNAMED"), classPath.toString(),
                MappingChild.class);
        try {
            String ready = child.nextLine();
            assertTrue(ready.startsWith("ready"), ready);
            return child;
        } catch (RuntimeException | AssertionError e) {
            child.close();
            throw e;
        }
    }

    private static boolean onPath(String command) {
        String path = System.getenv().getOrDefault("PATH", "/usr/bin:/bin");
        for (String dir : path.split(File.pathSeparator)) {
            if (!dir.isEmpty() && Files.isExecutable(Path.of(dir, command))) {
                return true;
            }
        }
        return false;
    }

    private static void copyTree(Path from, Path to) throws IOException {
        Files.walkFileTree(from, new SimpleFileVisitor<>() {
            @Override
            public FileVisitResult preVisitDirectory(Path dir, BasicFileAttributes attrs) throws IOException {
                Files.createDirectories(to.resolve(from.relativize(dir).toString()));
                return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
                Files.copy(file, to.resolve(from.relativize(file).toString()), StandardCopyOption.REPLACE_EXISTING);
                return FileVisitResult.CONTINUE;
            }
        });
    }
}
