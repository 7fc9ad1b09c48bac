package io.shmflux.testing;

import io.shmflux.Access;
import io.shmflux.FileMapping;
import io.shmflux.MappedView;
import io.shmflux.SharedMemory;
import io.shmflux.sync.EventReset;
import io.shmflux.sync.NamedEvent;
import io.shmflux.sync.NamedMutex;
import io.shmflux.sync.NamedSemaphore;
import io.shmflux.sync.WaitAnyResult;
import io.shmflux.sync.WaitResult;
import io.shmflux.sync.Waitable;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.VarHandle;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * A child process that drives the sync API from commands on stdin, one per line, and answers each
 * with one line: {@code ok ...} or {@code error <Exception> <message>}. Background waits report on
 * lines of their own: {@code async TAG RESULT}.
 *
 * <pre>
 * mutex NAME | event NAME AUTO|MANUAL | semaphore NAME INITIAL MAXIMUM  -> ok created=BOOL
 * lock NAME MILLIS | await NAME MILLIS | acquire NAME MILLIS            -> ok RESULT
 * unlock NAME | set NAME | reset NAME | release NAME N | close NAME     -> ok [previous count]
 * awaitAny MILLIS NAME,NAME,...                                          -> ok INDEX RESULT
 * bg TAG COMMAND...          run COMMAND on thread "bg-TAG" (one per tag, kept: a mutex it locks
 *                            can be unlocked by a later "bg TAG unlock"); prints "async TAG REPLY" -> ok
 * increment MUTEX MAPPING N  N times: lock, add 1 to the long at offset 0 of the mapping, unlock -> ok
 * echo PING PONG N          N times: await event PING, set event PONG -> ok
 * holders SEMAPHORE MAPPING N  N times: acquire, count holders (offset 0) and their maximum (offset 8), release -> ok
 * exit
 * </pre>
 */
public final class SyncChild {

    private static final VarHandle LONG = ValueLayout.JAVA_LONG.varHandle();

    private final Map<String, Waitable> handles = new ConcurrentHashMap<>();
    private final List<AutoCloseable> others = new ArrayList<>();
    private final Map<String, ExecutorService> workers = new ConcurrentHashMap<>();

    public static void main(String[] args) throws Exception {
        new SyncChild().run();
    }

    private void run() throws Exception {
        System.out.println("ready pid=" + ProcessHandle.current().pid());
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        String line;
        while ((line = in.readLine()) != null) {
            if (line.equals("exit")) {
                break;
            }
            System.out.println(reply(line.split(" ")));
        }
        for (Waitable handle : handles.values()) {
            handle.close();
        }
        for (AutoCloseable other : others) {
            other.close();
        }
        System.out.println("bye");
    }

    private String reply(String[] c) {
        try {
            return "ok" + execute(c);
        } catch (Exception e) {
            return "error " + e.getClass().getSimpleName() + " " + e.getMessage();
        }
    }

    private String execute(String[] c) throws Exception {
        return switch (c[0]) {
            case "mutex" -> created(c[1], NamedMutex.createOrOpen(c[1]));
            case "event" -> created(c[1], NamedEvent.createOrOpen(c[1], EventReset.valueOf(c[2])));
            case "semaphore" -> created(c[1], NamedSemaphore.createOrOpen(c[1], Integer.parseInt(c[2]),
                    Integer.parseInt(c[3])));
            case "lock" -> " " + ((NamedMutex) handles.get(c[1])).lock(millis(c[2]));
            case "await" -> " " + ((NamedEvent) handles.get(c[1])).await(millis(c[2]));
            case "acquire" -> " " + ((NamedSemaphore) handles.get(c[1])).acquire(millis(c[2]));
            case "unlock" -> {
                ((NamedMutex) handles.get(c[1])).unlock();
                yield "";
            }
            case "set" -> {
                ((NamedEvent) handles.get(c[1])).set();
                yield "";
            }
            case "reset" -> {
                ((NamedEvent) handles.get(c[1])).reset();
                yield "";
            }
            case "release" -> " " + ((NamedSemaphore) handles.get(c[1])).release(Integer.parseInt(c[2]));
            case "close" -> {
                handles.remove(c[1]).close();
                yield "";
            }
            case "awaitAny" -> {
                List<Waitable> objects = new ArrayList<>();
                for (String name : c[2].split(",")) {
                    objects.add(handles.get(name));
                }
                WaitAnyResult r = Waitable.awaitAny(millis(c[1]), objects);
                yield " " + r.index() + " " + r.result();
            }
            case "bg" -> {
                String tag = c[1];
                String[] rest = new String[c.length - 2];
                System.arraycopy(c, 2, rest, 0, rest.length);
                workers.computeIfAbsent(tag, t -> Executors.newSingleThreadExecutor(r -> {
                    Thread thread = new Thread(r, "bg-" + t);
                    thread.setDaemon(true);
                    return thread;
                })).execute(() -> System.out.println("async " + tag + " " + reply(rest)));
                yield "";
            }
            case "increment" -> {
                NamedMutex mutex = (NamedMutex) handles.get(c[1]);
                MemorySegment counter = mapping(c[2]);
                long n = Long.parseLong(c[3]);
                for (long i = 0; i < n; i++) {
                    WaitResult r = mutex.lock(Duration.ofSeconds(30));
                    if (r != WaitResult.SIGNALED) {
                        throw new IllegalStateException("lock: " + r);
                    }
                    counter.set(ValueLayout.JAVA_LONG, 0, counter.get(ValueLayout.JAVA_LONG, 0) + 1);
                    mutex.unlock();
                }
                yield "";
            }
            case "echo" -> {
                NamedEvent ping = (NamedEvent) handles.get(c[1]);
                NamedEvent pong = (NamedEvent) handles.get(c[2]);
                long n = Long.parseLong(c[3]);
                for (long i = 0; i < n; i++) {
                    if (ping.await(Duration.ofSeconds(30)) != WaitResult.SIGNALED) {
                        throw new IllegalStateException("no ping: round=" + i);
                    }
                    pong.set();
                }
                yield "";
            }
            case "holders" -> {
                NamedSemaphore semaphore = (NamedSemaphore) handles.get(c[1]);
                MemorySegment words = mapping(c[2]);
                long n = Long.parseLong(c[3]);
                for (long i = 0; i < n; i++) {
                    if (semaphore.acquire(Duration.ofSeconds(30)) != WaitResult.SIGNALED) {
                        throw new IllegalStateException("acquire timed out");
                    }
                    long now = (long) LONG.getAndAdd(words, 0L, 1L) + 1;
                    long max;
                    while ((max = (long) LONG.getVolatile(words, 8L)) < now
                            && !LONG.compareAndSet(words, 8L, max, now)) {
                        Thread.onSpinWait();
                    }
                    Thread.yield();
                    LONG.getAndAdd(words, 0L, -1L);
                    semaphore.release(1);
                }
                yield "";
            }
            default -> throw new IllegalArgumentException("unknown command: " + c[0]);
        };
    }

    private MemorySegment mapping(String name) {
        FileMapping mapping = SharedMemory.open(name, Access.READ_WRITE);
        MappedView view = mapping.map(Access.READ_WRITE);
        others.add(0, mapping);
        others.add(0, view);
        return view.segment();
    }

    private String created(String id, Waitable handle) {
        handles.put(id, handle);
        return " created=" + handle.created();
    }

    private static Duration millis(String text) {
        return Duration.ofMillis(Long.parseLong(text));
    }
}
