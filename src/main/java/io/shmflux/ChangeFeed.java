package io.shmflux;

import io.shmflux.internal.protocol.ChangeDispatcher;
import io.shmflux.internal.protocol.ChangeLog;
import io.shmflux.internal.protocol.ChangeRecord;
import org.jspecify.annotations.Nullable;
import reactor.core.publisher.Flux;
import reactor.core.publisher.FluxSink;

import java.util.concurrent.atomic.AtomicInteger;

/**
 * One subscriber's feed of changes: a cursor into the change ring, drained only as far as the
 * subscriber requested. The dispatcher thread and the subscriber's {@code request} calls both drain;
 * a work-in-progress counter lets one of them at a time do it. Nothing is buffered: events are read
 * from the ring when demanded, so a slow subscriber costs no memory and is lapped instead, which the
 * next event reports in {@link ChangeEvent#missed()}.
 */
final class ChangeFeed implements ChangeDispatcher.Listener {

    private final ChangeLog log;
    private final ChangeDispatcher dispatcher;
    private final ObjectReference object;
    private final boolean lowLatency;
    private final FluxSink<ChangeEvent> sink;
    private final AtomicInteger wip = new AtomicInteger();
    private volatile boolean closing;
    private volatile @Nullable RuntimeException failure;
    private volatile boolean cancelled;
    private boolean terminated;
    private long cursor;
    private long missed;

    private ChangeFeed(ChangeLog log, ChangeDispatcher dispatcher, ObjectReference object, ChangeOptions options,
                       FluxSink<ChangeEvent> sink) {
        this.log = log;
        this.dispatcher = dispatcher;
        this.object = object;
        this.lowLatency = options.waitStrategy() == ChangeOptions.WaitStrategy.LOW_LATENCY;
        this.sink = sink;
        long published = log.published();
        this.cursor = options.start() == ChangeOptions.Start.NOW ? published + 1
                : Math.max(1, published - log.capacity() + 1);
    }

    static Flux<ChangeEvent> flux(ChangeLog log, ChangeDispatcher dispatcher, ObjectReference object,
                                  ChangeOptions options, String describedAs) {
        return Flux.create(sink -> {
            if (!object.retain()) {
                sink.error(new HandleClosedException("mapping closed: object=" + describedAs));
                return;
            }
            ChangeFeed feed = new ChangeFeed(log, dispatcher, object, options, sink);
            sink.onRequest(n -> feed.drain());
            sink.onDispose(() -> {
                feed.cancelled = true;
                feed.drain();
            });
            dispatcher.add(feed, feed.lowLatency);
            feed.drain();
        }, FluxSink.OverflowStrategy.ERROR);
    }

    @Override
    public void onPublished() {
        drain();
    }

    @Override
    public void onClose() {
        closing = true;
        drain();
    }

    @Override
    public void onError(RuntimeException failure) {
        this.failure = failure;
        closing = true;
        drain();
    }

    private void drain() {
        if (wip.getAndIncrement() != 0) {
            return;
        }
        int pending = 1;
        do {
            if (!terminated) {
                if (cancelled) {
                    terminate();
                } else {
                    try {
                        emit();
                    } catch (RuntimeException | InternalError e) {
                        // the ring could not be read (a memory fault: the control file was truncated
                        // under us): end the feed with the error rather than leave it waiting for good
                        failure = e instanceof RuntimeException r ? r : new SharedMemoryException(
                                "memory fault reading the change ring: cause=" + e.getMessage(), e);
                        closing = true;
                    }
                    if (closing) {
                        terminate();
                        RuntimeException failed = failure;
                        if (failed != null) {
                            sink.error(new SharedMemoryException("change thread failed: cause=" + failed, failed));
                        } else {
                            sink.complete();
                        }
                    }
                }
            }
            pending = wip.addAndGet(-pending);
        } while (pending != 0);
    }

    /**
     * Delivers records from the cursor as far as requested. It polls each record's own sequence and
     * reads the shared sequence counter only when a record is not there, to tell "not published yet"
     * from "lapped": while a subscriber keeps up, it then touches only the record lines the writer
     * wrote, not the counter line the writer keeps writing.
     */
    private void emit() {
        while (sink.requestedFromDownstream() > 0 && !cancelled) {
            ChangeRecord record = log.record(cursor);
            if (record == null) {
                // not written yet, or lapped: the counter tells which, and once it says the change is
                // published, its record is visible (records are written before the counter moves)
                long published = log.published();
                if (cursor > published) {
                    return; // caught up
                }
                record = log.record(cursor);
            }
            if (record == null) {
                // lapped: the ring no longer holds this change (or is overwriting it right now)
                long published = log.published();
                long oldest = Math.max(1, published - log.capacity() + 1);
                long skip = oldest > cursor ? oldest - cursor : 1;
                missed += skip;
                cursor += skip;
                continue;
            }
            sink.next(new ChangeEvent(record.sequence(), record.offset(), record.length(), record.writerPid(),
                    record.timestamp(), missed, record.torn()));
            missed = 0;
            cursor++;
        }
    }

    private void terminate() {
        terminated = true;
        dispatcher.remove(this, lowLatency);
        object.release();
    }
}
