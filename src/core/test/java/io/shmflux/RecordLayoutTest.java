package io.shmflux;

import io.shmflux.testing.NoLeftovers;
import io.shmflux.testing.TestNames;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import reactor.test.StepVerifier;

import java.lang.foreign.Arena;
import java.lang.foreign.MemoryLayout.PathElement;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

@ExtendWith(NoLeftovers.class)
class RecordLayoutTest {

    record Primitives(byte b, short s, char c, int i, long l, float f, double d, boolean z) {
    }

    record Inner(byte tag, long value) {
    }

    record Outer(byte first, Inner inner, short last) {
    }

    record Fixed(@FixedLength(5) String name, @FixedLength(3) int[] ints, byte pad, @FixedLength(2) double[] doubles,
                 @FixedLength(4) byte[] bytes, @FixedLength(2) short[] shorts, @FixedLength(2) char[] chars,
                 @FixedLength(2) long[] longs, @FixedLength(2) float[] floats) {
        @Override
        public boolean equals(Object o) {
            return o instanceof Fixed x && name.equals(x.name) && Arrays.equals(ints, x.ints) && pad == x.pad
                    && Arrays.equals(doubles, x.doubles) && Arrays.equals(bytes, x.bytes)
                    && Arrays.equals(shorts, x.shorts) && Arrays.equals(chars, x.chars)
                    && Arrays.equals(longs, x.longs) && Arrays.equals(floats, x.floats);
        }

        @Override
        public int hashCode() {
            return name.hashCode();
        }
    }

    record Price(long price, int quantity) {
    }

    @Test
    void primitivesAreNaturallyAlignedInDeclarationOrder() {
        RecordLayout<Primitives> layout = RecordLayout.of(Primitives.class);
        // b@0 s@2 c@4 i@8 l@16 f@24 d@32 z@40, size rounded up to 8
        assertOffsets(layout, List.of("b", "s", "c", "i", "l", "f", "d", "z"), 0, 2, 4, 8, 16, 24, 32, 40);
        assertEquals(48, layout.byteSize());
        assertEquals(8, layout.byteAlignment());
        for (String name : List.of("s", "c", "i", "l", "f", "d")) {
            long offset = layout.layout().byteOffset(PathElement.groupElement(name));
            long size = layout.layout().select(PathElement.groupElement(name)).byteSize();
            assertEquals(0, offset % size, name + " is aligned to its size, as the JDK's layouts require");
        }
    }

    @Test
    void aNestedRecordIsAStructAlignedAsItsWidestMember() {
        RecordLayout<Outer> layout = RecordLayout.of(Outer.class);
        // first@0, inner@8 (tag@8, value@16), last@24, size 32
        assertOffsets(layout, List.of("first", "inner", "last"), 0, 8, 24);
        assertEquals(16, layout.layout().byteOffset(PathElement.groupElement("inner"), PathElement.groupElement("value")));
        assertEquals(32, layout.byteSize());
    }

    @Test
    void fixedLengthStringsAndArraysTakeTheirLengthAlignedAsOneElement() {
        RecordLayout<Fixed> layout = RecordLayout.of(Fixed.class);
        // name 5@0, ints 3x4@8, pad@20, doubles 2x8@24, bytes 4@40, shorts 2x2@44, chars 2x2@48, longs 2x8@56, floats 2x4@72
        assertOffsets(layout, List.of("name", "ints", "pad", "doubles", "bytes", "shorts", "chars", "longs", "floats"),
                0, 8, 20, 24, 40, 44, 48, 56, 72);
        assertEquals(80, layout.byteSize());
    }

