package io.shmflux.testing;

import io.shmflux.Access;
import io.shmflux.FileMapping;
import io.shmflux.MappedView;
import io.shmflux.SharedMemory;
import io.shmflux.SharedMemoryException;
import io.shmflux.internal.layout.ChangeLogDescriptor;
import io.shmflux.internal.layout.EventDescriptor;
import io.shmflux.internal.layout.MutexDescriptor;
import io.shmflux.internal.layout.SemaphoreDescriptor;
import io.shmflux.internal.linux.Libc;
import io.shmflux.sync.EventReset;
import io.shmflux.sync.NamedEvent;
import io.shmflux.sync.NamedMutex;
import io.shmflux.sync.NamedSemaphore;
import io.shmflux.sync.WaitResult;

import java.io.IOException;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;

import static io.shmflux.internal.layout.ControlBlockDescriptor.*;

/**
 * The header fuzz, run in a JVM of its own whose name space is a private directory
 * ({@code -Dshmflux.dir}), so no corrupt file it writes can reach another test or build. For each
 * case it writes a valid object's files (taken from a real object of that kind), puts one random or
 * boundary value into one field (or cuts the file to one size), makes the object live (a shared lock
 * held, as a holder would) or stale (no lock), and calls the public API on it: open and create-or-open
 * for live objects, then use and close what opened; create-or-open and {@code reclaimStale()} for
 * stale ones, after which both files must be gone. Every call must succeed or throw a
 * {@link SharedMemoryException}; after each case, one object of every kind under unrelated names
 * must still work.
 *
 * <p>Arguments: {@code CASES SEED}. Prints {@code ok CASES OUTCOMES} (a histogram of outcomes) or
 * {@code fail CASE DESCRIPTION}; a hang is the test's timeout, a JVM crash its exit code.
 */
public final class HeaderFuzzChild {

    /** A header or region field: where it is and how wide. */
    private record Field(String name, long offset, int width) {
    }

    /**
     * Every field of the header, taken from the descriptor's layout (so a field added there is fuzzed
     * too): a value field whole, the name and the path by their first 8 bytes; and the file's size.
     */
    private static final List<Field> FIELDS = headerFields();

    private static List<Field> headerFields() {
        List<Field> fields = new ArrayList<>();
        for (MemoryLayout member : LAYOUT.memberLayouts()) {
            if (member.name().isPresent()) {
                String name = member.name().get();
                fields.add(new Field(name, LAYOUT.byteOffset(MemoryLayout.PathElement.groupElement(name)),
                        (int) Math.min(member.byteSize(), 8)));
            }
        }
        fields.add(new Field("fileSize", -1, 8));
        return List.copyOf(fields);
    }

    /** Fields of each kind's region, offsets relative to the control file. */
    private static final Map<String, List<Field>> REGION_FIELDS = Map.of(
            "mapping", List.of(
                    new Field("changeLog.ringCapacity", HEADER_LENGTH + ChangeLogDescriptor.RING_CAPACITY_OFFSET, 4),
                    new Field("changeLog.holderSlots", HEADER_LENGTH + ChangeLogDescriptor.HOLDER_SLOTS_OFFSET, 4),
                    new Field("changeLog.subscriberSlots", HEADER_LENGTH + ChangeLogDescriptor.SUBSCRIBER_SLOTS_OFFSET, 4),
                    new Field("changeLog.publishTimeout", HEADER_LENGTH + ChangeLogDescriptor.PUBLISH_TIMEOUT_OFFSET, 8)),
            "mutex", List.of(new Field("mutex.lockWord", HEADER_LENGTH + MutexDescriptor.LOCK_WORD_OFFSET, 4)),
            "event", List.of(new Field("event.resetMode", HEADER_LENGTH + EventDescriptor.RESET_MODE_OFFSET, 4),
                    new Field("event.state", HEADER_LENGTH + EventDescriptor.STATE_OFFSET, 4)),
            "semaphore", List.of(new Field("semaphore.maximum", HEADER_LENGTH + SemaphoreDescriptor.MAXIMUM_OFFSET, 4),
                    new Field("semaphore.count", HEADER_LENGTH + SemaphoreDescriptor.COUNT_OFFSET, 4)));

    private static final List<String> KINDS = List.of("mapping", "mutex", "event", "semaphore");
    private static final Duration SHORT = Duration.ofMillis(50);

    /** A valid object's files, as its creator left them. */
    private record Template(String kind, String name, byte[] control, byte[] data) {
    }

    private final Random random;
    private final Path dir = Path.of(System.getProperty("shmflux.dir"));
    private final Map<String, Integer> outcomes = new TreeMap<>();

    private HeaderFuzzChild(long seed) {
        this.random = new Random(seed);
    }

