package io.shmflux.testing;

import io.shmflux.Access;
import io.shmflux.FileMapping;
import io.shmflux.MappedView;
import io.shmflux.SharedMemory;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;

/**
 * A child process that drives the public mapping API from commands on stdin, one per line, and
 * answers each with one line: {@code ok ...} or {@code error <Exception> <message>}.
 *
 * <pre>
 * create NAME SIZE | createOrOpen NAME SIZE | open NAME ACCESS | fromFile PATH NAME|- SIZE
 *                          -> ok created=BOOL size=N path=P      (the handle is then called NAME)
 * map HANDLE ACCESS OFFSET LENGTH -> ok VIEW
 * putLong VIEW OFFSET VALUE | getLong VIEW OFFSET -> ok VALUE | flush VIEW | close ID
 * subscribe HANDLE          -> ok     (the next change of HANDLE's feed is kept)
 * awaitChange HANDLE        -> ok sequence=N torn=BOOL millis=M   (M: how long this command waited)
 * subscribeLossless HANDLE N  a BACK_PRESSURE subscription that requests N; cancel HANDLE ends it
 * publishMany HANDLE COUNT  -> ok SEQUENCE      (COUNT one-byte changes at offset 0)
 * completeChanges HANDLE    -> ok END_SEQUENCE
 * snapshot HANDLE OFFSET LENGTH -> ok torn=BOOL sequence=N first=LONG millis=M
 * read HANDLE OFFSET LENGTH -> ok first=LONG
 * at EPOCH_MILLIS COMMAND...   run COMMAND once the wall clock reaches the time (race starts)
 * exit
 * </pre>
 */
public final class MappingChild {

    private final Map<String, FileMapping> handles = new HashMap<>();
    private final Map<String, MappedView> views = new HashMap<>();
    private final Map<String, java.util.concurrent.CompletableFuture<io.shmflux.ChangeEvent>> changes = new HashMap<>();
    private final Map<String, reactor.core.Disposable> subscriptions = new HashMap<>();
    private int nextView;

    public static void main(String[] args) throws Exception {
        new MappingChild().run();
    }

    private void run() throws Exception {
        System.out.println("ready pid=" + ProcessHandle.current().pid());
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        String line;
        while ((line = in.readLine()) != null) {
            if (line.equals("exit")) {
                break;
            }
            String reply;
            try {
                reply = "ok" + execute(line.split(" "));
            } catch (Exception e) {
                reply = "error " + e.getClass().getSimpleName() + " " + e.getMessage();
            }
            System.out.println(reply);
        }
        for (MappedView view : views.values()) {
            view.close();
        }
        for (FileMapping handle : handles.values()) {
            handle.close();
        }
        System.out.println("bye");
    }

    private String execute(String[] c) throws Exception {
        return switch (c[0]) {
            case "at" -> {
                long wait = Long.parseLong(c[1]) - System.currentTimeMillis();
                if (wait > 0) {
                    Thread.sleep(wait);
                }
                String[] rest = new String[c.length - 2];
                System.arraycopy(c, 2, rest, 0, rest.length);
                yield execute(rest);
            }
            case "create" -> handle(c[1], SharedMemory.create(c[1], Long.parseLong(c[2])));
            case "createOrOpen" -> handle(c[1], SharedMemory.createOrOpen(c[1], Long.parseLong(c[2])));
            case "open" -> handle(c[1], SharedMemory.open(c[1], Access.valueOf(c[2])));
            case "fromFile" -> {
                String name = c[2].equals("-") ? null : c[2];
                yield handle(name == null ? c[1] : name,
                        SharedMemory.createFromFile(Path.of(c[1]), name, Long.parseLong(c[3])));
            }
            case "map" -> {
                String id = "view" + nextView++;
                views.put(id, handles.get(c[1]).map(Access.valueOf(c[2]), Long.parseLong(c[3]), Long.parseLong(c[4])));
                yield " " + id;
            }
            case "subscribe" -> {
                changes.put(c[1], handles.get(c[1]).changes().next().toFuture());
                yield "";
            }
            case "subscribeLossless" -> {
                long demand = Long.parseLong(c[2]);
                subscriptions.put(c[1], handles.get(c[1])
                        .changes(io.shmflux.ChangeOptions.DEFAULT.withOverflow(io.shmflux.ChangeOptions.Overflow.BACK_PRESSURE))
                        .subscribe(e -> { }, e -> { }, () -> { }, s -> s.request(demand)));
                yield "";
            }
            case "cancel" -> {
                subscriptions.remove(c[1]).dispose();
                yield "";
            }
            case "publishMany" -> {
                long sequence = 0;
                for (long i = 0; i < Long.parseLong(c[2]); i++) {
                    sequence = handles.get(c[1]).publish(0, new byte[]{(byte) i});
                }
                yield " " + sequence;
            }
            case "completeChanges" -> " " + handles.get(c[1]).completeChanges();
            case "awaitChange" -> {
                long start = System.nanoTime();
                io.shmflux.ChangeEvent e = changes.remove(c[1]).get(10, java.util.concurrent.TimeUnit.SECONDS);
                yield " sequence=" + e.sequence() + " torn=" + e.torn() + " millis=" + millisSince(start);
            }
            case "snapshot" -> {
                long start = System.nanoTime();
                io.shmflux.Snapshot s = handles.get(c[1]).snapshot(Long.parseLong(c[2]), Integer.parseInt(c[3]));
                yield " torn=" + s.torn() + " sequence=" + s.sequence() + " first="
                        + java.lang.foreign.MemorySegment.ofArray(s.data()).get(ValueLayout.JAVA_LONG_UNALIGNED, 0)
                        + " millis=" + millisSince(start);
            }
            case "read" -> " first=" + java.lang.foreign.MemorySegment.ofArray(
                    handles.get(c[1]).read(Long.parseLong(c[2]), Integer.parseInt(c[3])))
                    .get(ValueLayout.JAVA_LONG_UNALIGNED, 0);
            case "putLong" -> {
                views.get(c[1]).segment().set(ValueLayout.JAVA_LONG_UNALIGNED, Long.parseLong(c[2]), Long.parseLong(c[3]));
                yield "";
            }
            case "getLong" -> " " + views.get(c[1]).segment().get(ValueLayout.JAVA_LONG_UNALIGNED, Long.parseLong(c[2]));
            case "flush" -> {
                views.get(c[1]).flush();
                yield "";
            }
            case "close" -> {
                AutoCloseable closeable = c[1].startsWith("view") ? views.remove(c[1]) : handles.remove(c[1]);
                closeable.close();
                yield "";
            }
            default -> throw new IllegalArgumentException("unknown command: " + c[0]);
        };
    }

    private static long millisSince(long start) {
        return java.util.concurrent.TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
    }

    private String handle(String id, FileMapping mapping) {
        handles.put(id, mapping);
        return " created=" + mapping.created() + " size=" + mapping.byteSize() + " path=" + mapping.dataPath();
    }
}
