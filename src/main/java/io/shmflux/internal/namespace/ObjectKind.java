package io.shmflux.internal.namespace;

/**
 * What a name-space entry is. The tag is stored in the control block, so that every kind shares one
 * name space: opening a name as the wrong kind is an error, as in Win32.
 */
public enum ObjectKind {
    FILE_MAPPING(1, "file mapping"),
    MUTEX(2, "mutex"),
    EVENT(3, "event"),
    SEMAPHORE(4, "semaphore");

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

    /** {@return the kind with this tag, or null if the tag is unknown} */
    public static ObjectKind fromTag(int tag) {
        for (ObjectKind kind : values()) {
            if (kind.tag == tag) {
                return kind;
            }
        }
        return null;
    }
}
