package io.raftcached.store;

import io.raftcached.proto.Command;
import io.raftcached.proto.CommandOption;
import io.raftcached.proto.Op;
import io.raftcached.proto.StoreMode;
import java.util.Random;
import java.util.function.ToLongFunction;

/**
 * A seeded stream of memcached writes over a small key space: every classic write, TTLs that
 * expire while the stream runs, numbers for incr/decr, occasional flush_all and large values.
 */
final class RandomCommands {
    private final Random random;
    private final int keySpace;
    private final int valueSizeMax;
    private final ToLongFunction<String> casLookup;
    /** Mostly items without TTL and no flush_all, so a small store fills up and evicts. */
    private final boolean fillMemory;
    private int serial;

    RandomCommands(long seed, int keySpace, int valueSizeMax, boolean fillMemory, ToLongFunction<String> casLookup) {
        this.random = new Random(seed);
        this.fillMemory = fillMemory;
        this.keySpace = keySpace;
        this.valueSizeMax = valueSizeMax;
        this.casLookup = casLookup;
    }

    /** Milliseconds to advance the leader clock before the next command. */
    long nextStepMillis() {
        return random.nextInt(100) == 0 ? 3_000 + random.nextInt(5_000) : random.nextInt(250);
    }

    private String key() {
        return "key:" + random.nextInt(keySpace);
    }

    private String value(String key) {
        int roll = random.nextInt(100);
        if (roll < 20) {
            return Long.toUnsignedString(random.nextInt(3) == 0 ? -1L - random.nextInt(3) : random.nextInt(1000));
        }
        if (roll < 23) {
            return " " + random.nextInt(50) + " ";
        }
        String base = key + "#" + (serial++) + ":";
        int length = roll < 25 ? random.nextInt(valueSizeMax) : random.nextInt(Math.min(valueSizeMax, 2_000));
        StringBuilder text = new StringBuilder(base);
        while (text.length() < length) {
            text.append((char) ('a' + random.nextInt(26)));
        }
        return text.toString();
    }

    private long exptime(long nowSeconds) {
        int roll = random.nextInt(100);
        if (roll < (fillMemory ? 95 : 60)) {
            return 0;
        }
        if (roll < 90) {
            return 1 + random.nextInt(20);
        }
        if (roll < 97) {
            return nowSeconds + 1 + random.nextInt(30);   // absolute
        }
        return -1;
    }

    Command next(long nowSeconds) {
        String key = key();
        int roll = random.nextInt(1000);
        Command.Builder b = Command.newBuilder().setKey(Cmd.bytes(key));
        if (roll < 300) {
            return store(b, StoreMode.MODE_SET, key, nowSeconds);
        } else if (roll < 350) {
            return store(b, StoreMode.MODE_ADD, key, nowSeconds);
        } else if (roll < 400) {
            return store(b, StoreMode.MODE_REPLACE, key, nowSeconds);
        } else if (roll < 450) {
            return store(b, StoreMode.MODE_APPEND, key, nowSeconds);
        } else if (roll < 480) {
            return store(b, StoreMode.MODE_PREPEND, key, nowSeconds);
        } else if (roll < 560) {
            long cas = random.nextBoolean() ? casLookup.applyAsLong(key) : 1 + random.nextInt(100_000);
            return store(b, StoreMode.MODE_CAS, key, nowSeconds).toBuilder()
                    .setCompareCas(cas).setOptions(CommandOption.HAS_COMPARE_CAS_VALUE).build();
        } else if (roll < 640) {
            return b.setOp(Op.DELETE).build();
        } else if (roll < 720) {
            return b.setOp(Op.ARITH).setDelta(random.nextInt(4) == 0 ? -1L - random.nextInt(5) : random.nextInt(100)).build();
        } else if (roll < 770) {
            return b.setOp(Op.ARITH).setDelta(random.nextInt(100)).setOptions(CommandOption.DECREMENT_VALUE).build();
        } else if (roll < 830) {
            return b.setOp(Op.TOUCH).setExptime(exptime(nowSeconds)).build();
        } else if (roll < 890) {
            return b.setOp(Op.GET_TOUCH).setExptime(exptime(nowSeconds)).build();
        } else if (roll < 891 && !fillMemory && random.nextInt(5) == 0) {
            // Immediate flushes only: a delayed flush_all after an immediate one "revives" items
            // memcached has not yet dropped lazily, which no simple model can predict.
            return Command.newBuilder().setOp(Op.FLUSH_ALL).setExptime(random.nextBoolean() ? 0 : -1).build();
        }
        return store(b, StoreMode.MODE_SET, key, nowSeconds);
    }

    private Command store(Command.Builder b, StoreMode mode, String key, long nowSeconds) {
        return b.setOp(Op.STORE).setMode(mode).setValue(Cmd.bytes(value(key)))
                .setClientFlags(random.nextInt(4) == 0 ? random.nextInt() : 0)
                .setExptime(exptime(nowSeconds)).build();
    }
}