    public static void main(String[] args) throws Exception {
        int cases = Integer.parseInt(args[0]);
        long seed = Long.parseLong(args[1]);
        HeaderFuzzChild fuzz = new HeaderFuzzChild(seed);
        String failure = fuzz.run(cases);
        System.out.println(failure == null ? "ok " + cases + " " + fuzz.outcomes : failure);
    }

    private String run(int cases) throws IOException {
        // the first call of this process sweeps a directory the test planted corrupt files in
        try (FileMapping first = SharedMemory.createOrOpen("bystander-mapping", 4096);
             NamedMutex mutex = NamedMutex.createOrOpen("bystander-mutex");
             NamedEvent event = NamedEvent.createOrOpen("bystander-event", EventReset.MANUAL);
             NamedSemaphore semaphore = NamedSemaphore.createOrOpen("bystander-semaphore", 1, 1)) {
            List<Template> templates = new ArrayList<>();
            for (String kind : KINDS) {
                templates.add(template(kind));
            }
            for (int i = 0; i < cases; i++) {
                Template template = templates.get(random.nextInt(templates.size()));
                String described = fuzzCase(i, template);
                if (described != null) {
                    return described;
                }
                String bystanders = checkBystanders(i, first, mutex, event, semaphore);
                if (bystanders != null) {
                    return bystanders;
                }
            }
        }
        return null;
    }

