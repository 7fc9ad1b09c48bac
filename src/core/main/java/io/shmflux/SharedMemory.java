package io.shmflux;

import io.shmflux.internal.namespace.ControlFile;
import io.shmflux.internal.namespace.NameSpace;
import org.jspecify.annotations.Nullable;

import org.reactivestreams.Publisher;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Schedulers;

import java.nio.file.Path;
import java.util.Objects;
import java.util.concurrent.Callable;
import java.util.function.Function;

/**
 * Creates and opens named file-mapping objects: the entry point of shmflux.
 *
 * <h2>Names</h2>
 * Mappings, mutexes, events and semaphores share one name space; a name held by another kind of
 * object fails with {@link WrongObjectKindException}. A name is 1 to 260 characters, case-sensitive,
 * optionally prefixed by {@code Local\} (per user, the default) or {@code Global\} (visible to every
 * user, subject to the object's permissions); after the prefix it may hold any character but
 * {@code \} and NUL. Names never reach a path outside the library's own files: see
 * {@code src/site/markdown/architecture.md} for the encoding.
 *
 * {@snippet :
 * try (FileMapping mapping = SharedMemory.createOrOpen("prices", 4096);
 *      MappedView view = mapping.map(Access.READ_WRITE)) {
 *     view.segment().set(ValueLayout.JAVA_LONG, 0, 42L);
 * } // last close anywhere: the object and its /dev/shm file are gone
 * }
 *
 * <p>Every JVM that uses shmflux must run with {@code --enable-native-access=ALL-UNNAMED} (class
 * path) or {@code --enable-native-access=io.shmflux} (module path); without it the first call
 * throws a {@link SharedMemoryException} that names the flag.
 */
public final class SharedMemory {

    private SharedMemory() {
    }

    /**
     * Creates a paging-file-backed object (Win32 {@code CreateFileMapping(INVALID_HANDLE_VALUE, ...)}
     * that must not exist yet). Its memory is committed now and reads as zeros.
     *
     * @param name the object's name
     * @param size the size in bytes, more than 0 (64-bit: objects past 2 GiB work)
     * @throws ObjectAlreadyExistsException if a mapping of that name exists
     * @throws WrongObjectKindException     if the name is held by another kind of object
     * @throws OutOfSpaceException          if {@code /dev/shm} cannot hold {@code size} bytes
     * @throws InvalidParameterException    if the name or size is invalid
     */
    public static FileMapping create(String name, long size) {
        return create(name, size, MappingOptions.DEFAULT);
    }

    /** {@link #create(String, long)} with options. */
    public static FileMapping create(String name, long size, MappingOptions options) {
        return MappingOpener.paging(name, size, options, ControlFile.Disposition.CREATE_NEW);
    }

    /**
     * Opens the object if it exists (keeping its size and options), creates it otherwise (Win32
     * {@code CreateFileMapping}). {@link FileMapping#created()} says which happened. When several
     * processes race, exactly one creates and all get the same, fully built object.
     *
     * @throws WrongObjectKindException  if the name is held by another kind of object
     * @throws OutOfSpaceException       if the object is created and {@code /dev/shm} cannot hold it
     * @throws InvalidParameterException if the name or size is invalid
     */
    public static FileMapping createOrOpen(String name, long size) {
        return createOrOpen(name, size, MappingOptions.DEFAULT);
    }

    /**
     * {@link #createOrOpen(String, long)} with options, used only if the object is created: an existing
     * object keeps the options it was created with, as Win32 keeps an existing object's size (its
     * change ring capacity and publish timeout included; {@link FileMapping#changeRingCapacity()}
     * reads the ring's back).
     */
    public static FileMapping createOrOpen(String name, long size, MappingOptions options) {
        return MappingOpener.paging(name, size, options, ControlFile.Disposition.OPEN_ALWAYS);
    }

    /**
     * Opens an existing object (Win32 {@code OpenFileMapping}), paging-file or file-backed.
     *
     * @param access what the handle's views may do
     * @throws ObjectNotFoundException  if no object has that name
     * @throws WrongObjectKindException if the name is held by another kind of object
     * @throws AccessDeniedException    if the object's permissions do not grant {@code access}
     */
    public static FileMapping open(String name, Access access) {
        return MappingOpener.open(name, access);
    }

