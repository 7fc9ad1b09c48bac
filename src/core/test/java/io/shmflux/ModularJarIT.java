package io.shmflux;

import io.shmflux.testing.ChildJvm;
import io.shmflux.testing.TestNames;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.File;
import java.io.IOException;
import java.lang.module.ModuleDescriptor;
import java.lang.module.ModuleFinder;
import java.util.Set;
import java.util.TreeSet;
import java.util.jar.JarFile;
import javax.xml.parsers.DocumentBuilderFactory;
import org.w3c.dom.Document;
import org.w3c.dom.Element;
import org.w3c.dom.NodeList;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The packaged library jar is a module: it exports the API packages and keeps {@code internal} to
 * itself, and an application on the module path uses it with {@code --enable-native-access=io.shmflux}.
 */
class ModularJarIT {

    /** Failsafe passes the version (see pom.xml). */
    private static final Path JAR = Path.of("target", "shmflux-" + System.getProperty("project.version") + ".jar");

    @Test
    void theJarIsAModuleThatExportsOnlyTheApi() throws Exception {
        Result r = java("--describe-module", "io.shmflux");
        assertEquals(0, r.code, r.output);
        assertTrue(r.output.contains("exports io.shmflux\n"), r.output);
        assertTrue(r.output.contains("exports io.shmflux.sync\n"), r.output);
        assertFalse(r.output.contains("exports io.shmflux.internal"), r.output);
        assertTrue(r.output.contains("contains io.shmflux.internal.linux"), r.output);
    }

    @Test
    void theLibrarysRuntimeDependenciesAreExactlyReactorCoreAndJspecify() throws Exception {
        ModuleDescriptor module = ModuleFinder.of(JAR).find("io.shmflux").orElseThrow().descriptor();
        Set<String> required = new TreeSet<>();
        for (ModuleDescriptor.Requires r : module.requires()) {
            if (!r.name().startsWith("java.") && !r.name().startsWith("jdk.")) {
                required.add(r.name() + (r.modifiers().contains(ModuleDescriptor.Requires.Modifier.STATIC) ? " (static)" : ""));
            }
        }
        // org.reactivestreams is reactor-core's own dependency, required because the API returns its types
        assertEquals(new TreeSet<>(List.of("reactor.core", "org.reactivestreams", "org.jspecify (static)")), required);

        Document pom = DocumentBuilderFactory.newInstance().newDocumentBuilder().parse(Path.of("pom.xml").toFile());
        NodeList dependencies = pom.getElementsByTagName("dependency");
        Set<String> runtime = new TreeSet<>();
        for (int i = 0; i < dependencies.getLength(); i++) {
            Element dependency = (Element) dependencies.item(i);
            NodeList scope = dependency.getElementsByTagName("scope");
            if (scope.getLength() == 0 || !scope.item(0).getTextContent().equals("test")) {
                runtime.add(dependency.getElementsByTagName("artifactId").item(0).getTextContent());
            }
        }
        assertEquals(new TreeSet<>(List.of("reactor-core", "jspecify")), runtime);
    }

    @Test
    void theJarCarriesTheLicenceAndComesWithSourcesAndJavadoc() throws Exception {
        try (JarFile jar = new JarFile(JAR.toFile())) {
            assertTrue(jar.getEntry("META-INF/LICENSE") != null, "LICENSE in " + JAR);
            assertTrue(jar.getEntry("META-INF/NOTICE") != null, "NOTICE in " + JAR);
        }
        String base = JAR.toString().substring(0, JAR.toString().length() - ".jar".length());
        try (JarFile sources = new JarFile(base + "-sources.jar"); JarFile javadoc = new JarFile(base + "-javadoc.jar")) {
            assertTrue(sources.getEntry("io/shmflux/FileMapping.java") != null, "sources jar");
            assertTrue(javadoc.getEntry("io/shmflux/FileMapping.html") != null, "javadoc jar");
            assertTrue(javadoc.getEntry("io/shmflux/internal/linux/Libc.html") == null, "no internals in the javadoc");
        }
    }

    @Test
    void anApplicationOnTheModulePathUsesTheApiButCannotReachTheInternals(@TempDir Path dir) throws Exception {
        String name = TestNames.unique("module");
        Path app = Files.writeString(dir.resolve("App.java"), """
                public class App {
                    public static void main(String[] args) {
                        try (var m = io.shmflux.SharedMemory.create(args[0], 4096)) {
                            m.publish(0, new byte[]{42});
                            System.out.println("read " + m.read(0, 1)[0]);
                        }
                    }
                }
                """);
        Result ok = java("--enable-native-access=io.shmflux", "--add-modules", "io.shmflux", app.toString(), name);
        assertEquals(0, ok.code, ok.output);
        assertTrue(ok.output.contains("read 42"), ok.output);

        Result flagless = java("--add-modules", "io.shmflux", app.toString(), name);
        assertTrue(flagless.output.contains("--enable-native-access=io.shmflux"), flagless.output);

        Path sneaky = Files.writeString(dir.resolve("Sneaky.java"), """
                public class Sneaky {
                    public static void main(String[] args) {
                        System.out.println(io.shmflux.internal.linux.Libc.getuid());
                    }
                }
                """);
        Result denied = java("--enable-native-access=io.shmflux", "--add-modules", "io.shmflux", sneaky.toString());
        assertTrue(denied.code != 0, denied.output);
        assertTrue(denied.output.contains("is not visible") || denied.output.contains("does not export"),
                denied.output);
    }

    private record Result(int code, String output) {
    }

    private static Result java(String... args) throws IOException, InterruptedException, URISyntaxException {
        assertTrue(Files.isRegularFile(JAR), "mvn package builds " + JAR);
        List<String> modulePath = new ArrayList<>(List.of(JAR.toString()));
        for (Class<?> dependency : List.of(reactor.core.publisher.Flux.class, org.reactivestreams.Publisher.class,
                org.jspecify.annotations.NullMarked.class)) {
            modulePath.add(Path.of(dependency.getProtectionDomain().getCodeSource().getLocation().toURI()).toString());
        }
        List<String> command = new ArrayList<>(List.of(ChildJvm.javaExecutable(), "--module-path",
                String.join(File.pathSeparator, modulePath)));
        command.addAll(List.of(args));
        Path out = Files.createTempFile("shmflux-module-", ".out");
        try {
            Process p = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(out.toFile()).start();
            if (!p.waitFor(60, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new AssertionError("timed out: " + command);
            }
            return new Result(p.exitValue(), Files.readString(out, StandardCharsets.UTF_8));
        } finally {
            Files.deleteIfExists(out);
        }
    }
}
