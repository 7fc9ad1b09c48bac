package io.shmflux.aeron;

import io.aeron.Aeron;
import io.aeron.FragmentAssembler;
import io.aeron.Image;
import io.aeron.Publication;
import io.aeron.Subscription;
import io.aeron.logbuffer.Header;
import io.shmflux.FileMapping;
import org.agrona.CloseHelper;
import org.agrona.DirectBuffer;
import org.agrona.concurrent.IdleStrategy;
import org.agrona.concurrent.UnsafeBuffer;
import org.jspecify.annotations.Nullable;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Sinks;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.HashSet;
import java.util.Objects;
import java.util.Queue;
import java.util.Set;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;

/**
 * Applies a {@link MappingReplicator}'s changes to a target mapping through
 * {@link FileMapping#publish(long, byte[])}, in the source's order, so that the target's local
 * subscribers see them as an ordinary change feed.
 *
 * <ol>
 *   <li>When a source image becomes available (on start, late, or after it was lost), the replica asks
 *       for a snapshot on the control stream, again every 100 ms until one arrives, and ignores changes
 *       meanwhile ({@link ReplicaStatus.State#CATCHING_UP}).</li>
 *   <li>The snapshot is published to the target as one change of the whole mapping; the replica is then
 *       {@link ReplicaStatus.State#LIVE} as of the snapshot's sequence {@code s}.</li>
 *   <li>Changes up to {@code s} are skipped (the snapshot holds them); change {@code s + 1}, then each
 *       next one, is published to the target.</li>
 *   <li>A change whose sequence is not the next one is a {@link ReplicaStatus.State#GAP}: the replica
 *       resyncs from a new snapshot, never diverging silently.</li>
 *   <li>A change that the source flagged torn (its writer failed or died in it, or its range overlaps
 *       one such change) is published to the target flagged torn, over the same range: the target's
 *       subscribers see it torn and the target's readers see the range torn, as the source's do.</li>
 *   <li>When the source closes (its end message flagged {@link MessageDescriptor#CLOSED}: at once) or
 *       its image goes away (Aeron's image liveness timeout: a source killed), the replica reports
 *       {@link ReplicaStatus.State#SOURCE_LOST} and keeps the target as it is, consistent as of the last
 *       change applied.</li>
 *   <li>When the source's stream ends after the last change applied, the target's stream is completed
 *       ({@link FileMapping#completeChanges()}): {@link ReplicaStatus.State#COMPLETED}.</li>
 * </ol>
 *
 * <p>One thread per replica ({@code shmflux-replica-<name>}) polls the stream, idling up to 1 ms when
 * nothing arrives. A target publish that waits (a back-pressure subscriber of the target) holds the
 * stream back, and with it, through Aeron's flow control, the source.
 */
public final class MappingReplica implements AutoCloseable {

    private static final long REQUEST_INTERVAL_NS = TimeUnit.MILLISECONDS.toNanos(100);
    private static final int FRAGMENT_LIMIT = 64;

    private final FileMapping target;
    private final Subscription data;
    private final Publication control;
    private final Sinks.Many<ReplicaStatus> status = Sinks.many().replay().latest();
    private final Queue<Runnable> imageEvents = new ConcurrentLinkedQueue<>();
    private final AtomicBoolean closed = new AtomicBoolean();
    private final UnsafeBuffer request = new UnsafeBuffer(new byte[MessageDescriptor.HEADER_LENGTH]);
    private final RangeAssembler pieces = new RangeAssembler();
    /** Sessions (images) whose source said it closed: their image's going away later is not news. */
    private final Set<Integer> closedSessions = new HashSet<>();
    private final Thread thread;

    /** The source sequence the target is as of; touched by the replica thread only (volatile for readers). */
    private volatile long applied;
    private boolean awaitingSnapshot = true;
    /** The snapshot whose torn part came last ({@link MessageDescriptor#TORN_PART}), -1 if none; the replica thread's. */
    private long tornPartSequence = -1;
    private long tornPartOffset;
    private long tornPartLength;
    private ReplicaStatus.State state = ReplicaStatus.State.CONNECTING;
    private long nextRequestAt;
    private int images;
    private @Nullable RuntimeException failure;

