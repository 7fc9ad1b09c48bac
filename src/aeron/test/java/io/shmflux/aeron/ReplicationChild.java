package io.shmflux.aeron;

import io.shmflux.Access;
import io.shmflux.ChangeEvent;
import io.shmflux.ChangeOptions;
import io.shmflux.FileMapping;
import io.shmflux.SharedMemory;
import io.aeron.driver.status.SystemCounterDescriptor;
import reactor.core.Disposable;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A child process for the replication tests, on an object the test created, with its own embedded
 * media driver (image liveness and publication connection timeouts set by the test). It prints
 * {@code ready dir=<aeron directory>}, then obeys stdin:
 *
 * <pre>
 * source NAME DATA CONTROL STREAM LIVENESS_MS LOSS   replicates NAME
 *   publish FROM COUNT LENGTH                        publishes changes FROM..FROM+COUNT-1 ({@link #fill}); "ok SEQUENCE"
 *   complete                                         completes the stream; "ok SEQUENCE"
 * replica NAME DATA CONTROL STREAM LIVENESS_MS LOSS  replicates into NAME; a BACK_PRESSURE subscriber of NAME
 *                                                    checks every change's bytes and order; prints "status STATE SEQ LOST"
 *   check                                            "ok seq=S behind=T changes=N snapshots=P gaps=G bad=B naks=K"
 *                                                    (T: the target's changes its subscriber has still to check)
 * counters                                           "ok naks-sent=.. naks-received=.. retransmits=.. dropped-WHERE-TYPE=.."
 *                                                    (this driver's Aeron counters and what its loss generators dropped)
 * quit                                               closes everything; "bye"
 * </pre>
 *
 * LOSS is {@code exact} or where the driver drops frames, through Aeron's debug endpoints ({@link FrameLoss}).
 */
public final class ReplicationChild {

    public static void main(String[] args) throws Exception {
        String role = args[0];
        String name = args[1];
        String dataChannel = args[2];
        String controlChannel = args[3];
        int stream = Integer.parseInt(args[4]);
        long liveness = TimeUnit.MILLISECONDS.toNanos(Long.parseLong(args[5]));
        FrameLoss loss = FrameLoss.parse(args.length > 6 ? args[6] : "exact");
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        try (FileMapping mapping = SharedMemory.open(name, Access.READ_WRITE);
             EmbeddedDriver driver = EmbeddedDriver.launch(context -> {
                 context.imageLivenessTimeoutNs(liveness).publicationConnectionTimeoutNs(liveness);
                 if (loss.any()) {
                     loss.install(context);
                 }
             })) {
            if (role.equals("source")) {
                try (MappingReplicator replicator = MappingReplicator.start(mapping, driver.aeron(), dataChannel, stream,
                        controlChannel)) {
                    say("ready dir=" + driver.aeronDirectoryName());
                    for (String line; (line = in.readLine()) != null && !line.equals("quit"); ) {
                        String[] command = line.split(" ");
                        switch (command[0]) {
                            case "publish" -> say("ok " + publish(mapping, Long.parseLong(command[1]),
                                    Long.parseLong(command[2]), Integer.parseInt(command[3])));
                            case "complete" -> say("ok " + mapping.completeChanges());
                            case "counters" -> say("ok " + counters(driver, loss));
                            default -> say("unknown " + line);
                        }
                    }
                    if (replicator.failure() != null) {
                        say("failed " + replicator.failure());
                    }
                }
            } else {
                Verifier verifier = new Verifier(mapping);
                Disposable feed = mapping.changes(ChangeOptions.DEFAULT.withOverflow(ChangeOptions.Overflow.BACK_PRESSURE))
                        .subscribe(verifier::check);
                try (MappingReplica replica = MappingReplica.start(mapping, driver.aeron(), dataChannel, stream,
                        controlChannel)) {
                    replica.status().subscribe(s -> say("status " + s.state() + " " + s.sourceSequence() + " " + s.lost()),
                            e -> say("status-error " + e));
                    say("ready dir=" + driver.aeronDirectoryName());
                    for (String line; (line = in.readLine()) != null && !line.equals("quit"); ) {
                        if (line.equals("check")) {
                            // NAKs this driver sent: how many losses Aeron had to repair
                            say("ok seq=" + replica.sourceSequence() + " " + verifier + " naks="
                                    + counter(driver, SystemCounterDescriptor.NAK_MESSAGES_SENT));
                        } else if (line.equals("counters")) {
                            say("ok " + counters(driver, loss));
                        } else {
                            say("unknown " + line);
                        }
                    }
                } finally {
                    feed.dispose();
                }
            }
        }
        say("bye");
    }

    private static String counters(EmbeddedDriver driver, FrameLoss loss) {
        return ("naks-sent=" + counter(driver, SystemCounterDescriptor.NAK_MESSAGES_SENT)
                + " naks-received=" + counter(driver, SystemCounterDescriptor.NAK_MESSAGES_RECEIVED)
                + " retransmits=" + counter(driver, SystemCounterDescriptor.RETRANSMITS_SENT)
                + " " + loss.counts()).trim();
    }

    private static long counter(EmbeddedDriver driver, SystemCounterDescriptor counter) {
        return driver.aeron().countersReader().getCounterValue(counter.id());
    }

    static synchronized void say(String line) {
        System.out.println(line);
        System.out.flush();
    }

    private static final int MEBIBYTE = 1 << 20;

    /**
     * {@return the offset of change {@code k} of {@code length} bytes} Changes shorter than 1 MiB take
     * slots of the first MiB, longer ones the MiBs after it, so that neither overwrites what a lagging
     * subscriber (up to a ring of 1,024 changes behind) has still to read.
     */
    static long slot(long k, int length, long size) {
        if (length < MEBIBYTE) {
            return (k % (MEBIBYTE / length)) * length;
        }
        long slots = (size - MEBIBYTE) / length;
        return MEBIBYTE + (k % slots) * length;
    }

    /** The bytes of change {@code k}: {@code k} in the first 8, then a pattern of {@code k} and the index. */
    static void fill(MemorySegment range, long k) {
        range.set(ValueLayout.JAVA_LONG_UNALIGNED, 0, k);
        for (long j = 8; j < range.byteSize(); j++) {
            range.set(ValueLayout.JAVA_BYTE, j, expected(k, j));
        }
    }

    static byte expected(long k, long j) {
        return (byte) (k * 31 + j * 7);
    }

    private static long publish(FileMapping mapping, long from, long count, int length) {
        long sequence = 0;
        for (long k = from; k < from + count; k++) {
            long change = k;
            sequence = mapping.publish(slot(k, length, mapping.byteSize()), length, range -> fill(range, change));
        }
        return sequence;
    }

    /**
     * Checks each change the target's feed delivers: its bytes are exactly change {@code k}'s, and
     * {@code k} is one more than the last change's (a whole-object change, the snapshot, starts anew).
     */
    private static final class Verifier {
        private final FileMapping target;
        private final AtomicLong changes = new AtomicLong();
        private final AtomicLong snapshots = new AtomicLong();
        private final AtomicLong gaps = new AtomicLong();
        private final AtomicLong bad = new AtomicLong();
        private long last = -1;
        /** The target's sequence of the last event checked: the check is done when it is the target's. */
        private volatile long seen;

        Verifier(FileMapping target) {
            this.target = target;
        }

        void check(ChangeEvent event) {
            try {
                count(event);
            } finally {
                // last: a check that finds the subscriber no longer behind must also find its counts (a
                // 1 MiB change takes a while to compare)
                seen = event.sequence();
            }
        }

        private void count(ChangeEvent event) {
            if (event.length() == target.byteSize()) {
                snapshots.incrementAndGet();
                last = -1;
                return;
            }
            byte[] bytes = target.read(event.offset(), Math.toIntExact(event.length()));
            MemorySegment range = MemorySegment.ofArray(bytes);
            long k = range.get(ValueLayout.JAVA_LONG_UNALIGNED, 0);
            boolean ok = event.offset() == slot(k, bytes.length, target.byteSize()) && event.missed() == 0;
            for (int j = 8; j < bytes.length && ok; j++) {
                ok = bytes[j] == expected(k, j);
            }
            if (!ok) {
                bad.incrementAndGet();
            }
            if (last != -1 && k != last + 1) {
                gaps.incrementAndGet();
            }
            last = k;
            changes.incrementAndGet();
        }

        @Override
        public String toString() {
            return "behind=" + (target.sequence() - seen) + " changes=" + changes + " snapshots=" + snapshots + " gaps=" + gaps + " bad=" + bad;
        }
    }
}
