package io.shmflux.internal.liveness;

import io.shmflux.internal.linux.Libc;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * A process that holds a lease: {@code FILE [lock]} claims a lease of the test table in FILE (with
 * generations), prints {@code held token=T}, and with {@code lock} also takes the test lock word; then
 * holds on until stdin closes.
 */
public final class LeaseChild {

    public static void main(String[] args) throws Exception {
        Path file = Path.of(args[0]);
        int fd = Libc.open(file.toString(), Libc.O_RDWR | Libc.O_CLOEXEC, 0);
        try (Arena arena = Arena.ofShared();
             FileChannel channel = FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            MemorySegment shared = channel.map(FileChannel.MapMode.READ_WRITE, 0, LeaseTableTest.FILE_SIZE, arena);
            LeaseTable table = LeaseTableTest.table(fd, shared);
            Lease lease = table.claim();
            if (args.length > 1 && args[1].equals("lock")) {
                RobustLock lock = new RobustLock(shared, LeaseTableTest.LOCK_WORD, table);
                if (lock.tryLock(lease.token(), false, true) != RobustLock.Outcome.ACQUIRED) {
                    throw new IllegalStateException("lock not free");
                }
            }
            System.out.println("held token=" + lease.token());
            new BufferedReader(new InputStreamReader(System.in)).readLine();
        }
    }
}
