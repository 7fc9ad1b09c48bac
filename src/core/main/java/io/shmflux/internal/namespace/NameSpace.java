package io.shmflux.internal.namespace;

import org.jspecify.annotations.Nullable;
import io.shmflux.SharedMemoryException;
import io.shmflux.internal.linux.Libc;
import io.shmflux.internal.linux.NativeAccess;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Where names live: the files of every object are in one directory ({@code /dev/shm}, so that
 * {@code shm_open} in any language finds the data) and all start with {@value #PREFIX}.
 *
 * <table class="striped">
 * <caption>Files of one object named {@code N} (encoded as described in {@link ObjectName})</caption>
 * <thead><tr><th>File</th><th>What it holds</th></tr></thead>
 * <tbody>
 * <tr><td>{@code shmflux.L<uid>.N} / {@code shmflux.G.N}</td><td>the data of a paging-file-backed mapping,
 *     user bytes at offset 0 ({@code shm_open("/shmflux.L1000.N")} attaches to it)</td></tr>
 * <tr><td>{@code shmflux.L<uid>.N.ctl} / {@code shmflux.G.N.ctl}</td><td>the control file: header
 *     (kind tag, size, backing file), liveness locks, and the kind's shared state</td></tr>
 * <tr><td>{@code shmflux.tmp.<pid>.<random>}</td><td>a control file being built; renamed into place
 *     (by {@code link}) only when complete</td></tr>
 * </tbody>
 * </table>
 *
 * <p>Because the encoded name contains no {@code .}, the three forms never collide. The directory can
 * be moved with the system property {@code shmflux.dir} (for containers or tests), which must name an
 * existing directory; names still cannot leave it.
 */
public final class NameSpace {

    public static final String PREFIX = "shmflux.";
    /** Ends the name of every control file. */
    public static final String CONTROL_SUFFIX = ".ctl";
    static final String TEMP_PREFIX = PREFIX + "tmp.";
    private static final Duration TEMP_GRACE = Duration.ofSeconds(30);

    private static volatile @Nullable NameSpace instance;

    private final String directory;
    private final int uid;

    private NameSpace(String directory, int uid) {
        this.directory = directory;
        this.uid = uid;
    }

    /**
     * {@return the process-wide name space} The first call checks native access and reclaims the
     * objects whose holders all died (see {@link #reclaimStale()}).
     */
    public static NameSpace get() {
        NameSpace ns = instance;
        if (ns != null) {
            return ns;
        }
        synchronized (NameSpace.class) {
            if (instance == null) {
                NameSpace created = create();
                created.reclaimStale();
                instance = created;
            }
            return instance;
        }
    }

    /**
     * {@return a name space that reclaims nothing when created} For tools that must show stale objects
     * as they are ({@code shmflux list}); {@link #get()} would remove them first.
     */
    public static NameSpace withoutReclaim() {
        NameSpace ns = instance;
        return ns != null ? ns : create();
    }

    /**
     * {@return a name space in another directory, for this user} For tests that plant files which
     * must never appear in the shared {@code /dev/shm} (a FIFO there would block any other program
     * that opens it without {@code O_NONBLOCK}); it reclaims nothing when created.
     */
    static NameSpace at(String directory) {
        return new NameSpace(directory, Libc.geteuid());
    }

    private static NameSpace create() {
        NativeAccess.check();
        String dir = System.getProperty("shmflux.dir", "/dev/shm");
        if (!Files.isDirectory(Path.of(dir))) {
            throw new SharedMemoryException("name-space directory missing: path=" + dir);
        }
        return new NameSpace(dir, Libc.geteuid());
    }

    /** {@return the scope part of this user's {@code Local\} file names, such as {@code L1000}} */
    public String localTag() {
        return scopeTag(ObjectName.Scope.LOCAL);
    }

    /**
     * Reclaims one object if no process holds it, by the lifetime protocol (see {@link ControlFile}).
     *
     * @return what became of it: reclaimed, live, gone, or kept (with the reason)
     */
    public ControlFile.Reclaim reclaimIfStale(ObjectName name) {
        return ControlFile.reclaimIfStale(controlPath(name), expectedOwner(name));
    }

    /** {@return the effective uid of this process: its {@code Local\} names are {@code L<uid>}} */
    public int uid() {
        return uid;
    }

    /**
     * {@return who must own the files of {@code name}} This user for a {@code Local\} name (a file of
     * anyone else under it is squatted), -1 (anyone) for a {@code Global\} one.
     */
    public int expectedOwner(ObjectName name) {
        return name.scope() == ObjectName.Scope.LOCAL ? uid : -1;
    }

    /**
     * {@return who must own a file with this name in the directory} The uid of {@code shmflux.L<uid>.*},
     * -1 (anyone) for {@code shmflux.G.*} and temporary files, -2 for a name shmflux never makes.
     */
    public static int expectedOwnerOfFile(String fileName) {
        if (fileName.startsWith(PREFIX + "G.") || fileName.startsWith(TEMP_PREFIX)) {
            return -1;
        }
        if (!fileName.startsWith(PREFIX + "L")) {
            return -2;
        }
        int end = fileName.indexOf('.', PREFIX.length() + 1);
        if (end <= PREFIX.length() + 1) {
            return -2;
        }
        try {
            return Integer.parseUnsignedInt(fileName.substring(PREFIX.length() + 1, end));
        } catch (NumberFormatException e) {
            return -2;
        }
    }

    public String directory() {
        return directory;
    }

    /** {@return the path of the data file of a paging-file-backed mapping} */
    public String dataPath(ObjectName name) {
        return directory + "/" + PREFIX + scopeTag(name.scope()) + "." + name.encoded();
    }

    /** {@return the path of the control file} */
    public String controlPath(ObjectName name) {
        return dataPath(name) + CONTROL_SUFFIX;
    }

    /** {@return the data-file path that belongs to a control-file path} */
    static String dataPathOf(String controlPath) {
        return controlPath.substring(0, controlPath.length() - CONTROL_SUFFIX.length());
    }

    String tempPath() {
        return directory + "/" + TEMP_PREFIX + ProcessHandle.current().pid() + "."
                + HexFormat.of().toHexDigits(ThreadLocalRandom.current().nextLong());
    }

    private String scopeTag(ObjectName.Scope scope) {
        return scope == ObjectName.Scope.LOCAL ? "L" + Integer.toUnsignedString(uid) : "G";
    }

    /**
     * Removes every object in the directory whose holders have all died, and control files left half
     * built by a creator that died. An object is stale exactly when no open file description holds a
     * lock on its control file: the kernel drops a process's locks when it dies, so a live holder,
     * however old, always keeps its object, and a reused pid cannot make a dead one look alive.
     * Corrupt or incompatible objects nobody holds go with both their files. Objects this user may not
     * remove, and files it does not trust (another user's file under a {@code Local\} name, a link, a
     * FIFO, a directory), are skipped, never retried in a loop; a bad file never stops the sweep.
     *
     * @return how many objects were reclaimed
     */
    public int reclaimStale() {
        return (int) sweep().values().stream()
                .filter(r -> r.outcome() == ControlFile.ReclaimOutcome.RECLAIMED).count();
    }

    /**
     * {@return what {@link #reclaimStale()} did with each control file and old temporary file} For the
     * tool, which reports the files it kept and why.
     */
    public Map<Path, ControlFile.Reclaim> sweep() {
        Map<Path, ControlFile.Reclaim> outcomes = new LinkedHashMap<>();
        try (DirectoryStream<Path> files = Files.newDirectoryStream(Path.of(directory), PREFIX + "*")) {
            for (Path file : files) {
                String fileName = file.getFileName().toString();
                int owner = expectedOwnerOfFile(fileName);
                boolean control = fileName.endsWith(CONTROL_SUFFIX);
                boolean oldTemp = fileName.startsWith(TEMP_PREFIX) && isOlderThan(file, TEMP_GRACE);
                if (owner != -2 && (control || oldTemp)) {
                    outcomes.put(file, ControlFile.reclaimIfStale(file.toString(), owner));
                }
            }
        } catch (IOException | java.nio.file.DirectoryIteratorException e) {
            throw new SharedMemoryException("cannot list name space: path=" + directory + ", cause=" + e, e);
        }
        return outcomes;
    }

    private static boolean isOlderThan(Path file, Duration age) {
        try {
            return Files.getLastModifiedTime(file).toInstant().isBefore(Instant.now().minus(age));
        } catch (IOException e) {
            return false;
        }
    }
}
