package io.shmflux;

import io.shmflux.internal.record.RecordCodec;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.util.Objects;

/**
 * How values of a record type sit in shared memory, derived from the record's components, so that
 * {@link FileMapping#publish(long, RecordLayout, Record)}, {@link FileMapping#read(long, RecordLayout)}
 * and {@link FileMapping#values(long, RecordLayout)} need no hand-written offsets.
 *
 * {@snippet :
 * record Quote(long price, int quantity, @FixedLength(8) String symbol) { }
 *
 * static final RecordLayout<Quote> QUOTE = RecordLayout.of(Quote.class); // 24 bytes
 *
 * mapping.publish(0, QUOTE, new Quote(10125, 300, "ACME"));
 * Quote quote = mapping.read(0, QUOTE);
 * }
 *
 * <h2>Layout</h2>
 * Components are laid out in declaration order, each naturally aligned (at an offset that is a
 * multiple of its size, padding in between, as a C compiler lays out a struct), little-endian:
 * <ul>
 * <li>{@code byte}, {@code short}, {@code char}, {@code int}, {@code long}, {@code float},
 *     {@code double} at their Java sizes; {@code boolean} as one byte, 0 or 1;</li>
 * <li>a record component as a nested struct of its own components;</li>
 * <li>an array of {@code byte}, {@code short}, {@code char}, {@code int}, {@code long}, {@code float}
 *     or {@code double} with {@link FixedLength @FixedLength(n)}: exactly {@code n} elements;</li>
 * <li>a {@code String} with {@code @FixedLength(n)}: up to {@code n} bytes of UTF-8, zero-padded.</li>
 * </ul>
 * The record's alignment is its most aligned component's and its size a multiple of it; the layout is
 * {@link #layout()}, with each member named after its component, so its offsets can be read with
 * {@code layout().byteOffset(PathElement.groupElement("price"))}. Other component types, and
 * {@code @FixedLength} missing on an array or string, fail at {@link #of} with an
 * {@link InvalidParameterException} naming the component.
 *
 * <h2>Cost</h2>
 * Encoders and decoders are built once per record type as trees of method handles: a call uses no
 * reflection and allocates nothing but the decoded record (and its strings and arrays). Keep the
 * layout in a {@code static final} field; {@code of} caches it anyway.
 *
 * <p>The record type must be accessible to shmflux: on the class path any record is; on the module
 * path, a public record of an exported package, or one whose package is open to {@code io.shmflux}.
 * In Kotlin, {@code @JvmRecord data class} values work the same way (see {@code recordLayout<T>()}
 * where the Kotlin module is used).
 *
 * @param <T> the record type
 */
public final class RecordLayout<T extends Record> {

    private static final ClassValue<RecordLayout<?>> CACHE = new ClassValue<>() {
        @Override
        protected RecordLayout<?> computeValue(Class<?> type) {
            return new RecordLayout<>(type, RecordCodec.of(type));
        }
    };

    private final Class<?> type;
    private final RecordCodec codec;
    private final long byteSize;
    private final long byteAlignment;

    private RecordLayout(Class<?> type, RecordCodec codec) {
        this.type = type;
        this.codec = codec;
        this.byteSize = codec.layout().byteSize();
        this.byteAlignment = codec.layout().byteAlignment();
    }

    /**
     * {@return the layout of {@code type}}
     *
     * @throws InvalidParameterException if a component cannot be laid out (named in the message)
     */
    @SuppressWarnings("unchecked")
    public static <T extends Record> RecordLayout<T> of(Class<T> type) {
        Objects.requireNonNull(type, "type");
        return (RecordLayout<T>) CACHE.get(type);
    }

    /** {@return the struct layout, one member per component, in declaration order} */
    public StructLayout layout() {
        return codec.layout();
    }

    /** {@return the bytes one value takes} */
    public long byteSize() {
        return byteSize;
    }

    /** {@return the alignment of the layout: offsets it is used at must be multiples of it} */
    public long byteAlignment() {
        return byteAlignment;
    }

    /** {@return the record type} */
    public Class<?> type() {
        return type;
    }

    /**
     * Writes {@code value} at {@code offset} of {@code segment} (a view's, say), with no protocol:
     * readers are not told. Use {@link FileMapping#publish(long, RecordLayout, Record)} for data that
     * others watch.
     *
     * @throws InvalidParameterException if the value does not fit (a null, a string or an array of the
     *                                   wrong length: nothing is written) or the offset is not aligned
     */
    public void write(MemorySegment segment, long offset, T value) {
        check(segment, offset);
        validate(value);
        codec.encode(segment, offset, value);
    }

    /**
     * {@return the value at {@code offset} of {@code segment}} Plain reads: a writer may be changing
     * it; use {@link FileMapping#read(long, RecordLayout)} for a consistent value.
     *
     * @throws InvalidParameterException if the offset is out of range or not aligned
     */
    @SuppressWarnings("unchecked")
    public T read(MemorySegment segment, long offset) {
        check(segment, offset);
        return (T) codec.decode(segment, offset);
    }

    /** Refuses a value that does not fit, before anything is written. */
    void validate(T value) {
        Objects.requireNonNull(value, "value");
        codec.validate(value);
    }

    void encodeUnchecked(MemorySegment segment, T value) {
        codec.encode(segment, 0, value);
    }

    @SuppressWarnings("unchecked")
    T decodeUnchecked(MemorySegment segment) {
        return (T) codec.decode(segment, 0);
    }

    private void check(MemorySegment segment, long offset) {
        if (offset < 0 || offset > segment.byteSize() - byteSize) {
            throw new InvalidParameterException("record out of range: type=" + type.getName() + ", offset=" + offset
                    + ", byteSize=" + byteSize + ", segmentSize=" + segment.byteSize());
        }
        if (segment.maxByteAlignment() < byteAlignment || (segment.address() + offset) % byteAlignment != 0) {
            throw new InvalidParameterException("record misaligned: type=" + type.getName() + ", offset=" + offset
                    + ", byteAlignment=" + byteAlignment);
        }
    }

    @Override
    public String toString() {
        return "RecordLayout[" + type.getName() + ", " + codec.layout() + "]";
    }
}
