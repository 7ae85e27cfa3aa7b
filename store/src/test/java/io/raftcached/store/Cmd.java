package io.raftcached.store;

import com.google.protobuf.ByteString;
import io.raftcached.proto.Command;
import io.raftcached.proto.CommandOption;
import io.raftcached.proto.Op;
import io.raftcached.proto.StoreMode;
import java.nio.charset.StandardCharsets;

/** Builds store commands the way the node will for each memcached command, for tests. */
final class Cmd {
    private Cmd() {}

    static ByteString bytes(String s) {
        return ByteString.copyFrom(s, StandardCharsets.UTF_8);
    }

    static Command store(StoreMode mode, String key, String value, int flags, long exptime) {
        return Command.newBuilder().setOp(Op.STORE).setMode(mode).setKey(bytes(key)).setValue(bytes(value))
                .setClientFlags(flags).setExptime(exptime).build();
    }

    static Command set(String key, String value) {
        return store(StoreMode.MODE_SET, key, value, 0, 0);
    }

    static Command set(String key, String value, int flags, long exptime) {
        return store(StoreMode.MODE_SET, key, value, flags, exptime);
    }

    static Command cas(String key, String value, long casUnique) {
        return store(StoreMode.MODE_CAS, key, value, 0, 0).toBuilder()
                .setCompareCas(casUnique).setOptions(CommandOption.HAS_COMPARE_CAS_VALUE).build();
    }

    static Command delete(String key) {
        return Command.newBuilder().setOp(Op.DELETE).setKey(bytes(key)).build();
    }

    static Command incr(String key, long delta) {
        return Command.newBuilder().setOp(Op.ARITH).setKey(bytes(key)).setDelta(delta).build();
    }

    static Command decr(String key, long delta) {
        return incr(key, delta).toBuilder().setOptions(CommandOption.DECREMENT_VALUE).build();
    }

    static Command touch(String key, long exptime) {
        return Command.newBuilder().setOp(Op.TOUCH).setKey(bytes(key)).setExptime(exptime).build();
    }

    static Command gat(String key, long exptime) {
        return Command.newBuilder().setOp(Op.GET_TOUCH).setKey(bytes(key)).setExptime(exptime).build();
    }

    static Command flushAll(long delay) {
        return Command.newBuilder().setOp(Op.FLUSH_ALL).setExptime(delay).build();
    }
}