    private MappingReplica(FileMapping target, Aeron aeron, String channel, int streamId, String controlChannel,
                           int controlStreamId) {
        this.target = target;
        emit(ReplicaStatus.of(ReplicaStatus.State.CONNECTING, 0));
        this.data = aeron.addSubscription(channel, streamId,
                image -> imageEvents.add(() -> imageAvailable(image)),
                image -> imageEvents.add(() -> imageUnavailable(image)));
        this.control = aeron.addPublication(controlChannel, controlStreamId);
        this.thread = new Thread(this::run, "shmflux-replica-" + target.name());
        thread.setDaemon(true);
        thread.start();
    }

    /** Starts a replica of the source on {@code channel}; see {@link MappingReplicator#start(FileMapping, Aeron, String, int)}. */
    public static MappingReplica start(FileMapping target, Aeron aeron, String channel, int streamId) {
        return start(target, aeron, channel, streamId, channel);
    }

    /**
     * Starts a replica of the source on {@code channel}, stream {@code streamId}, asking for snapshots on
     * {@code controlChannel}, stream {@code streamId + 1}; see
     * {@link MappingReplicator#start(FileMapping, Aeron, String, int, String)}. The target must have the
     * source's size.
     */
    public static MappingReplica start(FileMapping target, Aeron aeron, String channel, int streamId,
                                       String controlChannel) {
        Objects.requireNonNull(target, "target");
        Objects.requireNonNull(aeron, "aeron");
        Objects.requireNonNull(channel, "channel");
        Objects.requireNonNull(controlChannel, "controlChannel");
        return new MappingReplica(target, aeron, channel, streamId, controlChannel, streamId + 1);
    }

    /**
     * {@return the replica's states: the current one first, then each change} Completes when the replica
     * closes or its source's stream ended; fails with {@link ReplicationException} if replication cannot
     * go on (a target of another size than the source, a target publish that failed).
     */
    public Flux<ReplicaStatus> status() {
        return status.asFlux();
    }

    /** {@return the source sequence the target's bytes are as of: 0 before the first snapshot} */
    public long sourceSequence() {
        return applied;
    }

    private void run() {
        IdleStrategy idle = MappingReplicator.idle();
        FragmentAssembler assembler = new FragmentAssembler(this::onMessage);
        try {
            while (!closed.get()) {
                int work = 0;
                for (Runnable event; (event = imageEvents.poll()) != null; work++) {
                    event.run();
                }
                work += data.poll(assembler, FRAGMENT_LIMIT);
                RuntimeException failed = failure;
                if (failed != null) {
                    throw failed;
                }
                if (awaitingSnapshot && images > 0 && System.nanoTime() - nextRequestAt >= 0) {
                    requestSnapshot();
                }
                if (state == ReplicaStatus.State.COMPLETED) {
                    break;
                }
                idle.idle(work);
            }
        } catch (RuntimeException e) {
            if (!closed.get()) {
                status.tryEmitError(e instanceof ReplicationException ? e : new ReplicationException(
                        "replica stopped: target=" + target.name() + ", sourceSequence=" + applied + ", error=" + e, e));
            }
            return;
        }
        status.tryEmitComplete();
    }

    private void imageAvailable(Image image) {
        images++;
        if (state != ReplicaStatus.State.COMPLETED) {
            resync();
        }
    }

    private void imageUnavailable(Image image) {
        if (!closedSessions.remove(image.sessionId())) {
            sourceGone();
        }
    }

    /** The source of image {@code sessionId} closed: it is gone now, not when its image times out. */
    private void sourceClosed(int sessionId) {
        if (closedSessions.add(sessionId)) {
            sourceGone();
        }
    }

