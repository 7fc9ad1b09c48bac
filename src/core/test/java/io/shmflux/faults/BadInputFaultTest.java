package io.shmflux.faults;

import io.shmflux.Access;
import io.shmflux.AccessDeniedException;
import io.shmflux.FileMapping;
import io.shmflux.HandleClosedException;
import io.shmflux.InPageErrorException;
import io.shmflux.InvalidNameException;
import io.shmflux.InvalidParameterException;
import io.shmflux.MappedView;
import io.shmflux.MappingOptions;
import io.shmflux.ObjectAlreadyExistsException;
import io.shmflux.ObjectNotFoundException;
import io.shmflux.OutOfSpaceException;
import io.shmflux.PageCommit;
import io.shmflux.SharedMemory;
import io.shmflux.SharedMemoryException;
import io.shmflux.WrongObjectKindException;
import io.shmflux.internal.namespace.NameSpace;
import io.shmflux.internal.namespace.ObjectName;
import io.shmflux.sync.EventReset;
import io.shmflux.sync.NamedEvent;
import io.shmflux.sync.NamedMutex;
import io.shmflux.sync.NamedSemaphore;
import io.shmflux.testing.ChildJvm;
import io.shmflux.testing.NoLeftovers;
import io.shmflux.testing.TestNames;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Bad input, one row per case: each call fails with its documented exception, and nothing changed:
 * the fixture object keeps its bytes and sequence, and no file appears in {@code /dev/shm}.
 */
@Tag("fault")
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@ExtendWith(NoLeftovers.class)
class BadInputFaultTest {

    private static final byte[] CONTENT = "the fixture's bytes".getBytes(java.nio.charset.StandardCharsets.UTF_8);

    /** The objects rows act on. */
    record Fixture(FileMapping mapping, FileMapping readOnly, FileMapping closed, MappedView closedView,
                   NamedMutex mutex, String name) {
    }

    @FunctionalInterface
    interface Call {
        void run(Fixture f) throws Exception;
    }

    record Row(String what, Class<? extends SharedMemoryException> expected, Call call) {
        @Override
        public String toString() {
            return what + " -> " + expected.getSimpleName();
        }
    }

    private Fixture fixture;

    @BeforeAll
    void createFixture() {
        String name = TestNames.unique("bad");
        FileMapping mapping = SharedMemory.create(name, 4096);
        mapping.publish(0, CONTENT);
        FileMapping readOnly = SharedMemory.open(name, Access.READ);
        FileMapping closed = SharedMemory.open(name, Access.READ_WRITE);
        MappedView closedView = mapping.map(Access.READ);
        closed.close();
        closedView.close();
        fixture = new Fixture(mapping, readOnly, closed, closedView, NamedMutex.create(name + "-mutex"), name);
    }

    private final java.util.concurrent.atomic.AtomicInteger rowsRun = new java.util.concurrent.atomic.AtomicInteger();
    private final java.util.concurrent.atomic.AtomicInteger rowsPassed = new java.util.concurrent.atomic.AtomicInteger();

    @AfterAll
    void closeFixture() {
        Campaign.report("badInput", "rows=" + rowsRun.get() + " failures=" + (rowsRun.get() - rowsPassed.get()));
        fixture.mutex().close();
        fixture.readOnly().close();
        fixture.mapping().close();
    }

