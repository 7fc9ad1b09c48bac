package io.shmflux;

import io.shmflux.testing.Repository;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The repository stands alone: no document, source or build file cites a file outside it (the
 * development notes the project was started from are not part of it). Walks every text file of the
 * checkout except build output and Git's own.
 */
class RepositoryStandsAloneTest {

    /** Spelled in pieces so that this file does not match itself. */
    private static final List<String> OUTSIDE = List.of("../" + "shared", "/work/" + "shared", "NOTES-" + "futex",
            "STYLE" + ".md");

    @Test
    void noFileCitesAFileOutsideTheRepository() throws IOException {
        Path top = Repository.file(".");
        assertTrue(Files.isRegularFile(top.resolve("README.md")), "the repository's top is " + top);
        List<String> citing;
        try (Stream<Path> files = Files.walk(top)) {
            citing = files.filter(Files::isRegularFile)
                    .filter(p -> !isBuildOutput(top.relativize(p)))
                    .filter(RepositoryStandsAloneTest::isText)
                    .flatMap(p -> citations(top, p))
                    .toList();
        }
        assertEquals(List.of(), citing);
    }

    private static boolean isBuildOutput(Path relative) {
        for (Path part : relative) {
            String name = part.toString();
            if (name.equals("target") || name.equals(".git") || name.equals(".idea")) {
                return true;
            }
        }
        return false;
    }

    private static boolean isText(Path file) {
        String name = file.getFileName().toString();
        return name.endsWith(".md") || name.endsWith(".java") || name.endsWith(".kt") || name.endsWith(".xml")
                || name.endsWith(".properties") || name.endsWith(".sh") || !name.contains(".");
    }

    private static Stream<String> citations(Path top, Path file) {
        String text;
        try {
            text = new String(Files.readAllBytes(file), StandardCharsets.UTF_8);
        } catch (IOException e) {
            return Stream.of(top.relativize(file) + ": unreadable: " + e);
        }
        return OUTSIDE.stream().filter(text::contains).map(cited -> top.relativize(file) + " cites " + cited);
    }
}
