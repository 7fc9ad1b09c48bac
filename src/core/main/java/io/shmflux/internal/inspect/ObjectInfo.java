package io.shmflux.internal.inspect;

import io.shmflux.SharedMemoryException;
import io.shmflux.internal.layout.ChangeLogDescriptor;
import io.shmflux.internal.linux.Errno;
import io.shmflux.internal.linux.FileStat;
import io.shmflux.internal.liveness.LeaseState;
import io.shmflux.internal.liveness.LeaseTable;
import io.shmflux.internal.linux.Libc;
import io.shmflux.internal.linux.NativeCallException;
import io.shmflux.internal.namespace.ControlFile;
import io.shmflux.internal.namespace.FileTrust;
import io.shmflux.internal.namespace.NameSpace;
import io.shmflux.internal.namespace.ObjectHeader;
import io.shmflux.internal.namespace.ObjectKind;
import io.shmflux.internal.protocol.ChangeRing;
import org.jspecify.annotations.Nullable;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

import static io.shmflux.internal.layout.ChangeLogDescriptor.HOLDER_LOCK_BASE;
import static io.shmflux.internal.layout.ChangeLogDescriptor.HOLDER_SLOTS_OFFSET;
import static io.shmflux.internal.layout.ChangeLogDescriptor.HOLDER_TABLE_OFFSET;
import static io.shmflux.internal.layout.ChangeLogDescriptor.LOCK_CONTENDED;
import static io.shmflux.internal.layout.ChangeLogDescriptor.LOCK_OWNER_PID_OFFSET;
import static io.shmflux.internal.layout.ChangeLogDescriptor.RING_CAPACITY_OFFSET;
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
 * @param kind          the kind tag's name, or "?" if the header could not be read
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
 * @param problem       why the library refuses the object ({@code squatted: owner=...},
 *                      {@code corrupt: field=...}), or null; the same checks as an open
 */
