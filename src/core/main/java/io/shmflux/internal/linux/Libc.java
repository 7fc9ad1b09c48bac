package io.shmflux.internal.linux;

import io.shmflux.SharedMemoryException;
import org.jspecify.annotations.Nullable;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.VarHandle;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

/**
 * Every libc downcall shmflux makes, in one place. Method handles are named after the C symbol; each
 * wrapper returns the C result and throws {@link NativeCallException} (carrying the errno) when the
 * call returned -1, so callers decide which errno is a normal outcome.
 *
 * <p>Constants come from the Linux UAPI headers; where x86_64 and aarch64 differ, both values are
 * given. Nothing here is marked {@code Linker.Option.critical}: several calls block.
 */
@SuppressWarnings("restricted")
public final class Libc {

    /** {@code <asm/unistd.h>} SYS_futex: x86_64 202, aarch64 98. */
    public static final long SYS_FUTEX;
    /** {@code <fcntl.h>} O_NOFOLLOW: x86_64 0400000, aarch64 0100000. */
    public static final int O_NOFOLLOW;
    /** {@code <fcntl.h>} O_TMPFILE (includes O_DIRECTORY): x86_64 020200000, aarch64 020040000. */
    public static final int O_TMPFILE;

    public static final int O_RDONLY = 0;
    public static final int O_RDWR = 2;
    public static final int O_CREAT = 0100;
    public static final int O_EXCL = 0200;
    /** {@code <fcntl.h>} O_NONBLOCK (04000 on x86_64 and aarch64): opening a FIFO planted under our names never blocks. */
    public static final int O_NONBLOCK = 04000;
    public static final int O_CLOEXEC = 02000000;

    /** {@code <fcntl.h>} open-file-description locks (Linux 3.15+), the same on every architecture. */
    public static final int F_OFD_GETLK = 36;
    public static final int F_OFD_SETLK = 37;
    public static final short F_RDLCK = 0;
    public static final short F_WRLCK = 1;
    public static final short F_UNLCK = 2;

    public static final int PROT_READ = 1;
    public static final int PROT_WRITE = 2;
    public static final int MAP_SHARED = 1;
    public static final int MAP_PRIVATE = 2;
    public static final int MS_SYNC = 4;
    public static final int AT_EMPTY_PATH = 0x1000;
    public static final int AT_SYMLINK_NOFOLLOW = 0x100;
    public static final int AT_FDCWD = -100;
    public static final int AT_SYMLINK_FOLLOW = 0x400;
    public static final int STATX_BASIC_STATS = 0x7ff;

    /** {@code struct flock}: the same 32-byte layout on x86_64 and aarch64. */
    static final StructLayout FLOCK = MemoryLayout.structLayout(
            JAVA_SHORT.withName("l_type"),
            JAVA_SHORT.withName("l_whence"),
            MemoryLayout.paddingLayout(4),
            JAVA_LONG.withName("l_start"),
            JAVA_LONG.withName("l_len"),
            JAVA_INT.withName("l_pid"),
            MemoryLayout.paddingLayout(4));

    private static final Linker LINKER = Linker.nativeLinker();
    private static final SymbolLookup LIBC = LINKER.defaultLookup();
    private static final StructLayout CALL_STATE = Linker.Option.captureStateLayout();
    private static final VarHandle ERRNO =
            CALL_STATE.varHandle(MemoryLayout.PathElement.groupElement("errno"));
    private static final long PAGE_SIZE;

    private static final MethodHandle open;
    private static final MethodHandle close;
    private static final MethodHandle ftruncate;
    private static final MethodHandle fallocate;
    private static final MethodHandle fchmod;
    private static final MethodHandle fsync;
    private static final MethodHandle fcntl;
    private static final MethodHandle statx;
    private static final MethodHandle link;
    private static final MethodHandle linkat;
    private static final MethodHandle unlink;
    private static final MethodHandle mmap;
    private static final MethodHandle munmap;
    private static final MethodHandle msync;
    private static final MethodHandle getuid;
    private static final MethodHandle geteuid;
    private static final MethodHandle sysconf;

