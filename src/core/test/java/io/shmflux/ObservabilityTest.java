package io.shmflux;

import io.shmflux.testing.ChildJvm;
import io.shmflux.testing.NoLeftovers;
import io.shmflux.testing.TestNames;
import jdk.jfr.Recording;
import jdk.jfr.consumer.RecordedEvent;
import jdk.jfr.consumer.RecordingFile;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.reactivestreams.Subscription;
import reactor.core.publisher.BaseSubscriber;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.logging.Handler;
import java.util.logging.LogRecord;
import java.util.logging.Logger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The library's JFR events and log records, from real objects, real other processes killed with
 * {@code kill -9} and a real recording written to a {@code .jfr} file and read back. The scenarios run
 * once ({@link #runScenariosUnderARecording}); each test checks one kind of event in that file.
 */
@ExtendWith(NoLeftovers.class)
class ObservabilityTest {

    private static final List<String> EVENTS = List.of("ObjectCreated", "ObjectDestroyed", "ObjectReclaimed",
            "WriterRecovered", "TornChange", "SubscriberLapped", "BackPressureWait");

    private static final Logger JUL = Logger.getLogger("io.shmflux"); // held: System.Logger's backend here
    private static final List<LogRecord> LOGGED = new CopyOnWriteArrayList<>();
    private static final Handler CAPTURE = new Handler() {
        @Override
        public void publish(LogRecord record) {
            LOGGED.add(record);
        }

        @Override
        public void flush() {
        }

        @Override
        public void close() {
        }
    };

    private static List<RecordedEvent> recorded = List.of();
    private static final String PLAIN = TestNames.unique("jfr-plain");
    private static final String STALE = TestNames.unique("jfr-stale");
    private static final String RECOVERED = TestNames.unique("jfr-recovered");
    private static final String LAPPED = TestNames.unique("jfr-lapped");
    private static final String WAITED = TestNames.unique("jfr-waited");
    private static final String LINKED = TestNames.unique("jfr-linked");

    @BeforeAll
    static void runScenariosUnderARecording() throws Exception {
        JUL.addHandler(CAPTURE);
        Path file = Files.createTempFile("shmflux-", ".jfr");
        try (Recording recording = new Recording()) {
            for (String event : EVENTS) {
                recording.enable("io.shmflux." + event).withThreshold(Duration.ZERO);
            }
            recording.start();
            createAndClose();
            reclaimAStaleObject();
            recoverADeadWriter();
            lapASubscriber();
            waitForABackPressureSubscriber();
            refuseAHardLinkedControlFile();
            recording.stop();
            recording.dump(file);
            recorded = RecordingFile.readAllEvents(file);
        } finally {
            Files.deleteIfExists(file);
        }
    }

    @AfterAll
    static void stopCapturing() {
        JUL.removeHandler(CAPTURE);
    }

    private static void createAndClose() {
        try (FileMapping mapping = SharedMemory.create(PLAIN, 4096)) {
            mapping.publish(0, new byte[]{1});
        }
    }

    /** A child creates an object and is killed holding it: the next open reclaims it. */
    private static void reclaimAStaleObject() {
        try (ChildJvm child = ChildJvm.start(ObservabilityChild.class, "hold", STALE)) {
            child.awaitLine(l -> l.startsWith("holding"), ChildJvm.DEFAULT_WAIT);
            child.kill9();
        }
        try (FileMapping again = SharedMemory.createOrOpen(STALE, 4096)) {
            assertTrue(again.created(), "the dead holder's object was reclaimed, this one is new");
        }
    }

    /** A child dies inside a writer lambda; this process's feed recovers the change and delivers it torn. */
    private static void recoverADeadWriter() throws Exception {
        try (FileMapping mapping = SharedMemory.create(RECOVERED, 4096)) {
            CompletableFuture<ChangeEvent> torn = mapping.changes().filter(ChangeEvent::torn).next().toFuture();
            try (ChildJvm child = ChildJvm.start(ObservabilityChild.class, "die-in-writer", RECOVERED)) {
                child.awaitLine("inside"::equals, ChildJvm.DEFAULT_WAIT);
                child.kill9();
            }
            ChangeEvent event = torn.get(30, TimeUnit.SECONDS);
            assertEquals(1, event.sequence());
        }
    }

    /** A REPORT subscriber blocked in onNext while 40 changes go through a ring of 16. */
    private static void lapASubscriber() throws Exception {
        try (FileMapping mapping = SharedMemory.create(LAPPED, 4096,
                MappingOptions.DEFAULT.withChangeRingCapacity(16))) {
            CountDownLatch inFirst = new CountDownLatch(1);
            CountDownLatch release = new CountDownLatch(1);
            CompletableFuture<ChangeEvent> lapped = new CompletableFuture<>();
            mapping.changes().subscribe(event -> {
                if (event.sequence() == 1) {
                    inFirst.countDown();
                    await(release);
                } else if (event.missed() > 0) {
                    lapped.complete(event);
                }
            });
            mapping.publish(0, new byte[]{1});
            assertTrue(inFirst.await(30, TimeUnit.SECONDS));
            for (int i = 0; i < 40; i++) {
                mapping.publish(0, new byte[]{2});
            }
            release.countDown();
            assertTrue(lapped.get(30, TimeUnit.SECONDS).missed() > 0);
        }
    }

    /** A BACK_PRESSURE subscriber that requests nothing for 200 ms holds the 17th publish into a ring of 16. */
    private static void waitForABackPressureSubscriber() throws Exception {
        try (FileMapping mapping = SharedMemory.create(WAITED, 4096,
                MappingOptions.DEFAULT.withChangeRingCapacity(16))) {
            CompletableFuture<Subscription> subscribed = new CompletableFuture<>();
            mapping.changes(ChangeOptions.DEFAULT.withOverflow(ChangeOptions.Overflow.BACK_PRESSURE))
                    .subscribe(new BaseSubscriber<>() {
                        @Override
                        protected void hookOnSubscribe(Subscription subscription) {
                            subscribed.complete(subscription);
                        }
                    });
            Subscription subscription = subscribed.get(30, TimeUnit.SECONDS);
            CompletableFuture<Void> publisher = CompletableFuture.runAsync(() -> {
                for (int i = 0; i < 17; i++) {
                    mapping.publish(0, new byte[]{3});
                }
            });
            TimeUnit.MILLISECONDS.sleep(200);
            subscription.request(Long.MAX_VALUE);
            publisher.get(30, TimeUnit.SECONDS);
            subscription.cancel();
        }
    }

    /** A second hard link to a control file: the library refuses the object (and says so in the log). */
    private static void refuseAHardLinkedControlFile() throws Exception {
        try (FileMapping mapping = SharedMemory.create(LINKED, 4096)) {
            Path control = Path.of(mapping.dataPath() + ".ctl");
            Path link = control.resolveSibling("shmflux-test-link-" + TestNames.RUN);
            Files.createLink(link, control);
            try {
                assertThrows(AccessDeniedException.class, () -> SharedMemory.open(LINKED, Access.READ).close());
            } finally {
                Files.delete(link);
            }
        }
    }

    private static void await(CountDownLatch latch) {
        try {
            assertTrue(latch.await(30, TimeUnit.SECONDS));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static List<RecordedEvent> events(String type, String field, String containing) {
        List<RecordedEvent> matching = new ArrayList<>();
        for (RecordedEvent event : recorded) {
            if (event.getEventType().getName().equals("io.shmflux." + type)
                    && String.valueOf(event.getValue(field).toString()).contains(containing)) {
                matching.add(event);
            }
        }
        return matching;
    }

    @Test
    void everyEventTypeIsNamedInTheShmfluxNameSpaceAndCategory() {
        for (RecordedEvent event : recorded) {
            assertTrue(event.getEventType().getName().startsWith("io.shmflux."), event.getEventType().getName());
            assertEquals(List.of("shmflux"), event.getEventType().getCategoryNames());
        }
        for (String type : EVENTS) {
            assertTrue(recorded.stream().anyMatch(e -> e.getEventType().getName().equals("io.shmflux." + type)),
                    "the recording holds an io.shmflux." + type + " event");
        }
    }

    @Test
    void creatingAndClosingAnObjectAreRecorded() {
        RecordedEvent created = events("ObjectCreated", "name", PLAIN).getFirst();
        assertEquals("file mapping", created.getString("kind"));
        assertTrue(created.getString("path").endsWith(PLAIN + ".ctl"), created.getString("path"));
        RecordedEvent destroyed = events("ObjectDestroyed", "name", PLAIN).getFirst();
        assertEquals(created.getString("path"), destroyed.getString("path"));
        assertTrue(!destroyed.getStartTime().isBefore(created.getStartTime()));
    }

    @Test
    void aStaleObjectsReclaimIsRecordedAndLogged() {
        RecordedEvent reclaimed = events("ObjectReclaimed", "path", STALE).getFirst();
        assertEquals("stale", reclaimed.getString("reason"));
        assertLogged(System.Logger.Level.INFO, "reclaimed object", STALE);
    }

    @Test
    void aDeadWritersRecoveryAndItsTornChangeAreRecordedAndLogged() {
        RecordedEvent recovered = events("WriterRecovered", "object", RECOVERED).getFirst();
        assertEquals(1, recovered.getLong("sequence"));
        assertEquals(0, recovered.getLong("offset"));
        assertEquals(64, recovered.getLong("length"));
        assertTrue(recovered.getLong("writerPid") > 0);
        assertTrue(!recovered.getBoolean("endMarker"));
        RecordedEvent torn = events("TornChange", "object", RECOVERED).getFirst();
        assertEquals(1, torn.getLong("sequence"));
        assertEquals(64, torn.getLong("length"));
        assertLogged(System.Logger.Level.WARNING, "recovered a dead writer's change", RECOVERED);
    }

    @Test
    void aLappedSubscribersMissedCountIsRecorded() {
        RecordedEvent lapped = events("SubscriberLapped", "object", LAPPED).getFirst();
        assertTrue(lapped.getLong("missed") > 0, "missed=" + lapped.getLong("missed"));
        assertTrue(lapped.getLong("sequence") > 1);
    }

    @Test
    void aBackPressureWaitIsRecordedWithItsDuration() {
        RecordedEvent waited = events("BackPressureWait", "object", WAITED).getFirst();
        assertEquals(17, waited.getLong("sequence"));
        assertTrue(!waited.getBoolean("timedOut"));
        assertTrue(waited.getDuration().toMillis() >= 100, "waited " + waited.getDuration());
    }

    @Test
    void aRefusedUntrustedObjectIsLogged() {
        assertLogged(System.Logger.Level.WARNING, "refused an untrusted object", LINKED);
    }

    private static void assertLogged(System.Logger.Level level, String message, String about) {
        java.util.logging.Level expected = level == System.Logger.Level.WARNING ? java.util.logging.Level.WARNING
                : java.util.logging.Level.INFO;
        assertTrue(LOGGED.stream().anyMatch(r -> r.getLevel().equals(expected)
                        && format(r).startsWith(message) && format(r).contains(about)),
                "logged at " + level + ": " + message + " about " + about + "; logged: "
                        + LOGGED.stream().map(ObservabilityTest::format).toList());
    }

    private static String format(LogRecord record) {
        return java.text.MessageFormat.format(record.getMessage(), record.getParameters());
    }
}
