package io.shmflux.testing;

import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.fail;

/**
 * Fails a test that leaves files of ours in {@code /dev/shm}, and removes them so that the next test
 * starts clean. Tests run one at a time in one JVM, so files new since the test started are its own;
 * only names made by {@link TestNames} in this JVM count, so other builds on the machine do not
 * disturb the check. ({@code .ci/run} checks the whole of {@code /dev/shm} after the build.)
 */
public final class NoLeftovers implements BeforeEachCallback, AfterEachCallback {

    private static final ExtensionContext.Namespace NS = ExtensionContext.Namespace.create(NoLeftovers.class);
    public static final Path DEV_SHM = Path.of("/dev/shm");

    @Override
    public void beforeEach(ExtensionContext context) {
        context.getStore(NS).put("before", ours());
    }

    @Override
    public void afterEach(ExtensionContext context) throws IOException {
        @SuppressWarnings("unchecked")
        Set<String> before = context.getStore(NS).get("before", Set.class);
        Set<String> left = ours();
        left.removeIf(name -> !name.contains(TestNames.RUN));
        left.removeAll(before);
        if (!left.isEmpty()) {
            for (String name : left) {
                Files.deleteIfExists(DEV_SHM.resolve(name));
            }
            fail("test left files in /dev/shm: " + List.copyOf(left));
        }
    }

    /** {@return the names of every shmflux file in /dev/shm} */
    public static Set<String> ours() {
        try (Stream<Path> files = Files.list(DEV_SHM)) {
            Set<String> names = new HashSet<>();
            files.map(p -> p.getFileName().toString()).filter(n -> n.startsWith("shmflux.")).forEach(names::add);
            return names;
        } catch (IOException e) {
            throw new IllegalStateException("cannot list /dev/shm", e);
        }
    }
}