    private void sourceGone() {
        images = Math.max(0, images - 1);
        if (images == 0 && state != ReplicaStatus.State.COMPLETED) {
            awaitingSnapshot = true;
            pieces.reset();
            emit(ReplicaStatus.of(ReplicaStatus.State.SOURCE_LOST, applied));
        }
    }

    private void resync() {
        awaitingSnapshot = true;
        pieces.reset();
        nextRequestAt = System.nanoTime();
        emit(ReplicaStatus.of(ReplicaStatus.State.CATCHING_UP, applied));
    }

    private void gap(long lost) {
        emit(new ReplicaStatus(ReplicaStatus.State.GAP, applied, lost));
        resync();
    }

    private void requestSnapshot() {
        MessageDescriptor.write(request, MessageDescriptor.SNAPSHOT_REQUEST, 0, applied, 0, 0, 0, target.byteSize());
        control.offer(request, 0, MessageDescriptor.HEADER_LENGTH); // not connected yet: asked again below
        nextRequestAt = System.nanoTime() + REQUEST_INTERVAL_NS;
    }

    /** Aeron hands a handler's exception to its error handler and polls on: keep it for the loop. */
    private void onMessage(DirectBuffer buffer, int offset, int length, Header header) {
        if (failure != null) {
            return;
        }
        try {
            apply(buffer, offset, length, header.sessionId());
        } catch (RuntimeException e) {
            failure = e;
        }
    }

    private void apply(DirectBuffer buffer, int offset, int length, int sessionId) {
        if (length < MessageDescriptor.HEADER_LENGTH) {
            return;
        }
        long sourceSize = MessageDescriptor.sourceSize(buffer, offset);
        if (sourceSize != target.byteSize()) {
            throw new ReplicationException("replica and source differ in size: target=" + target.name()
                    + ", targetSize=" + target.byteSize() + ", sourceSize=" + sourceSize);
        }
        int type = MessageDescriptor.type(buffer, offset);
        int flags = MessageDescriptor.flags(buffer, offset);
        long sequence = MessageDescriptor.sequence(buffer, offset);
        switch (type) {
            case MessageDescriptor.CHANGE -> onChange(buffer, offset, length, flags, sequence);
            case MessageDescriptor.SNAPSHOT -> onSnapshot(buffer, offset, length, flags, sequence);
            case MessageDescriptor.TORN_PART -> onTornPart(buffer, offset, sequence);
            case MessageDescriptor.END -> {
                if ((flags & MessageDescriptor.CLOSED) != 0) {
                    sourceClosed(sessionId);
                } else {
                    onEnd(sequence);
                }
            }
            default -> {
                // a type of a later version: not ours to apply
            }
        }
    }

    private void onChange(DirectBuffer buffer, int offset, int length, int flags, long sequence) {
        if (awaitingSnapshot || sequence <= applied) {
            return; // the snapshot asked for, or the one applied, holds it
        }
        if (sequence != applied + 1) {
            gap(sequence - applied - 1);
            return;
        }
        boolean torn = (flags & MessageDescriptor.TORN) != 0;
        long rangeOffset = MessageDescriptor.rangeOffset(buffer, offset);
        int pieceLength = length - MessageDescriptor.HEADER_LENGTH;
        int payloadAt = offset + MessageDescriptor.HEADER_LENGTH;
        if ((flags & (MessageDescriptor.FIRST | MessageDescriptor.LAST))
                == (MessageDescriptor.FIRST | MessageDescriptor.LAST)) {
            // the usual case, one message: copied from Aeron's buffer straight into the target
            publish(rangeOffset, pieceLength, range -> buffer.getBytes(payloadAt, range.asByteBuffer(), pieceLength),
                    torn);
            applied = sequence;
            return;
        }
        byte[] whole = pieces.add(buffer, offset, length, flags, sequence);
        if (whole != null) {
            publish(rangeOffset, whole.length,
                    range -> MemorySegment.copy(whole, 0, range, ValueLayout.JAVA_BYTE, 0, whole.length), torn);
            applied = sequence;
        } else if (pieces.broken()) {
            gap(0);
        }
    }

