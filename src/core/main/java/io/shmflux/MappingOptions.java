package io.shmflux;

import java.time.Duration;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.EnumSet;
import java.util.Objects;
import java.util.Set;

/**
 * How a new object is made: who may open it, when its memory is allocated, and how its change feed
 * behaves. Options only matter when an object is created; opening an existing object, with
 * {@code createOrOpen} too, keeps the options it was created with, as Win32's
 * {@code CreateFileMapping} keeps an existing object's size ({@link FileMapping#changeRingCapacity()}
 * reads the ring's back).
 *
 * {@snippet :
 * var options = MappingOptions.DEFAULT
 *         .withPermissions("rw-rw----")      // the owner's group may open it too
 *         .withPageCommit(PageCommit.RESERVE); // sparse: allocate on first touch
 * try (FileMapping mapping = SharedMemory.create("big", 64L << 30, options)) {
 *     // ...
 * }
 * }
 *
 * @param permissions read and write bits for owner, group and others; execute bits are refused.
 *                    The default is owner-only ({@code rw-------}); the process umask is not applied.
 * @param pageCommit  when paging-file memory is allocated; ignored for file-backed objects
 * @param changeRingCapacity how many change records the object keeps for subscribers (a power of
 *                    two, 2 to 2^24; 64 bytes each, in the control file): a subscriber further
 *                    behind than this is lapped and told how many changes it missed
 *                    (unless it asked for back pressure)
 * @param publishTimeout how long a {@code publish}, in any process, waits for a live
 *                    {@link ChangeOptions.Overflow#BACK_PRESSURE} subscriber before it throws
 *                    {@link PublishTimeoutException}, and how long a {@code read} waits for one change
 *                    that a live writer keeps open before it throws {@link WaitTimeoutException};
 *                    1 ms to 1 hour
 */
public record MappingOptions(Set<PosixFilePermission> permissions, PageCommit pageCommit, int changeRingCapacity,
                             Duration publishTimeout) {

    /**
     * The change ring's default capacity: how many changes a subscriber may fall behind before it is
     * lapped. 16384 records are 1 MiB of {@code /dev/shm} per object and absorb a subscriber stall of
     * 164 ms at 100,000 changes/s; the trade-off is measured in the change-feed guide.
     */
    public static final int DEFAULT_CHANGE_RING_CAPACITY = 16384;

    /** The default {@link #publishTimeout()}. */
    public static final Duration DEFAULT_PUBLISH_TIMEOUT = Duration.ofSeconds(10);

    /**
     * Owner-only ({@code 0600}), {@link PageCommit#COMMIT}, a change ring of
     * {@value #DEFAULT_CHANGE_RING_CAPACITY}, a publish timeout of 10 s.
     */
    public static final MappingOptions DEFAULT =
            new MappingOptions(EnumSet.of(PosixFilePermission.OWNER_READ, PosixFilePermission.OWNER_WRITE),
                    PageCommit.COMMIT, DEFAULT_CHANGE_RING_CAPACITY, DEFAULT_PUBLISH_TIMEOUT);

    public MappingOptions {
        Objects.requireNonNull(permissions, "permissions");
        Objects.requireNonNull(pageCommit, "pageCommit");
        Objects.requireNonNull(publishTimeout, "publishTimeout");
        io.shmflux.internal.layout.ChangeLogDescriptor.checkRingCapacity(changeRingCapacity);
        if (publishTimeout.compareTo(Duration.ofMillis(1)) < 0 || publishTimeout.compareTo(Duration.ofHours(1)) > 0) {
            throw new InvalidParameterException("invalid publish timeout: publishTimeout=" + publishTimeout
                    + ", expected=1 ms to 1 hour");
        }
        for (PosixFilePermission p : permissions) {
            if (p == PosixFilePermission.OWNER_EXECUTE || p == PosixFilePermission.GROUP_EXECUTE
                    || p == PosixFilePermission.OTHERS_EXECUTE) {
                throw new InvalidParameterException("invalid permissions: reason=execute is not allowed, permissions="
                        + PosixFilePermissions.toString(permissions));
            }
        }
        if (!permissions.contains(PosixFilePermission.OWNER_READ)
                || !permissions.contains(PosixFilePermission.OWNER_WRITE)) {
            throw new InvalidParameterException("invalid permissions: reason=the owner needs read and write, permissions="
                    + PosixFilePermissions.toString(permissions));
        }
        permissions = permissions.isEmpty() ? Set.of() : Set.copyOf(EnumSet.copyOf(permissions));
    }

    /** {@return a copy with these permissions} */
    public MappingOptions withPermissions(Set<PosixFilePermission> permissions) {
        return new MappingOptions(permissions, pageCommit, changeRingCapacity, publishTimeout);
    }

    /**
     * {@return a copy with permissions given as in {@code ls -l}, such as {@code "rw-rw----"}}
     *
     * @throws InvalidParameterException if the string is not nine {@code rwx-} characters
     */
    public MappingOptions withPermissions(String permissions) {
        Objects.requireNonNull(permissions, "permissions");
        try {
            return withPermissions(PosixFilePermissions.fromString(permissions));
        } catch (IllegalArgumentException e) {
            throw new InvalidParameterException("invalid permissions: expected=rw-------, permissions=" + permissions);
        }
    }

    /** {@return a copy with this page commit} */
    public MappingOptions withPageCommit(PageCommit pageCommit) {
        return new MappingOptions(permissions, pageCommit, changeRingCapacity, publishTimeout);
    }

    /** {@return a copy with this change ring capacity} */
    public MappingOptions withChangeRingCapacity(int changeRingCapacity) {
        return new MappingOptions(permissions, pageCommit, changeRingCapacity, publishTimeout);
    }

    /** {@return a copy with this publish timeout} */
    public MappingOptions withPublishTimeout(Duration publishTimeout) {
        return new MappingOptions(permissions, pageCommit, changeRingCapacity, publishTimeout);
    }

    /** {@return the permission bits as in {@code chmod}, such as {@code 0600}} */
    int mode() {
        int mode = 0;
        for (PosixFilePermission p : permissions) {
            mode |= switch (p) {
                case OWNER_READ -> 0400;
                case OWNER_WRITE -> 0200;
                case GROUP_READ -> 040;
                case GROUP_WRITE -> 020;
                case OTHERS_READ -> 04;
                case OTHERS_WRITE -> 02;
                default -> 0;
            };
        }
        return mode;
    }
}
