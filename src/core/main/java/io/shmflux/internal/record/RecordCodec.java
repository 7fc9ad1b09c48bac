package io.shmflux.internal.record;

import java.util.Objects;
import io.shmflux.FixedLength;
import io.shmflux.InvalidParameterException;
import org.jspecify.annotations.Nullable;

import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.lang.invoke.VarHandle;
import java.lang.reflect.Array;
import java.lang.reflect.Constructor;
import java.lang.reflect.RecordComponent;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The layout of a record type in shared memory and the method handles that copy a value in and out.
 *
 * <h2>Layout rules</h2>
 * <ol>
 * <li>Components are laid out in declaration order, each at the next offset that is a multiple of
 *     its alignment (padding in between), as a C compiler lays out a struct; the record's alignment
 *     is its largest component's, and its size is rounded up to it.</li>
 * <li>{@code byte}, {@code short}, {@code char}, {@code int}, {@code long}, {@code float},
 *     {@code double}: their Java size and alignment, little-endian (the byte order is pinned, so
 *     that a layout means the same on every machine); {@code boolean}: one byte, 0 or 1.</li>
 * <li>A record component: its own layout, nested.</li>
 * <li>An array component with {@link FixedLength @FixedLength(n)}: {@code n} elements, aligned as one
 *     element; a value of another length is refused.</li>
 * <li>A {@code String} with {@code @FixedLength(n)}: {@code n} bytes of UTF-8, zero-padded; a string
 *     longer than {@code n} bytes, or containing U+0000, is refused.</li>
 * </ol>
 *
 * <p>Everything is resolved when the codec is built: a call runs a tree of method handles with no
 * reflection and allocates nothing but the decoded value (and its strings and arrays).
 */
// the leaves at the end are found by name (MethodHandles.Lookup.findStatic): Error Prone sees no caller
@SuppressWarnings("UnusedMethod")
public final class RecordCodec {

    private static final MethodHandles.Lookup LOOKUP = MethodHandles.lookup();
    private static final MethodHandle PLUS;
    private static final MethodHandle GET_STRING;
    private static final MethodHandle PUT_STRING;
    private static final MethodHandle CHECK_STRING;
    private static final MethodHandle SLICE;
    private static final MethodHandle PUT_ARRAY;
    private static final MethodHandle CHECK_ARRAY;
    private static final MethodHandle CHECK_NOT_NULL;

