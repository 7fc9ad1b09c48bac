package io.shmflux.samples;

import io.shmflux.testing.ChildJvm;
import io.shmflux.testing.NoLeftovers;
import io.shmflux.testing.TestNames;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.time.Duration;
import java.util.HashSet;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Runs the demo as a real process, with its three sample processes, and reads what it prints. */
@Tag("cross-process")
@ExtendWith(NoLeftovers.class)
class DemoTest {

    private static final Duration WAIT = Duration.ofSeconds(45);
    private static final Pattern LINE = Pattern.compile("\\[(demo|publisher|subscriber-java|subscriber-kotlin) (\\d+)] (.*)");
    private static final Pattern EVENT = Pattern.compile("seq=\\d+ from pid (\\d+): sensor \\d.*");

    @Test
    void bothSubscribersPrintChangesFromThePublishersPidAndCtrlCStopsEveryProcessLeavingNothingBehind() {
        String name = TestNames.unique("demo");
        Set<Long> children = new HashSet<>();
        ChildJvm demo = ChildJvm.start(Demo.class, "--seconds", "0", "--name", name);
        try {
            long publisher = 0;
            boolean javaReceived = false;
            boolean kotlinReceived = false;
            long deadline = System.nanoTime() + WAIT.toNanos();
            while (!(javaReceived && kotlinReceived)) {
                String line = demo.nextLine(Duration.ofNanos(Math.max(1, deadline - System.nanoTime())));
                Matcher m = LINE.matcher(line);
                assertTrue(m.matches(), "every line starts with [role pid]: " + line);
                String role = m.group(1);
                long pid = Long.parseLong(m.group(2));
                if (role.equals("demo")) {
                    assertEquals(demo.pid(), pid, line);
                    continue;
                }
                children.add(pid);
                if (role.equals("publisher")) {
                    publisher = pid;
                    continue;
                }
                Matcher event = EVENT.matcher(m.group(3));
                if (event.matches()) {
                    assertNotEquals(0, publisher, "the publisher spoke first: " + line);
                    assertEquals(publisher, Long.parseLong(event.group(1)), "written by the publisher: " + line);
                    javaReceived |= role.equals("subscriber-java");
                    kotlinReceived |= role.equals("subscriber-kotlin");
                }
            }
            assertEquals(3, children.size(), "one publisher and two subscribers, each its own process");

            demo.process().destroy(); // SIGTERM, as Ctrl-C would send
            assertEquals(143, demo.awaitExit(WAIT), "ended by the signal after its shutdown hook: " + demo.stderr());
            assertNothingLeft(name);
            for (long pid : children) {
                assertFalse(ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false),
                        "sample process " + pid + " stopped");
            }
        } finally {
            killTree(demo);
            children.forEach(pid -> ProcessHandle.of(pid).ifPresent(ProcessHandle::destroyForcibly));
        }
    }

    @Test
    void aBoundedRunStopsByItselfAndExitsCleanly() {
        String name = TestNames.unique("demo");
        ChildJvm demo = ChildJvm.start(Demo.class, "--seconds", "2", "--name", name);
        try {
            demo.awaitLine(l -> l.contains("[publisher "), WAIT);
            assertEquals(0, demo.awaitExit(WAIT), "0: it found nothing left behind; " + demo.stderr());
            assertNothingLeft(name);
        } finally {
            killTree(demo);
        }
    }

    /**
     * The demo's own check prints "nothing left" as its last line, but the JDK may drop a child's
     * last lines when it exits, so look for ourselves.
     */
    private static void assertNothingLeft(String name) {
        assertEquals(Set.of(), NoLeftovers.ours().stream().filter(f -> f.contains(name)).collect(Collectors.toSet()));
    }

    /** Kills the demo and its sample processes, whatever state a failed test left them in. */
    private static void killTree(ChildJvm demo) {
        demo.process().descendants().forEach(ProcessHandle::destroyForcibly);
        demo.close();
    }
}
