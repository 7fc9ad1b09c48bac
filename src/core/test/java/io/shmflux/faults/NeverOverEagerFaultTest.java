package io.shmflux.faults;

import io.shmflux.Access;
import io.shmflux.FileMapping;
import io.shmflux.SharedMemory;
import io.shmflux.sync.NamedEvent;
import io.shmflux.sync.NamedMutex;
import io.shmflux.sync.NamedSemaphore;
import io.shmflux.sync.WaitResult;
import io.shmflux.testing.ChildJvm;
import io.shmflux.testing.NoLeftovers;
import io.shmflux.testing.TestNames;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Never over-eager: the creator exits, normally or by kill -9, while another live process holds the
 * object by one means only; the object survives with its contents and a third process (this one)
 * opens it. Once the holder lets go too, nothing is left.
 */
@Tag("fault")
@Tag("cross-process")
@ExtendWith(NoLeftovers.class)
class NeverOverEagerFaultTest {

    private static final java.util.concurrent.atomic.AtomicInteger CASES = new java.util.concurrent.atomic.AtomicInteger();
    private static final java.util.concurrent.atomic.AtomicInteger SURVIVED = new java.util.concurrent.atomic.AtomicInteger();

    @TempDir
    Path dir;

    @org.junit.jupiter.api.AfterAll
    static void report() {
        Campaign.report("neverOverEager", "cases=" + CASES.get() + " kills=" + CASES.get() / 2 + " survived="
                + SURVIVED.get() + " failures=" + (CASES.get() - SURVIVED.get()));
    }

    @ParameterizedTest(name = "{0} holder, creator {1}")
    @CsvSource({
            "view, exits", "view, killed",
            "read, exits", "read, killed",
            "subscriber, exits", "subscriber, killed",
            "file, exits", "file, killed",
            "mutex, exits", "mutex, killed",
            "event, exits", "event, killed",
            "semaphore, exits", "semaphore, killed"})
    void anObjectHeldByAnotherLiveProcessSurvivesItsCreator(String kind, String exit) throws Exception {
        CASES.incrementAndGet();
        String name = TestNames.unique("eager-" + kind);
        Path file = dir.resolve("backing.bin");
        Files.write(file, new byte[4096]);
        try (ChildJvm creator = ChildJvm.start(Campaign.CHILD_OPTIONS, FaultChild.class, "make", kind, name,
                file.toString())) {
            creator.awaitLine("made"::equals, ChildJvm.DEFAULT_WAIT);
            try (ChildJvm holder = ChildJvm.start(Campaign.CHILD_OPTIONS, FaultChild.class, "hold", kind, name)) {
                holder.awaitLine("holding"::equals, ChildJvm.DEFAULT_WAIT);
                if (exit.equals("killed")) {
                    creator.kill9();
                } else {
                    creator.send("exit").awaitBye(ChildJvm.DEFAULT_WAIT);
                }
                assertSurvived(kind, name);
                holder.send("exit").awaitBye(ChildJvm.DEFAULT_WAIT);
            }
        }
        if (kind.equals("file")) {
            assertEquals(FaultChild.MADE, MemorySegment.ofArray(Files.readAllBytes(file))
                    .get(ValueLayout.JAVA_LONG_UNALIGNED, 0), "the file holds what was published");
        }
        KillNineFaultTest.assertGone(name);
        SURVIVED.incrementAndGet();
    }

    private static void assertSurvived(String kind, String name) {
        Duration now = Duration.ZERO;
        switch (kind) {
            case "mutex" -> {
                try (NamedMutex mutex = NamedMutex.open(name)) {
                    assertEquals(WaitResult.SIGNALED, mutex.lock(now));
                    mutex.unlock();
                }
            }
            case "event" -> {
                try (NamedEvent event = NamedEvent.open(name)) {
                    assertEquals(WaitResult.SIGNALED, event.await(now), "the manual-reset event is still set");
                }
            }
            case "semaphore" -> {
                try (NamedSemaphore semaphore = NamedSemaphore.open(name)) {
                    assertEquals(WaitResult.SIGNALED, semaphore.acquire(now));
                    assertEquals(WaitResult.SIGNALED, semaphore.acquire(now));
                    assertEquals(WaitResult.TIMEOUT, semaphore.acquire(now), "two units, no more");
                    semaphore.release(2);
                }
            }
            default -> {
                try (FileMapping mapping = SharedMemory.open(name, Access.READ)) {
                    assertEquals(FaultChild.MADE, MemorySegment.ofArray(mapping.read(0, 8))
                            .get(ValueLayout.JAVA_LONG_UNALIGNED, 0));
                    assertEquals(1, mapping.sequence());
                }
            }
        }
    }
}
