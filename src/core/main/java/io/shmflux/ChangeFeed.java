package io.shmflux;

import io.shmflux.internal.observe.Diagnostics;
import io.shmflux.internal.protocol.ChangeCursor;
import io.shmflux.internal.protocol.ChangeDispatcher;
import io.shmflux.internal.protocol.ChangeLog;
import io.shmflux.internal.protocol.TakenChange;
import org.jspecify.annotations.Nullable;
import org.reactivestreams.Subscription;
import reactor.core.CoreSubscriber;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Operators;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The Reactor side of a change feed: a {@link ChangeCursor} drained only as far as the subscriber
 * requested. The cursor does the ring arithmetic; this class only turns it into Reactive Streams
 * signals.
 *
 * <h2>Subscribing</h2>
 * <ol>
 * <li>Hold the object; fix the cursor's starting point (and claim a back-pressure slot). This happens
 *     before {@code onSubscribe}, so that every change published after any callback of the subscriber
 *     ran ({@code doOnSubscribe} included) is delivered or counted in {@code missed}.</li>
 * <li>{@code onSubscribe}.</li>
 * <li>Register with the handle's change thread, then drain once: changes published since step 1 are
 *     already in the ring.</li>
 * </ol>
 * The change thread and the subscriber's {@code request} calls both drain; a work-in-progress counter
 * lets one of them at a time do it. Nothing is buffered: events are read from the ring when demanded.
 *
 * <p>What one signal carries is the subclass's: one {@link ChangeEvent} per change ({@link Events}), or
 * a {@link ChangeBatch} of the changes there are, up to a limit ({@link Batches}). Taking a change from
 * the cursor allocates nothing; a signal allocates its event or its batch.
 *
 * @param <T> the signal type
 */
abstract sealed class ChangeFeed<T> extends Flux<T> permits ChangeFeed.Events, ChangeFeed.Batches {

    private final ChangeLog log;
    private final ChangeDispatcher dispatcher;
    private final ObjectReference object;
    private final ChangeOptions options;
    private final String describedAs;

    private ChangeFeed(ChangeLog log, ChangeDispatcher dispatcher, ObjectReference object, ChangeOptions options,
                       String describedAs) {
        this.log = log;
        this.dispatcher = dispatcher;
        this.object = object;
        this.options = options;
        this.describedAs = describedAs;
    }

    /** One {@link ChangeEvent} per change. */
    static final class Events extends ChangeFeed<ChangeEvent> {

        Events(ChangeLog log, ChangeDispatcher dispatcher, ObjectReference object, ChangeOptions options,
               String describedAs) {
            super(log, dispatcher, object, options, describedAs);
        }

        @Override
        @Nullable ChangeEvent take(ChangeCursor cursor) {
            if (!cursor.advance()) {
                return null;
            }
            TakenChange c = cursor.taken();
            long missed = observe(cursor);
            return new ChangeEvent(c.sequence(), c.offset(), c.length(), c.writerPid(), c.timestamp(), missed,
                    c.torn());
        }
    }

    /** The changes there are, up to {@code maxBatch}, per {@link ChangeBatch}. */
    static final class Batches extends ChangeFeed<ChangeBatch> {

        private final int maxBatch;

        Batches(ChangeLog log, ChangeDispatcher dispatcher, ObjectReference object, ChangeOptions options,
                String describedAs, int maxBatch) {
            super(log, dispatcher, object, options, describedAs);
            this.maxBatch = maxBatch;
        }

        @Override
        @Nullable ChangeBatch take(ChangeCursor cursor) {
            // sized by what is published now: a lapped cursor may fill less, a late publish waits
            int capacity = (int) Math.min(maxBatch, Math.max(1, cursor.available()));
            long[] fields = null;
            int size = 0;
            while (size < capacity && cursor.advance()) {
                if (fields == null) {
                    fields = ChangeBatch.storage(capacity);
                }
                TakenChange c = cursor.taken();
                ChangeBatch.set(fields, size++, c.sequence(), c.offset(), c.length(), c.writerPid(), c.timestamp(),
                        observe(cursor), c.torn());
            }
            return fields == null ? null : new ChangeBatch(fields, size);
        }
    }

    /**
     * {@return the next signal from the cursor, or null if it has no change now} Called only as far as
     * the subscriber requested.
     */
    abstract @Nullable T take(ChangeCursor cursor);

