package io.shmflux;

import io.shmflux.testing.ChildJvm;
import io.shmflux.testing.MappingChild;
import io.shmflux.testing.NoLeftovers;
import io.shmflux.testing.TestNames;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.io.File;
import java.io.IOException;
import java.lang.foreign.ValueLayout;
import java.net.URISyntaxException;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Comparator;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.Set;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Permissions between users: a child JVM running as {@code nobody} (uid 65534, through
 * {@code setpriv}) opens objects this root process created. Only {@code Global\} names are visible
 * to another user; {@code Local\} is per user.
 */
@Tag("cross-process")
@ExtendWith(NoLeftovers.class)
class CrossUserAccessTest {

    private static final String NOBODY = "65534";
    private static final List<String> AS_NOBODY =
            List.of("setpriv", "--reuid=" + NOBODY, "--regid=" + NOBODY, "--clear-groups");

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

    private static void assertOpenDenied(ChildJvm child, String name, Access access) {
        child.send("open " + name + " " + access);
        String reply = child.nextLine();
        assertTrue(reply.startsWith("error AccessDeniedException "), reply);
        assertTrue(reply.contains("errno=EACCES"), reply);
    }

    private static ChildJvm nobody() {
        StringBuilder classPath = new StringBuilder(classes.resolve("classes") + File.pathSeparator
                + classes.resolve("test-classes"));
        try (Stream<Path> jars = Files.list(classes.resolve("lib"))) {
            jars.forEach(jar -> classPath.append(File.pathSeparator).append(jar));
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        ChildJvm child = ChildJvm.startWith(AS_NOBODY, List.of("--enable-native-access=ALL-UNNAMED"), classPath.toString(),
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
