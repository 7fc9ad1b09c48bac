package io.shmflux;

import io.shmflux.testing.ChildJvm;
import io.shmflux.testing.NoLeftovers;
import io.shmflux.testing.TestNames;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import reactor.core.Disposable;

import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** One JVM publishes records, another follows them through {@code values()}: never a mixed value. */
@Tag("cross-process")
@ExtendWith(NoLeftovers.class)
class CrossProcessRecordTest {

    /** Six components, the last a checksum of the others: a value mixing two writes breaks it. */
    public record Sample(long sequence, double price, int quantity, short venue, long stamp, long checksum) {

        static Sample of(long sequence) {
            double price = 100 + sequence * 0.25;
            int quantity = (int) (sequence * 7 % 1000);
            short venue = (short) (sequence % 13);
            long stamp = sequence * 1_000_003L;
            return new Sample(sequence, price, quantity, venue, stamp, sum(sequence, price, quantity, venue, stamp));
        }

        boolean whole() {
            return checksum == sum(sequence, price, quantity, venue, stamp);
        }

        private static long sum(long sequence, double price, int quantity, short venue, long stamp) {
            return Long.rotateLeft(sequence, 7) ^ Double.doubleToLongBits(price) * 31 ^ quantity * 17L ^ venue ^ stamp;
        }
    }

    static final RecordLayout<Sample> LAYOUT = RecordLayout.of(Sample.class);

    /** The publishing process: {@code NAME COUNT}. */
    public static final class Publisher {
        public static void main(String[] args) throws Exception {
            try (FileMapping mapping = SharedMemory.open(args[0], Access.READ_WRITE)) {
                System.out.println("ready");
                if (!"go".equals(new java.io.BufferedReader(new java.io.InputStreamReader(System.in)).readLine())) {
                    return;
                }
                long count = Long.parseLong(args[1]);
                for (long i = 1; i <= count; i++) {
                    mapping.publish(0, LAYOUT, Sample.of(i));
                }
                System.out.println("published " + count);
            }
            System.out.println("bye");
        }
    }

    @Test
    void aSubscriberProcessFollowingValuesNeverSeesAMixedValue() throws Exception {
        int count = 100_000;
        String name = TestNames.unique("records-x");
        try (FileMapping mapping = SharedMemory.create(name, 4096);
             ChildJvm publisher = ChildJvm.start(Publisher.class, name, Integer.toString(count))) {
            mapping.publish(0, LAYOUT, Sample.of(0));
            AtomicLong received = new AtomicLong();
            AtomicLong mixed = new AtomicLong();
            AtomicLong backwards = new AtomicLong();
            AtomicReference<Sample> last = new AtomicReference<>(Sample.of(-1));
            CountDownLatch done = new CountDownLatch(1);
            AtomicReference<Throwable> error = new AtomicReference<>();
            Disposable feed = mapping.values(0, LAYOUT).subscribe(value -> {
                received.incrementAndGet();
                if (!value.whole()) {
                    mixed.incrementAndGet();
                }
                if (value.sequence() < last.get().sequence()) {
                    backwards.incrementAndGet();
                }
                last.set(value);
                if (value.sequence() == count) {
                    done.countDown();
                }
            }, e -> {
                error.set(e);
                done.countDown();
            });
            publisher.awaitLine("ready"::equals, ChildJvm.DEFAULT_WAIT);
            publisher.send("go");
            assertTrue(done.await(60, TimeUnit.SECONDS), "the last value arrives; received=" + received.get());
            feed.dispose();
            publisher.awaitBye(Duration.ofSeconds(30));
            System.out.println("records: published=" + count + ", values received=" + received.get() + " (conflated)"
                    + ", mixed=" + mixed.get());
            assertEquals(null, error.get());
            assertEquals(0, mixed.get(), "mixed values");
            assertEquals(0, backwards.get(), "values went backwards");
            assertEquals(Sample.of(count), last.get());
        }
    }
}
