package io.shmflux.testing;

import java.nio.file.Path;

/** Files of the repository (README.md, the docs, .ci/run) for tests in any module. */
public final class Repository {

    private Repository() {
    }

    /**
     * {@return {@code relative} under the repository's top directory}, which the build passes as
     * {@code shmflux.repo}; a test run outside Maven from the top directory needs no property.
     */
    public static Path file(String relative) {
        return Path.of(System.getProperty("shmflux.repo", ".")).resolve(relative).normalize();
    }
}