    static Stream<Row> rows() {
        String fresh = "t-" + TestNames.RUN + "-bad-fresh";
        List<Row> rows = new ArrayList<>(List.of(
                // names
                new Row("empty name", InvalidNameException.class, f -> SharedMemory.create("", 4096)),
                new Row("only a prefix", InvalidNameException.class, f -> SharedMemory.create("Local\\", 4096)),
                new Row("name of 261 characters", InvalidNameException.class, f -> SharedMemory.create("n".repeat(261), 4096)),
                new Row("backslash after the prefix", InvalidNameException.class, f -> SharedMemory.create("Global\\a\\b", 4096)),
                new Row("NUL in a name", InvalidNameException.class, f -> SharedMemory.create("a\u0000b", 4096)),
                new Row("unpaired surrogate", InvalidNameException.class, f -> SharedMemory.create("a\ud800b", 4096)),
                new Row("NUL in a mutex name", InvalidNameException.class, f -> NamedMutex.create("m\u0000")),
                // sizes and options
                new Row("size 0", InvalidParameterException.class, f -> SharedMemory.create(fresh, 0)),
                new Row("negative size", InvalidParameterException.class, f -> SharedMemory.create(fresh, -1)),
                new Row("ring capacity 0", InvalidParameterException.class,
                        f -> SharedMemory.create(fresh, 4096, MappingOptions.DEFAULT.withChangeRingCapacity(0))),
                new Row("negative ring capacity", InvalidParameterException.class,
                        f -> SharedMemory.create(fresh, 4096, MappingOptions.DEFAULT.withChangeRingCapacity(-8))),
                new Row("semaphore maximum 0", InvalidParameterException.class, f -> NamedSemaphore.create(fresh, 0, 0)),
                new Row("semaphore initial above maximum", InvalidParameterException.class, f -> NamedSemaphore.create(fresh, 3, 2)),
                // ranges
                new Row("view at a negative offset", InvalidParameterException.class, f -> f.mapping().map(Access.READ, -1, 8)),
                new Row("view at the end", InvalidParameterException.class, f -> f.mapping().map(Access.READ, 4096, 1)),
                new Row("view past the end", InvalidParameterException.class, f -> f.mapping().map(Access.READ, 0, 4097)),
                new Row("view at Long.MAX_VALUE", InvalidParameterException.class, f -> f.mapping().map(Access.READ, Long.MAX_VALUE, 1)),
                new Row("publish past the end", InvalidParameterException.class, f -> f.mapping().publish(4090, new byte[16])),
                new Row("publish at a negative offset", InvalidParameterException.class, f -> f.mapping().publish(-1, new byte[1])),
                new Row("publish of nothing", InvalidParameterException.class, f -> f.mapping().publish(0, new byte[0])),
                new Row("publish whose end overflows", InvalidParameterException.class,
                        f -> f.mapping().publish(Long.MAX_VALUE, 2, r -> { })),
                new Row("read past the end", InvalidParameterException.class, f -> f.mapping().read(4000, 200)),
                new Row("read of a negative length", InvalidParameterException.class, f -> f.mapping().read(0, -1)),
                new Row("snapshot of nothing", InvalidParameterException.class, f -> f.mapping().snapshot(0, 0)),
                new Row("commit of nothing", InvalidParameterException.class, f -> f.mapping().commit(0, 0)),
                // access
                new Row("read-write view of a read handle", AccessDeniedException.class, f -> f.readOnly().map(Access.READ_WRITE)),
                new Row("publish on a read handle", AccessDeniedException.class, f -> f.readOnly().publish(0, new byte[1])),
                new Row("commit on a read handle", AccessDeniedException.class, f -> f.readOnly().commit(0, 4096)),
                // use after close
                new Row("map after close", HandleClosedException.class, f -> f.closed().map(Access.READ)),
                new Row("publish after close", HandleClosedException.class, f -> f.closed().publish(0, new byte[1])),
                new Row("read after close", HandleClosedException.class, f -> f.closed().read(0, 1)),
                new Row("snapshot after close", HandleClosedException.class, f -> f.closed().snapshot(0, 1)),
                new Row("sequence after close", HandleClosedException.class, f -> f.closed().sequence()),
                new Row("changes after close", HandleClosedException.class, f -> f.closed().changes()),
                new Row("commit after close", HandleClosedException.class, f -> f.closed().commit(0, 4096)),
                new Row("segment of a closed view", HandleClosedException.class, f -> f.closedView().segment()),
                new Row("flush of a closed view", HandleClosedException.class, f -> f.closedView().flush()),
                // names held by something else, or by nothing
                new Row("open a missing name", ObjectNotFoundException.class, f -> SharedMemory.open(fresh, Access.READ)),
                new Row("open a missing mutex", ObjectNotFoundException.class, f -> NamedMutex.open(fresh)),
                new Row("create a taken name", ObjectAlreadyExistsException.class, f -> SharedMemory.create(f.name(), 4096)),
                new Row("a mapping's name as a mutex", WrongObjectKindException.class, f -> NamedMutex.open(f.name())),
                new Row("a mapping's name as an event", WrongObjectKindException.class,
                        f -> NamedEvent.createOrOpen(f.name(), EventReset.AUTO)),
                new Row("a mutex's name as a mapping", WrongObjectKindException.class,
                        f -> SharedMemory.createOrOpen(f.name() + "-mutex", 4096)),
                new Row("a mutex's name as a semaphore", WrongObjectKindException.class,
                        f -> NamedSemaphore.open(f.name() + "-mutex"))));
        return rows.stream();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("rows")
    void badInputFailsWithItsDocumentedExceptionAndChangesNothing(Row row) throws Exception {
        rowsRun.incrementAndGet();
        Set<String> before = NoLeftovers.ours();
        long sequence = fixture.mapping().sequence();
        SharedMemoryException e = assertThrows(row.expected(), () -> row.call().run(fixture));
        assertTrue(e.getMessage() != null && e.getMessage().matches("(?s)[^:]+: \\w+=.*"),
                "message in the form 'what: key=value': " + e.getMessage());
        assertEquals(sequence, fixture.mapping().sequence(), "nothing was published");
        assertArrayEquals(CONTENT, fixture.mapping().read(0, CONTENT.length), "the fixture's bytes are unchanged");
        assertEquals(before, NoLeftovers.ours(), "no file appeared or vanished in /dev/shm");
        rowsPassed.incrementAndGet();
    }

    @Test
    void aCorruptHeaderIsRefusedForThatNameAndOthersKeepWorking() throws Exception {
        String name = TestNames.unique("bad-header");
        try (FileMapping victim = SharedMemory.create(name, 4096)) {
            Path control = Path.of(NameSpace.get().controlPath(ObjectName.parse(name)));
            byte[] magic = new byte[8];
            try (RandomAccessFile file = new RandomAccessFile(control.toFile(), "rw")) {
                file.readFully(magic);
                file.seek(0);
                file.write(new byte[8]);
            }
            try {
                assertThrows(SharedMemoryException.class, () -> SharedMemory.open(name, Access.READ));
                try (FileMapping other = SharedMemory.create(TestNames.unique("bad-other"), 4096)) {
                    other.publish(0, new byte[]{1});
                    assertEquals(1, other.sequence());
                }
            } finally {
                try (RandomAccessFile file = new RandomAccessFile(control.toFile(), "rw")) {
                    file.write(magic);
                }
            }
            assertEquals(0, victim.sequence());
        }
    }

    @Test
    void aBackingFileTruncatedByAnotherProcessFaultsAsInPageErrorAndTheJvmLives(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("backing.bin");
        Files.write(file, new byte[16384]);
        try (FileMapping mapping = SharedMemory.createFromFile(file, null, 0)) {
            mapping.publish(8192, new byte[]{1, 2, 3});
            for (int i = 0; i < 50_000; i++) { // compiled by the JIT, whose memory faults arrive late
                mapping.read(8192, 3);
                mapping.snapshot(12288, 8);
            }
            Process truncate = new ProcessBuilder("truncate", "-s", "4096", file.toString()).inheritIO().start();
            assertTrue(truncate.waitFor(30, TimeUnit.SECONDS) && truncate.exitValue() == 0);
            long sequence = mapping.sequence();
            assertThrows(InPageErrorException.class, () -> mapping.read(8192, 3));
            assertThrows(InPageErrorException.class, () -> mapping.snapshot(12288, 8));
            InPageErrorException e = assertThrows(InPageErrorException.class, () -> mapping.publish(8192, new byte[]{4}));
            assertTrue(e.getMessage().startsWith("memory fault: object="), e.getMessage());
            assertEquals(sequence + 1, mapping.sequence(), "the faulted publish is announced, flagged torn");
            assertArrayEquals(new byte[]{0, 0}, mapping.read(0, 2), "the rest of the file still reads");
        }
    }

    @Test
    void aFullNameSpaceDirectoryFailsWithOutOfSpaceAndLeavesNothing(@TempDir Path parent) throws Exception {
        Path dir = parent.resolve("small-shm");
        Files.createDirectories(dir);
        Process mount = new ProcessBuilder("mount", "-t", "tmpfs", "-o", "size=2m,mode=1777", "tmpfs", dir.toString())
                .redirectErrorStream(true).start();
        boolean mounted = mount.waitFor(30, TimeUnit.SECONDS) && mount.exitValue() == 0;
        assumeTrue(mounted, "needs root to mount a small tmpfs");
        try {
            try (ChildJvm child = ChildJvm.start(
                    Stream.concat(Campaign.CHILD_OPTIONS.stream(), Stream.of("-Dshmflux.dir=" + dir)).toList(),
                    FaultChild.class, "full-dir")) {
                String result = child.awaitLine(l -> l.startsWith("rows "), ChildJvm.DEFAULT_WAIT);
                child.awaitBye(ChildJvm.DEFAULT_WAIT);
                assertEquals("rows create-too-large=OutOfSpaceException commit-too-large=OutOfSpaceException"
                        + " publish-unbacked=InPageErrorException after=ok", result);
            }
            try (Stream<Path> left = Files.list(dir)) {
                assertEquals(List.of(), left.map(p -> p.getFileName().toString()).toList(), "nothing left");
            }
        } finally {
            new ProcessBuilder("umount", dir.toString()).inheritIO().start().waitFor(30, TimeUnit.SECONDS);
        }
    }

    static Set<String> names(String... values) {
        return new HashSet<>(Arrays.asList(values));
    }

    static void unused(IOException e) {
        throw new IllegalStateException(e);
    }
}
