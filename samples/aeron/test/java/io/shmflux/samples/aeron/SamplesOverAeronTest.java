package io.shmflux.samples.aeron;

import io.shmflux.testing.ChildJvm;
import io.shmflux.testing.NoLeftovers;
import org.junit.jupiter.api.Test;

import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The two samples as real processes, each with its embedded media driver, over UDP on 127.0.0.1. */
class SamplesOverAeronTest {

    private static final Duration WAIT = Duration.ofSeconds(30);

    @Test
    void aPublisherAndAReplicaSubscriberProcessReplicateOverUdp() {
        List<String> options = Arrays.asList(System.getProperty("shmflux.aeron.jvmOptions",
                "--enable-native-access=ALL-UNNAMED --add-exports java.base/jdk.internal.misc=ALL-UNNAMED")
                .trim().split("\\s+"));
        String data = "aeron:udp?endpoint=127.0.0.1:" + freePort();
        String control = "aeron:udp?endpoint=127.0.0.1:" + freePort();
        try (ChildJvm replica = ChildJvm.start(options, ReplicaSubscriber.class, data, control, "30");
             ChildJvm publisher = ChildJvm.start(options, ReplicatingPublisher.class, data, control, "30")) {
            String replicaDirectory = driverDirectory(replica.awaitLine(line -> line.startsWith("replica "), WAIT));
            String publisherDirectory = driverDirectory(publisher.awaitLine(line -> line.startsWith("replicating "), WAIT));
            replica.awaitLine(line -> line.startsWith("status LIVE"), WAIT);
            String published = publisher.awaitLine(line -> line.contains(" slot 3: update "), WAIT);
            String update = published.substring(published.indexOf(" slot "));
            String replicated = replica.awaitLine(line -> line.endsWith(update), WAIT);
            assertTrue(replicated.startsWith("seq="), replicated);
            publisher.process().destroy(); // SIGTERM: each closes its mapping and driver in its shutdown hook
            replica.process().destroy();
            assertEquals(143, publisher.awaitExit(WAIT), publisher.stderr());
            assertEquals(143, replica.awaitExit(WAIT), replica.stderr());
            assertFalse(new File(replicaDirectory).exists(), replicaDirectory);
            assertFalse(new File(publisherDirectory).exists(), publisherDirectory);
        }
        assertTrue(NoLeftovers.ours().stream().noneMatch(name -> name.contains("aeron-demo")),
                "the samples' mappings are gone");
    }

    /** {@return the embedded driver's directory a sample names in its first line} */
    private static String driverDirectory(String firstLine) {
        String directory = firstLine.substring(firstLine.indexOf("driver embedded ") + "driver embedded ".length());
        assertTrue(directory.startsWith("/dev/shm/shmflux-aeron-"), firstLine);
        return directory;
    }

    private static int freePort() {
        try (DatagramSocket socket = new DatagramSocket(0, InetAddress.getLoopbackAddress())) {
            return socket.getLocalPort();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
