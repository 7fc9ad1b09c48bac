package io.shmflux.internal.namespace;

import io.shmflux.internal.observe.Diagnostics;
import io.shmflux.AccessDeniedException;
import io.shmflux.internal.linux.FileStat;
import org.jspecify.annotations.Nullable;

/**
 * The rules a file must pass before shmflux trusts it (rules 1 to 3 of {@code security.md}). Every
 * check is made on the status of an open descriptor ({@code fstat}), never on a path, so the file
 * checked is the file used. {@code /dev/shm} is world-writable and sticky: anyone can create a file
 * under any name there, only the owner can remove it.
 */
public final class FileTrust {

    /** The uid of root: a control file root made may name any file, root could write it anyway. */
    private static final int ROOT = 0;

    /**
     * Why a file is not trusted.
     *
     * @param status what the tool shows: {@code squatted}, {@code hard-linked}, {@code not a regular file},
     *               {@code untrusted data file}, {@code untrusted backing file}
     * @param detail {@code key=value} pairs: always the owner uid, and what was expected
     */
    public record Distrust(String status, String detail) {

        /** {@return the exception for an open or create of {@code name} refused for this reason} */
        public AccessDeniedException denied(String what, ObjectName name, String path) {
            Diagnostics.refused(what, name.text(), path, status, detail);
            return new AccessDeniedException(what + ": name=" + ObjectName.quote(name.text()) + ", path=" + path
                    + ", status=" + status + ", " + detail);
        }
    }

    private FileTrust() {
    }

    /**
     * A control file: a regular file, owned by the name's user if the name is {@code Local\}.
     *
     * @param expectedOwner the uid of the {@code Local\} name's user, or -1 for a {@code Global\} name
     */
    public static @Nullable Distrust ofControl(FileStat stat, int expectedOwner) {
        if (!stat.isRegularFile()) {
            return notRegular(stat);
        }
        if (expectedOwner >= 0 && stat.uid() != expectedOwner) {
            return new Distrust("squatted", "owner=" + Integer.toUnsignedString(stat.uid()) + ", expected="
                    + Integer.toUnsignedString(expectedOwner) + ", reason=another user's file under a Local\\ name");
        }
        return null;
    }

    /**
     * A ready object's control file has one name: a second link is another object's file planted
     * under this name (a creator builds its file unnamed and gives it exactly one name).
     */
    public static @Nullable Distrust ofLinks(FileStat stat) {
        if (stat.links() > 1) {
            return new Distrust("hard-linked", "owner=" + Integer.toUnsignedString(stat.uid()) + ", links="
                    + stat.links() + ", expected=1, reason=the file has another name");
        }
        return null;
    }

    /** The data file of a paging-file mapping: regular, one link, owned by whoever made the control file. */
    public static @Nullable Distrust ofData(FileStat stat, int controlOwner) {
        if (!stat.isRegularFile()) {
            return notRegular(stat);
        }
        if (stat.uid() != controlOwner) {
            return new Distrust("untrusted data file", "owner=" + Integer.toUnsignedString(stat.uid())
                    + ", controlOwner=" + Integer.toUnsignedString(controlOwner)
                    + ", reason=the data file belongs to another user than the control file");
        }
        return ofLinks(stat);
    }

    /**
     * The backing file of a file-backed mapping: the inode its header records, owned by the control
     * file's owner (or that owner is root). So a control file can never point anyone, root included,
     * at a file its owner could not write.
     */
    public static @Nullable Distrust ofBacking(FileStat stat, int controlOwner, long device, long inode) {
        if (!stat.isRegularFile()) {
            return notRegular(stat);
        }
        if (stat.device() != device || stat.inode() != inode) {
            return new Distrust("replaced", "owner=" + Integer.toUnsignedString(stat.uid()) + ", inode="
                    + stat.inode() + ", expected=" + inode + ", reason=not the file the object was made with");
        }
        if (controlOwner != ROOT && stat.uid() != controlOwner) {
            return new Distrust("untrusted backing file", "owner=" + Integer.toUnsignedString(stat.uid())
                    + ", controlOwner=" + Integer.toUnsignedString(controlOwner)
                    + ", reason=a control file may only name a file of its own owner");
        }
        return null;
    }

    private static Distrust notRegular(FileStat stat) {
        int type = stat.mode() & 0170000;
        String name = switch (type) {
            case 0010000 -> "fifo";
            case 0020000 -> "character device";
            case 0040000 -> "directory";
            case 0060000 -> "block device";
            case 0120000 -> "symbolic link";
            case 0140000 -> "socket";
            default -> "type 0" + Integer.toOctalString(type);
        };
        return new Distrust("not a regular file", "owner=" + Integer.toUnsignedString(stat.uid()) + ", type=" + name);
    }
}