    /** Reports what is rare about the change just taken (lapped, torn). {@return its missed count} */
    final long observe(ChangeCursor cursor) {
        long missed = cursor.missed();
        TakenChange c = cursor.taken();
        if (missed != 0) {
            Diagnostics.subscriberLapped(describedAs, missed, c.sequence());
        }
        if (c.torn()) {
            Diagnostics.tornChange(describedAs, c.sequence(), c.offset(), c.length());
        }
        return missed;
    }

    @Override
    public void subscribe(CoreSubscriber<? super T> actual) {
        if (!object.retain()) {
            Operators.error(actual, new HandleClosedException("mapping closed: object=" + describedAs));
            return;
        }
        ChangeCursor cursor;
        try {
            ChangeCursor.Start start = switch (options.start()) {
                case NOW -> ChangeCursor.Start.NOW;
                case OLDEST -> ChangeCursor.Start.OLDEST;
                case AFTER -> ChangeCursor.Start.AFTER;
            };
            cursor = new ChangeCursor(log, start, options.startAfter(),
                    options.overflow() == ChangeOptions.Overflow.BACK_PRESSURE);
        } catch (RuntimeException e) {
            object.release();
            Operators.error(actual, e);
            return;
        }
        Feed feed = new Feed(actual, cursor, options.waitStrategy() == ChangeOptions.WaitStrategy.LOW_LATENCY);
        actual.onSubscribe(feed);
        dispatcher.add(feed, feed.lowLatency);
        feed.drain();
    }

    /** One subscription. */
    private final class Feed implements Subscription, ChangeDispatcher.Listener {

        private final CoreSubscriber<? super T> actual;
        private final ChangeCursor cursor;
        private final boolean lowLatency;
        private final AtomicInteger wip = new AtomicInteger();
        private final AtomicLong requested = new AtomicLong();
        private volatile boolean closing;
        private volatile @Nullable RuntimeException failure;
        private volatile boolean cancelled;
        private boolean terminated;

        Feed(CoreSubscriber<? super T> actual, ChangeCursor cursor, boolean lowLatency) {
            this.actual = actual;
            this.cursor = cursor;
            this.lowLatency = lowLatency;
        }

        @Override
        public void request(long n) {
            if (Operators.validate(n)) {
                requested.getAndUpdate(r -> Operators.addCap(r, n));
                drain();
            }
        }

        @Override
        public void cancel() {
            cancelled = true;
            drain();
        }

        @Override
        public long onPublished() {
            drain();
            // a hint, read without the drain's ownership (another thread may be draining): a stale,
            // lower value only costs the change thread one more announcement
            return requested.get() == 0 || terminated ? Long.MAX_VALUE : cursor.position();
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

        void drain() {
            if (wip.getAndIncrement() != 0) {
                return;
            }
            int pending = 1;
            do {
                if (!terminated) {
                    step();
                }
                pending = wip.addAndGet(-pending);
            } while (pending != 0);
        }

        private void step() {
            if (cancelled) {
                terminate();
                return;
            }
            boolean ended = false;
            try {
                emit();
                ended = cursor.ended();
            } catch (RuntimeException | InternalError e) {
                // the ring could not be read (a memory fault: the control file was truncated under us):
                // end the feed with the error rather than leave it waiting for good
                failure = e instanceof RuntimeException r ? r : new SharedMemoryException(
                        "memory fault reading the change ring: cause=" + e.getMessage(), e);
                closing = true;
            }
            if (cancelled) {
                terminate();
            } else if (ended) {
                terminate();
                actual.onComplete();
            } else if (closing) {
                terminate();
                RuntimeException failed = failure;
                if (failed != null) {
                    actual.onError(new SharedMemoryException("change thread failed: cause=" + failed, failed));
                } else {
                    actual.onComplete();
                }
            }
        }

        /** Delivers signals from the cursor as far as requested: demand is read once and settled once. */
        private void emit() {
            long demand = requested.get();
            long emitted = 0;
            while (emitted != demand && !cancelled) {
                T next = take(cursor);
                if (next == null) {
                    break;
                }
                actual.onNext(next);
                emitted++;
            }
            if (emitted != 0 && demand != Long.MAX_VALUE) {
                requested.addAndGet(-emitted);
            }
            cursor.drainEnded();
        }

        private void terminate() {
            terminated = true;
            dispatcher.remove(this, lowLatency);
            try {
                cursor.close();
            } catch (RuntimeException | InternalError e) {
                // the control file is gone from under us: its slot went with it
            } finally {
                object.release();
            }
        }
    }
}
