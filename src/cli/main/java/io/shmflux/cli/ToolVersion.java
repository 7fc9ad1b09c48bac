package io.shmflux.cli;

import picocli.CommandLine;

import java.io.IOException;
import java.io.InputStream;
import java.util.Properties;

/** {@code shmflux --version}: the project version, from {@code version.properties} (filtered by the build). */
final class ToolVersion implements CommandLine.IVersionProvider {

    @Override
    public String[] getVersion() throws IOException {
        Properties properties = new Properties();
        try (InputStream in = ToolVersion.class.getResourceAsStream("version.properties")) {
            if (in == null) {
                throw new IOException("resource missing: name=io/shmflux/cli/version.properties");
            }
            properties.load(in);
        }
        return new String[] {
                "shmflux " + properties.getProperty("version", "?"),
                "java " + System.getProperty("java.version") + " (" + System.getProperty("java.vendor") + ")"
        };
    }
}
