package io.shmflux.internal.linux;

import org.junit.jupiter.api.Test;

import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.util.HashSet;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ErrnoTest {

    @Test
    void everyConstantHasItsOwnNameAndValue() throws IllegalAccessException {
        Set<Integer> values = new HashSet<>();
        int constants = 0;
        for (Field field : Errno.class.getDeclaredFields()) {
            if (Modifier.isStatic(field.getModifiers()) && field.getType() == int.class) {
                int value = field.getInt(null);
                assertEquals(field.getName(), Errno.name(value));
                assertTrue(values.add(value), "two constants with the value " + value);
                constants++;
            }
        }
        assertTrue(constants > 30, "constants=" + constants);
    }

    @Test
    void efaultIsNamedAndUnknownValuesSayTheirNumber() {
        assertEquals("EFAULT", Errno.name(14));
        assertEquals("errno4095", Errno.name(4095));
    }
}
