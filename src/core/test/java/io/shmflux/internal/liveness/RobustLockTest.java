package io.shmflux.internal.liveness;

import io.shmflux.internal.linux.Libc;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The robust lock's steps on a real mapped file, with holders on separate descriptors. */
class RobustLockTest {

    private Path file;
    private Arena arena;
    private MemorySegment shared;
    private final List<Integer> fds = new ArrayList<>();

    @BeforeEach
    void createFile() throws Exception {
        file = Files.createTempFile("robust-lock", ".bin");
        Files.write(file, new byte[(int) LeaseTableTest.FILE_SIZE]);
        arena = Arena.ofShared();
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            shared = channel.map(FileChannel.MapMode.READ_WRITE, 0, LeaseTableTest.FILE_SIZE, arena);
        }
    }

    @AfterEach
    void closeAll() throws Exception {
        fds.forEach(Libc::close);
        arena.close();
        Files.deleteIfExists(file);
    }

    private LeaseTable holder() throws Exception {
        int fd = Libc.open(file.toString(), Libc.O_RDWR | Libc.O_CLOEXEC, 0);
        fds.add(fd);
        return LeaseTableTest.table(fd, shared);
    }

    @Test
    void freeHeldOwnAndUnlock() throws Exception {
        LeaseTable a = holder();
        LeaseTable b = holder();
        Lease la = a.claim();
        Lease lb = b.claim();
        RobustLock lockA = new RobustLock(shared, 0, a);
        RobustLock lockB = new RobustLock(shared, 0, b);
        assertEquals(RobustLock.Outcome.ACQUIRED, lockA.tryLock(la.token(), false, true));
        assertEquals(RobustLock.Outcome.OWN_TOKEN, lockA.tryLock(la.token(), false, true));
        assertEquals(RobustLock.Outcome.HELD, lockB.tryLock(lb.token(), false, true));
        lockA.unlock();
        assertEquals(0, lockB.ownerToken());
        assertEquals(RobustLock.Outcome.ACQUIRED, lockB.tryLock(lb.token(), true, true));
        assertTrue(lockB.contended(), "a lock taken after sleeping keeps the waiters bit");
    }

    @Test
    void aDeadOwnerIsTakenOverKeepingTheWaitersBitButOnlyWhenAskedToProbe() throws Exception {
        LeaseTable dying = holder();
        Lease dead = dying.claim();
        RobustLock lock = new RobustLock(shared, 0, holder());
        Lease mine = holder().claim();
        assertEquals(RobustLock.Outcome.ACQUIRED, new RobustLock(shared, 0, dying).tryLock(dead.token(), false, true));
        assertTrue(lock.arm() < 0, "armed with the waiters bit");
        dead.release();
        assertEquals(RobustLock.Outcome.HELD, lock.tryLock(mine.token(), false, false), "no probe, no take-over");
        assertEquals(RobustLock.Outcome.TAKEN_OVER, lock.tryLock(mine.token(), false, true));
        assertEquals(mine.token(), lock.ownerToken());
        assertTrue(lock.contended());
    }

    @Test
    void unlockWakesASleeperAndAWaiterThatGivesUpPassesTheWakeUpOn() throws Exception {
        LeaseTable a = holder();
        Lease la = a.claim();
        RobustLock owner = new RobustLock(shared, 0, a);
        assertEquals(RobustLock.Outcome.ACQUIRED, owner.tryLock(la.token(), false, true));
        LeaseTable b = holder();
        Lease lb = b.claim();
        RobustLock waiter = new RobustLock(shared, 0, b);
        CountDownLatch armed = new CountDownLatch(1);
        AtomicReference<RobustLock.Outcome> got = new AtomicReference<>();
        Thread sleeper = Thread.ofPlatform().start(() -> {
            while (true) {
                RobustLock.Outcome outcome = waiter.tryLock(lb.token(), true, true);
                if (outcome != RobustLock.Outcome.HELD) {
                    got.set(outcome);
                    return;
                }
                int value = waiter.arm();
                armed.countDown();
                if (value != 0) {
                    waiter.await(value, TimeUnit.SECONDS.toNanos(10)); // a lost wake-up would take 10 s
                }
            }
        });
        assertTrue(armed.await(10, TimeUnit.SECONDS));
        long start = System.nanoTime();
        owner.unlock();
        sleeper.join(10_000);
        assertFalse(sleeper.isAlive());
        assertTrue(System.nanoTime() - start < TimeUnit.SECONDS.toNanos(5), "woken, not timed out");
        assertEquals(RobustLock.Outcome.ACQUIRED, got.get());

        waiter.unlock();
        shared.set(ValueLayout.JAVA_INT, 0, la.token()); // held again, nobody marked as waiting
        waiter.passOn();
        assertTrue(waiter.contended(), "passing on sets the bit, so the next unlock wakes someone");
    }
}
