package io.shmflux.internal.inspect;

import io.shmflux.ObjectNotFoundException;
import io.shmflux.internal.namespace.ControlFile;
import io.shmflux.internal.namespace.NameSpace;
import io.shmflux.internal.namespace.ObjectName;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;

/**
 * The name space as a tool sees it: list, inspect, remove and reclaim objects without joining them.
 * The one door from the command-line tool into the name space, so that the tool never re-derives
 * file names, scopes or the lifetime protocol of its own: it reads with {@link ObjectInfo} and removes
 * with the library's own reclaim ({@link ControlFile}).
 *
 * <p>Made by {@link #of()}, which reclaims nothing: a tool must show stale objects as they are.
 */
public final class Inspector {

    private final NameSpace nameSpace;

    private Inspector(NameSpace nameSpace) {
        this.nameSpace = nameSpace;
    }

    /** {@return an inspector of this process's name space ({@code -Dshmflux.dir}), which reclaims nothing when made} */
    public static Inspector of() {
        return new Inspector(NameSpace.withoutReclaim());
    }

    /** {@return the name space's directory} */
    public String directory() {
        return nameSpace.directory();
    }

    /** {@return {@code name} as the tool shows it, with its scope: {@code Local\prices}, {@code Global\prices}} */
    public static String qualifiedName(String name) {
        ObjectName parsed = ObjectName.parse(name);
        return scopePrefix(parsed) + parsed.bare();
    }

    /** {@return every object of this user's {@code Local\} scope and of {@code Global\}, sorted by name} */
    public List<ObjectInfo> list() throws IOException {
        String local = NameSpace.PREFIX + nameSpace.localTag() + ".";
        String global = NameSpace.PREFIX + "G.";
        List<ObjectInfo> objects = new ArrayList<>();
        try (DirectoryStream<Path> files = Files.newDirectoryStream(Path.of(nameSpace.directory()),
                NameSpace.PREFIX + "*" + NameSpace.CONTROL_SUFFIX)) {
            for (Path file : files) {
                String fileName = file.getFileName().toString();
                String prefix = fileName.startsWith(local) ? "Local\\" : fileName.startsWith(global) ? "Global\\" : null;
                if (prefix == null) {
                    continue; // another user's Local\ object, or not an object
                }
                try {
                    objects.add(ObjectInfo.read(file, prefix));
                } catch (NoSuchFileException gone) {
                    // removed while we looked
                } catch (IOException e) {
                    objects.add(new ObjectInfo(prefix + "?", file, "?", "?", 0, 0, 0, "?", "?", 0, 0,
                            ObjectInfo.countHolders(ObjectInfo.lstat(file)), null, "unreadable: cause=" + e));
                }
            }
        }
        objects.sort(Comparator.comparing(ObjectInfo::name));
        return objects;
    }

    /**
     * {@return what the control file of {@code name} says}
     *
     * @throws ObjectNotFoundException if there is no such object
     * @throws io.shmflux.InvalidNameException if the name breaks a rule
     */
    public ObjectInfo inspect(String name) throws IOException {
        ObjectName parsed = ObjectName.parse(name);
        Path control = Path.of(nameSpace.controlPath(parsed));
        try {
            return ObjectInfo.read(control, scopePrefix(parsed));
        } catch (NoSuchFileException e) {
            throw new ObjectNotFoundException("object not found: name=" + ObjectName.quote(name) + ", path=" + control);
        }
    }

    /** How {@link #remove} is to treat an object that live processes hold. */
    public enum Force {
        /** Refuse: {@link Removal.Outcome#IN_USE}. */
        NO,
        /** Remove the name anyway, like {@code shm_unlink}: the holders keep their mappings until they close. */
        YES
    }

    /**
     * What {@link #remove} did.
     *
     * @param object  the object as it was just before
     * @param outcome what became of it
     * @param detail  why it was kept ({@code status=squatted, owner=...}), or empty
     */
    public record Removal(ObjectInfo object, Outcome outcome, String detail) {

        /** The normal outcomes of a removal. */
        public enum Outcome {
            /** Nobody held it: reclaimed by the lifetime protocol, with its data file. */
            RECLAIMED,
            /** Live processes held it and {@link Force#YES} removed its name. */
            FORCED,
            /** Live processes hold it (or took hold of it meanwhile); nothing was removed. */
            IN_USE,
            /** It may not be removed (squatted, hard-linked, another user's): the detail says why. */
            KEPT
        }
    }

    /**
     * Removes one object: a stale one by the lifetime protocol (as {@link #gc} would), a live one
     * only with {@link Force#YES}, and then only its names: a file-backed object's file is never
     * deleted.
     *
     * @throws ObjectNotFoundException if there is no such object
     */
    public Removal remove(String name, Force force) throws IOException {
        ObjectName parsed = ObjectName.parse(name);
        ObjectInfo object = inspect(name);
        if (object.stale()) {
            ControlFile.Reclaim reclaim = nameSpace.reclaimIfStale(parsed);
            return switch (reclaim.outcome()) {
                case RECLAIMED, GONE -> new Removal(object, Removal.Outcome.RECLAIMED, "");
                case LIVE -> new Removal(object, Removal.Outcome.IN_USE, "reason=a process took hold of it meanwhile");
                case KEPT -> new Removal(object, Removal.Outcome.KEPT, reclaim.detail());
            };
        }
        if (force == Force.NO) {
            return new Removal(object, Removal.Outcome.IN_USE, "reason=live processes hold it");
        }
        // like shm_unlink: the name goes now; live holders keep their mappings until they close
        if (object.backing().equals("paging file")) {
            Files.deleteIfExists(Path.of(nameSpace.dataPath(parsed)));
        }
        Files.deleteIfExists(object.controlPath());
        return new Removal(object, Removal.Outcome.FORCED, "");
    }

    /**
     * What {@link #gc} did with one object nobody held.
     *
     * @param object  the object as it was before
     * @param outcome reclaimed, or kept
     * @param detail  why it stays ({@code status=squatted, owner=...}), or empty
     */
    public record Collected(ObjectInfo object, Outcome outcome, String detail) {

        /** The normal outcomes of a collection. */
        public enum Outcome {
            /** Its files are gone (a corrupt object's both files). */
            RECLAIMED,
            /** It stays: not trusted, or not this user's to remove; the detail says why. */
            KEPT
        }
    }

    /**
     * Reclaims every object whose holders all died, with the library's own sweep, and reports each
     * stale object it kept (squatted, hard-linked, another user's), with the reason; the next call
     * does not retry harder.
     *
     * @return the stale objects, reclaimed or kept, in name order
     */
    public List<Collected> gc() throws IOException {
        List<ObjectInfo> stale = list().stream().filter(ObjectInfo::stale).toList();
        Map<Path, ControlFile.Reclaim> outcomes = nameSpace.sweep();
        List<Collected> collected = new ArrayList<>();
        for (ObjectInfo object : stale) {
            ControlFile.Reclaim outcome = outcomes.get(object.controlPath());
            if (outcome == null) {
                continue;
            }
            switch (outcome.outcome()) {
                case RECLAIMED -> collected.add(new Collected(object, Collected.Outcome.RECLAIMED, ""));
                case KEPT -> collected.add(new Collected(object, Collected.Outcome.KEPT, outcome.detail()));
                case LIVE, GONE -> {
                    // taken or removed meanwhile: not ours to report
                }
            }
        }
        return collected;
    }

    private static String scopePrefix(ObjectName name) {
        return name.scope() == ObjectName.Scope.GLOBAL ? "Global\\" : "Local\\";
    }
}
