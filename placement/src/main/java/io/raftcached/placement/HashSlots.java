package io.raftcached.placement;

import com.google.protobuf.ByteString;

/**
 * The fixed hash slots keys fall into, Redis Cluster's: CRC16 (XMODEM) of the whole key, modulo
 * 16 384. Groups own slots, never keys, so moving the key space between groups moves slot numbers,
 * and the function below may never change: every node of every version must agree on a key's slot.
 * memcached has no hash tags, so unlike Redis the whole key is hashed.
 */
public final class HashSlots {
    /** Enough slots that a few hundred groups still split the key space evenly; a slot table costs 32 KB. */
    public static final int SLOT_COUNT = 16_384;

    private static final int[] CRC16_TABLE = crc16Table();

    private HashSlots() {}

    public static int slotOf(byte[] key) {
        return slotOf(key, 0, key.length);
    }

    public static int slotOf(byte[] key, int offset, int lengthBytes) {
        int crc = 0;
        for (int i = offset; i < offset + lengthBytes; i++) {
            crc = update(crc, key[i]);
        }
        return crc & (SLOT_COUNT - 1);
    }

    /** The slot of a key held in a log entry's command, read in place rather than copied out. */
    public static int slotOf(ByteString key) {
        int crc = 0;
        for (int i = 0; i < key.size(); i++) {
            crc = update(crc, key.byteAt(i));
        }
        return crc & (SLOT_COUNT - 1);
    }

    private static int update(int crc, byte next) {
        return ((crc << 8) ^ CRC16_TABLE[((crc >>> 8) ^ next) & 0xff]) & 0xffff;
    }

    /**
     * The first slot of group {@code ordinal} (0-based) when {@code groupCount} groups split the
     * slots into contiguous ranges of equal size, within one.
     */
    static int rangeStart(int ordinal, int groupCount) {
        return (int) ((long) ordinal * SLOT_COUNT / groupCount);
    }

    private static int[] crc16Table() {
        int[] table = new int[256];
        for (int i = 0; i < 256; i++) {
            int crc = i << 8;
            for (int bit = 0; bit < 8; bit++) {
                crc = (crc & 0x8000) != 0 ? (crc << 1) ^ 0x1021 : crc << 1;
            }
            table[i] = crc & 0xffff;
        }
        return table;
    }
}
