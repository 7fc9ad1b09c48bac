// The sample subscriber in Kotlin: the same job as JavaSubscriber, with coroutines. The change feed
// is a Flow from shmflux-kotlin's changeFlow(); the handle is closed by use {}.
//
//   KotlinSubscriberKt [--name NAME] [--seconds 0 (until Ctrl-C)]
package io.shmflux.samples

import io.shmflux.Access
import io.shmflux.ChangeEvent
import io.shmflux.FileMapping
import io.shmflux.ObjectNotFoundException
import io.shmflux.SharedMemory
import io.shmflux.kotlin.changeFlow
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.cancelAndJoin
import kotlinx.coroutines.launch
import kotlinx.coroutines.runBlocking
import kotlinx.coroutines.withContext

fun main(args: Array<String>) {
    val options = SampleArgs(args)
    val name = options.string("name", SensorReading.DEFAULT_NAME)
    val stop = StopSignal.install(options.number("seconds", 0))
    runBlocking {
        val table = openWhenPublished(name, stop) ?: return@runBlocking
        table.use {
            // Collect the feed in a coroutine; cancelling it ends the subscription.
            val feed = launch {
                table.changeFlow(onSubscribed = { println("subscribed to \"$name\" at sequence ${table.sequence()}") })
                    .collect { event -> print(table, event) }
            }
            withContext(Dispatchers.IO) { stop.await() }
            feed.cancelAndJoin()
        }
    }
    println("unsubscribed")
}

private fun print(table: FileMapping, event: ChangeEvent) {
    if (event.missed > 0) {
        // lapped: loss is reported, never silent
        println("lapped: missed ${event.missed} changes before seq=${event.sequence}")
    }
    // A consistent read of the changed slot (never torn); it may be newer than the event.
    val reading = table.read(event.offset, SensorReading.LAYOUT)
    val torn = if (event.torn) " (torn: the writer died mid-update)" else ""
    println("seq=${event.sequence} from pid ${event.writerPid}: $reading$torn")
}

/** Opens the table, waiting for the publisher to create it; null if told to stop first. */
private suspend fun openWhenPublished(name: String, stop: StopSignal): FileMapping? {
    while (true) {
        try {
            return SharedMemory.open(name, Access.READ)
        } catch (notYet: ObjectNotFoundException) {
            if (withContext(Dispatchers.IO) { stop.await(java.time.Duration.ofMillis(100)) }) {
                return null
            }
        }
    }
}
