package io.shmflux;

import io.shmflux.testing.ChildJvm;
import io.shmflux.testing.MappingChild;
import io.shmflux.testing.NoLeftovers;
import io.shmflux.testing.TestNames;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

@Tag("cross-process")
@ExtendWith(NoLeftovers.class)
class CrossProcessMappingTest {

    @Test
    void aChildCreatesAndWritesAndTheParentOpensAndReadsTheSameBytes() {
        String name = TestNames.unique("share");
        try (ChildJvm child = ChildJvm.start(MappingChild.class)) {
            child.nextLine();
            child.call("create " + name + " 4096");
            String view = child.call("map " + name + " READ_WRITE 0 0").substring(3);
            child.call("putLong " + view + " 1000 123456789");
            try (FileMapping mapping = SharedMemory.open(name, Access.READ);
                 MappedView mine = mapping.map(Access.READ)) {
                assertFalse(mapping.created());
                assertEquals(4096, mapping.byteSize());
                assertEquals(123456789L, mine.segment().get(ValueLayout.JAVA_LONG_UNALIGNED, 1000));
            }
            child.send("exit");
            assertEquals("bye", child.nextLine());
            assertEquals(0, child.awaitExit(ChildJvm.DEFAULT_WAIT));
        }
        assertTrue(NoLeftovers.ours().stream().noneMatch(f -> f.contains(name)), () -> "left: " + NoLeftovers.ours());
    }

    @Test
    void theLastCloseAnywhereDestroysThePagingFileObject() {
        String name = TestNames.unique("last");
        try (ChildJvm child = ChildJvm.start(MappingChild.class)) {
            child.nextLine();
            FileMapping mapping = SharedMemory.create(name, 8192);
            Path data = mapping.dataPath();
            child.call("open " + name + " READ_WRITE");
            mapping.close();
            assertTrue(Files.exists(data), "the child still holds it");
            child.call("close " + name);
            assertFalse(Files.exists(data), "the child's close was the last");
            assertFalse(Files.exists(Path.of(data + ".ctl")));
            assertThrows(ObjectNotFoundException.class, () -> SharedMemory.open(name, Access.READ));
        }
    }

    @Test
    void aKilledLastHolderIsReclaimedByTheNextOpen() {
        String name = TestNames.unique("killed");
        Path data;
        try (ChildJvm child = ChildJvm.start(MappingChild.class)) {
            child.nextLine();
            data = Path.of(child.call("create " + name + " 4096").replaceAll(".*path=", ""));
            child.kill9();
        }
        assertTrue(Files.exists(data), "nobody closed it");
        assertThrows(ObjectNotFoundException.class, () -> SharedMemory.open(name, Access.READ));
        assertFalse(Files.exists(data));
        assertTrue(NoLeftovers.ours().stream().noneMatch(f -> f.contains(name)), () -> "left: " + NoLeftovers.ours());
    }

    @Test
    void aKilledHolderDoesNotKeepTheObjectAliveAfterTheOthersClose() {
        String name = TestNames.unique("killed2");
        FileMapping mapping = SharedMemory.create(name, 4096);
        try (ChildJvm child = ChildJvm.start(MappingChild.class)) {
            child.nextLine();
            child.call("open " + name + " READ_WRITE");
            child.call("map " + name + " READ_WRITE 0 0");
            child.kill9();
        }
        Path data = mapping.dataPath();
        mapping.close();
        assertFalse(Files.exists(data));
    }

    @Test
    void aLiveHolderIsNeverReclaimed() {
        String name = TestNames.unique("alive");
        try (ChildJvm child = ChildJvm.start(MappingChild.class)) {
            child.nextLine();
            String view = child.call("map " + name(child.call("create " + name + " 4096"), name) + " READ_WRITE 0 0")
                    .substring(3);
            child.call("putLong " + view + " 0 77");
            SharedMemory.reclaimStale();
            try (FileMapping mapping = SharedMemory.open(name, Access.READ); MappedView v = mapping.map(Access.READ)) {
                assertEquals(77L, v.segment().get(ValueLayout.JAVA_LONG_UNALIGNED, 0));
            }
            child.call("close " + view);
            child.call("close " + name);
        }
    }

