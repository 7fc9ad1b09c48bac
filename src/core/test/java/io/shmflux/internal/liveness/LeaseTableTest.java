package io.shmflux.internal.liveness;

import io.shmflux.SharedMemoryException;
import io.shmflux.internal.layout.MutexDescriptor;
import io.shmflux.internal.linux.Libc;
import io.shmflux.testing.ChildJvm;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Leases on a real file, probed through other descriptors and from other processes. */
class LeaseTableTest {

    static final long FILE_SIZE = 4096;
    static final long LOCK_BASE = 1L << 20;
    static final int SLOTS = 8;
    static final long GENERATIONS = 64;
    static final long LOCK_WORD = 0;

    @TempDir
    Path dir;
    private Path file;
    private Arena arena;
    private MemorySegment shared;
    private final List<Integer> fds = new ArrayList<>();

    static LeaseTable table(int fd, MemorySegment shared) {
        return new LeaseTable(fd, LOCK_BASE, SLOTS, shared.asSlice(GENERATIONS, 4L * SLOTS), "test slots", "test");
    }

    @BeforeEach
    void createFile() throws IOException {
        file = dir.resolve("leases");
        Files.write(file, new byte[(int) FILE_SIZE]);
        arena = Arena.ofShared();
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            shared = channel.map(FileChannel.MapMode.READ_WRITE, 0, FILE_SIZE, arena);
        }
    }

    @AfterEach
    void closeAll() {
        fds.forEach(Libc::close);
        arena.close();
    }

    private int open() throws Exception {
        int fd = Libc.open(file.toString(), Libc.O_RDWR | Libc.O_CLOEXEC, 0);
        fds.add(fd);
        return fd;
    }

    @Test
    void tokenZeroNeverExisted() throws Exception {
        assertEquals(LeaseState.NEVER_EXISTED, table(open(), shared).probe(0));
    }

    @Test
    void aLeaseIsAliveWhileHeldAndDeadOnceReleasedOrItsDescriptorCloses() throws Exception {
        LeaseTable holder = table(open(), shared);
        LeaseTable observer = table(open(), shared);
        Lease first = holder.claim();
        assertEquals(LeaseState.ALIVE, observer.probe(first.token()));
        assertEquals(LeaseState.ALIVE, holder.probe(first.token()), "a holder sees its own lease alive");
        first.release();
        first.release(); // idempotent
        assertEquals(LeaseState.DEAD, observer.probe(first.token()));

        int fd = open();
        Lease second = table(fd, shared).claim();
        assertEquals(LeaseState.ALIVE, observer.probe(second.token()));
        Libc.close(fd);
        fds.remove(Integer.valueOf(fd));
        assertEquals(LeaseState.DEAD, observer.probe(second.token()), "the kernel ended it with the descriptor");
    }

    @Test
    void aReusedSlotHasANewGenerationSoTheOldTokenStaysDead() throws Exception {
        LeaseTable observer = table(open(), shared);
        Lease old = table(open(), shared).claim();
        old.release();
        Lease reused = table(open(), shared).claim();
        assertEquals(old.slot(), reused.slot());
        assertNotEquals(old.token(), reused.token());
        assertEquals(LeaseState.DEAD, observer.probe(old.token()));
        assertEquals(LeaseState.ALIVE, observer.probe(reused.token()));
    }

    @Test
    void withoutGenerationsAReusedSlotProbesAliveForTheOldToken() throws Exception {
        LeaseTable observer = new LeaseTable(open(), LOCK_BASE, SLOTS, null, "plain", "test");
        LeaseTable first = new LeaseTable(open(), LOCK_BASE, SLOTS, null, "plain", "test");
        Lease old = first.claim();
        assertEquals(old.slot() + 1, old.token());
        old.release();
        Lease reused = new LeaseTable(open(), LOCK_BASE, SLOTS, null, "plain", "test").claim();
        assertEquals(old.token(), reused.token(), "the documented limit of a table without generations");
        assertEquals(LeaseState.ALIVE, observer.probe(old.token()));
    }

    @Test
    void onePerDescriptorSlotAndAClearErrorWhenTheTableIsFull() throws Exception {
        LeaseTable holder = table(open(), shared);
        for (int i = 0; i < SLOTS; i++) {
            assertEquals(i, holder.claim().slot(), "a descriptor never gets a slot it holds already");
        }
        SharedMemoryException e = assertThrows(SharedMemoryException.class, () -> table(open(), shared).claim());
        assertEquals("no free slot: object=test, table=test slots, slots=8, reason=every slot is held by a live holder",
                e.getMessage());
    }

    @Test
    void tokensOfAMutexOwnerTableAreTheOnesItsDescriptorDocuments() throws Exception {
        MemorySegment generations = Arena.ofAuto().allocate(4L * MutexDescriptor.SLOTS, 4);
        LeaseTable owners = new LeaseTable(open(), MutexDescriptor.OWNER_LOCK_BASE, MutexDescriptor.SLOTS, generations,
                "mutex owner slots", "test");
        Lease lease = owners.claim();
        assertEquals(MutexDescriptor.token(lease.slot(), lease.generation()), lease.token());
        assertEquals(MutexDescriptor.SLOT_SHIFT, LeaseTable.GENERATION_BITS);
        assertTrue(MutexDescriptor.SLOTS <= LeaseTable.MAX_SLOTS_WITH_GENERATIONS);
    }

    @Test
    @Tag("cross-process")
    void aKilledHolderProcessIsDeadAtOnceAndItsLockIsTakenOver() throws Exception {
        LeaseTable observer = table(open(), shared);
        Lease mine = observer.claim();
        RobustLock lock = new RobustLock(shared, LOCK_WORD, observer);
        try (ChildJvm child = ChildJvm.start(LeaseChild.class, file.toString(), "lock")) {
            String line = child.awaitLine(l -> l.startsWith("held "), ChildJvm.DEFAULT_WAIT);
            int token = Integer.parseInt(line.substring("held token=".length()));
            assertEquals(LeaseState.ALIVE, observer.probe(token));
            assertEquals(RobustLock.Outcome.HELD, lock.tryLock(mine.token(), false, true));
            child.kill9();
            assertEquals(LeaseState.DEAD, observer.probe(token));
            assertEquals(RobustLock.Outcome.TAKEN_OVER, lock.tryLock(mine.token(), false, true));
            assertEquals(mine.token(), lock.ownerToken());
        }
    }
}