public record ObjectInfo(String name, Path controlPath, String kind, String state, int layoutVersion, int flags,
                  long dataSize, String backing, String dataPath, long creatorPid, long createdMillis,
                  int holders, @Nullable ChangeLogInfo changeLog, @Nullable String problem) {

    /** {@return true if nobody holds the object: it is a leftover of processes that died} */
    public boolean stale() {
        return holders == 0;
    }

    /** {@return "live", "stale", or what is wrong: "squatted", "hard-linked", "corrupt", ...} */
    public String status() {
        if (problem != null) {
            return problem.substring(0, problem.indexOf(':'));
        }
        return stale() ? "stale" : "live";
    }

    /**
     * The change log's state.
     *
     * @param sequence       the latest published change (half the seqlock counter)
     * @param writing        true while a writer is mid-update (the counter is odd)
     * @param ringCapacity   change records the ring holds
     * @param lockOwnerSlot  the writer lock's owner slot, or -1 if free
     * @param lockContended  somebody sleeps on the writer lock
     * @param lockOwnerPid   pid recorded by the lock's owner (diagnostics)
     * @param slots          the used holder slots
     * @param oldestRetained the oldest change the ring still holds, or 0 if none was published
     * @param endSequence    the end-of-stream marker's sequence, 0 while the stream is open
     * @param subscribers    the back-pressure subscribers' slots that hold a claim
     */
    public record ChangeLogInfo(long sequence, boolean writing, int ringCapacity, int lockOwnerSlot, boolean lockContended,
                         long lockOwnerPid, List<Slot> slots, long oldestRetained, long endSequence,
                         List<Subscriber> subscribers) {

        /** {@return how many slots belong to live handles} */
        public long liveSlots() {
            return slots.stream().filter(Slot::alive).count();
        }
    }

    /** A holder slot with a recorded pid: alive while its lock byte is locked. */
    public record Slot(int index, long pid, boolean alive) {
    }

    /** A back-pressure subscriber's slot: its position (the next change it takes), alive while its lock byte is locked. */
    public record Subscriber(int index, long pid, long position, boolean alive) {
    }

    /**
     * Reads the object whose control file is {@code controlPath}, by the checks and the header parser
     * the library opens it with ({@link ControlFile#look}), so the tool calls squatted or corrupt
     * exactly what the library refuses.
     */
    public static ObjectInfo read(Path controlPath, String scopePrefix) throws IOException {
        int expectedOwner = NameSpace.expectedOwnerOfFile(controlPath.getFileName().toString());
        try {
            return ControlFile.look(controlPath.toString(), expectedOwner, look -> {
                try {
                    return from(controlPath, scopePrefix, look);
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            });
        } catch (UncheckedIOException e) {
            throw e.getCause();
        } catch (NativeCallException e) {
            if (e.errno() == Errno.ENOENT) {
                throw new NoSuchFileException(controlPath.toString());
            }
            FileStat stat = lstat(controlPath);
            FileTrust.Distrust distrust = FileTrust.ofControl(stat, expectedOwner);
            String problem = distrust != null ? distrust.status() + ": " + distrust.detail()
                    : "unreadable: call=" + e.call() + ", errno=" + e.errnoName();
            return unreadable(controlPath, scopePrefix, countHolders(stat), problem);
        }
    }

    private static ObjectInfo from(Path controlPath, String scopePrefix, ControlFile.Look look) throws IOException {
        int holders = countHolders(look.stat());
        String problem = look.distrust() != null ? look.distrust().status() + ": " + look.distrust().detail()
                : look.corrupt() != null ? "corrupt: " + String.valueOf(look.corrupt().getMessage()).substring("corrupt object: ".length())
                : null;
        ObjectHeader header = look.header();
        if (header == null) {
            return unreadable(controlPath, scopePrefix, holders, Objects.requireNonNull(problem));
        }
        MemorySegment file = look.file();
        ObjectKind kind = header.kind();
        String controlName = controlPath.toString();
        String dataPath = header.fileBacked() ? header.backingPath()
                : controlName.substring(0, controlName.length() - NameSpace.CONTROL_SUFFIX.length());
        ChangeLogInfo changeLog = null;
        if (kind == ObjectKind.FILE_MAPPING && header.ready()) {
            changeLog = changeLog(look.fd(), file.asSlice(HEADER_LENGTH));
        }
        return new ObjectInfo(scopePrefix + header.name(), controlPath, kind.displayName(),
                header.ready() ? "ready" : "initializing", LAYOUT_VERSION, header.flags(), header.dataSize(),
                kind != ObjectKind.FILE_MAPPING ? "-" : header.fileBacked() ? header.backingPath() : "paging file",
                kind != ObjectKind.FILE_MAPPING ? "-" : dataPath, header.creatorPid(), header.createdMillis(),
                holders, changeLog, problem);
    }

    private static ObjectInfo unreadable(Path controlPath, String scopePrefix, int holders, String problem) {
        return new ObjectInfo(scopePrefix + "?(" + controlPath.getFileName() + ")", controlPath, "?", "?", 0, 0, 0, "?",
                "?", 0, 0, holders, null, problem);
    }

    private static ChangeLogInfo changeLog(int fd, MemorySegment region) {
        long sequence = (long) ChangeLogDescriptor.LONG.getAcquire(region, SEQUENCE_OFFSET);
        int capacity = (int) ChangeLogDescriptor.INT.get(region, RING_CAPACITY_OFFSET);
        // checked by the header parser a moment ago; bounded again in case a holder changed it since
        int slotCount = Math.clamp((int) ChangeLogDescriptor.INT.get(region, HOLDER_SLOTS_OFFSET), 0,
                (int) Math.min(ChangeLogDescriptor.HOLDER_SLOTS, (region.byteSize() - HOLDER_TABLE_OFFSET) / 8));
        int lock = (int) ChangeLogDescriptor.INT.getVolatile(region, WRITER_LOCK_OFFSET);
        long lockOwnerPid = (int) ChangeLogDescriptor.INT.get(region, LOCK_OWNER_PID_OFFSET);
        List<Slot> slots = new ArrayList<>();
        LeaseTable holders = new LeaseTable(fd, HOLDER_LOCK_BASE, slotCount, null, "writer slots", "inspected");
        for (int slot = 0; slot < slotCount; slot++) {
            long pid = (long) ChangeLogDescriptor.LONG.getAcquire(region, HOLDER_TABLE_OFFSET + 8L * slot);
            boolean alive = isAlive(holders, slot);
            if (pid != 0 || alive) {
                slots.add(new Slot(slot, pid, alive));
            }
        }
        // the same reader the feeds use: lap arithmetic, end of stream, back-pressure positions
        ChangeRing ring = new ChangeRing(region);
        LeaseTable subscriberLeases = new LeaseTable(fd, ChangeLogDescriptor.SUBSCRIBER_LOCK_BASE,
                ChangeLogDescriptor.SUBSCRIBER_SLOTS, null, "subscriber slots", "inspected");
        List<Subscriber> subscribers = new ArrayList<>();
        for (ChangeRing.SubscriberState state : ring.subscribers()) {
            subscribers.add(new Subscriber(state.slot(), state.pid(), state.position(),
                    isAlive(subscriberLeases, state.slot())));
        }
        long published = sequence >>> 1;
        return new ChangeLogInfo(published, (sequence & 1) != 0, capacity,
                lock == 0 ? -1 : holders.slotOf(lock & ~LOCK_CONTENDED), (lock & LOCK_CONTENDED) != 0, lockOwnerPid, slots,
                ring.oldestRetained(published), ring.endSequence(), subscribers);
    }

    private static boolean isAlive(LeaseTable holders, int slot) {
        try {
            return holders.probe(holders.tokenOf(slot)) == LeaseState.ALIVE;
        } catch (SharedMemoryException e) {
            return false;
        }
    }

    /**
     * Counts the OFD locks on byte 0 of the control file in {@code /proc/locks}: one per live handle
     * (a shared lock), or the creator's or destroyer's exclusive one. Lines look like
     * {@code 7: OFDLCK ADVISORY READ -1 00:1a:4242 0 0} (major:minor in hex, then the inode).
     */
    public static int countHolders(FileStat stat) throws IOException {
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

    public static FileStat lstat(Path path) throws IOException {
        try {
            return Libc.lstat(path.toString());
        } catch (NativeCallException e) {
            if (e.errno() == Errno.ENOENT) {
                throw new NoSuchFileException(path.toString());
            }
            throw new IOException("cannot stat: path=" + path + ", errno=" + e.errnoName(), e);
        }
    }
}
