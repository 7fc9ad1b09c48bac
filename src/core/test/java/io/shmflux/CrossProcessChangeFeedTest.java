package io.shmflux;

import io.shmflux.testing.ChildJvm;
import io.shmflux.testing.FeedChild;
import io.shmflux.testing.NoLeftovers;
import io.shmflux.testing.TestNames;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import reactor.test.StepVerifier;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

@Tag("cross-process")
@ExtendWith(NoLeftovers.class)
class CrossProcessChangeFeedTest {

    private static final Duration LONG_WAIT = Duration.ofSeconds(150);

    @Test
    void threeSubscriberProcessesEachReceiveEveryOneOfAHundredThousandChangesInOrder() {
        String name = TestNames.unique("fanout");
        int changes = 100_000;
        List<ChildJvm> children = new ArrayList<>();
        try (FileMapping mapping = SharedMemory.create(name, 1 << 16,
                MappingOptions.DEFAULT.withChangeRingCapacity(1 << 17))) {
            for (int i = 0; i < 3; i++) {
                children.add(ChildJvm.start(FeedChild.class, "subscribe", name, String.valueOf(changes)));
            }
            for (ChildJvm child : children) {
                assertEquals("ready", child.nextLine());
            }
            ChildJvm publisher = ChildJvm.start(FeedChild.class, "publish", name, String.valueOf(changes));
            children.add(publisher);
            assertEquals("ready", publisher.nextLine());
            publisher.send("go");
            assertEquals("published " + changes, publisher.nextLine(LONG_WAIT));
            for (ChildJvm subscriber : children.subList(0, 3)) {
                assertEquals("done received=" + changes + " missed=0 orderErrors=0 torn=0",
                        subscriber.nextLine(LONG_WAIT));
            }
            assertEquals(changes, mapping.sequence());
            for (ChildJvm child : children) {
                child.awaitBye(LONG_WAIT);
            }
        } finally {
            children.forEach(ChildJvm::close);
        }
    }

    @Test
    void aSlowSubscriberProcessIsLappedAndToldExactlyHowManyChangesItMissed() {
        String name = TestNames.unique("slow");
        int changes = 20_000;
        try (FileMapping mapping = SharedMemory.create(name, 1 << 16, MappingOptions.DEFAULT.withChangeRingCapacity(256));
             ChildJvm subscriber = ChildJvm.start(FeedChild.class, "subscribe", name, String.valueOf(changes), "200");
             ChildJvm publisher = ChildJvm.start(FeedChild.class, "publish", name, String.valueOf(changes))) {
            assertEquals("ready", subscriber.nextLine());
            assertEquals("ready", publisher.nextLine());
            publisher.send("go");
            assertEquals("published " + changes, publisher.nextLine(LONG_WAIT));
            Matcher m = Pattern.compile("done received=(\\d+) missed=(\\d+) orderErrors=0 torn=0")
                    .matcher(subscriber.nextLine(LONG_WAIT));
            assertTrue(m.matches(), m.toString());
            long received = Long.parseLong(m.group(1));
            long missed = Long.parseLong(m.group(2));
            assertTrue(missed > 0, "a subscriber sleeping 200 µs per event must be lapped by a free-running publisher");
            assertEquals(changes, received + missed, "every change is either received or counted as missed");
            subscriber.awaitBye(LONG_WAIT);
            publisher.awaitBye(LONG_WAIT);
        }
    }

    @Test
    void readersInOtherProcessesNeverSeeATornRecordInTenMillionReads() {
        String name = TestNames.unique("torn");
        long readsPerReader = 5_000_000;
        try (FileMapping mapping = SharedMemory.create(name, 1 << 16);
             ChildJvm writer = ChildJvm.start(FeedChild.class, "write-records", name, "120000");
             ChildJvm readerA = ChildJvm.start(FeedChild.class, "read-records", name, String.valueOf(readsPerReader));
             ChildJvm readerB = ChildJvm.start(FeedChild.class, "read-records", name, String.valueOf(readsPerReader))) {
            for (ChildJvm child : List.of(writer, readerA, readerB)) {
                assertEquals("ready", child.nextLine());
            }
            writer.send("go");
            readerA.send("go");
            readerB.send("go");
            for (ChildJvm reader : List.of(readerA, readerB)) {
                Matcher m = Pattern.compile("reads=(\\d+) torn=(\\d+) distinct=(\\d+)").matcher(reader.nextLine(LONG_WAIT));
                assertTrue(m.matches());
                assertEquals(readsPerReader, Long.parseLong(m.group(1)));
                assertEquals(0, Long.parseLong(m.group(2)), "torn snapshots");
                assertTrue(Long.parseLong(m.group(3)) > 100,
                        "the reader must have raced the writer: distinct values seen=" + m.group(3));
            }
            readerA.awaitBye(LONG_WAIT);
            readerB.awaitBye(LONG_WAIT);
            writer.kill9(); // it would write for two minutes; its handle is reclaimed with it
            Snapshot last = mapping.snapshot(0, FeedChild.RECORD);
            assertTrue(last.torn() || FeedChild.whole(MemorySegment.ofArray(last.data())),
                    "the killed writer's last change is either whole or flagged");
        }
    }

    @Test
    void aWriterKilledMidUpdateLeavesNoSubscriberHangingAndItsChangeIsFlaggedTorn() {
        String name = TestNames.unique("kill");
        try (FileMapping mapping = SharedMemory.create(name, 1 << 16);
             ChildJvm subscriber = ChildJvm.start(FeedChild.class, "subscribe", name, "2")) {
            assertEquals("ready", subscriber.nextLine());
            StepVerifier.create(mapping.changes().take(2))
                    .then(() -> {
                        try (ChildJvm writer = ChildJvm.start(FeedChild.class, "hang-in-publish", name)) {
                            assertEquals("mid-update", writer.nextLine());
                            writer.kill9();
                        }
                    })
                    .assertNext(e -> {
                        assertEquals(1, e.sequence());
                        assertTrue(e.torn(), "the dead writer's change is flagged");
                        assertEquals(0, e.offset());
                        assertEquals(FeedChild.RECORD, e.length());
                    })
                    .then(() -> {
                        // a reader is not stuck on the dead writer's odd sequence, and is told the data is torn
                        assertThrows(TornDataException.class, () -> mapping.read(0, 64));
                        Snapshot snapshot = mapping.snapshot(0, 64);
                        assertTrue(snapshot.torn());
                        assertEquals(999L, MemorySegment.ofArray(snapshot.data()).get(ValueLayout.JAVA_LONG_UNALIGNED, 0));
                        // writers go on; a whole rewrite repairs the range
                        mapping.publish(0, new byte[FeedChild.RECORD]);
                        assertFalse(mapping.snapshot(0, 64).torn());
                    })
                    .assertNext(e -> assertTrue(!e.torn() && e.sequence() == 2))
                    .expectComplete()
                    .verify(Duration.ofSeconds(30));
            assertEquals("done received=2 missed=0 orderErrors=0 torn=1", subscriber.nextLine(LONG_WAIT));
            subscriber.awaitBye(LONG_WAIT);
        }
    }
}
