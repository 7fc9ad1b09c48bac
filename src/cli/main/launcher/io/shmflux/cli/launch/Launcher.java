package io.shmflux.cli.launch;

import org.jspecify.annotations.Nullable;

import java.io.BufferedReader;
import java.io.File;
import java.io.IOException;
import java.io.InputStreamReader;
import java.lang.reflect.InvocationTargetException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * The tool jar's {@code Main-Class}, compiled for Java 8 so that whatever {@code java} is on the PATH
 * can start it (the tool itself needs 25: FFM). On 25 or later it calls the tool's main directly. On
 * an older JVM it finds a JDK 25 or later and runs the tool there, from the same jar, with
 * {@code --enable-native-access=ALL-UNNAMED}, the {@code shmflux.*} system properties passed on,
 * stdin, stdout and stderr inherited and the exit code returned as its own. It looks, in this order:
 * <ol>
 *   <li>{@code SHMFLUX_JAVA}: a JDK's home or its {@code java}; it must be 25 or later (exit 3 if not);</li>
 *   <li>{@code JAVA_HOME}, if it is 25 or later;</li>
 *   <li>the newest JDK 25 or later under {@code /usr/lib/jvm} (or {@code -Dshmflux.jdkRoot=DIR}).</li>
 * </ol>
 * A JDK's version is read from its {@code release} file ({@code JAVA_VERSION="25.0.1"}), or else from
 * {@code java -version}. If none is found it prints one line saying what to install or set, and
 * exits with 3.
 */
public final class Launcher {

    static final int NO_JDK = 3;
    private static final int REQUIRED = 25;
    private static final String TOOL = "io.shmflux.cli.ShmfluxTool";

    private Launcher() {
    }

    public static void main(String[] args) throws Exception {
        if (major(System.getProperty("java.specification.version", "0")) >= REQUIRED) {
            try {
                Class.forName(TOOL).getMethod("main", String[].class).invoke(null, (Object) args);
            } catch (InvocationTargetException e) {
                throw e.getCause() instanceof Exception ? (Exception) e.getCause() : e;
            }
            return;
        }
        List<String> tried = new ArrayList<>();
        String java = findJava(tried);
        if (java == null) {
            System.err.println("shmflux: no JDK " + REQUIRED + " or later found: running=" + System.getProperty("java.version")
                    + ", tried=" + tried + ", fix=install a JDK " + REQUIRED + " (such as Temurin " + REQUIRED
                    + ") or set SHMFLUX_JAVA=/path/to/jdk-" + REQUIRED);
            System.exit(NO_JDK);
        }
        System.exit(rerun(java, args));
    }

    /** Runs the tool in {@code java}; {@return its exit code} */
    private static int rerun(String java, String[] args) throws Exception {
        List<String> command = new ArrayList<>();
        command.add(java);
        command.add("--enable-native-access=ALL-UNNAMED");
        for (Map.Entry<Object, Object> property : System.getProperties().entrySet()) {
            String key = String.valueOf(property.getKey());
            if (key.startsWith("shmflux.")) {
                command.add("-D" + key + "=" + property.getValue());
            }
        }
        command.add("-cp");
        command.add(new File(Launcher.class.getProtectionDomain().getCodeSource().getLocation().toURI()).getPath());
        command.add(TOOL);
        command.addAll(Arrays.asList(args));
        final Process tool = new ProcessBuilder(command).inheritIO().start();
        Thread stop = new Thread(new Runnable() {
            @Override
            public void run() { // Ctrl-C or kill: the tool closes what it holds (its own hook), then we go
                tool.destroy();
                try {
                    tool.waitFor(5, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
        }, "shmflux-launcher-stop");
        Runtime.getRuntime().addShutdownHook(stop);
        int code = tool.waitFor();
        Runtime.getRuntime().removeShutdownHook(stop);
        return code;
    }

    /** {@return the {@code java} of a JDK 25 or later, or null; {@code tried} says what was looked at} */
    private static @Nullable String findJava(List<String> tried) {
        String explicit = System.getenv("SHMFLUX_JAVA");
        if (explicit != null && !explicit.isEmpty()) {
            File file = new File(explicit);
            File java = file.isDirectory() ? new File(file, "bin/java") : file;
            int version = version(java);
            tried.add("SHMFLUX_JAVA=" + explicit + " (" + describe(version) + ")");
            if (version >= REQUIRED) {
                return java.getPath();
            }
            return null; // asked for by name: never silently another one
        }
        String javaHome = System.getenv("JAVA_HOME");
        if (javaHome != null && !javaHome.isEmpty()) {
            File java = new File(javaHome, "bin/java");
            int version = version(java);
            tried.add("JAVA_HOME=" + javaHome + " (" + describe(version) + ")");
            if (version >= REQUIRED) {
                return java.getPath();
            }
        }
        File root = new File(System.getProperty("shmflux.jdkRoot", "/usr/lib/jvm"));
        File[] homes = root.listFiles();
        File best = null;
        int bestVersion = 0;
        if (homes != null) {
            Arrays.sort(homes);
            for (File home : homes) {
                File java = new File(home, "bin/java");
                int version = java.canExecute() ? version(java) : -1;
                if (version >= REQUIRED && version > bestVersion) {
                    best = java;
                    bestVersion = version;
                }
            }
        }
        tried.add(root + "/* (" + (homes == null ? "missing" : homes.length + " entries") + ")");
        return best == null ? null : best.getPath();
    }

    private static String describe(int version) {
        return version < 0 ? "no java there" : version == 0 ? "version unknown" : "version " + version;
    }

    /** {@return the feature version of the JDK whose {@code java} this is, 0 if unknown, -1 if there is none} */
    static int version(File java) {
        if (!java.isFile() || !java.canExecute()) {
            return -1;
        }
        File release = new File(java.getAbsoluteFile().getParentFile().getParentFile(), "release");
        try {
            if (release.isFile()) {
                for (String line : Files.readAllLines(release.toPath(), StandardCharsets.UTF_8)) {
                    if (line.startsWith("JAVA_VERSION=")) {
                        return major(line.substring("JAVA_VERSION=".length()).replace("\"", ""));
                    }
                }
            }
            return versionFromRunning(java);
        } catch (IOException e) {
            return 0;
        }
    }

    /** {@return the version {@code java -version} prints: {@code openjdk version "25.0.1" 2025-10-21}} */
    private static int versionFromRunning(File java) throws IOException {
        Process process = new ProcessBuilder(java.getPath(), "-version").redirectErrorStream(true).start();
        try {
            BufferedReader reader = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
            String line;
            while ((line = reader.readLine()) != null) {
                int quote = line.indexOf('"');
                if (line.contains(" version ") && quote >= 0 && line.indexOf('"', quote + 1) > quote) {
                    return major(line.substring(quote + 1, line.indexOf('"', quote + 1)));
                }
            }
            return 0;
        } finally {
            process.destroy();
        }
    }

    /** {@return the feature version in "25", "25.0.1", "17.0.9+9" or "1.8.0_392" (8), 0 if none} */
    static int major(String version) {
        String v = version.trim();
        if (v.startsWith("1.")) {
            v = v.substring(2);
        }
        int end = 0;
        while (end < v.length() && Character.isDigit(v.charAt(end))) {
            end++;
        }
        return end == 0 ? 0 : Integer.parseInt(v.substring(0, end));
    }
}