    @Test
    void randomValuesRoundTrip() {
        Random random = new Random(42);
        RecordLayout<Primitives> primitives = RecordLayout.of(Primitives.class);
        RecordLayout<Outer> outer = RecordLayout.of(Outer.class);
        RecordLayout<Fixed> fixed = RecordLayout.of(Fixed.class);
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment segment = arena.allocate(256, 8);
            for (int round = 0; round < 2_000; round++) {
                Primitives p = new Primitives((byte) random.nextInt(), (short) random.nextInt(), (char) random.nextInt(),
                        random.nextInt(), random.nextLong(), random.nextFloat(), random.nextDouble(), random.nextBoolean());
                primitives.write(segment, 8, p);
                assertEquals(p, primitives.read(segment, 8));
                Outer o = new Outer((byte) random.nextInt(), new Inner((byte) random.nextInt(), random.nextLong()),
                        (short) random.nextInt());
                outer.write(segment, 64, o);
                assertEquals(o, outer.read(segment, 64));
                String name = Integer.toString(random.nextInt(100_000), 36);
                Fixed f = new Fixed(name, new int[]{random.nextInt(), random.nextInt(), random.nextInt()},
                        (byte) random.nextInt(), new double[]{random.nextDouble(), -0.0},
                        new byte[]{1, (byte) random.nextInt(), 3, 4}, new short[]{(short) random.nextInt(), 2},
                        new char[]{'x', (char) random.nextInt()}, new long[]{random.nextLong(), Long.MIN_VALUE},
                        new float[]{Float.NaN, random.nextFloat()});
                fixed.write(segment, 128, f);
                assertEquals(f, fixed.read(segment, 128));
            }
        }
    }

    @Test
    void valuesAreLittleEndianAtTheDocumentedOffsets() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment segment = arena.allocate(64, 8);
            RecordLayout.of(Price.class).write(segment, 0, new Price(0x0102030405060708L, 0x0a0b0c0d));
            assertEquals(0x08, segment.get(ValueLayout.JAVA_BYTE, 0));
            assertEquals(0x01, segment.get(ValueLayout.JAVA_BYTE, 7));
            assertEquals(0x0d, segment.get(ValueLayout.JAVA_BYTE, 8));
        }
    }

    record Boxed(Integer value) {
    }

    record Listed(List<String> values) {
    }

    record Unsized(String name) {
    }

    record Booleans(@FixedLength(2) boolean[] flags) {
    }

    record ZeroLength(@FixedLength(0) byte[] none) {
    }

    record Empty() {
    }

    record Node(long value, Node next) {
    }

    record Deep(long a, Boxed boxed) {
    }

    @Test
    void unsupportedComponentsFailAtOfNamingTheComponent() {
        assertUnsupported(Boxed.class, "Boxed.value");
        assertUnsupported(Listed.class, "Listed.values");
        assertUnsupported(Unsized.class, "Unsized.name");
        assertUnsupported(Booleans.class, "Booleans.flags");
        assertUnsupported(ZeroLength.class, "ZeroLength.none");
        assertUnsupported(Empty.class, "Empty");
        assertUnsupported(Node.class, "Node.next");
        assertUnsupported(Deep.class, "Deep.boxed.value");
    }

    private static void assertUnsupported(Class<? extends Record> type, String component) {
        InvalidParameterException e = assertThrows(InvalidParameterException.class, () -> RecordLayout.of(type));
        assertTrue(e.getMessage().contains("component=" + component), e.getMessage());
    }

    @Test
    void valuesThatDoNotFitAreRefusedBeforeAnythingIsWritten() {
        RecordLayout<Fixed> layout = RecordLayout.of(Fixed.class);
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment segment = arena.allocate(128, 8);
            Fixed tooLong = fixed("sixsix", new int[3]);
            Fixed shortArray = fixed("ok", new int[2]);
            Fixed nul = fixed("a\0", new int[3]);
            Fixed nullName = fixed(null, new int[3]);
            for (Fixed bad : new Fixed[]{tooLong, shortArray, nul, nullName}) {
                assertThrows(InvalidParameterException.class, () -> layout.write(segment, 0, bad));
                assertEquals(0, segment.get(ValueLayout.JAVA_BYTE, 0), "nothing written");
            }
            InvalidParameterException e = assertThrows(InvalidParameterException.class,
                    () -> layout.write(segment, 0, tooLong));
            assertEquals("string too long: component=Fixed.name, bytes=6, fixedLength=5", e.getMessage());
            assertThrows(InvalidParameterException.class, () -> layout.write(segment, 4, fixed("x", new int[3])),
                    "misaligned");
            assertThrows(InvalidParameterException.class, () -> layout.write(segment, 64, fixed("x", new int[3])),
                    "past the end");
        }
    }

    private static Fixed fixed(String name, int[] ints) {
        return new Fixed(name, ints, (byte) 0, new double[2], new byte[4], new short[2], new char[2], new long[2],
                new float[2]);
    }

    @Test
    void aMappingPublishesReadsAndFeedsRecords() {
        RecordLayout<Price> layout = RecordLayout.of(Price.class);
        try (FileMapping mapping = SharedMemory.create(TestNames.unique("records"), 4096)) {
            mapping.publish(64, layout, new Price(100, 1));
            assertEquals(new Price(100, 1), mapping.read(64, layout));
            StepVerifier.create(mapping.values(64, layout).take(3))
                    .expectNext(new Price(100, 1))
                    .then(() -> mapping.publish(64, layout, new Price(101, 2)))
                    .expectNext(new Price(101, 2))
                    .then(() -> {
                        mapping.publish(1024, new byte[]{1}); // elsewhere: no new value
                        mapping.publish(64, layout, new Price(102, 3));
                    })
                    .expectNext(new Price(102, 3))
                    .expectComplete()
                    .verify(Duration.ofSeconds(10));
            long sequence = mapping.sequence();
            assertThrows(InvalidParameterException.class, () -> mapping.publish(60, layout, new Price(1, 1)));
            assertThrows(InvalidParameterException.class, () -> mapping.publish(4096 - 8, layout, new Price(1, 1)));
            assertThrows(InvalidParameterException.class, () -> mapping.read(4, layout));
            assertEquals(sequence, mapping.sequence(), "nothing published");
        }
    }

    @Test
    void valuesHaveNoWindowAChangePublishedFromTheFirstValuesOnNextIsDelivered() {
        RecordLayout<Price> layout = RecordLayout.of(Price.class);
        try (FileMapping mapping = SharedMemory.create(TestNames.unique("records-window"), 4096)) {
            mapping.publish(0, layout, new Price(1, 1));
            StepVerifier.create(mapping.values(0, layout)
                            .doOnNext(p -> {
                                if (p.price() == 1) {
                                    mapping.publish(0, layout, new Price(2, 2)); // right after the first copy
                                }
                            })
                            .take(2))
                    .expectNext(new Price(1, 1), new Price(2, 2))
                    .expectComplete()
                    .verify(Duration.ofSeconds(10));
        }
    }

    @Test
    void aFixedStringPublishedTooLongIsRefusedAndNothingIsPublished() {
        RecordLayout<Fixed> layout = RecordLayout.of(Fixed.class);
        try (FileMapping mapping = SharedMemory.create(TestNames.unique("records-bad"), 4096)) {
            assertThrows(InvalidParameterException.class, () -> mapping.publish(0, layout, fixed("toolong", new int[3])));
            assertEquals(0, mapping.sequence());
            assertArrayEquals(new byte[8], mapping.read(0, 8));
        }
    }

    private static void assertOffsets(RecordLayout<?> layout, List<String> names, long... offsets) {
        for (int i = 0; i < names.size(); i++) {
            assertEquals(offsets[i], layout.layout().byteOffset(PathElement.groupElement(names.get(i))), names.get(i));
        }
    }
}
