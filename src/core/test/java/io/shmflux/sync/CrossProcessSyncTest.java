package io.shmflux.sync;

import io.shmflux.Access;
import io.shmflux.FileMapping;
import io.shmflux.MappedView;
import io.shmflux.SharedMemory;
import io.shmflux.testing.ChildJvm;
import io.shmflux.testing.NoLeftovers;
import io.shmflux.testing.SyncChild;
import io.shmflux.testing.TestNames;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.io.IOException;
import java.lang.foreign.ValueLayout;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

@Tag("cross-process")
@ExtendWith(NoLeftovers.class)
class CrossProcessSyncTest {

    private static final Duration LONG_WAIT = Duration.ofSeconds(60);

    @Test
    void fourProcessesTimesTenThousandIncrementsUnderOneMutexGiveExactlyFortyThousand() throws Exception {
        String mutexName = TestNames.unique("count-mutex");
        String mapName = TestNames.unique("count-map");
        try (NamedMutex mutex = NamedMutex.createOrOpen(mutexName);
             FileMapping mapping = SharedMemory.createOrOpen(mapName, 4096);
             MappedView view = mapping.map(Access.READ_WRITE);
             Children children = new Children(4)) {
            for (ChildJvm child : children) {
                child.nextLine();
                call(child, "mutex " + mutexName);
            }
            long start = System.nanoTime();
            for (ChildJvm child : children) {
                child.send("increment " + mutexName + " " + mapName + " 10000");
            }
            for (ChildJvm child : children) {
                assertEquals("ok", reply(child, LONG_WAIT));
            }
            long millis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
            System.out.println("4 x 10000 increments under a NamedMutex: " + millis + " ms");
            assertEquals(40_000L, view.segment().get(ValueLayout.JAVA_LONG, 0));
            assertEquals(WaitResult.SIGNALED, mutex.lock(Duration.ZERO), "free again");
            mutex.unlock();
        }
    }

    @Test
    void killingTheOwnerProcessAbandonsTheMutexToTheNextLock() {
        String name = TestNames.unique("abandon");
        try (NamedMutex mutex = NamedMutex.createOrOpen(name); ChildJvm child = ChildJvm.start(SyncChild.class)) {
            child.nextLine();
            call(child, "mutex " + name);
            assertEquals("ok SIGNALED", call(child, "lock " + name + " 0"));
            assertEquals(WaitResult.TIMEOUT, mutex.lock(Duration.ZERO), "the live child owns it");
            child.kill9();
            assertEquals(WaitResult.ABANDONED, mutex.lock(Duration.ofSeconds(5)));
            assertTrue(mutex.isHeldByCurrentThread());
            mutex.unlock();
            assertEquals(WaitResult.SIGNALED, mutex.lock(Duration.ZERO), "abandonment is reported once");
            mutex.unlock();
        }
    }

