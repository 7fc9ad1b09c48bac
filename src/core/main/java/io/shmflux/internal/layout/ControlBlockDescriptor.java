package io.shmflux.internal.layout;

import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

import static java.lang.foreign.MemoryLayout.PathElement.groupElement;

/**
 * Layout of the header at the start of every control file ({@code /dev/shm/shmflux.<scope>.<name>.ctl}).
 * The header identifies the object; the kind-specific region after it (the change ring of a file
 * mapping, the words of a sync object) is described by its own descriptor.
 *
 * <pre>
 *   0                   1                   2                   3
 *   0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *  |                        Magic "SHMFLUX1"                       |
 *  |                                                               |
 *  +---------------------------------------------------------------+
 *  |                        Layout Version                         |
 *  +---------------------------------------------------------------+
 *  |                           Kind Tag                            |
 *  +---------------------------------------------------------------+
 *  |                             State                             |
 *  +---------------------------------------------------------------+
 *  |                             Flags                             |
 *  +---------------------------------------------------------------+
 *  |                           Data Size                           |
 *  |                                                               |
 *  +---------------------------------------------------------------+
 *  |                          Creator PID                          |
 *  |                                                               |
 *  +---------------------------------------------------------------+
 *  |                     Created (epoch millis)                    |
 *  |                                                               |
 *  +---------------------------------------------------------------+
 *  |                     Backing File Device                       |
 *  |                                                               |
 *  +---------------------------------------------------------------+
 *  |                     Backing File Inode                        |
 *  |                                                               |
 *  +---------------------------------------------------------------+
 *  |                      Name Length (bytes)                      |
 *  +---------------------------------------------------------------+
 *  |                  Backing Path Length (bytes)                  |
 *  +---------------------------------------------------------------+
 *  |                       Reserved (56 bytes)                    ...
 *  +---------------------------------------------------------------+
 *  |                   Name, UTF-8 (1024 bytes)                   ...
 *  +---------------------------------------------------------------+
 *  |               Backing Path, UTF-8 (4096 bytes)               ...
 *  +---------------------------------------------------------------+
 *  |                  Reserved, up to offset 8192                 ...
 *  +---------------------------------------------------------------+
 * </pre>
 *
 * <table class="striped">
 * <caption>Header fields (little-endian; the file never leaves the machine)</caption>
 * <thead><tr><th>Offset</th><th>Size</th><th>Field</th><th>Who writes it</th><th>Access mode</th></tr></thead>
 * <tbody>
 * <tr><td>0</td><td>8</td><td>magic</td><td>creator, before publishing</td><td>plain</td></tr>
 * <tr><td>8</td><td>4</td><td>layout version</td><td>creator, before publishing</td><td>plain</td></tr>
 * <tr><td>12</td><td>4</td><td>kind tag</td><td>creator, before publishing</td><td>plain</td></tr>
 * <tr><td>16</td><td>4</td><td>state: 1 initializing, 2 ready</td><td>creator, under the exclusive lock</td><td>plain (the lock orders it)</td></tr>
 * <tr><td>20</td><td>4</td><td>flags: bit 0 file-backed, bit 1 reserve-only</td><td>creator</td><td>plain</td></tr>
 * <tr><td>24</td><td>8</td><td>data size in bytes</td><td>creator</td><td>plain</td></tr>
 * <tr><td>32</td><td>8</td><td>creator pid (diagnostics only)</td><td>creator</td><td>plain</td></tr>
 * <tr><td>40</td><td>8</td><td>creation time, epoch millis</td><td>creator</td><td>plain</td></tr>
 * <tr><td>48</td><td>8</td><td>backing file device</td><td>creator of a file-backed object</td><td>plain</td></tr>
 * <tr><td>56</td><td>8</td><td>backing file inode</td><td>creator of a file-backed object</td><td>plain</td></tr>
 * <tr><td>64</td><td>4</td><td>name length</td><td>creator</td><td>plain</td></tr>
 * <tr><td>68</td><td>4</td><td>backing path length</td><td>creator</td><td>plain</td></tr>
 * <tr><td>128</td><td>1024</td><td>name, UTF-8, without its {@code Local\} or {@code Global\} prefix (the scope is in the file name)</td><td>creator</td><td>plain</td></tr>
 * <tr><td>1152</td><td>4096</td><td>backing file path, UTF-8</td><td>creator of a file-backed object</td><td>plain</td></tr>
 * </tbody>
 * </table>
 *
 * <p>Every header field is written once, by the creator, while it holds the exclusive lock on the
 * control file (see {@code ControlFile}); readers only read after taking their shared lock, and the
 * lock calls order the accesses, so no field needs atomic access.
 */
