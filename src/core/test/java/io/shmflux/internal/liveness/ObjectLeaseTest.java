package io.shmflux.internal.liveness;

import io.shmflux.internal.linux.Libc;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The object-wide lease on a real file, with holders on separate descriptors. */
class ObjectLeaseTest {

    @TempDir
    Path dir;
    private final List<Integer> fds = new ArrayList<>();

    @AfterEach
    void closeAll() {
        fds.forEach(Libc::close);
    }

    private ObjectLease holder(Path file, int flags) throws Exception {
        int fd = Libc.open(file.toString(), flags | Libc.O_CLOEXEC, 0);
        fds.add(fd);
        return new ObjectLease(fd, 0);
    }

    @Test
    void holdersShareItTheLastOneAloneGetsItExclusivelyAndNobodyJoinsMeanwhile() throws Exception {
        Path file = Files.write(dir.resolve("object"), new byte[16]);
        ObjectLease creator = holder(file, Libc.O_RDWR);
        ObjectLease other = holder(file, Libc.O_RDWR);
        ObjectLease reader = holder(file, Libc.O_RDONLY);
        assertTrue(creator.tryExclusive(), "alone: the creator builds the object");
        assertFalse(other.hold(), "nobody joins a half-built object");
        assertEquals(LeaseState.ALIVE, reader.others());
        creator.share();
        assertTrue(other.hold());
        assertTrue(reader.hold(), "a read-only descriptor joins too");
        assertFalse(other.tryExclusive(), "not the last holder");
        creator.drop();
        reader.drop();
        assertTrue(other.tryExclusive(), "the last holder: it destroys the object");
        other.drop();
        assertEquals(LeaseState.DEAD, reader.others(), "nobody holds it");
    }
}
