package io.shmflux.testing;

import io.shmflux.internal.layout.ControlBlockDescriptor;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.fail;

/**
 * Fails a test that leaves files of ours in {@code /dev/shm}, and removes them so that the next test
 * starts clean.
 *
 * <p>Other builds may run on the same machine at the same time and have their own objects in
 * {@code /dev/shm}, so a file that appeared during the test counts as this test's only if this JVM
 * or a child JVM it started ({@link ChildJvm#startedPids()}) created it: the creator pid in the
 * control block header (diagnostics only, see {@code ControlBlockDescriptor}), or the pid in the
 * name of a temporary file. Files of other processes are never blamed and never deleted. Tests run one
 * at a time in one JVM, so files of this JVM that are new since the test started are the test's own.
 */
public final class NoLeftovers implements BeforeEachCallback, AfterEachCallback {

    private static final ExtensionContext.Namespace NS = ExtensionContext.Namespace.create(NoLeftovers.class);
    public static final Path DEV_SHM = Path.of("/dev/shm");
    private static final String PREFIX = "shmflux.";
    private static final String TEMP_PREFIX = PREFIX + "tmp.";
    private static final String CONTROL_SUFFIX = ".ctl";

    @Override
    public void beforeEach(ExtensionContext context) {
        context.getStore(NS).put("before", ours());
    }

    @Override
    public void afterEach(ExtensionContext context) throws IOException {
        @SuppressWarnings("unchecked")
        Set<String> before = context.getStore(NS).get("before", Set.class);
        Set<String> left = ours();
        left.removeAll(before);
        left.removeIf(name -> !name.contains(TestNames.RUN) && !createdByThisRun(name));
        if (!left.isEmpty()) {
            for (String name : left) {
                Files.deleteIfExists(DEV_SHM.resolve(name));
            }
            fail("test left files in /dev/shm: " + List.copyOf(left));
        }
    }

    /** {@return the names of every shmflux file in /dev/shm}, whoever made them */
    public static Set<String> ours() {
        try (Stream<Path> files = Files.list(DEV_SHM)) {
            Set<String> names = new HashSet<>();
            files.map(p -> p.getFileName().toString()).filter(n -> n.startsWith(PREFIX)).forEach(names::add);
            return names;
        } catch (IOException e) {
            throw new IllegalStateException("cannot list /dev/shm", e);
        }
    }

    /** {@return true if this JVM or one of its child JVMs created the object the file belongs to} */
    static boolean createdByThisRun(String fileName) {
        long creator;
        if (fileName.startsWith(TEMP_PREFIX)) {
            String rest = fileName.substring(TEMP_PREFIX.length());
            try {
                creator = Long.parseLong(rest.substring(0, Math.max(0, rest.indexOf('.'))));
            } catch (NumberFormatException e) {
                return false;
            }
        } else {
            String control = fileName.endsWith(CONTROL_SUFFIX) ? fileName : fileName + CONTROL_SUFFIX;
            creator = creatorPid(DEV_SHM.resolve(control));
        }
        return creator == ProcessHandle.current().pid() || ChildJvm.startedPids().contains(creator);
    }

    /** {@return the creator pid recorded in a control file, or -1 if it has none (gone, not ours, too short)} */
    private static long creatorPid(Path control) {
        try (FileChannel channel = FileChannel.open(control, StandardOpenOption.READ)) {
            ByteBuffer header = ByteBuffer.allocate(Math.toIntExact(ControlBlockDescriptor.CREATOR_PID_OFFSET + 8))
                    .order(ByteOrder.LITTLE_ENDIAN);
            while (header.hasRemaining() && channel.read(header) > 0) {
                // read the first bytes of the header
            }
            if (header.hasRemaining() || header.getLong(Math.toIntExact(ControlBlockDescriptor.MAGIC_OFFSET))
                    != ControlBlockDescriptor.MAGIC) {
                return -1;
            }
            return header.getLong(Math.toIntExact(ControlBlockDescriptor.CREATOR_PID_OFFSET));
        } catch (NoSuchFileException e) {
            return -1;
        } catch (IOException e) {
            return -1;
        }
    }
}
