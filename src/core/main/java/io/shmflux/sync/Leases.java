package io.shmflux.sync;

import reactor.core.Disposable;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Scheduler;

import java.util.concurrent.Callable;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;

/** The blocking half of the reactive forms: acquire on a given scheduler, never lose an acquisition to a cancel. */
final class Leases {

    private static final int PENDING = 0;
    private static final int DELIVERED = 1;
    private static final int CANCELLED = 2;

    private Leases() {
    }

    /**
     * {@return a Mono that runs {@code acquire} (which blocks) on {@code scheduler} and emits its lease}
     * A cancel while {@code acquire} blocks interrupts it; a lease acquired anyway after a cancel, or
     * dropped by Reactor, is handed to {@code undo}, so nothing stays acquired.
     */
    static <L> Mono<L> acquireOn(Scheduler scheduler, Class<L> type, Callable<L> acquire, Consumer<L> undo,
                                 Runnable afterFailure) {
        return Mono.<L>create(sink -> {
            AtomicInteger state = new AtomicInteger(PENDING);
            Disposable task = scheduler.schedule(() -> {
                L lease;
                try {
                    lease = acquire.call();
                } catch (Exception e) {
                    afterFailure.run();
                    if (state.compareAndSet(PENDING, DELIVERED)) {
                        sink.error(e);
                    }
                    return;
                }
                if (state.compareAndSet(PENDING, DELIVERED)) {
                    sink.success(lease);
                } else {
                    undo.accept(lease);
                }
            });
            sink.onCancel(() -> {
                if (state.compareAndSet(PENDING, CANCELLED)) {
                    task.dispose();
                }
            });
        }).doOnDiscard(type, undo);
    }
}
