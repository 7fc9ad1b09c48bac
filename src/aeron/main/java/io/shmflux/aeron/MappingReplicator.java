package io.shmflux.aeron;

import io.aeron.Aeron;
import io.aeron.AeronCounters;
import io.aeron.FragmentAssembler;
import io.aeron.Publication;
import io.aeron.Subscription;
import io.shmflux.ChangeBatch;
import io.shmflux.ChangeOptions;
import io.shmflux.FileMapping;
import io.shmflux.Snapshot;
import org.agrona.CloseHelper;
import org.agrona.DirectBuffer;
import org.agrona.concurrent.BackoffIdleStrategy;
import org.agrona.concurrent.IdleStrategy;
import org.agrona.concurrent.UnsafeBuffer;
import org.agrona.concurrent.status.CountersReader;
import org.jspecify.annotations.Nullable;
import reactor.core.Disposable;

import java.util.Objects;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Sends every change of a source mapping, in order, on an Aeron stream, and answers replicas' snapshot
 * requests on a control stream (see {@link MessageDescriptor} for the messages).
 *
 * <ol>
 *   <li>A {@link ChangeOptions.Overflow#BACK_PRESSURE} feed of the source takes each change; the bytes of
 *       its range are read consistently ({@link FileMapping#snapshot}) and offered as one message, or as
 *       consecutive pieces when longer than the publication's {@code maxMessageLength}.</li>
 *   <li>A back-pressured offer is retried, idling up to 1 ms between tries (never an unbounded spin);
 *       the feed waits meanwhile, and with it the source's publishers (up to the source's publish
 *       timeout): nothing is dropped between the mapping and the wire.</li>
 *   <li>With no replica connected ({@code NOT_CONNECTED}) a change is not sent: a replica that joins
 *       starts from a snapshot.</li>
 *   <li>A snapshot request (control stream) is answered on the data stream with the whole mapping as of
 *       a sequence, sent under the same lock as the changes, so every change sent after it is newer.</li>
 *   <li>When the source's stream ends ({@code completeChanges}), an end message follows the last change.</li>
 *   <li>When the replicator closes before that, an end message flagged {@link MessageDescriptor#CLOSED}
 *       follows the last change sent, so that replicas report the source lost at once rather than after
 *       Aeron's image liveness timeout (a source killed sends nothing: there the timeout is the only
 *       signal).</li>
 * </ol>
 *
 * {@snippet :
 * try (EmbeddedDriver driver = EmbeddedDriver.launch();
 *      MappingReplicator replicator = MappingReplicator.start(prices, driver.aeron(),
 *              "aeron:udp?endpoint=replica-host:40456", 1001, "aeron:udp?endpoint=source-host:40457")) {
 *     // every prices.publish(...) now reaches the replicas
 * }
 * }
 */
public final class MappingReplicator implements AutoCloseable {

    private static final int BATCH = 256;
    private static final byte[] NO_BYTES = new byte[0];
    private static final long IDLE_MAX_PARK_NS = TimeUnit.MILLISECONDS.toNanos(1);
    /** How long close waits for the driver to send the closed message (a driver closed next would drop it). */
    private static final long CLOSED_SEND_WAIT_NS = TimeUnit.SECONDS.toNanos(1);

    private final FileMapping source;
    private final Aeron aeron;
    private final Publication data;
    private final Subscription control;
    private final int maxPiece;
    private final UnsafeBuffer header = new UnsafeBuffer(new byte[MessageDescriptor.HEADER_LENGTH]);
    private final UnsafeBuffer payload = new UnsafeBuffer(new byte[0]);
    /** Orders the data stream: changes (the feed's thread) and snapshots (the control thread). */
    private final ReentrantLock sending = new ReentrantLock();
    private final IdleStrategy backPressureIdle = idle();
    private final AtomicBoolean closed = new AtomicBoolean();
    private final Thread controlThread;
    private final Disposable feed;
    private volatile boolean snapshotRequested;
    private volatile boolean completed;
    private volatile @Nullable Throwable failure;

    private MappingReplicator(FileMapping source, Aeron aeron, String channel, int streamId,
                              String controlChannel, int controlStreamId) {
        this.source = source;
        this.aeron = aeron;
        this.data = aeron.addPublication(channel, streamId);
        this.control = aeron.addSubscription(controlChannel, controlStreamId);
        this.maxPiece = data.maxMessageLength() - MessageDescriptor.HEADER_LENGTH;
        this.controlThread = new Thread(this::serveControl, "shmflux-replicator-" + source.name());
        controlThread.setDaemon(true);
        controlThread.start();
        this.feed = source.changeBatches(ChangeOptions.DEFAULT.withOverflow(ChangeOptions.Overflow.BACK_PRESSURE),
                BATCH).subscribe(this::send, this::fail, this::sendEnd);
    }

    /**
     * Starts replicating {@code source} on {@code channel}, stream {@code streamId}; snapshot requests
     * come on the same channel, stream {@code streamId + 1} (for multicast and IPC channels, where both
     * sides can use one address).
     */
    public static MappingReplicator start(FileMapping source, Aeron aeron, String channel, int streamId) {
        return start(source, aeron, channel, streamId, channel);
    }

    /**
     * Starts replicating {@code source} on {@code channel}, stream {@code streamId}; snapshot requests
     * come on {@code controlChannel}, stream {@code streamId + 1} (for UDP unicast: the replica's
     * address in {@code channel}, the source's in {@code controlChannel}).
     */
    public static MappingReplicator start(FileMapping source, Aeron aeron, String channel, int streamId,
                                          String controlChannel) {
        Objects.requireNonNull(source, "source");
        Objects.requireNonNull(aeron, "aeron");
        Objects.requireNonNull(channel, "channel");
        Objects.requireNonNull(controlChannel, "controlChannel");
        return new MappingReplicator(source, aeron, channel, streamId, controlChannel, streamId + 1);
    }

    /** {@return why replication stopped, or null while it runs} */
    public @Nullable Throwable failure() {
        return failure;
    }

    static IdleStrategy idle() {
        return new BackoffIdleStrategy(10, 20, 1_000, IDLE_MAX_PARK_NS);
    }

    private void send(ChangeBatch batch) {
        sending.lock();
        try {
            for (int i = 0; i < batch.size() && !closed.get(); i++) {
                Snapshot bytes = source.snapshot(batch.offset(i), Math.toIntExact(batch.length(i)));
                int flags = batch.torn(i) || bytes.torn() ? MessageDescriptor.TORN : 0;
                sendRange(MessageDescriptor.CHANGE, flags, batch.sequence(i), batch.offset(i), bytes.data());
            }
        } finally {
            sending.unlock();
        }
    }

    private void sendEnd() {
        completed = true;
        sending.lock();
        try {
            sendRange(MessageDescriptor.END, 0, source.sequence(), 0, new byte[0]);
        } finally {
            sending.unlock();
        }
    }

    private void sendSnapshot() {
        sending.lock();
        try {
            snapshotRequested = false;
            boolean ended = completed;
            Snapshot snapshot = source.snapshot(0, Math.toIntExact(source.byteSize()));
            int flags = (snapshot.torn() ? MessageDescriptor.TORN : 0) | (ended ? MessageDescriptor.COMPLETED : 0);
            if (snapshot.torn()) {
                // which part is torn goes first, so that the replica can flag it as it applies the snapshot
                MessageDescriptor.write(header, MessageDescriptor.TORN_PART,
                        MessageDescriptor.FIRST | MessageDescriptor.LAST, snapshot.sequence(), snapshot.tornStart(),
                        snapshot.tornLength(), 0, source.byteSize());
                payload.wrap(NO_BYTES);
                if (!offer(header, payload, 0)) {
                    return;
                }
            }
            sendRange(MessageDescriptor.SNAPSHOT, flags, snapshot.sequence(), 0, snapshot.data());
        } finally {
            sending.unlock();
        }
    }

    /** Sends {@code bytes} (the range at {@code rangeOffset}) as one message or consecutive pieces. */
    private void sendRange(int type, int flags, long sequence, long rangeOffset, byte[] bytes) {
        int pieceOffset = 0;
        do {
            int length = Math.min(maxPiece, bytes.length - pieceOffset);
            int pieceFlags = flags | (pieceOffset == 0 ? MessageDescriptor.FIRST : 0)
                    | (pieceOffset + length == bytes.length ? MessageDescriptor.LAST : 0);
            MessageDescriptor.write(header, type, pieceFlags, sequence, rangeOffset, bytes.length, pieceOffset,
                    source.byteSize());
            payload.wrap(bytes, pieceOffset, length);
            if (!offer(header, payload, length)) {
                return;
            }
            pieceOffset += length;
        } while (pieceOffset < bytes.length);
    }

    /** {@return false if the message was not sent because no replica is connected or this is closed} */
    private boolean offer(DirectBuffer head, DirectBuffer body, int bodyLength) {
        backPressureIdle.reset();
        while (true) {
            long result = data.offer(head, 0, MessageDescriptor.HEADER_LENGTH, body, 0, bodyLength);
            if (result > 0) {
                return true;
            }
            if (result == Publication.NOT_CONNECTED || closed.get()) {
                return false;
            }
            if (result == Publication.CLOSED || result == Publication.MAX_POSITION_EXCEEDED) {
                throw new ReplicationException("replication publication cannot go on: channel=" + data.channel()
                        + ", streamId=" + data.streamId() + ", result=" + Publication.errorString(result));
            }
            backPressureIdle.idle(); // BACK_PRESSURED or ADMIN_ACTION: the replicas' flow control paces us
        }
    }

    private void serveControl() {
        IdleStrategy idle = idle();
        FragmentAssembler requests = new FragmentAssembler((buffer, offset, length, h) -> {
            if (length >= MessageDescriptor.HEADER_LENGTH
                    && MessageDescriptor.type(buffer, offset) == MessageDescriptor.SNAPSHOT_REQUEST) {
                snapshotRequested = true; // requests that arrive together are answered by one snapshot
            }
        });
        try {
            while (!closed.get()) {
                int work = control.poll(requests, 16);
                if (snapshotRequested) {
                    sendSnapshot();
                    work++;
                }
                idle.idle(work);
            }
        } catch (RuntimeException e) {
            if (!closed.get()) {
                fail(e);
            }
        }
    }

    private void fail(Throwable error) {
        failure = error;
    }

    /**
     * Tells the replicas that this source closed without ending its stream, then waits (bounded) until
     * the driver has sent it: an embedded driver closed right after this would otherwise drop it. If it
     * is lost on the wire all the same, the image liveness timeout still reports the source lost.
     */
    private void sendClosed() {
        MessageDescriptor.write(header, MessageDescriptor.END,
                MessageDescriptor.CLOSED | MessageDescriptor.FIRST | MessageDescriptor.LAST, source.sequence(), 0, 0, 0,
                source.byteSize());
        long deadline = System.nanoTime() + CLOSED_SEND_WAIT_NS;
        backPressureIdle.reset();
        long position;
        while ((position = data.offer(header, 0, MessageDescriptor.HEADER_LENGTH)) < 0) {
            if (position == Publication.NOT_CONNECTED || position == Publication.CLOSED
                    || position == Publication.MAX_POSITION_EXCEEDED || System.nanoTime() - deadline >= 0) {
                return; // nobody to tell, or nobody listening in time
            }
            backPressureIdle.idle();
        }
        // the driver's sender position of this publication (none over IPC, where the log is the wire)
        CountersReader counters = aeron.countersReader();
        int sent = counters.findByTypeIdAndRegistrationId(AeronCounters.DRIVER_SENDER_POSITION_TYPE_ID,
                data.originalRegistrationId());
        backPressureIdle.reset();
        while (sent != CountersReader.NULL_COUNTER_ID && counters.getCounterValue(sent) < position
                && System.nanoTime() - deadline < 0) {
            backPressureIdle.idle();
        }
    }

    /**
     * Stops replicating, tells the replicas that this source closed (unless its stream ended), and closes
     * its publication and subscription (not the source, not Aeron). Idempotent.
     */
    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        feed.dispose();
        try {
            controlThread.join(TimeUnit.SECONDS.toMillis(5));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        sending.lock(); // the feed's thread leaves its offer loop within one idle period
        try {
            if (!completed) {
                sendClosed();
            }
            CloseHelper.closeAll(data, control);
        } finally {
            sending.unlock();
        }
    }

    @Override
    public String toString() {
        return "MappingReplicator[source=" + source.name() + ", channel=" + data.channel() + ", streamId="
                + data.streamId() + "]";
    }
}