public final class ControlBlockDescriptor {

    /** "SHMFLUX1" read as a little-endian long. */
    public static final long MAGIC = 0x3158554C464D4853L;
    public static final int LAYOUT_VERSION = 3;

    /** Kind tags (the values {@code ObjectKind} stores). */
    public static final int KIND_FILE_MAPPING = 1;
    public static final int KIND_MUTEX = 2;
    public static final int KIND_EVENT = 3;
    public static final int KIND_SEMAPHORE = 4;

    public static final int STATE_INITIALIZING = 1;
    public static final int STATE_READY = 2;

    public static final int FLAG_FILE_BACKED = 1;
    public static final int FLAG_RESERVE = 2;
    /** Every flag a creator may set; any other bit is corruption. */
    public static final int KNOWN_FLAGS = FLAG_FILE_BACKED | FLAG_RESERVE;

    public static final int NAME_CAPACITY = 1024;
    public static final int PATH_CAPACITY = 4096;

    private static final ValueLayout.OfInt INT = ValueLayout.JAVA_INT.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfLong LONG = ValueLayout.JAVA_LONG.withOrder(ByteOrder.LITTLE_ENDIAN);

    /** The single source of truth for the offsets below. */
    public static final StructLayout LAYOUT = MemoryLayout.structLayout(
            LONG.withName("magic"),
            INT.withName("layoutVersion"),
            INT.withName("kind"),
            INT.withName("state"),
            INT.withName("flags"),
            LONG.withName("dataSize"),
            LONG.withName("creatorPid"),
            LONG.withName("createdMillis"),
            LONG.withName("backingDevice"),
            LONG.withName("backingInode"),
            INT.withName("nameLength"),
            INT.withName("pathLength"),
            MemoryLayout.paddingLayout(56),
            MemoryLayout.sequenceLayout(NAME_CAPACITY, ValueLayout.JAVA_BYTE).withName("name"),
            MemoryLayout.sequenceLayout(PATH_CAPACITY, ValueLayout.JAVA_BYTE).withName("path"));

    public static final long MAGIC_OFFSET = offset("magic");
    public static final long LAYOUT_VERSION_OFFSET = offset("layoutVersion");
    public static final long KIND_OFFSET = offset("kind");
    public static final long STATE_OFFSET = offset("state");
    public static final long FLAGS_OFFSET = offset("flags");
    public static final long DATA_SIZE_OFFSET = offset("dataSize");
    public static final long CREATOR_PID_OFFSET = offset("creatorPid");
    public static final long CREATED_MILLIS_OFFSET = offset("createdMillis");
    public static final long BACKING_DEVICE_OFFSET = offset("backingDevice");
    public static final long BACKING_INODE_OFFSET = offset("backingInode");
    public static final long NAME_LENGTH_OFFSET = offset("nameLength");
    public static final long PATH_LENGTH_OFFSET = offset("pathLength");
    public static final long NAME_OFFSET = offset("name");
    public static final long PATH_OFFSET = offset("path");

    /** Where the kind-specific region starts: two pages, so that region is page-aligned. */
    public static final long HEADER_LENGTH = 8192;

    static {
        if (LAYOUT.byteSize() > HEADER_LENGTH) {
            throw new AssertionError("header larger than its region: " + LAYOUT.byteSize());
        }
    }

    private ControlBlockDescriptor() {
    }

    private static long offset(String field) {
        return LAYOUT.byteOffset(groupElement(field));
    }

    public static int getInt(MemorySegment header, long offset) {
        return header.get(INT, offset);
    }

