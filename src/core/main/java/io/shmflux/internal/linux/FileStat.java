package io.shmflux.internal.linux;

import java.lang.foreign.MemorySegment;

import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

/**
 * The fields of {@code struct statx} shmflux uses. statx is used instead of fstat because its layout
 * is the same on every architecture ({@code <linux/stat.h>}).
 *
 * @param device {@code makedev(stx_dev_major, stx_dev_minor)}
 * @param inode  {@code stx_ino}
 * @param links  {@code stx_nlink}: 0 once the file was unlinked
 * @param uid    {@code stx_uid}
 * @param mode   {@code stx_mode}: file type and permission bits
 * @param size   {@code stx_size}
 * @param blocks {@code stx_blocks}: 512-byte blocks allocated to the file (less than {@code size}
 *               for a sparse file)
 */
public record FileStat(long device, long inode, int links, int uid, int mode, long size, long blocks) {

    static final long STATX_SIZE = 256;
    private static final int S_IFMT = 0170000;
    private static final int S_IFREG = 0100000;

    static FileStat from(MemorySegment statx) {
        long device = ((long) statx.get(JAVA_INT, 136) << 32) | (statx.get(JAVA_INT, 140) & 0xffffffffL);
        return new FileStat(device, statx.get(JAVA_LONG, 32), statx.get(JAVA_INT, 16),
                statx.get(JAVA_INT, 20), statx.get(JAVA_SHORT, 28) & 0xffff, statx.get(JAVA_LONG, 40),
                statx.get(JAVA_LONG, 48));
    }

    /** {@return true if both describe the same file} */
    public boolean sameFile(FileStat other) {
        return device == other.device && inode == other.inode;
    }

    /** {@return the bytes allocated to the file, {@code blocks * 512}} */
    public long allocatedBytes() {
        return blocks * 512;
    }

    public boolean isRegularFile() {
        return (mode & S_IFMT) == S_IFREG;
    }

    /** {@return the permission bits, as in {@code chmod}} */
    public int permissions() {
        return mode & 0777;
    }
}