    @Test
    void aWaiterAlreadyAsleepWhenTheOwnerIsKilledGetsTheMutexAbandoned() throws Exception {
        String name = TestNames.unique("abandon-asleep");
        ExecutorService parentWaiter = Executors.newSingleThreadExecutor();
        try (NamedMutex mutex = NamedMutex.createOrOpen(name)) {
            try (ChildJvm owner = ChildJvm.start(SyncChild.class);
                 ChildJvm waiter = ChildJvm.start(SyncChild.class)) {
                owner.nextLine();
                waiter.nextLine();
                call(owner, "mutex " + name);
                call(waiter, "mutex " + name);
                assertEquals("ok SIGNALED", call(owner, "lock " + name + " 0"));
                call(waiter, "bg w lock " + name + " 20000");
                Future<WaitResult> mine = parentWaiter.submit(() -> mutex.lock(Duration.ofSeconds(20)));
                Thread.sleep(500);
                assertFalse(mine.isDone(), "the parent's waiter sleeps");
                assertNull(pollLine(waiter, Duration.ZERO), "the child's waiter sleeps");
                long killed = System.nanoTime();
                owner.kill9();
                // one of the two sleeping waiters gets ABANDONED, the other the mutex once that one unlocks
                String childLine = null;
                while (!mine.isDone() && childLine == null) {
                    assertTrue(System.nanoTime() - killed < Duration.ofSeconds(5).toNanos(), "nobody noticed the death");
                    childLine = pollLine(waiter, Duration.ofMillis(10));
                }
                System.out.println("abandonment noticed by a sleeping waiter after "
                        + TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - killed) + " ms");
                if (childLine != null) {
                    assertEquals("async w ok ABANDONED", childLine);
                    callInBackground(waiter, "w", "unlock " + name);
                    assertEquals(WaitResult.SIGNALED, mine.get(5, TimeUnit.SECONDS));
                } else {
                    assertEquals(WaitResult.ABANDONED, mine.get());
                    parentWaiter.submit(mutex::unlock).get(5, TimeUnit.SECONDS);
                    assertEquals("async w ok SIGNALED", waiter.awaitLine(l -> l.startsWith("async w"), Duration.ofSeconds(5)));
                    callInBackground(waiter, "w", "unlock " + name);
                }
            }
            if (mine(mutex, parentWaiter)) {
                parentWaiter.submit(mutex::unlock).get(5, TimeUnit.SECONDS);
            }
        } finally {
            parentWaiter.shutdownNow();
        }
    }

    private static boolean mine(NamedMutex mutex, ExecutorService thread) throws Exception {
        return thread.submit(mutex::isHeldByCurrentThread).get(5, TimeUnit.SECONDS);
    }

    @Test
    void waitersKilledInTheirSleepLeaveTheObjectsWorking() {
        String event = TestNames.unique("killed-waiter-ev");
        String semaphore = TestNames.unique("killed-waiter-sem");
        try (NamedEvent ev = NamedEvent.createOrOpen(event, EventReset.AUTO);
             NamedSemaphore sem = NamedSemaphore.createOrOpen(semaphore, 0, 1)) {
            try (ChildJvm child = ChildJvm.start(SyncChild.class)) {
                child.nextLine();
                call(child, "event " + event + " AUTO");
                call(child, "semaphore " + semaphore + " 0 1");
                call(child, "bg a await " + event + " 30000");
                call(child, "bg b acquire " + semaphore + " 30000");
                sleep(400);
                child.kill9(); // its waiter counts stay raised: later releases only make a needless wake call
            }
            ev.set();
            assertEquals(WaitResult.SIGNALED, ev.await(Duration.ZERO), "the signal was not lost to the dead waiter");
            assertEquals(0, sem.release(1));
            assertEquals(WaitResult.SIGNALED, sem.acquire(Duration.ZERO));
        }
    }

    @Test
    void anAutoResetEventReleasesOneWaitingProcessPerSet() {
        String name = TestNames.unique("auto");
        try (NamedEvent event = NamedEvent.createOrOpen(name, EventReset.AUTO); Children children = new Children(3)) {
            for (ChildJvm child : children) {
                child.nextLine();
                call(child, "event " + name + " AUTO");
                call(child, "bg w await " + name + " 20000");
            }
            sleep(500);
            for (int set = 1; set <= 3; set++) {
                event.set();
                int released = 0;
                long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
                long quietUntil = Long.MAX_VALUE;
                // wait for the first release, then 500 ms more for a second one that must not come
                while (System.nanoTime() < Math.min(deadline, quietUntil)) {
                    for (ChildJvm child : children) {
                        String line = pollLine(child, Duration.ofMillis(20));
                        if (line != null) {
                            assertEquals("async w ok SIGNALED", line);
                            released++;
                            quietUntil = System.nanoTime() + Duration.ofMillis(500).toNanos();
                        }
                    }
                }
                assertEquals(1, released, "one set releases exactly one waiter: set=" + set);
            }
            assertEquals(WaitResult.TIMEOUT, event.await(Duration.ZERO), "every signal was consumed");
        }
    }

    @Test
    void aManualResetEventReleasesEveryWaitingProcessUntilReset() {
        String name = TestNames.unique("manual");
        try (NamedEvent event = NamedEvent.createOrOpen(name, EventReset.MANUAL); Children children = new Children(3)) {
            for (ChildJvm child : children) {
                child.nextLine();
                call(child, "event " + name + " AUTO"); // opening keeps the creator's mode
                call(child, "bg w await " + name + " 20000");
            }
            sleep(500);
            event.set();
            for (ChildJvm child : children) {
                assertEquals("async w ok SIGNALED", child.awaitLine(l -> l.startsWith("async"), Duration.ofSeconds(5)));
            }
            assertEquals("ok SIGNALED", call(children.get(0), "await " + name + " 0"), "still signaled");
            event.reset();
            assertEquals("ok TIMEOUT", call(children.get(1), "await " + name + " 200"));
        }
    }

    @Test
    void pingPongWithAnotherProcessLosesNoWakeUp() {
        String ping = TestNames.unique("xping");
        String pong = TestNames.unique("xpong");
        int rounds = 5_000;
        try (NamedEvent pingEvent = NamedEvent.createOrOpen(ping, EventReset.AUTO);
             NamedEvent pongEvent = NamedEvent.createOrOpen(pong, EventReset.AUTO);
             ChildJvm child = ChildJvm.start(SyncChild.class)) {
            child.nextLine();
            call(child, "event " + ping + " AUTO");
            call(child, "event " + pong + " AUTO");
            call(child, "bg echo echo " + ping + " " + pong + " " + rounds);
            int slow = 0;
            long start = System.nanoTime();
            for (int i = 0; i < rounds; i++) {
                long t0 = System.nanoTime();
                pingEvent.set();
                assertEquals(WaitResult.SIGNALED, pongEvent.await(Duration.ofSeconds(10)), "round " + i);
                if (System.nanoTime() - t0 > TimeUnit.MILLISECONDS.toNanos(90)) {
                    slow++; // a lost wake-up shows as a round that waited out a 100 ms slice
                }
            }
            long millis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
            System.out.printf("%d cross-process ping-pong rounds: %d ms (%.1f us per round trip), rounds over 90 ms: %d%n",
                    rounds, millis, millis * 1000.0 / rounds, slow);
            assertEquals("async echo ok", child.awaitLine(l -> l.startsWith("async echo"), Duration.ofSeconds(10)));
            assertTrue(slow <= 5, "rounds that waited out a slice: " + slow);
        }
    }

    @Test
    void aSemaphoreNeverExceedsItsMaximumUnderContention() {
        String name = TestNames.unique("sem");
        String mapName = TestNames.unique("sem-map");
        try (NamedSemaphore semaphore = NamedSemaphore.createOrOpen(name, 2, 2);
             FileMapping mapping = SharedMemory.createOrOpen(mapName, 4096);
             MappedView view = mapping.map(Access.READ_WRITE);
             Children children = new Children(4)) {
            for (ChildJvm child : children) {
                child.nextLine();
                call(child, "semaphore " + name + " 2 2");
            }
            for (ChildJvm child : children) {
                child.send("holders " + name + " " + mapName + " 2000");
            }
            for (ChildJvm child : children) {
                assertEquals("ok", reply(child, LONG_WAIT));
            }
            long maxHolders = view.segment().get(ValueLayout.JAVA_LONG, 8);
            System.out.println("semaphore(max 2), 4 processes x 2000 acquisitions: most holders at once = " + maxHolders);
            assertTrue(maxHolders >= 1 && maxHolders <= 2, "max holders " + maxHolders);
            assertEquals(0L, view.segment().get(ValueLayout.JAVA_LONG, 0));
            assertEquals(WaitResult.SIGNALED, semaphore.acquire(Duration.ZERO));
            assertEquals(WaitResult.SIGNALED, semaphore.acquire(Duration.ZERO));
            assertEquals(WaitResult.TIMEOUT, semaphore.acquire(Duration.ZERO), "count back at exactly 2");
        }
    }

    @Test
    void waitAnyInAnotherProcessReturnsTheIndexOfTheObjectThatWasSignaled() {
        String a = TestNames.unique("any-a");
        String b = TestNames.unique("any-b");
        String s = TestNames.unique("any-s");
        try (NamedEvent eventA = NamedEvent.createOrOpen(a, EventReset.AUTO);
             NamedEvent eventB = NamedEvent.createOrOpen(b, EventReset.AUTO);
             NamedSemaphore semaphore = NamedSemaphore.createOrOpen(s, 0, 1);
             ChildJvm child = ChildJvm.start(SyncChild.class)) {
            child.nextLine();
            call(child, "event " + a + " AUTO");
            call(child, "event " + b + " AUTO");
            call(child, "semaphore " + s + " 0 1");
            call(child, "bg 1 awaitAny 20000 " + a + "," + b + "," + s);
            sleep(300);
            semaphore.release(1);
            assertEquals("async 1 ok 2 SIGNALED", child.awaitLine(l -> l.startsWith("async"), Duration.ofSeconds(5)));
            call(child, "bg 2 awaitAny 20000 " + a + "," + b + "," + s);
            sleep(300);
            eventB.set();
            assertEquals("async 2 ok 1 SIGNALED", child.awaitLine(l -> l.startsWith("async"), Duration.ofSeconds(5)));
            assertEquals("ok -1 TIMEOUT", call(child, "awaitAny 100 " + a + "," + b + "," + s));
            eventA.set();
            eventB.set();
            assertEquals("ok 0 SIGNALED", call(child, "awaitAny 0 " + a + "," + b + "," + s), "the lowest index wins");
        }
    }

    @Test
    void aProcessWaitingOnAnEventUsesAlmostNoCpu() throws Exception {
        String name = TestNames.unique("idle");
        try (NamedEvent event = NamedEvent.createOrOpen(name, EventReset.AUTO);
             ChildJvm child = ChildJvm.start(SyncChild.class)) {
            child.nextLine();
            call(child, "event " + name + " AUTO");
            call(child, "bg w await " + name + " 30000");
            sleep(1500); // let start-up work (JIT, class loading) settle
            Path waiterTask = findTask(child.pid(), "bg-w");
            long threadBefore = schedstatNanos(waiterTask);
            long processBefore = processNanos(child.pid());
            long wallBefore = System.nanoTime();
            sleep(1000);
            long threadCpu = schedstatNanos(waiterTask) - threadBefore;
            long processCpu = processNanos(child.pid()) - processBefore;
            long wall = System.nanoTime() - wallBefore;
            double threadPercent = 100.0 * threadCpu / wall;
            double processPercent = 100.0 * processCpu / wall;
            System.out.printf("idle wait CPU over %d ms: waiting thread %.4f%% (%d us), whole child JVM %.3f%% (%d us)%n",
                    wall / 1_000_000, threadPercent, threadCpu / 1000, processPercent, processCpu / 1000);
            assertTrue(threadPercent < 2.0, "waiting thread used " + threadPercent + "% of a core");
            assertTrue(processPercent < 5.0, "waiting process used " + processPercent + "% of a core");
            event.set();
            assertEquals("async w ok SIGNALED", child.awaitLine(l -> l.startsWith("async"), Duration.ofSeconds(5)));
        }
    }

    /** Child JVMs started together; closed (killed) before the parent's handles, which then destroy the objects. */
    private static final class Children extends ArrayList<ChildJvm> implements AutoCloseable {
        Children(int count) {
            for (int i = 0; i < count; i++) {
                add(ChildJvm.start(SyncChild.class));
            }
        }

        @Override
        public void close() {
            forEach(ChildJvm::close);
        }
    }

    private static Path findTask(long pid, String threadName) throws IOException {
        try (DirectoryStream<Path> tasks = Files.newDirectoryStream(Path.of("/proc", Long.toString(pid), "task"))) {
            for (Path task : tasks) {
                if (Files.readString(task.resolve("comm")).strip().equals(threadName)) {
                    return task;
                }
            }
        }
        throw new AssertionError("no thread " + threadName + " in process " + pid);
    }

    private static long schedstatNanos(Path task) throws IOException {
        return Long.parseLong(Files.readString(task.resolve("schedstat")).split(" ")[0]);
    }

    private static long processNanos(long pid) throws IOException {
        long sum = 0;
        try (DirectoryStream<Path> tasks = Files.newDirectoryStream(Path.of("/proc", Long.toString(pid), "task"))) {
            for (Path task : tasks) {
                try {
                    sum += schedstatNanos(task);
                } catch (IOException e) {
                    // thread ended meanwhile
                }
            }
        }
        return sum;
    }

    /** Sends a command and {@return the reply}, skipping async lines; fails unless it is ok. */
    static String call(ChildJvm child, String command) {
        child.send(command);
        String reply = reply(child, ChildJvm.DEFAULT_WAIT);
        if (!reply.startsWith("ok")) {
            throw new AssertionError("command '" + command + "' answered: " + reply + "\n" + child.stderr());
        }
        return reply;
    }

    /**
     * Runs a command on the child's background thread {@code tag} and waits for both the reply to
     * {@code bg} and the command's own {@code async} line, which may come in either order.
     */
    private static void callInBackground(ChildJvm child, String tag, String command) {
        child.send("bg " + tag + " " + command);
        boolean replied = false;
        boolean done = false;
        while (!replied || !done) {
            String line = child.nextLine(Duration.ofSeconds(10));
            if (line.equals("ok")) {
                replied = true;
            } else if (line.startsWith("async " + tag + " ")) {
                assertEquals("async " + tag + " ok", line, command);
                done = true;
            } else {
                throw new AssertionError("unexpected line from child: " + line);
            }
        }
    }

    private static String reply(ChildJvm child, Duration wait) {
        return child.awaitLine(l -> l.startsWith("ok") || l.startsWith("error"), wait);
    }

    private static String pollLine(ChildJvm child, Duration wait) {
        try {
            return child.nextLine(wait.isZero() ? Duration.ofMillis(1) : wait);
        } catch (AssertionError e) {
            return null;
        }
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }
}
