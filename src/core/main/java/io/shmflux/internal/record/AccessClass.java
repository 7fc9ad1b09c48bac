package io.shmflux.internal.record;

import java.lang.classfile.ClassFile;
import java.lang.constant.ClassDesc;
import java.lang.constant.ConstantDescs;
import java.lang.constant.DynamicConstantDesc;
import java.lang.constant.MethodTypeDesc;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;

import static java.lang.constant.ConstantDescs.CD_Object;
import static java.lang.constant.ConstantDescs.CD_long;
import static java.lang.constant.ConstantDescs.CD_void;

/**
 * Defines the hidden class behind {@link RecordCodec.Access} for one record type: three
 * {@code static final} method handles (from the class data) and three methods that call them with
 * {@code invokeExact}. Nothing else: all the work is in the handles.
 */
final class AccessClass {

    private static final MethodHandles.Lookup LOOKUP = MethodHandles.lookup();
    private static final ClassDesc CD_METHOD_HANDLE = ConstantDescs.CD_MethodHandle;
    private static final ClassDesc CD_SEGMENT = ClassDesc.of(MemorySegment.class.getName());
    private static final ClassDesc CD_ACCESS = ClassDesc.of(RecordCodec.Access.class.getName());
    private static final MethodTypeDesc DECODE = MethodTypeDesc.of(CD_Object, CD_SEGMENT, CD_long);
    private static final MethodTypeDesc ENCODE = MethodTypeDesc.of(CD_void, CD_SEGMENT, CD_long, CD_Object);
    private static final MethodTypeDesc VALIDATE = MethodTypeDesc.of(CD_void, CD_Object);
    private static final AtomicLong COUNT = new AtomicLong();

    private AccessClass() {
    }

    /**
     * @param decoder   {@code (MemorySegment, long)Object}
     * @param encoder   {@code (MemorySegment, long, Object)void}
     * @param validator {@code (Object)void}
     */
    static RecordCodec.Access define(MethodHandle decoder, MethodHandle encoder, MethodHandle validator) {
        ClassDesc self = ClassDesc.of(AccessClass.class.getPackageName(), "RecordAccess" + COUNT.incrementAndGet());
        byte[] bytes = ClassFile.of().build(self, c -> {
            c.withFlags(ClassFile.ACC_FINAL | ClassFile.ACC_SYNTHETIC);
            c.withInterfaceSymbols(CD_ACCESS);
            String[] names = {"DECODE", "ENCODE", "VALIDATE"};
            for (String name : names) {
                c.withField(name, CD_METHOD_HANDLE, ClassFile.ACC_PRIVATE | ClassFile.ACC_STATIC | ClassFile.ACC_FINAL);
            }
            c.withMethodBody("<clinit>", MethodTypeDesc.of(CD_void), ClassFile.ACC_STATIC, code -> {
                for (int i = 0; i < names.length; i++) {
                    code.ldc(DynamicConstantDesc.ofNamed(ConstantDescs.BSM_CLASS_DATA_AT, ConstantDescs.DEFAULT_NAME,
                            CD_METHOD_HANDLE, i));
                    code.putstatic(self, names[i], CD_METHOD_HANDLE);
                }
                code.return_();
            });
            c.withMethodBody("<init>", MethodTypeDesc.of(CD_void), ClassFile.ACC_PUBLIC, code -> {
                code.aload(0);
                code.invokespecial(CD_Object, "<init>", MethodTypeDesc.of(CD_void));
                code.return_();
            });
            c.withMethodBody("decode", DECODE, ClassFile.ACC_PUBLIC, code -> {
                code.getstatic(self, "DECODE", CD_METHOD_HANDLE);
                code.aload(1);
                code.lload(2);
                code.invokevirtual(CD_METHOD_HANDLE, "invokeExact", DECODE);
                code.areturn();
            });
            c.withMethodBody("encode", ENCODE, ClassFile.ACC_PUBLIC, code -> {
                code.getstatic(self, "ENCODE", CD_METHOD_HANDLE);
                code.aload(1);
                code.lload(2);
                code.aload(4);
                code.invokevirtual(CD_METHOD_HANDLE, "invokeExact", ENCODE);
                code.return_();
            });
            c.withMethodBody("validate", VALIDATE, ClassFile.ACC_PUBLIC, code -> {
                code.getstatic(self, "VALIDATE", CD_METHOD_HANDLE);
                code.aload(1);
                code.invokevirtual(CD_METHOD_HANDLE, "invokeExact", VALIDATE);
                code.return_();
            });
        });
        try {
            MethodHandles.Lookup hidden = LOOKUP.defineHiddenClassWithClassData(bytes,
                    List.of(decoder, encoder, validator), true);
            return (RecordCodec.Access) hidden.findConstructor(hidden.lookupClass(), MethodType.methodType(void.class))
                    .invoke();
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable e) {
            throw new IllegalStateException("cannot define the record access class: " + e, e);
        }
    }
}