    static {
        String arch = System.getProperty("os.arch");
        boolean arm = arch.equals("aarch64");
        if (!arm && !arch.equals("amd64") && !arch.equals("x86_64")) {
            throw new UnsupportedOperationException("unsupported architecture: os.arch=" + arch);
        }
        SYS_FUTEX = arm ? 98 : 202;
        O_NOFOLLOW = arm ? 0100000 : 0400000;
        O_TMPFILE = arm ? 020040000 : 020200000;

        open = errnoCall("open", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT), 2);
        close = errnoCall("close", FunctionDescriptor.of(JAVA_INT, JAVA_INT), -1);
        ftruncate = errnoCall("ftruncate", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_LONG), -1);
        fallocate = errnoCall("fallocate",
                FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, JAVA_LONG, JAVA_LONG), -1);
        fchmod = errnoCall("fchmod", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT), -1);
        fsync = errnoCall("fsync", FunctionDescriptor.of(JAVA_INT, JAVA_INT), -1);
        fcntl = errnoCall("fcntl", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, ADDRESS), 2);
        statx = errnoCall("statx",
                FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT, ADDRESS), -1);
        link = errnoCall("link", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS), -1);
        linkat = errnoCall("linkat", FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT, ADDRESS, JAVA_INT), -1);
        unlink = errnoCall("unlink", FunctionDescriptor.of(JAVA_INT, ADDRESS), -1);
        mmap = errnoCall("mmap", FunctionDescriptor.of(
                ADDRESS, ADDRESS, JAVA_LONG, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_LONG), -1);
        munmap = errnoCall("munmap", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG), -1);
        msync = errnoCall("msync", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG, JAVA_INT), -1);
        getuid = LINKER.downcallHandle(symbol("getuid"), FunctionDescriptor.of(JAVA_INT));
        geteuid = LINKER.downcallHandle(symbol("geteuid"), FunctionDescriptor.of(JAVA_INT));
        sysconf = LINKER.downcallHandle(symbol("sysconf"), FunctionDescriptor.of(JAVA_LONG, JAVA_INT));
        try {
            PAGE_SIZE = (long) sysconf.invokeExact(30); // _SC_PAGESIZE
        } catch (Throwable t) {
            throw new ExceptionInInitializerError(t);
        }
    }

    private Libc() {
    }

    private static MemorySegment symbol(String name) {
        return LIBC.find(name).orElseThrow(() -> new UnsatisfiedLinkError("libc symbol not found: " + name));
    }

    private static MethodHandle errnoCall(String name, FunctionDescriptor descriptor, int firstVariadic) {
        Linker.Option capture = Linker.Option.captureCallState("errno");
        return firstVariadic < 0
                ? LINKER.downcallHandle(symbol(name), descriptor, capture)
                : LINKER.downcallHandle(symbol(name), descriptor, capture,
                        Linker.Option.firstVariadicArg(firstVariadic));
    }

    /** {@return the page size of this machine} */
    public static long pageSize() {
        return PAGE_SIZE;
    }

    public static int getuid() {
        try {
            return (int) getuid.invokeExact();
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** {@return the effective user id: the owner of the files this process creates, and whose files it trusts} */
    public static int geteuid() {
        try {
            return (int) geteuid.invokeExact();
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** One libc call that reports failure as -1 and errno; it may allocate its arguments in {@code arena}. */
    @FunctionalInterface
    private interface Call {
        int invoke(Arena arena, MemorySegment callState) throws Throwable;
    }

    /** Runs a call; {@return its result} unless it returned -1, which becomes a {@link NativeCallException}. */
    private static int call(String name, @Nullable String object, Call call) throws NativeCallException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(CALL_STATE);
            return check(name, call.invoke(arena, state), state, object);
        } catch (NativeCallException e) {
            throw e;
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** open(2); {@code path} must not contain NUL. */
    public static int open(String path, int flags, int mode) throws NativeCallException {
        return call("open", path, (arena, state) -> (int) open.invokeExact(state, arena.allocateFrom(path), flags, mode));
    }

    /** close(2); errors are ignored, as nothing can be done about them (the descriptor is gone). */
    public static void close(int fd) {
        try {
            call("close", null, (arena, state) -> (int) close.invokeExact(state, fd));
        } catch (NativeCallException ignored) {
            // EINTR or EIO on close: the descriptor is released either way
        }
    }

    public static void ftruncate(int fd, long length) throws NativeCallException {
        call("ftruncate", null, (arena, state) -> (int) ftruncate.invokeExact(state, fd, length));
    }

    public static void fallocate(int fd, long offset, long length) throws NativeCallException {
        call("fallocate", null, (arena, state) -> (int) fallocate.invokeExact(state, fd, 0, offset, length));
    }

    public static void fchmod(int fd, int mode) throws NativeCallException {
        call("fchmod", null, (arena, state) -> (int) fchmod.invokeExact(state, fd, mode));
    }

    public static void fsync(int fd) throws NativeCallException {
        call("fsync", null, (arena, state) -> (int) fsync.invokeExact(state, fd));
    }

    /**
     * Sets an open-file-description lock on {@code [start, start + length)} without waiting.
     * {@return true if the lock was set, false if another description holds a conflicting lock}
     */
    public static boolean ofdTryLock(int fd, short type, long start, long length) throws NativeCallException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(CALL_STATE);
            MemorySegment flock = flock(arena, type, start, length);
            int result = (int) fcntl.invokeExact(state, fd, F_OFD_SETLK, flock);
            if (result == -1 && errno(state) == Errno.EAGAIN) {
                return false;
            }
            check("fcntl(F_OFD_SETLK)", result, state, null);
            return true;
        } catch (NativeCallException e) {
            throw e;
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /**
     * Asks whether a lock of {@code type} could be set on the range.
     * {@return true if no other open file description holds a conflicting lock}
     */
    public static boolean ofdCouldLock(int fd, short type, long start, long length) throws NativeCallException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(CALL_STATE);
            MemorySegment flock = flock(arena, type, start, length);
            check("fcntl(F_OFD_GETLK)", (int) fcntl.invokeExact(state, fd, F_OFD_GETLK, flock), state, null);
            return flock.get(JAVA_SHORT, 0) == F_UNLCK;
        } catch (NativeCallException e) {
            throw e;
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    private static MemorySegment flock(Arena arena, short type, long start, long length) {
        MemorySegment flock = arena.allocate(FLOCK);
        flock.set(JAVA_SHORT, FLOCK.byteOffset(MemoryLayout.PathElement.groupElement("l_type")), type);
        flock.set(JAVA_SHORT, FLOCK.byteOffset(MemoryLayout.PathElement.groupElement("l_whence")), (short) 0);
        flock.set(JAVA_LONG, FLOCK.byteOffset(MemoryLayout.PathElement.groupElement("l_start")), start);
        flock.set(JAVA_LONG, FLOCK.byteOffset(MemoryLayout.PathElement.groupElement("l_len")), length);
        return flock;
    }

    /** statx(2) of an open descriptor. */
    public static FileStat fstat(int fd) throws NativeCallException {
        StatScratch scratch = STAT_SCRATCH.get();
        int result;
        try {
            result = (int) statx.invokeExact(scratch.callState, fd, EMPTY_PATH, AT_EMPTY_PATH, STATX_BASIC_STATS,
                    scratch.buffer);
        } catch (Throwable t) {
            throw rethrow(t);
        }
        check("statx", result, scratch.callState, "fstat");
        return FileStat.from(scratch.buffer);
    }

    /** The empty path of {@code fstat}'s {@code statx(fd, "", AT_EMPTY_PATH)}: one, for every call. */
    private static final MemorySegment EMPTY_PATH = Arena.global().allocateFrom("");

    /**
     * Each thread's call state and statx buffer for {@link #fstat}, allocated once: the open and close
     * paths call it several times, and an arena per call costs more than the system call.
     */
    private record StatScratch(MemorySegment callState, MemorySegment buffer) {
    }

    private static final ThreadLocal<StatScratch> STAT_SCRATCH = ThreadLocal.withInitial(() -> {
        Arena arena = Arena.ofAuto();
        return new StatScratch(arena.allocate(CALL_STATE), arena.allocate(FileStat.STATX_SIZE, 8));
    });

    /** statx(2) of a path, not following a final symbolic link. */
    public static FileStat lstat(String path) throws NativeCallException {
        return statx(AT_FDCWD, path, AT_SYMLINK_NOFOLLOW, path);
    }

    private static FileStat statx(int dirfd, String path, int flags, String what) throws NativeCallException {
        MemorySegment buffer = STAT_SCRATCH.get().buffer;
        call("statx", what, (arena, state) -> (int) statx.invokeExact(state, dirfd, arena.allocateFrom(path), flags,
                STATX_BASIC_STATS, buffer));
        return FileStat.from(buffer);
    }

    /**
     * Gives the unnamed file open as {@code fd} (an {@code O_TMPFILE} without {@code O_EXCL}) the name
     * {@code to}: {@code linkat} of {@code /proc/self/fd/N}, which any user may do (the
     * {@code AT_EMPTY_PATH} form needs a capability). Fails with {@code EEXIST} if the name is taken.
     */
    public static void linkDescriptor(int fd, String to) throws NativeCallException {
        String from = "/proc/self/fd/" + fd;
        call("linkat", to, (arena, state) -> (int) linkat.invokeExact(state, AT_FDCWD, arena.allocateFrom(from), AT_FDCWD,
                arena.allocateFrom(to), AT_SYMLINK_FOLLOW));
    }

    public static void link(String from, String to) throws NativeCallException {
        call("link", to, (arena, state) -> (int) link.invokeExact(state, arena.allocateFrom(from), arena.allocateFrom(to)));
    }

    public static void unlink(String path) throws NativeCallException {
        call("unlink", path, (arena, state) -> (int) unlink.invokeExact(state, arena.allocateFrom(path)));
    }

    /** mmap(2); {@return the address of the new mapping} */
    public static long mmap(long length, int prot, int flags, int fd, long offset) throws NativeCallException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(CALL_STATE);
            MemorySegment address = (MemorySegment) mmap.invokeExact(state, MemorySegment.NULL, length, prot,
                    flags, fd, offset);
            if (address.address() == -1L) {
                throw new NativeCallException("mmap", errno(state), null);
            }
            return address.address();
        } catch (NativeCallException e) {
            throw e;
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public static void munmap(long address, long length) throws NativeCallException {
        call("munmap", null, (arena, state) -> (int) munmap.invokeExact(state, MemorySegment.ofAddress(address), length));
    }

    public static void msync(long address, long length, int flags) throws NativeCallException {
        call("msync", null, (arena, state) -> (int) msync.invokeExact(state, MemorySegment.ofAddress(address), length,
                flags));
    }

    /**
     * Turns the raw address of a mapping into a segment of {@code length} bytes whose lifetime is
     * {@code arena}; closing the arena runs {@code cleanup}.
     */
    public static MemorySegment segment(long address, long length, Arena arena, Runnable cleanup) {
        return MemorySegment.ofAddress(address).reinterpret(length, arena, ignored -> cleanup.run());
    }

    static int errno(MemorySegment state) {
        return (int) ERRNO.get(state, 0L);
    }

    private static int check(String call, int result, MemorySegment state, @Nullable String object)
            throws NativeCallException {
        if (result == -1) {
            throw new NativeCallException(call, errno(state), object);
        }
        return result;
    }

    private static RuntimeException rethrow(Throwable t) {
        if (t instanceof RuntimeException e) {
            return e;
        }
        if (t instanceof Error e) {
            throw e;
        }
        return new SharedMemoryException("native call failed: cause=" + t, t);
    }
}
