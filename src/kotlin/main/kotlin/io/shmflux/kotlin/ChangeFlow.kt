package io.shmflux.kotlin

import io.shmflux.ChangeBatch
import io.shmflux.ChangeEvent
import io.shmflux.ChangeOptions
import io.shmflux.FileMapping
import io.shmflux.MappingOptions
import kotlinx.coroutines.channels.Channel
import kotlinx.coroutines.flow.Flow
import kotlinx.coroutines.flow.buffer
import kotlinx.coroutines.reactive.asFlow
import kotlin.time.Duration
import kotlin.time.toJavaDuration

/**
 * Returns the object's published changes, from every process, as a cold [Flow]: the coroutine
 * form of [FileMapping.changes].
 *
 * - Each collection subscribes a feed of its own; its starting point, [ChangeOptions.start], is
 *   fixed when the feed is subscribed, just before [onSubscribed] runs (on the collecting thread):
 *   every change published after [onSubscribed] ran is delivered or counted in
 *   [ChangeEvent.missed], so telling another coroutine, thread or process "subscribed" from there
 *   is safe. (`onStart { }` runs before the subscription, too early for that.) A collector started
 *   with `CoroutineStart.UNDISPATCHED` has subscribed by its first suspension.
 * - Cancelling the collector, or leaving `collect` early (`take`,
 *   `first`, an exception), cancels the feed and frees everything it held, a
 *   [ChangeOptions.Overflow.BACK_PRESSURE] subscriber slot included.
 * - Events arrive in sequence order, each at most once. Loss and damage are reported as in Java:
 *   [ChangeEvent.missed] counts the changes a lapped collector lost just before the event,
 *   [ChangeEvent.torn] flags a change whose writer died in the middle.
 * - Nothing is buffered: the flow asks the feed for one event at a time, as the collector takes
 *   them, so a `BACK_PRESSURE` collector paces publishers in every process exactly as its
 *   `collect` keeps up. Apply `buffer(n)` to ask for up to `n` events ahead (it fuses with this
 *   flow: still one subscription).
 * - Errors end the flow with their exception, thrown from `collect` (for example
 *   [io.shmflux.HandleClosedException] if the handle is closed, or a
 *   [io.shmflux.SharedMemoryException] `no free slot` for a 65th back-pressure subscriber); closing
 *   the handle or [FileMapping.completeChanges] completes it.
 *
 * Events are produced on the handle's change thread and handed to the collector's own context;
 * `collect` never runs on the change thread, so a slow collector holds up no other subscriber.
 */
public fun FileMapping.changeFlow(
    options: ChangeOptions = ChangeOptions.DEFAULT,
    onSubscribed: (() -> Unit)? = null,
): Flow<ChangeEvent> {
    val feed = changes(options)
    return (if (onSubscribed == null) feed else feed.doOnSubscribe { onSubscribed() })
        .asFlow().buffer(Channel.RENDEZVOUS)
}

/**
 * Returns the feed of [changeFlow] in batches, as a cold [Flow]: the coroutine form of
 * [FileMapping.changeBatches]. Each [ChangeBatch] holds the changes published since the last one,
 * up to [maxBatch]; every promise of [changeFlow] holds for each change in it (order, at most once,
 * [ChangeBatch.missed] per change, [ChangeBatch.torn], back pressure, completion). The flow asks
 * for one batch at a time.
 *
 * @throws io.shmflux.InvalidParameterException if [maxBatch] is not between 1 and 65,536
 */
public fun FileMapping.changeBatchFlow(
    maxBatch: Int,
    options: ChangeOptions = ChangeOptions.DEFAULT,
    onSubscribed: (() -> Unit)? = null,
): Flow<ChangeBatch> {
    val feed = changeBatches(options, maxBatch)
    return (if (onSubscribed == null) feed else feed.doOnSubscribe { onSubscribed() })
        .asFlow().buffer(Channel.RENDEZVOUS)
}

/** [MappingOptions.withPublishTimeout] with a [Duration]. */
public fun MappingOptions.withPublishTimeout(publishTimeout: Duration): MappingOptions =
    withPublishTimeout(publishTimeout.toJavaDuration())