    public static long getLong(MemorySegment header, long offset) {
        return header.get(LONG, offset);
    }

    public static void putInt(MemorySegment header, long offset, int value) {
        header.set(INT, offset, value);
    }

    public static void putLong(MemorySegment header, long offset, long value) {
        header.set(LONG, offset, value);
    }

    /**
     * Checks every header field of a control file against the rules its creator follows, before any
     * of them is used; the kind-specific region is checked by its own descriptor. A header whose state
     * is {@code INITIALIZING} is checked only for the fields written before the file got its name
     * (magic, version, kind, state, flags, name): the creator writes the rest later, under its
     * exclusive lock.
     *
     * <ol>
     * <li>The file holds a whole header: size at least {@link #HEADER_LENGTH}.</li>
     * <li>Magic {@link #MAGIC} and layout version {@link #LAYOUT_VERSION}.</li>
     * <li>A known kind tag, a known state.</li>
     * <li>Flags: only {@link #KNOWN_FLAGS}, and none on a sync object.</li>
     * <li>Name length 1 to {@link #NAME_CAPACITY}.</li>
     * <li>Once ready: a mapping's data size is positive, a sync object's 0; the backing path length is
     *     1 to {@link #PATH_CAPACITY} for a file-backed mapping and 0 otherwise.</li>
     * </ol>
     *
     * @param file the whole control file, mapped ({@code byteSize()} is the file's real size)
     * @param path the control file, for the message
     * @throws io.shmflux.CorruptObjectException naming the first field that breaks a rule
     */
    public static void checkHeader(MemorySegment file, String path) {
        if (file.byteSize() < HEADER_LENGTH) {
            throw CorruptField.of("fileSize", file.byteSize(), "at least " + HEADER_LENGTH, path);
        }
        long magic = getLong(file, MAGIC_OFFSET);
        if (magic != MAGIC) {
            throw CorruptField.of("magic", "0x" + Long.toHexString(magic), "0x" + Long.toHexString(MAGIC), path);
        }
        int version = getInt(file, LAYOUT_VERSION_OFFSET);
        if (version != LAYOUT_VERSION) {
            throw CorruptField.of("layoutVersion", version, String.valueOf(LAYOUT_VERSION), path);
        }
        int kind = getInt(file, KIND_OFFSET);
        if (kind < KIND_FILE_MAPPING || kind > KIND_SEMAPHORE) {
            throw CorruptField.of("kind", kind, KIND_FILE_MAPPING + " to " + KIND_SEMAPHORE, path);
        }
        int state = getInt(file, STATE_OFFSET);
        if (state != STATE_INITIALIZING && state != STATE_READY) {
            throw CorruptField.of("state", state, STATE_INITIALIZING + " or " + STATE_READY, path);
        }
        int flags = getInt(file, FLAGS_OFFSET);
        int allowed = kind == KIND_FILE_MAPPING ? KNOWN_FLAGS : 0;
        if ((flags & ~allowed) != 0) {
            throw CorruptField.of("flags", "0x" + Integer.toHexString(flags), "bits of 0x"
                    + Integer.toHexString(allowed), path);
        }
        int nameLength = getInt(file, NAME_LENGTH_OFFSET);
        if (nameLength < 1 || nameLength > NAME_CAPACITY) {
            throw CorruptField.of("nameLength", nameLength, "1 to " + NAME_CAPACITY, path);
        }
        if (state != STATE_READY) {
            return;
        }
        long dataSize = getLong(file, DATA_SIZE_OFFSET);
        if (kind == KIND_FILE_MAPPING ? dataSize <= 0 : dataSize != 0) {
            throw CorruptField.of("dataSize", dataSize, kind == KIND_FILE_MAPPING ? "positive" : "0", path);
        }
        int pathLength = getInt(file, PATH_LENGTH_OFFSET);
        boolean fileBacked = (flags & FLAG_FILE_BACKED) != 0;
        if (fileBacked ? pathLength < 1 || pathLength > PATH_CAPACITY : pathLength != 0) {
            throw CorruptField.of("pathLength", pathLength, fileBacked ? "1 to " + PATH_CAPACITY : "0", path);
        }
    }
}
