package io.raftcached.store;

import java.lang.reflect.Field;
import java.nio.Buffer;
import java.nio.ByteBuffer;
import sun.misc.Unsafe;

/**
 * Raw off-heap memory access. Item memory lives outside the Java heap so that a full cache adds
 * nothing for the garbage collector to scan; this is the one place that touches {@link Unsafe}.
 * Callers pass absolute addresses obtained from {@link SlabPages}; {@code base == null} addresses
 * native memory, a {@code byte[]} base with {@link #BYTE_ARRAY_OFFSET} addresses an array.
 */
final class OffHeap {
    static final Unsafe UNSAFE = loadUnsafe();
    static final long BYTE_ARRAY_OFFSET = UNSAFE.arrayBaseOffset(byte[].class);
    private static final long BUFFER_ADDRESS_OFFSET = bufferAddressOffset();

    private OffHeap() {}

    private static Unsafe loadUnsafe() {
        try {
            Field field = Unsafe.class.getDeclaredField("theUnsafe");
            field.setAccessible(true);
            return (Unsafe) field.get(null);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    private static long bufferAddressOffset() {
        try {
            return UNSAFE.objectFieldOffset(Buffer.class.getDeclaredField("address"));
        } catch (NoSuchFieldException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    /** The native address of a direct buffer's first byte (index 0, not its position). */
    static long addressOf(ByteBuffer direct) {
        assert direct.isDirect() : "not a direct buffer";
        return UNSAFE.getLong(direct, BUFFER_ADDRESS_OFFSET);
    }

    static long allocate(long sizeBytes) {
        return UNSAFE.allocateMemory(sizeBytes);
    }

    static long allocateZeroed(long sizeBytes) {
        long address = UNSAFE.allocateMemory(sizeBytes);
        UNSAFE.setMemory(address, sizeBytes, (byte) 0);
        return address;
    }

    static void free(long address) {
        UNSAFE.freeMemory(address);
    }

    static long getLong(long address) {
        return UNSAFE.getLong(address);
    }

    static void putLong(long address, long value) {
        UNSAFE.putLong(address, value);
    }

    /** Acquire load: pairs with {@link #putLongRelease} so a reader sees a fully written item. */
    static long getLongAcquire(long address) {
        return UNSAFE.getLongVolatile(null, address);
    }

    /** Release store: everything written before is visible to a reader that acquires this value. */
    static void putLongRelease(long address, long value) {
        UNSAFE.putOrderedLong(null, address, value);
    }

    static int getInt(long address) {
        return UNSAFE.getInt(address);
    }

    static void putInt(long address, int value) {
        UNSAFE.putInt(address, value);
    }

    static byte getByte(long address) {
        return UNSAFE.getByte(address);
    }

    static void putByte(long address, byte value) {
        UNSAFE.putByte(address, value);
    }

    static void copy(long fromAddress, long toAddress, long lengthBytes) {
        UNSAFE.copyMemory(fromAddress, toAddress, lengthBytes);
    }

    static void copyFromArray(byte[] from, int fromOffset, long toAddress, int lengthBytes) {
        UNSAFE.copyMemory(from, BYTE_ARRAY_OFFSET + fromOffset, null, toAddress, lengthBytes);
    }

    static void copyToArray(long fromAddress, byte[] to, int toOffset, int lengthBytes) {
        UNSAFE.copyMemory(null, fromAddress, to, BYTE_ARRAY_OFFSET + toOffset, lengthBytes);
    }

    /** Compares {@code length} bytes of an array with native memory. */
    static boolean equals(byte[] array, long address, int length) {
        int i = 0;
        for (; i + 8 <= length; i += 8) {
            if (UNSAFE.getLong(array, BYTE_ARRAY_OFFSET + i) != UNSAFE.getLong(address + i)) {
                return false;
            }
        }
        for (; i < length; i++) {
            if (array[i] != UNSAFE.getByte(address + i)) {
                return false;
            }
        }
        return true;
    }
}