    static {
        try {
            PLUS = LOOKUP.findStatic(RecordCodec.class, "plus", MethodType.methodType(long.class, long.class, long.class));
            GET_STRING = LOOKUP.findStatic(RecordCodec.class, "getString",
                    MethodType.methodType(String.class, MemorySegment.class, long.class, int.class));
            PUT_STRING = LOOKUP.findStatic(RecordCodec.class, "putString",
                    MethodType.methodType(void.class, MemorySegment.class, long.class, String.class, int.class));
            CHECK_STRING = LOOKUP.findStatic(RecordCodec.class, "checkString",
                    MethodType.methodType(void.class, String.class, int.class, String.class));
            SLICE = LOOKUP.findStatic(RecordCodec.class, "slice",
                    MethodType.methodType(MemorySegment.class, MemorySegment.class, long.class, long.class));
            PUT_ARRAY = LOOKUP.findStatic(RecordCodec.class, "putArray", MethodType.methodType(void.class,
                    MemorySegment.class, long.class, Object.class, ValueLayout.class, int.class));
            CHECK_ARRAY = LOOKUP.findStatic(RecordCodec.class, "checkArray",
                    MethodType.methodType(void.class, Object.class, int.class, String.class));
            CHECK_NOT_NULL = LOOKUP.findStatic(RecordCodec.class, "checkNotNull",
                    MethodType.methodType(Object.class, Object.class, String.class));
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    private static final Map<Class<?>, ValueLayout> PRIMITIVES = Map.of(
            byte.class, ValueLayout.JAVA_BYTE,
            boolean.class, ValueLayout.JAVA_BOOLEAN,
            short.class, ValueLayout.JAVA_SHORT.withOrder(ByteOrder.LITTLE_ENDIAN),
            char.class, ValueLayout.JAVA_CHAR.withOrder(ByteOrder.LITTLE_ENDIAN),
            int.class, ValueLayout.JAVA_INT.withOrder(ByteOrder.LITTLE_ENDIAN),
            long.class, ValueLayout.JAVA_LONG.withOrder(ByteOrder.LITTLE_ENDIAN),
            float.class, ValueLayout.JAVA_FLOAT.withOrder(ByteOrder.LITTLE_ENDIAN),
            double.class, ValueLayout.JAVA_DOUBLE.withOrder(ByteOrder.LITTLE_ENDIAN));

    /**
     * The calls into the method-handle trees. Implemented by a small hidden class per record type that
     * holds the trees in {@code static final} fields: the JIT treats those as constants and inlines
     * the whole tree into the caller, as if the accessors had been written out by hand (a tree held in
     * an ordinary instance field would be called indirectly, several times slower).
     */
    public interface Access {
        Object decode(MemorySegment segment, long offset);

        void encode(MemorySegment segment, long offset, Object value);

        void validate(Object value);
    }

    private final Class<?> type;
    private final StructLayout layout;
    private final Access access;

    private RecordCodec(Class<?> type, StructLayout layout, Access access) {
        this.type = type;
        this.layout = layout;
        this.access = access;
    }

    /** Builds the codec of a record type; a component it cannot lay out is an {@link InvalidParameterException}. */
    public static RecordCodec of(Class<?> type) {
        if (!type.isRecord()) {
            throw new InvalidParameterException("not a record: type=" + type.getName());
        }
        Part part = build(type, type.getSimpleName(), new ArrayList<>());
        MethodHandle decoder = part.getter.asType(MethodType.methodType(Object.class, MemorySegment.class, long.class));
        MethodHandle encoder = part.setter.asType(
                MethodType.methodType(void.class, MemorySegment.class, long.class, Object.class));
        MethodHandle validator = part.validator == null ? null
                : part.validator.asType(MethodType.methodType(void.class, Object.class));
        if (validator == null) {
            validator = MethodHandles.empty(MethodType.methodType(void.class, Object.class));
        }
        return new RecordCodec(type, (StructLayout) part.layout.withName(type.getSimpleName()),
                AccessClass.define(decoder, encoder, validator));
    }

    public StructLayout layout() {
        return layout;
    }

    /** {@return the value whose bytes start at {@code offset}} */
    public Object decode(MemorySegment segment, long offset) {
        return access.decode(segment, offset);
    }

    /** Writes {@code value}'s bytes at {@code offset}; call {@link #validate} first if a value may not fit. */
    public void encode(MemorySegment segment, long offset, Object value) {
        access.encode(segment, offset, value);
    }

    /** Refuses a value that does not fit the layout (a null, a string or array of the wrong length). */
    public void validate(Object value) {
        if (!type.isInstance(value)) {
            throw new InvalidParameterException("value of another type: type=" + type.getName() + ", value="
                    + (value == null ? "null" : value.getClass().getName()));
        }
        access.validate(value);
    }

    /**
     * One component's (or the whole record's) layout, and method handles {@code (MemorySegment, long)C}
     * to read it at an offset, {@code (MemorySegment, long, C)void} to write it, {@code (C)void} to
     * check a value (or null: every value fits).
     */
    private record Part(MemoryLayout layout, MethodHandle getter, MethodHandle setter, @Nullable MethodHandle validator) {
    }

    private static Part build(Class<?> type, String path, List<Class<?>> enclosing) {
        if (enclosing.contains(type)) {
            throw new InvalidParameterException("record contains itself: component=" + path + ", type=" + type.getName());
        }
        enclosing.add(type);
        RecordComponent[] components = type.getRecordComponents();
        if (components.length == 0) {
            throw new InvalidParameterException("record has no components: component=" + path + ", type="
                    + type.getName());
        }
        MethodHandles.Lookup lookup = lookupFor(type, path);
        Class<?>[] types = new Class<?>[components.length];
        for (int i = 0; i < components.length; i++) {
            types[i] = components[i].getType();
        }
        MethodHandle constructor;
        try {
            constructor = lookup.findConstructor(type, MethodType.methodType(void.class, types));
        } catch (ReflectiveOperationException e) {
            throw new InvalidParameterException("record not accessible: component=" + path + ", type=" + type.getName()
                    + ", reason=" + e.getMessage());
        }
        List<MemoryLayout> members = new ArrayList<>();
        long offset = 0;
        long alignment = 1;
        MethodHandle decode = constructor;
        @Nullable MethodHandle encode = null;
        @Nullable MethodHandle validate = null;
        for (int i = 0; i < components.length; i++) {
            RecordComponent component = components[i];
            String componentPath = path + "." + component.getName();
            Part part = element(type, component, i, componentPath, enclosing);
            long align = part.layout.byteAlignment();
            long padded = (offset + align - 1) / align * align;
            if (padded > offset) {
                members.add(MemoryLayout.paddingLayout(padded - offset));
            }
            offset = padded;
            members.add(part.layout.withName(component.getName()));
            alignment = Math.max(alignment, align);

            MethodHandle at = MethodHandles.insertArguments(PLUS, 1, offset); // (long)long: base + this offset
            decode = MethodHandles.collectArguments(decode, 2 * i, MethodHandles.filterArguments(part.getter, 1, at));
            MethodHandle accessor = accessor(lookup, component, componentPath);
            MethodHandle write = MethodHandles.filterArguments(MethodHandles.filterArguments(part.setter, 1, at), 2,
                    accessor); // (MemorySegment, long, R)void
            encode = encode == null ? write : MethodHandles.foldArguments(write, encode);
            if (part.validator != null) {
                MethodHandle check = MethodHandles.filterArguments(part.validator, 0, accessor); // (R)void
                validate = validate == null ? check : MethodHandles.foldArguments(check, validate);
            }
            offset += part.layout.byteSize();
        }
        long size = (offset + alignment - 1) / alignment * alignment;
        if (size > offset) {
            members.add(MemoryLayout.paddingLayout(size - offset));
        }
        int[] reorder = new int[2 * components.length];
        for (int i = 0; i < reorder.length; i++) {
            reorder[i] = i % 2;
        }
        decode = MethodHandles.permuteArguments(decode, MethodType.methodType(type, MemorySegment.class, long.class),
                reorder);
        enclosing.remove(type);
        // at least one component (checked above), so encode is set
        return new Part(MemoryLayout.structLayout(members.toArray(MemoryLayout[]::new)), decode,
                Objects.requireNonNull(encode), validate);
    }

    private static Part element(Class<?> owner, RecordComponent component, int index, String path,
                                List<Class<?>> enclosing) {
        Class<?> type = component.getType();
        ValueLayout primitive = PRIMITIVES.get(type);
        if (primitive != null) {
            VarHandle handle = primitive.varHandle(); // coordinates (MemorySegment, long offset)
            return new Part(primitive, handle.toMethodHandle(VarHandle.AccessMode.GET),
                    handle.toMethodHandle(VarHandle.AccessMode.SET), null);
        }
        if (type.isRecord()) {
            Part nested = build(type, path, enclosing);
            MethodHandle notNull = notNull(type, path);
            MethodHandle check = nested.validator == null
                    ? MethodHandles.dropReturn(notNull)
                    : MethodHandles.filterArguments(nested.validator, 0, notNull);
            return new Part(nested.layout, nested.getter, nested.setter, check);
        }
        Integer length = fixedLength(owner, component, index);
        if (type == String.class) {
            int n = requireLength(length, path, "a string");
            return new Part(MemoryLayout.sequenceLayout(n, ValueLayout.JAVA_BYTE),
                    MethodHandles.insertArguments(GET_STRING, 2, n),
                    MethodHandles.insertArguments(PUT_STRING, 3, n),
                    MethodHandles.insertArguments(CHECK_STRING, 1, n, path));
        }
        if (type.isArray() && type.getComponentType() != boolean.class) {
            ValueLayout element = PRIMITIVES.get(type.getComponentType());
            if (element != null) {
                int n = requireLength(length, path, "an array");
                MethodHandle toArray;
                try {
                    toArray = MethodHandles.publicLookup().findVirtual(MemorySegment.class, "toArray",
                            MethodType.methodType(type, layoutClass(element)));
                } catch (ReflectiveOperationException e) {
                    throw new IllegalStateException(e);
                }
                MethodHandle slice = MethodHandles.insertArguments(SLICE, 2, n * element.byteSize());
                MethodHandle getter = MethodHandles.collectArguments(
                        MethodHandles.insertArguments(toArray, 1, element), 0, slice); // (MS, long)T[]
                MethodHandle setter = MethodHandles.insertArguments(PUT_ARRAY, 3, element, n)
                        .asType(MethodType.methodType(void.class, MemorySegment.class, long.class, type));
                MethodHandle check = MethodHandles.insertArguments(CHECK_ARRAY, 1, n, path)
                        .asType(MethodType.methodType(void.class, type));
                return new Part(MemoryLayout.sequenceLayout(n, element), getter, setter, check);
            }
        }
        throw new InvalidParameterException("unsupported record component: component=" + path + ", type="
                + type.getTypeName() + ", supported=primitives, records of them, @FixedLength arrays of"
                + " byte/short/char/int/long/float/double and @FixedLength strings");
    }

    private static Class<?> layoutClass(ValueLayout layout) {
        return switch (layout) {
            case ValueLayout.OfByte ignored -> ValueLayout.OfByte.class;
            case ValueLayout.OfShort ignored -> ValueLayout.OfShort.class;
            case ValueLayout.OfChar ignored -> ValueLayout.OfChar.class;
            case ValueLayout.OfInt ignored -> ValueLayout.OfInt.class;
            case ValueLayout.OfLong ignored -> ValueLayout.OfLong.class;
            case ValueLayout.OfFloat ignored -> ValueLayout.OfFloat.class;
            case ValueLayout.OfDouble ignored -> ValueLayout.OfDouble.class;
            default -> throw new IllegalStateException("no array of " + layout);
        };
    }

    private static int requireLength(@Nullable Integer length, String path, String what) {
        if (length == null) {
            throw new InvalidParameterException("component needs @FixedLength: component=" + path + ", reason="
                    + what + " has no size of its own in shared memory");
        }
        if (length < 1) {
            throw new InvalidParameterException("@FixedLength out of range: component=" + path + ", length=" + length
                    + ", min=1");
        }
        return length;
    }

    /** The annotation, wherever Java or Kotlin put it: the component, its accessor, field or constructor parameter. */
    private static @Nullable Integer fixedLength(Class<?> owner, RecordComponent component, int index) {
        FixedLength found = component.getAnnotation(FixedLength.class);
        if (found == null) {
            found = component.getAccessor().getAnnotation(FixedLength.class);
        }
        if (found == null) {
            try {
                found = owner.getDeclaredField(component.getName()).getAnnotation(FixedLength.class);
            } catch (NoSuchFieldException ignored) {
                // records always have the field; nothing to find otherwise
            }
        }
        if (found == null) {
            for (Constructor<?> constructor : owner.getDeclaredConstructors()) {
                if (constructor.getParameterCount() == owner.getRecordComponents().length) {
                    FixedLength onParameter = constructor.getParameters()[index].getAnnotation(FixedLength.class);
                    if (onParameter != null) {
                        found = onParameter;
                    }
                }
            }
        }
        return found == null ? null : found.value();
    }

    private static MethodHandles.Lookup lookupFor(Class<?> type, String path) {
        try {
            // on the module path, io.shmflux reads the record's module only if told so (a module may
            // add reads edges from itself); on the class path both are the unnamed module
            RecordCodec.class.getModule().addReads(type.getModule());
            return MethodHandles.privateLookupIn(type, LOOKUP);
        } catch (IllegalAccessException | SecurityException e) {
            if (java.lang.reflect.Modifier.isPublic(type.getModifiers())) {
                return MethodHandles.publicLookup();
            }
            throw new InvalidParameterException("record not accessible: component=" + path + ", type=" + type.getName()
                    + ", fix=make it public in an exported package, or open its package to io.shmflux");
        }
    }

    private static MethodHandle accessor(MethodHandles.Lookup lookup, RecordComponent component, String path) {
        try {
            return lookup.unreflect(component.getAccessor());
        } catch (IllegalAccessException e) {
            throw new InvalidParameterException("record component not accessible: component=" + path + ", reason="
                    + e.getMessage());
        }
    }

    private static MethodHandle notNull(Class<?> type, String path) {
        return MethodHandles.insertArguments(CHECK_NOT_NULL, 1, path).asType(MethodType.methodType(type, type));
    }

    // the leaves the handles call

    private static long plus(long base, long offset) {
        return base + offset;
    }

    private static String getString(MemorySegment segment, long offset, int n) {
        int length = 0;
        while (length < n && segment.get(ValueLayout.JAVA_BYTE, offset + length) != 0) {
            length++;
        }
        byte[] bytes = new byte[length];
        MemorySegment.copy(segment, ValueLayout.JAVA_BYTE, offset, bytes, 0, length);
        return new String(bytes, StandardCharsets.UTF_8);
    }

    private static void putString(MemorySegment segment, long offset, String value, int n) {
        byte[] bytes = value.getBytes(StandardCharsets.UTF_8);
        MemorySegment.copy(bytes, 0, segment, ValueLayout.JAVA_BYTE, offset, bytes.length);
        segment.asSlice(offset + bytes.length, n - bytes.length).fill((byte) 0);
    }

    private static void checkString(@Nullable String value, int n, String path) {
        if (value == null) {
            throw new InvalidParameterException("component is null: component=" + path);
        }
        if (value.indexOf('\0') >= 0) {
            throw new InvalidParameterException("string contains U+0000: component=" + path);
        }
        int bytes = value.getBytes(StandardCharsets.UTF_8).length;
        if (bytes > n) {
            throw new InvalidParameterException("string too long: component=" + path + ", bytes=" + bytes
                    + ", fixedLength=" + n);
        }
    }

    private static MemorySegment slice(MemorySegment segment, long offset, long length) {
        return segment.asSlice(offset, length);
    }

    private static void putArray(MemorySegment segment, long offset, Object array, ValueLayout element, int n) {
        MemorySegment.copy(array, 0, segment, element, offset, n);
    }

    private static void checkArray(@Nullable Object array, int n, String path) {
        if (array == null) {
            throw new InvalidParameterException("component is null: component=" + path);
        }
        int length = Array.getLength(array);
        if (length != n) {
            throw new InvalidParameterException("array of the wrong length: component=" + path + ", length=" + length
                    + ", fixedLength=" + n);
        }
    }

    private static Object checkNotNull(@Nullable Object value, String path) {
        if (value == null) {
            throw new InvalidParameterException("component is null: component=" + path);
        }
        return value;
    }
}
