package io.shmflux.cli;

import io.shmflux.internal.inspect.ObjectInfo;
import org.jspecify.annotations.Nullable;

import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The JSON form of an object, one schema for {@code list --json} (an array of them) and
 * {@code inspect --json} (one). The field names are part of the tool's contract: they are documented
 * in tool.md, and fields are only ever added.
 */
final class ObjectJson {

    private ObjectJson() {
    }

    /** {@return {@code {"directory": ..., "objects": [...]}}} */
    static Map<String, @Nullable Object> list(String directory, List<ObjectInfo> objects) {
        Map<String, @Nullable Object> json = new LinkedHashMap<>();
        json.put("directory", directory);
        json.put("objects", objects.stream().map(ObjectJson::of).toList());
        return json;
    }

    /** {@return one object's fields; those of its change log are null if it has none} */
    static Map<String, @Nullable Object> of(ObjectInfo o) {
        Map<String, @Nullable Object> json = new LinkedHashMap<>();
        json.put("name", o.name());
        json.put("kind", known(o.kind()));
        json.put("status", o.status());
        json.put("problem", o.problem());
        json.put("state", known(o.state()));
        json.put("layout_version", o.layoutVersion());
        json.put("control_file", o.controlPath().toString());
        json.put("data_file", known(o.dataPath()));
        json.put("size", o.dataSize());
        json.put("backing", known(o.backing()));
        json.put("flags", o.flags());
        json.put("creator_pid", o.creatorPid());
        json.put("created", o.createdMillis() == 0 ? null : Instant.ofEpochMilli(o.createdMillis()).toString());
        json.put("holders", o.holders());
        ObjectInfo.ChangeLogInfo log = o.changeLog();
        json.put("sequence", log == null ? null : log.sequence());
        json.put("writing", log == null ? null : log.writing());
        json.put("ring_capacity", log == null ? null : log.ringCapacity());
        json.put("oldest_retained", log == null || log.sequence() == 0 ? null : log.oldestRetained());
        json.put("end_sequence", log == null || log.endSequence() == 0 ? null : log.endSequence());
        boolean locked = log != null && log.lockOwnerSlot() >= 0;
        json.put("lock_owner_slot", locked ? log.lockOwnerSlot() : null);
        json.put("lock_owner_pid", locked ? log.lockOwnerPid() : null);
        json.put("lock_contended", log == null ? null : log.lockContended());
        json.put("slots", log == null ? null : log.slots().stream().map(slot -> {
            Map<String, @Nullable Object> s = new LinkedHashMap<>();
            s.put("slot", slot.index());
            s.put("pid", slot.pid());
            s.put("alive", slot.alive());
            return s;
        }).toList());
        json.put("subscribers", log == null ? null : log.subscribers().stream().map(sub -> {
            Map<String, @Nullable Object> s = new LinkedHashMap<>();
            s.put("slot", sub.index());
            s.put("pid", sub.pid());
            s.put("next", sub.position());
            s.put("alive", sub.alive());
            return s;
        }).toList());
        return json;
    }

    /** ObjectInfo writes "?" for what it could not read and "-" for what a kind does not have: both are null here. */
    private static @Nullable String known(String value) {
        return value.equals("?") || value.equals("-") ? null : value;
    }
}
