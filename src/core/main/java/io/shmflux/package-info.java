/**
 * Named shared memory through file mapping, the Win32 model, on Linux.
 *
 * <p>A process creates a named file-mapping object with {@link io.shmflux.SharedMemory}; other
 * processes open it by name; each maps {@linkplain io.shmflux.MappedView views} into its own address
 * space, all sharing the same physical pages.
 *
 * <table class="striped">
 * <caption>Win32 and shmflux</caption>
 * <thead><tr><th>Win32</th><th>shmflux</th><th>Linux mechanism</th></tr></thead>
 * <tbody>
 * <tr><td>{@code CreateFileMapping(INVALID_HANDLE_VALUE, ..., name)}</td>
 *     <td>{@link io.shmflux.SharedMemory#createOrOpen SharedMemory.createOrOpen},
 *         {@link io.shmflux.SharedMemory#create create}</td>
 *     <td>{@code /dev/shm/shmflux.*} files, {@code link(2)} to publish, {@code fallocate(2)} to commit</td></tr>
 * <tr><td>{@code CreateFileMapping(hFile, ...)}</td>
 *     <td>{@link io.shmflux.SharedMemory#createFromFile SharedMemory.createFromFile}</td>
 *     <td>the file itself; an OFD lock marks it in use</td></tr>
 * <tr><td>{@code OpenFileMapping}</td><td>{@link io.shmflux.SharedMemory#open SharedMemory.open}</td>
 *     <td>{@code open(2)} of the control and data files</td></tr>
 * <tr><td>{@code MapViewOfFile}</td><td>{@link io.shmflux.FileMapping#map FileMapping.map}</td>
 *     <td>{@code mmap(2)}, {@code MAP_SHARED} or {@code MAP_PRIVATE}</td></tr>
 * <tr><td>{@code UnmapViewOfFile}</td><td>{@link io.shmflux.MappedView#close MappedView.close}</td>
 *     <td>{@code munmap(2)}</td></tr>
 * <tr><td>{@code FlushViewOfFile}</td><td>{@link io.shmflux.MappedView#flush MappedView.flush}</td>
 *     <td>{@code msync(2)} with {@code MS_SYNC}</td></tr>
 * <tr><td>{@code CloseHandle}</td><td>{@link io.shmflux.FileMapping#close FileMapping.close}</td>
 *     <td>drop the OFD read lock; the last holder destroys or flushes</td></tr>
 * <tr><td>{@code VirtualAlloc(MEM_COMMIT)} on {@code SEC_RESERVE}</td>
 *     <td>{@link io.shmflux.FileMapping#commit FileMapping.commit}</td><td>{@code fallocate(2)}</td></tr>
 * <tr><td>{@code GetLastError() == ERROR_ALREADY_EXISTS}</td>
 *     <td>{@link io.shmflux.FileMapping#created() created()} is false</td><td>{@code link(2)} failed with {@code EEXIST}</td></tr>
 * </tbody>
 * </table>
 *
 * <h2>Comparison with Win32</h2>
 * <ul>
 * <li>Handles are {@link java.lang.AutoCloseable}; a view is a {@link java.lang.foreign.MemorySegment}
 *     that the JVM bounds-checks and refuses to touch after close, so a stale view is an exception,
 *     not a crash.</li>
 * <li>Errors are unchecked exceptions named after the Win32 error codes, not return values.</li>
 * <li>{@code Local\} is per user (Linux has no sessions); {@code Global\} is machine-wide.</li>
 * <li>Objects are owner-only ({@code 0600}) unless {@link io.shmflux.MappingOptions} widens them, in
 *     place of security descriptors.</li>
 * <li>{@code MapViewOfFileEx} (a chosen address) is not offered.</li>
 * </ul>
 */
@NullMarked
package io.shmflux;

import org.jspecify.annotations.NullMarked;