    /** Creates an object of the kind, copies its files, and closes it (so they are gone again). */
    private Template template(String kind) throws IOException {
        String name = "fuzz-" + kind;
        AutoCloseable handle = switch (kind) {
            case "mapping" -> SharedMemory.create(name, 4096);
            case "mutex" -> NamedMutex.create(name);
            case "event" -> NamedEvent.create(name, EventReset.AUTO, io.shmflux.sync.EventState.NOT_SIGNALED);
            default -> NamedSemaphore.create(name, 1, 3);
        };
        byte[] control = Files.readAllBytes(controlPath(name));
        byte[] data = kind.equals("mapping") ? Files.readAllBytes(dataPath(name)) : new byte[0];
        try {
            handle.close();
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
        return new Template(kind, name, control, data);
    }

    private Path controlPath(String name) {
        return Path.of(dataPath(name) + ".ctl");
    }

    private Path dataPath(String name) {
        return dir.resolve("shmflux.L" + Integer.toUnsignedString(Libc.geteuid()) + "." + name.replace(".", "%2E"));
    }

    /** {@return null if the case held, else what failed} */
    private String fuzzCase(int index, Template template) throws IOException {
        List<Field> fields = new ArrayList<>(FIELDS);
        fields.addAll(REGION_FIELDS.get(template.kind));
        Field field = fields.get(random.nextInt(fields.size()));
        byte[] control = template.control.clone();
        long value = value(field, control.length);
        if (field.offset >= 0) {
            ByteBuffer buffer = ByteBuffer.wrap(control).order(ByteOrder.LITTLE_ENDIAN);
            if (field.width == 8) {
                buffer.putLong((int) field.offset, value);
            } else {
                buffer.putInt((int) field.offset, (int) value); // every other field is a 32-bit int
            }
        } else {
            control = java.util.Arrays.copyOf(control, (int) Math.clamp(value, 0, control.length + 8192L));
        }
        // a holder exists only once an object is ready, so "initializing and held" is a creator at
        // work: an open waits for it (bounded, 10 s, see ControlFileTest) and would only slow the fuzz
        boolean live = random.nextBoolean() && !(field.name.equals("state") && value == STATE_INITIALIZING);
        String described = "case " + index + ": kind=" + template.kind + ", field=" + field.name + ", value=" + value
                + ", live=" + live;
        Path controlPath = controlPath(template.name);
        Path dataPath = dataPath(template.name);
        Files.write(controlPath, control, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
        if (template.data.length > 0) {
            Files.write(dataPath, template.data, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
        }
        int lock = -1;
        try {
            if (live) {
                lock = Libc.open(controlPath.toString(), Libc.O_RDWR | Libc.O_CLOEXEC, 0);
                Libc.ofdTryLock(lock, Libc.F_RDLCK, 0, 1);
                call(described + ", call=open", () -> use(template, open(template)));
                call(described + ", call=createOrOpen", () -> use(template, createOrOpen(template)));
            } else {
                call(described + ", call=createOrOpen", () -> use(template, createOrOpen(template)));
                call(described + ", call=reclaimStale", SharedMemory::reclaimStale);
                if (Files.exists(controlPath) || Files.exists(dataPath)) {
                    return "fail " + described + ": a stale object's files survived reclaimStale: control="
                            + Files.exists(controlPath) + ", data=" + Files.exists(dataPath);
                }
            }
        } catch (Unexpected e) {
            return "fail " + e.getMessage();
        } catch (Exception e) {
            return "fail " + described + ": " + e;
        } finally {
            if (lock >= 0) {
                Libc.close(lock);
            }
            Files.deleteIfExists(controlPath);
            Files.deleteIfExists(dataPath);
        }
        return null;
    }

    /** A random or boundary value for the field, often near the file's size or the header's limits. */
    private long value(Field field, long fileSize) {
        long[] boundaries = {0, -1, 1, 2, 3, Integer.MIN_VALUE, Integer.MAX_VALUE, Long.MIN_VALUE, Long.MAX_VALUE,
                fileSize, fileSize + 1, fileSize - 1, fileSize + 4096, HEADER_LENGTH, HEADER_LENGTH - 1, HEADER_LENGTH + 1,
                NAME_CAPACITY, NAME_CAPACITY + 1, PATH_CAPACITY, PATH_CAPACITY + 1, 4096, 4097, 1L << 24, (1L << 24) + 1,
                ChangeLogDescriptor.HOLDER_SLOTS + 1, 0x7fffffff, -5};
        return switch (random.nextInt(3)) {
            case 0 -> field.width == 8 ? random.nextLong() : random.nextInt();
            default -> boundaries[random.nextInt(boundaries.length)];
        };
    }

    private AutoCloseable open(Template t) {
        return switch (t.kind) {
            case "mapping" -> SharedMemory.open(t.name, Access.READ_WRITE);
            case "mutex" -> NamedMutex.open(t.name);
            case "event" -> NamedEvent.open(t.name);
            default -> NamedSemaphore.open(t.name);
        };
    }

    private AutoCloseable createOrOpen(Template t) {
        return switch (t.kind) {
            case "mapping" -> SharedMemory.createOrOpen(t.name, 4096);
            case "mutex" -> NamedMutex.createOrOpen(t.name);
            case "event" -> NamedEvent.createOrOpen(t.name, EventReset.AUTO);
            default -> NamedSemaphore.createOrOpen(t.name, 1, 3);
        };
    }

    /** Uses what opened as its kind's user would, briefly, then closes it. */
    private static void use(Template t, AutoCloseable handle) throws Exception {
        try (handle) {
            switch (handle) {
                case FileMapping mapping -> {
                    try (MappedView view = mapping.map(Access.READ_WRITE)) {
                        view.segment().get(ValueLayout.JAVA_LONG, 0);
                    }
                    mapping.publish(0, new byte[8]);
                    mapping.read(0, 8);
                }
                case NamedMutex mutex -> {
                    if (mutex.lock(SHORT) != WaitResult.TIMEOUT) {
                        mutex.unlock();
                    }
                }
                case NamedEvent event -> {
                    event.set();
                    event.await(SHORT);
                }
                case NamedSemaphore semaphore -> {
                    if (semaphore.acquire(SHORT) != WaitResult.TIMEOUT) {
                        semaphore.release();
                    }
                }
                default -> throw new IllegalStateException("unknown handle: " + handle);
            }
        }
    }

    /** A call that threw something other than a {@link SharedMemoryException}. */
    private static final class Unexpected extends Exception {
        Unexpected(String message, Throwable cause) {
            super(message, cause);
        }
    }

    @FunctionalInterface
    private interface Call {
        void run() throws Exception;
    }

    private void call(String described, Call call) throws Unexpected {
        String outcome;
        try {
            call.run();
            outcome = "ok";
        } catch (SharedMemoryException e) {
            outcome = e.getClass().getSimpleName();
        } catch (Throwable e) {
            java.io.StringWriter trace = new java.io.StringWriter();
            e.printStackTrace(new java.io.PrintWriter(trace));
            throw new Unexpected(described + ": " + trace.toString().replace('\n', '|'), e);
        }
        outcomes.merge(outcome, 1, Integer::sum);
    }

    private static String checkBystanders(int index, FileMapping mapping, NamedMutex mutex, NamedEvent event,
                                          NamedSemaphore semaphore) {
        try {
            long sequence = mapping.publish(0, new byte[] {(byte) index});
            if (mapping.read(0, 1)[0] != (byte) index || sequence != index + 1) {
                return "fail case " + index + ": the unrelated mapping lost a write";
            }
            if (mutex.lock(SHORT) != WaitResult.SIGNALED) {
                return "fail case " + index + ": the unrelated mutex could not be locked";
            }
            mutex.unlock();
            event.set();
            if (event.await(SHORT) != WaitResult.SIGNALED) {
                return "fail case " + index + ": the unrelated event did not signal";
            }
            if (semaphore.acquire(SHORT) != WaitResult.SIGNALED) {
                return "fail case " + index + ": the unrelated semaphore had no unit";
            }
            semaphore.release();
            return null;
        } catch (RuntimeException e) {
            return "fail case " + index + ": an unrelated object failed: " + e;
        }
    }
}
