package io.shmflux.internal.inspect;

import io.shmflux.FileMapping;
import io.shmflux.InvalidNameException;
import io.shmflux.ObjectNotFoundException;
import io.shmflux.SharedMemory;
import io.shmflux.testing.NoLeftovers;
import io.shmflux.testing.TestNames;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.nio.file.Files;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The tool's door into the name space, on objects this JVM holds. Stale objects, {@code gc} and refused
 * files need other processes and a private directory: {@code ShmfluxToolTest} in src/cli has those.
 */
@ExtendWith(NoLeftovers.class)
class InspectorTest {

    private final Inspector inspector = Inspector.of();

    @Test
    void listAndInspectShowAHeldObjectWithItsScopeHolderAndSequence() throws Exception {
        String name = TestNames.unique("inspector");
        try (FileMapping mapping = SharedMemory.create(name, 4096)) {
            mapping.publish(0, new byte[] {1});
            ObjectInfo o = inspector.inspect(name);
            assertEquals("Local\\" + name, o.name());
            assertEquals("live", o.status());
            assertEquals(1, o.holders());
            assertEquals(4096, o.dataSize());
            assertEquals(1, o.changeLog().sequence());
            assertEquals(o, inspector.inspect("Local\\" + name), "the same object by its scoped name");
            assertTrue(inspector.list().contains(o), "listed");
        }
    }

    @Test
    void removeRefusesALiveObjectUnlessForcedAndThenOnlyItsNameGoes() throws Exception {
        String name = TestNames.unique("inspector-rm");
        try (FileMapping mapping = SharedMemory.create(name, 4096)) {
            Inspector.Removal refused = inspector.remove(name, Inspector.Force.NO);
            assertEquals(Inspector.Removal.Outcome.IN_USE, refused.outcome());
            assertEquals("reason=live processes hold it", refused.detail());
            assertTrue(Files.exists(refused.object().controlPath()));

            Inspector.Removal forced = inspector.remove(name, Inspector.Force.YES);
            assertEquals(Inspector.Removal.Outcome.FORCED, forced.outcome());
            assertFalse(Files.exists(forced.object().controlPath()), "the name is gone");
            mapping.publish(0, new byte[] {2}); // the holder keeps its mapping
            assertEquals(2, mapping.read(0, 1)[0]);
        }
    }

    @Test
    void aMissingObjectOrABadNameIsAClearException() {
        String name = TestNames.unique("inspector-none");
        ObjectNotFoundException missing = assertThrows(ObjectNotFoundException.class, () -> inspector.inspect(name));
        assertTrue(missing.getMessage().startsWith("object not found: name=\"" + name + "\", path="), missing.getMessage());
        assertThrows(ObjectNotFoundException.class, () -> inspector.remove(name, Inspector.Force.YES));
        assertThrows(InvalidNameException.class, () -> inspector.inspect("Local\\a\\b"));
        assertEquals("Global\\x", Inspector.qualifiedName("Global\\x"));
        assertEquals("Local\\x", Inspector.qualifiedName("x"));
    }
}
