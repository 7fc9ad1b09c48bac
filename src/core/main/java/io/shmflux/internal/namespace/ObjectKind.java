package io.shmflux.internal.namespace;

import io.shmflux.internal.layout.ChangeLogDescriptor;
import io.shmflux.internal.layout.ControlBlockDescriptor;
import io.shmflux.internal.layout.EventDescriptor;
import io.shmflux.internal.layout.MutexDescriptor;
import io.shmflux.internal.layout.SemaphoreDescriptor;
import org.jspecify.annotations.Nullable;

import java.lang.foreign.MemorySegment;

/**
 * What a name-space entry is. The tag is stored in the control block, so that every kind shares one
 * name space: opening a name as the wrong kind is an error, as in Win32.
 */
public enum ObjectKind {
    FILE_MAPPING(ControlBlockDescriptor.KIND_FILE_MAPPING, "file mapping"),
    MUTEX(ControlBlockDescriptor.KIND_MUTEX, "mutex"),
    EVENT(ControlBlockDescriptor.KIND_EVENT, "event"),
    SEMAPHORE(ControlBlockDescriptor.KIND_SEMAPHORE, "semaphore");

    private final int tag;
    private final String displayName;

    ObjectKind(int tag, String displayName) {
        this.tag = tag;
        this.displayName = displayName;
    }

    /** {@return the value stored in the control block} */
    public int tag() {
        return tag;
    }

    public String displayName() {
        return displayName;
    }

    /**
     * Checks this kind's region of a ready control file with the check of its descriptor.
     *
     * @throws io.shmflux.CorruptObjectException naming the first field that breaks a rule
     */
    void checkRegion(MemorySegment region, String path) {
        switch (this) {
            case FILE_MAPPING -> ChangeLogDescriptor.checkRegion(region, path);
            case MUTEX -> MutexDescriptor.checkRegion(region, path);
            case EVENT -> EventDescriptor.checkRegion(region, path);
            case SEMAPHORE -> SemaphoreDescriptor.checkRegion(region, path);
        }
    }

    /** {@return the kind with this tag, or null if the tag is unknown} */
    public static @Nullable ObjectKind fromTag(int tag) {
        for (ObjectKind kind : values()) {
            if (kind.tag == tag) {
                return kind;
            }
        }
        return null;
    }
}
