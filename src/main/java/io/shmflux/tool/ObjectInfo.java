package io.shmflux.tool;

import io.shmflux.internal.layout.ChangeLogDescriptor;
import io.shmflux.internal.linux.FileStat;
import io.shmflux.internal.linux.Libc;
import io.shmflux.internal.linux.NativeCallException;
import io.shmflux.internal.namespace.NameSpace;
import io.shmflux.internal.namespace.ObjectKind;
import io.shmflux.internal.protocol.ChangeRing;
import org.jspecify.annotations.Nullable;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;

import static io.shmflux.internal.layout.ChangeLogDescriptor.HOLDER_LOCK_BASE;
import static io.shmflux.internal.layout.ChangeLogDescriptor.HOLDER_SLOTS_OFFSET;
import static io.shmflux.internal.layout.ChangeLogDescriptor.HOLDER_TABLE_OFFSET;
import static io.shmflux.internal.layout.ChangeLogDescriptor.LOCK_CONTENDED;
import static io.shmflux.internal.layout.ChangeLogDescriptor.LOCK_OWNER_PID_OFFSET;
import static io.shmflux.internal.layout.ChangeLogDescriptor.SEQUENCE_OFFSET;
import static io.shmflux.internal.layout.ChangeLogDescriptor.WRITER_LOCK_OFFSET;
import static io.shmflux.internal.layout.ControlBlockDescriptor.*;

/**
 * What one control file says, read without joining the object: the file is mapped read-only and no
 * liveness lock is taken, so looking never keeps an object alive nor reclaims it. Liveness comes from
 * the kernel's lock table: a holder is an OFD lock on byte 0 of the control file ({@code /proc/locks}),
 * a holder slot is alive while its byte {@code HOLDER_LOCK_BASE + slot} is locked ({@code F_OFD_GETLK}).
 *
 * @param name          the name with its scope prefix ({@code Local\} or {@code Global\})
 * @param controlPath   the control file
 * @param kind          the kind tag's name, or a reason it could not be read
 * @param state         "ready", "initializing" or "?"
 * @param layoutVersion the header's layout version
 * @param flags         header flags
 * @param dataSize      the object's size in bytes
 * @param backing       "paging file" or the backing file's path ("-" for a sync object)
 * @param dataPath      where the bytes are: the {@code /dev/shm} data file or the backing file
 * @param creatorPid    who created it (diagnostics)
 * @param createdMillis when, epoch millis
 * @param holders       live holders: OFD locks on byte 0 of the control file
 * @param changeLog     the change log of a file mapping, or null for another kind
 */
