package io.shmflux;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * The size in shared memory of a record component that has none of its own, for
 * {@link RecordLayout}: the number of elements of an array component ({@code byte[]}, {@code short[]},
 * {@code char[]}, {@code int[]}, {@code long[]}, {@code float[]}, {@code double[]}, {@code boolean[]}),
 * or the number of UTF-8 bytes of a {@code String} component.
 *
 * {@snippet :
 * record Quote(@FixedLength(8) String symbol, long price, int quantity) { }
 * }
 *
 * In Kotlin, on a {@code @JvmRecord} class: {@code @FixedLength(8) val symbol: String}.
 */
@Documented
@Retention(RetentionPolicy.RUNTIME)
@Target({ElementType.RECORD_COMPONENT, ElementType.PARAMETER, ElementType.FIELD, ElementType.METHOD})
public @interface FixedLength {

    /** {@return the elements of an array, or the UTF-8 bytes of a string; at least 1} */
    int value();
}