    private static String name(String reply, String name) {
        assertTrue(reply.contains("created=true"), reply);
        return name;
    }

    @Test
    void aFileBackedObjectIsOpenedByNameAndItsLastCloseLeavesTheDataInTheFile(@TempDir Path dir) throws Exception {
        String name = TestNames.unique("filed");
        Path file = dir.resolve("data.bin");
        Files.write(file, new byte[8192]);
        try (ChildJvm child = ChildJvm.start(MappingChild.class)) {
            child.nextLine();
            child.call("fromFile " + file + " " + name + " 0");
            String view = child.call("map " + name + " READ_WRITE 0 0").substring(3);
            child.call("putLong " + view + " 0 1111");
            try (FileMapping mapping = SharedMemory.open(name, Access.READ_WRITE)) {
                assertTrue(mapping.isFileBacked());
                assertEquals(file.toRealPath(), mapping.dataPath());
                try (MappedView mine = mapping.map(Access.READ_WRITE, 4096, 0)) {
                    mine.segment().set(ValueLayout.JAVA_LONG_UNALIGNED, 8, 2222L);
                }
                assertThrows(SharingViolationException.class, () -> SharedMemory.createFromFile(file, null, 0));
            }
            child.send("exit");
            assertEquals("bye", child.nextLine());
        }
        ByteBuffer bytes = ByteBuffer.wrap(Files.readAllBytes(file)).order(ByteOrder.nativeOrder());
        assertEquals(1111L, bytes.getLong(0));
        assertEquals(2222L, bytes.getLong(4096 + 8));
        // released: the file can be mapped again
        SharedMemory.createFromFile(file, null, 0).close();
    }

    @Test
    void racingCreateOrOpenInFourProcessesCreatesExactlyOnce() {
        String name = TestNames.unique("race");
        List<ChildJvm> children = new ArrayList<>();
        try {
            for (int i = 0; i < 4; i++) {
                ChildJvm child = ChildJvm.start(MappingChild.class);
                children.add(child);
            }
            for (ChildJvm child : children) {
                child.nextLine();
            }
            long start = System.currentTimeMillis() + 500;
            for (ChildJvm child : children) {
                child.send("at " + start + " createOrOpen " + name + " 65536");
            }
            int created = 0;
            for (int i = 0; i < children.size(); i++) {
                String reply = children.get(i).nextLine();
                assertTrue(reply.startsWith("ok created="), reply);
                assertTrue(reply.contains("size=65536"), reply);
                created += reply.contains("created=true") ? 1 : 0;
                String view = children.get(i).call("map " + name + " READ_WRITE 0 0").substring(3);
                children.get(i).call("putLong " + view + " " + (i * 8) + " " + (i + 1));
            }
            assertEquals(1, created, "exactly one process creates");
            try (FileMapping mapping = SharedMemory.open(name, Access.READ); MappedView v = mapping.map(Access.READ)) {
                for (int i = 0; i < children.size(); i++) {
                    assertEquals(i + 1L, v.segment().get(ValueLayout.JAVA_LONG_UNALIGNED, i * 8L), "all share one object");
                }
            }
        } finally {
            for (ChildJvm child : children) {
                child.close();
            }
        }
        SharedMemory.reclaimStale();
    }

    @Test
    void withoutNativeAccessTheFirstCallNamesTheFlag() {
        try (ChildJvm child = ChildJvm.start(List.of(), MappingChild.class)) {
            child.nextLine();
            child.send("create " + TestNames.unique("noflag") + " 4096");
            String reply = child.nextLine();
            assertTrue(reply.startsWith("error SharedMemoryException native access not enabled"), reply);
            assertTrue(reply.contains("--enable-native-access=ALL-UNNAMED"), reply);
        }
    }
}
