package io.shmflux.internal.namespace;

import io.shmflux.internal.layout.ControlBlockDescriptor;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;
import java.util.Objects;

import static io.shmflux.internal.layout.ControlBlockDescriptor.*;

/**
 * The header of a control file, read only after every field passed the checks of
 * {@link ControlBlockDescriptor#checkHeader} and, once the object is ready, of its kind's descriptor.
 * The library and the tool read headers through this one parser, so both apply the same rules.
 *
 * @param kind          the kind tag
 * @param ready         false while the creator is still building the object (or died doing so)
 * @param flags         header flags
 * @param dataSize      the object's size (0 for a sync object, unchecked while not ready)
 * @param creatorPid    diagnostics only
 * @param createdMillis diagnostics only
 * @param backingDevice the backing file's device, for a file-backed mapping
 * @param backingInode  the backing file's inode, for a file-backed mapping
 * @param name          the bare name, as stored
 * @param backingPath   the backing file's path, for a file-backed mapping, else empty
 */
public record ObjectHeader(ObjectKind kind, boolean ready, int flags, long dataSize, long creatorPid,
                           long createdMillis, long backingDevice, long backingInode, String name,
                           String backingPath) {

    /**
     * {@return the header of the control file mapped as {@code file}}
     *
     * @param file the whole control file ({@code byteSize()} is its real size)
     * @param path the control file, for messages
     * @throws io.shmflux.CorruptObjectException naming the first field that breaks a rule
     */
    public static ObjectHeader parse(MemorySegment file, String path) {
        ControlBlockDescriptor.checkHeader(file, path);
        ObjectKind kind = Objects.requireNonNull(ObjectKind.fromTag(getInt(file, KIND_OFFSET)));
        boolean ready = getInt(file, STATE_OFFSET) == STATE_READY;
        if (ready) {
            kind.checkRegion(file.asSlice(HEADER_LENGTH), path);
        }
        return new ObjectHeader(kind, ready, getInt(file, FLAGS_OFFSET), getLong(file, DATA_SIZE_OFFSET),
                getLong(file, CREATOR_PID_OFFSET), getLong(file, CREATED_MILLIS_OFFSET),
                getLong(file, BACKING_DEVICE_OFFSET), getLong(file, BACKING_INODE_OFFSET),
                string(file, NAME_LENGTH_OFFSET, NAME_OFFSET, NAME_CAPACITY),
                ready ? string(file, PATH_LENGTH_OFFSET, PATH_OFFSET, PATH_CAPACITY) : "");
    }

    /** {@return true for a mapping whose bytes are in a file its creator named} */
    public boolean fileBacked() {
        return kind == ObjectKind.FILE_MAPPING && (flags & FLAG_FILE_BACKED) != 0;
    }

    /** The length was checked against the capacity; bytes that are not UTF-8 decode to U+FFFD. */
    private static String string(MemorySegment file, long lengthOffset, long offset, int capacity) {
        int length = Math.clamp(getInt(file, lengthOffset), 0, capacity);
        return new String(file.asSlice(offset, length).toArray(ValueLayout.JAVA_BYTE), StandardCharsets.UTF_8);
    }
}
