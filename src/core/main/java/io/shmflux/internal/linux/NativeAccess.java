package io.shmflux.internal.linux;

import io.shmflux.SharedMemoryException;

/**
 * Checks, before the first downcall, that the JVM lets shmflux make native calls, so that a missing
 * flag is a clear error instead of a warning today and an {@code IllegalCallerException} tomorrow.
 */
public final class NativeAccess {

    private static volatile boolean checked;

    private NativeAccess() {
    }

    /**
     * @throws SharedMemoryException naming the {@code --enable-native-access} flag to pass, when native
     *                               access is not enabled for the module that holds shmflux
     */
    public static void check() {
        if (checked) {
            return;
        }
        Module module = NativeAccess.class.getModule();
        if (!module.isNativeAccessEnabled()) {
            String flag = "--enable-native-access=" + (module.isNamed() ? module.getName() : "ALL-UNNAMED");
            throw new SharedMemoryException("native access not enabled: module="
                    + (module.isNamed() ? module.getName() : "unnamed") + ", fix=run java with " + flag);
        }
        if (!System.getProperty("os.name").equals("Linux")) {
            throw new SharedMemoryException("unsupported operating system: os.name="
                    + System.getProperty("os.name") + ", supported=Linux");
        }
        checked = true;
    }
}