record ObjectInfo(String name, Path controlPath, String kind, String state, int layoutVersion, int flags,
                  long dataSize, String backing, String dataPath, long creatorPid, long createdMillis,
                  int holders, @Nullable ChangeLogInfo changeLog) {

    /** {@return true if nobody holds the object: it is a leftover of processes that died} */
    boolean stale() {
        return holders == 0;
    }

    /**
     * The change log's state.
     *
     * @param sequence       the latest published change (half the seqlock counter)
     * @param writing        true while a writer is mid-update (the counter is odd)
     * @param ringCapacity   change records the ring holds
     * @param oldestRetained the oldest change the ring still holds, or 0 if none was published
     * @param endSequence    the end-of-stream marker's sequence, 0 while the stream is open
     * @param lockOwnerSlot  the writer lock's owner slot, or -1 if free
     * @param lockContended  somebody sleeps on the writer lock
     * @param lockOwnerPid   pid recorded by the lock's owner (diagnostics)
     * @param slots          the used holder slots
     * @param subscribers    the back-pressure subscribers' slots that hold a claim
     */
    record ChangeLogInfo(long sequence, boolean writing, int ringCapacity, long oldestRetained, long endSequence,
                         int lockOwnerSlot, boolean lockContended, long lockOwnerPid, List<Slot> slots,
                         List<Subscriber> subscribers) {

        /** {@return how many slots belong to live handles} */
        long liveSlots() {
            return slots.stream().filter(Slot::alive).count();
        }
    }

    /** A holder slot with a recorded pid: alive while its lock byte is locked. */
    record Slot(int index, long pid, boolean alive) {
    }

    /** A back-pressure subscriber's slot: its position (the next change it takes), alive while its lock byte is locked. */
    record Subscriber(int index, long pid, long position, boolean alive) {
    }

    /** Reads the object whose control file is {@code controlPath}, named {@code name}. */
    static ObjectInfo read(Path controlPath, String scopePrefix) throws IOException {
        int holders = countHolders(controlPath);
        try (Arena arena = Arena.ofConfined();
             FileChannel channel = FileChannel.open(controlPath, StandardOpenOption.READ)) {
            long size = channel.size();
            if (size < HEADER_LENGTH) {
                return unreadable(controlPath, "not a control file (too small)", holders);
            }
            MemorySegment file = channel.map(FileChannel.MapMode.READ_ONLY, 0, size, arena);
            if (getLong(file, MAGIC_OFFSET) != MAGIC) {
                return unreadable(controlPath, "not a control file (bad magic)", holders);
            }
            int version = getInt(file, LAYOUT_VERSION_OFFSET);
            String bare = string(file, NAME_LENGTH_OFFSET, NAME_OFFSET, NAME_CAPACITY);
            int kindTag = getInt(file, KIND_OFFSET);
            ObjectKind kind = ObjectKind.fromTag(kindTag);
            int stateValue = getInt(file, STATE_OFFSET);
            String state = switch (stateValue) {
                case STATE_READY -> "ready";
                case STATE_INITIALIZING -> "initializing";
                default -> "unknown(" + stateValue + ")";
            };
            int flags = getInt(file, FLAGS_OFFSET);
            boolean fileBacked = (flags & FLAG_FILE_BACKED) != 0;
            String backingPath = string(file, PATH_LENGTH_OFFSET, PATH_OFFSET, PATH_CAPACITY);
            String controlName = controlPath.toString();
            String dataPath = fileBacked ? backingPath
                    : controlName.substring(0, controlName.length() - NameSpace.CONTROL_SUFFIX.length());
            ChangeLogInfo changeLog = null;
            if (version == LAYOUT_VERSION && kind == ObjectKind.FILE_MAPPING && stateValue == STATE_READY
                    && size >= HEADER_LENGTH + ChangeLogDescriptor.HOLDER_TABLE_OFFSET) {
                changeLog = changeLog(controlPath, file.asSlice(HEADER_LENGTH), bare);
            }
            return new ObjectInfo(scopePrefix + bare, controlPath,
                    kind == null ? "unknown(" + kindTag + ")" : kind.displayName(), state, version, flags,
                    getLong(file, DATA_SIZE_OFFSET),
                    kind != ObjectKind.FILE_MAPPING ? "-" : fileBacked ? backingPath : "paging file",
                    kind != ObjectKind.FILE_MAPPING ? "-" : dataPath,
                    getLong(file, CREATOR_PID_OFFSET), getLong(file, CREATED_MILLIS_OFFSET), holders, changeLog);
        }
    }

    private static ObjectInfo unreadable(Path controlPath, String why, int holders) {
        return new ObjectInfo("?", controlPath, why, "?", 0, 0, 0, "?", "?", 0, 0, holders, null);
    }

    private static @Nullable ChangeLogInfo changeLog(Path controlPath, MemorySegment region, String object) {
        try {
            ChangeLogDescriptor.checkRegion(region, region.byteSize(), object);
        } catch (io.shmflux.SharedMemoryException e) {
            return null; // not a change log this version can read
        }
        ChangeRing ring = new ChangeRing(region);
        long sequence = (long) ChangeLogDescriptor.LONG.getAcquire(region, SEQUENCE_OFFSET);
        int slotCount = (int) ChangeLogDescriptor.INT.get(region, HOLDER_SLOTS_OFFSET);
        int lock = (int) ChangeLogDescriptor.INT.getVolatile(region, WRITER_LOCK_OFFSET);
        long lockOwnerPid = (int) ChangeLogDescriptor.INT.get(region, LOCK_OWNER_PID_OFFSET);
        List<Slot> slots = new ArrayList<>();
        List<Subscriber> subscribers = new ArrayList<>();
        int fd = openForLockTests(controlPath);
        try {
            for (int slot = 0; slot < slotCount; slot++) {
                long pid = (long) ChangeLogDescriptor.LONG.getAcquire(region, HOLDER_TABLE_OFFSET + 8L * slot);
                boolean alive = fd >= 0 && isLocked(fd, HOLDER_LOCK_BASE + slot);
                if (pid != 0 || alive) {
                    slots.add(new Slot(slot, pid, alive));
                }
            }
            for (ChangeRing.SubscriberState s : ring.subscribers()) {
                subscribers.add(new Subscriber(s.slot(), s.pid(), s.position(),
                        fd >= 0 && isLocked(fd, ChangeLogDescriptor.SUBSCRIBER_LOCK_BASE + s.slot())));
            }
        } finally {
            if (fd >= 0) {
                Libc.close(fd);
            }
        }
        long published = sequence >>> 1;
        return new ChangeLogInfo(published, (sequence & 1) != 0, ring.capacity(), ring.oldestRetained(published),
                ring.endSequence(), lock == 0 ? -1 : (lock & ~LOCK_CONTENDED) - 1, (lock & LOCK_CONTENDED) != 0,
                lockOwnerPid, slots, subscribers);
    }

    private static int openForLockTests(Path controlPath) {
        try {
            return Libc.open(controlPath.toString(), Libc.O_RDONLY | Libc.O_NOFOLLOW | Libc.O_CLOEXEC, 0);
        } catch (NativeCallException e) {
            return -1;
        }
    }

    private static boolean isLocked(int fd, long offset) {
        try {
            return !Libc.ofdCouldLock(fd, Libc.F_WRLCK, offset, 1);
        } catch (NativeCallException e) {
            return false;
        }
    }

    /**
     * Counts the OFD locks on byte 0 of the control file in {@code /proc/locks}: one per live handle
     * (a shared lock), or the creator's or destroyer's exclusive one. Lines look like
     * {@code 7: OFDLCK ADVISORY READ -1 00:1a:4242 0 0} (major:minor in hex, then the inode).
     */
    static int countHolders(Path controlPath) throws IOException {
        FileStat stat;
        try {
            stat = Libc.lstat(controlPath.toString());
        } catch (NativeCallException e) {
            if (e.errno() == io.shmflux.internal.linux.Errno.ENOENT) {
                throw new java.nio.file.NoSuchFileException(controlPath.toString());
            }
            throw new IOException("cannot stat: path=" + controlPath + ", errno=" + e.errnoName(), e);
        }
        String file = String.format("%02x:%02x:%d", stat.device() >>> 32, stat.device() & 0xffff_ffffL, stat.inode());
        int count = 0;
        for (String line : Files.readAllLines(Path.of("/proc/locks"), StandardCharsets.US_ASCII)) {
            String[] f = line.trim().split("\\s+");
            if (f.length >= 8 && f[1].equals("OFDLCK") && f[5].equals(file) && f[6].equals("0") && f[7].equals("0")) {
                count++;
            }
        }
        return count;
    }

    private static String string(MemorySegment header, long lengthOffset, long offset, int capacity) {
        int length = Math.clamp(getInt(header, lengthOffset), 0, capacity);
        return new String(header.asSlice(offset, length).toArray(ValueLayout.JAVA_BYTE), StandardCharsets.UTF_8);
    }
}