    /**
     * Publishes a change of the source to the target; one the source flagged torn is published torn
     * too (its writer copies the bytes, then fails, which is how a change is published flagged torn),
     * so the target's feed flags it and the target's readers see the range torn, as the source's do,
     * until a whole change rewrites it there too.
     */
    private void publish(long rangeOffset, long rangeLength, Consumer<MemorySegment> copy, boolean torn) {
        if (!torn) {
            target.publish(rangeOffset, rangeLength, copy);
            return;
        }
        try {
            target.publish(rangeOffset, rangeLength, range -> {
                copy.accept(range);
                throw SourceTorn.INSTANCE;
            });
        } catch (SourceTorn expected) {
            // published, flagged torn
        }
    }

    /** What a torn change's writer throws on the target: the source had the range half written. */
    private static final class SourceTorn extends RuntimeException {
        private static final long serialVersionUID = 1L;
        static final SourceTorn INSTANCE = new SourceTorn();

        private SourceTorn() {
            super("the source flagged the range torn", null, false, false);
        }
    }

    private void onSnapshot(DirectBuffer buffer, int offset, int length, int flags, long sequence) {
        if (!awaitingSnapshot) {
            return; // another replica's, or one asked for twice
        }
        byte[] whole = pieces.add(buffer, offset, length, flags, sequence);
        if (whole == null) {
            return;
        }
        target.publish(0, whole);
        if ((flags & MessageDescriptor.TORN) != 0) {
            // the part the source has torn, flagged torn at the target too; all of it if the part is unknown
            boolean known = tornPartSequence == sequence;
            long from = known ? tornPartOffset : 0;
            int tornLength = known ? Math.toIntExact(tornPartLength) : whole.length;
            publish(from, tornLength, range -> MemorySegment.copy(whole, (int) from, range, ValueLayout.JAVA_BYTE, 0,
                    tornLength), true);
        }
        tornPartSequence = -1;
        applied = sequence;
        awaitingSnapshot = false;
        emit(ReplicaStatus.of(ReplicaStatus.State.LIVE, applied));
        if ((flags & MessageDescriptor.COMPLETED) != 0) {
            complete();
        }
    }

    /** Remembers which part of the snapshot that follows is torn (if it makes sense for the target). */
    private void onTornPart(DirectBuffer buffer, int offset, long sequence) {
        if (!awaitingSnapshot) {
            return;
        }
        long from = MessageDescriptor.rangeOffset(buffer, offset);
        long tornLength = MessageDescriptor.rangeLength(buffer, offset);
        if (from < 0 || tornLength <= 0 || tornLength > target.byteSize() - from) {
            tornPartSequence = -1; // nonsense from the wire: the snapshot's torn flag then covers all of it
            return;
        }
        tornPartSequence = sequence;
        tornPartOffset = from;
        tornPartLength = tornLength;
    }

    private void onEnd(long endSequence) {
        if (!awaitingSnapshot && applied >= endSequence - 1) {
            complete();
        } else if (!awaitingSnapshot) {
            gap(endSequence - 1 - applied);
        }
    }

    private void complete() {
        target.completeChanges();
        emit(ReplicaStatus.of(ReplicaStatus.State.COMPLETED, applied));
    }

    private void emit(ReplicaStatus next) {
        state = next.state();
        status.tryEmitNext(next);
    }

    /** Stops the replica and closes its subscription and publication (not the target, not Aeron). Idempotent. */
    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        try {
            thread.join(TimeUnit.SECONDS.toMillis(5));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        CloseHelper.closeAll(data, control);
        status.tryEmitComplete();
    }

    @Override
    public String toString() {
        return "MappingReplica[target=" + target.name() + ", channel=" + data.channel() + ", streamId="
                + data.streamId() + ", sourceSequence=" + applied + "]";
    }
}