    /**
     * Maps a file (Win32 {@code CreateFileMapping} with a file handle). The object starts with the
     * file's contents; the file is held for exclusive use while the object lives (another object on
     * the same file fails with {@link SharingViolationException}); when the last handle or view
     * anywhere closes, the file is brought up to date on disk.
     *
     * <p>A named object can be opened by name from other processes, which need not know the path. If
     * the name is already held by a mapping of this same file, that object is opened
     * ({@link FileMapping#created()} is false).
     *
     * @param file the file; must exist and be readable and writable
     * @param name the object's name, or null for an object only this process can use
     * @param size the object's size; 0 means the file's size; a larger size grows the file
     * @throws InvalidParameterException    if {@code size} is 0 and the file is empty, or negative
     * @throws SharingViolationException    if another object holds the file
     * @throws ObjectAlreadyExistsException if the name is held by a mapping of another file
     * @throws ObjectNotFoundException      if the file does not exist
     */
    public static FileMapping createFromFile(Path file, @Nullable String name, long size) {
        return createFromFile(file, name, size, MappingOptions.DEFAULT);
    }

    /** {@link #createFromFile(Path, String, long)} with options (permissions of the name's control file). */
    public static FileMapping createFromFile(Path file, @Nullable String name, long size, MappingOptions options) {
        return MappingOpener.fromFile(file, name, size, options);
    }

    /**
     * Opens a mapping when subscribed, runs {@code body} with it, and closes it when the body's
     * publisher completes, fails or is cancelled ({@link Flux#usingWhen}). Closing unmaps every view
     * the handle's change feed used, and the final release anywhere flushes a file-backed object to
     * its file.
     *
     * {@snippet :
     * Flux<ChangeEvent> feed = SharedMemory.withMapping(
     *         () -> SharedMemory.open("prices", Access.READ_WRITE),
     *         mapping -> mapping.changes());
     * feed.take(10).subscribe(System.out::println); // closes the mapping after ten changes
     * }
     *
     * <p>{@code open} runs on {@link Schedulers#boundedElastic()} (it does file-system calls);
     * closing runs on the thread that ends the body's publisher.
     *
     * @param open opens the mapping, for example {@code () -> SharedMemory.open(name, Access.READ)}
     * @param body what to do with it
     */
    public static <T> Flux<T> withMapping(Callable<FileMapping> open,
                                          Function<? super FileMapping, ? extends Publisher<? extends T>> body) {
        Objects.requireNonNull(open, "open");
        Objects.requireNonNull(body, "body");
        return Flux.usingWhen(Mono.fromCallable(open).subscribeOn(Schedulers.boundedElastic()), body,
                SharedMemory::closeLater, (mapping, error) -> closeLater(mapping), SharedMemory::closeLater);
    }

    /**
     * Maps a view when subscribed, runs {@code body} with it, and unmaps it when the body's publisher
     * completes, fails or is cancelled ({@link Flux#usingWhen}). The view keeps its object alive
     * meanwhile, even if {@code mapping} is closed.
     */
    public static <T> Flux<T> withView(FileMapping mapping, Access access, long offset, long length,
                                       Function<? super MappedView, ? extends Publisher<? extends T>> body) {
        Objects.requireNonNull(mapping, "mapping");
        Objects.requireNonNull(access, "access");
        Objects.requireNonNull(body, "body");
        return Flux.usingWhen(Mono.fromCallable(() -> mapping.map(access, offset, length)), body,
                SharedMemory::closeLater, (view, error) -> closeLater(view), SharedMemory::closeLater);
    }

    private static Mono<Void> closeLater(AutoCloseable closeable) {
        return Mono.fromCallable(() -> {
            closeable.close();
            return Boolean.TRUE;
        }).then();
    }

    /**
     * Removes the objects whose every holder died without closing them (killed, crashed). Each process
     * does this once on its first call into shmflux, and opening a name does it for that name, so
     * calling it is needed only to clean up sooner. An object some live process holds is never
     * touched.
     *
     * @return how many objects were removed
     */
    public static int reclaimStale() {
        return NameSpace.get().reclaimStale();
    }
}
