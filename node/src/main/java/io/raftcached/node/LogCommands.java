package io.raftcached.node;

import com.google.protobuf.ByteString;
import com.google.protobuf.UnsafeByteOperations;
import io.raftcached.proto.Command;
import io.raftcached.proto.CommandOption;
import io.raftcached.proto.Op;
import io.raftcached.proto.StoreMode;
import io.raftcached.protocol.CommandType;
import io.raftcached.protocol.MetaFlags;
import io.raftcached.protocol.Request;
import java.nio.charset.StandardCharsets;

/**
 * Turns a client's write into the replicated {@link Command} the log carries. Values are kept as
 * the client sent them — exptimes raw, the 30-day rule applied at apply time — so the command
 * means the same on every replica whatever its clock.
 */
final class LogCommands {
    private LogCommands() {}

    private static ByteString bytes(byte[] array) {
        // The decoder hands over arrays it never touches again, so they can back the message.
        return UnsafeByteOperations.unsafeWrap(array);
    }

    /** set add replace append prepend cas. */
    static Command storage(Request request) {
        Command.Builder command = Command.newBuilder().setOp(Op.STORE).setKey(bytes(request.key()))
                .setValue(bytes(request.value())).setClientFlags(request.clientFlags()).setExptime(request.exptime());
        switch (request.type()) {
            case ADD -> command.setMode(StoreMode.MODE_ADD);
            case REPLACE -> command.setMode(StoreMode.MODE_REPLACE);
            case APPEND -> command.setMode(StoreMode.MODE_APPEND);
            case PREPEND -> command.setMode(StoreMode.MODE_PREPEND);
            case CAS -> command.setMode(StoreMode.MODE_CAS).setCompareCas(request.casUnique())
                    .setOptions(CommandOption.HAS_COMPARE_CAS_VALUE);
            default -> command.setMode(StoreMode.MODE_SET);
        }
        return command.build();
    }

    /** A set or ms refused as too large still drops the key's old value, as memcached does. */
    static Command unlinkAfterTooLarge(byte[] key) {
        return Command.newBuilder().setOp(Op.STORE).setMode(StoreMode.MODE_SET).setKey(bytes(key))
                .setOptions(CommandOption.VALUE_TOO_LARGE_VALUE).build();
    }

    static Command delete(Request request) {
        return Command.newBuilder().setOp(Op.DELETE).setKey(bytes(request.key())).build();
    }

    static Command arithmetic(Request request) {
        Command.Builder command = Command.newBuilder().setOp(Op.ARITH).setKey(bytes(request.key()))
                .setDelta(request.delta());
        if (request.type() == CommandType.DECR) {
            command.setOptions(CommandOption.DECREMENT_VALUE);
        }
        return command.build();
    }

    static Command touch(Request request) {
        return Command.newBuilder().setOp(Op.TOUCH).setKey(bytes(request.key())).setExptime(request.exptime()).build();
    }

    static Command getAndTouch(byte[] key, int exptime) {
        return Command.newBuilder().setOp(Op.GET_TOUCH).setKey(bytes(key)).setExptime(exptime).build();
    }

    static Command flushAll(Request request) {
        return Command.newBuilder().setOp(Op.FLUSH_ALL).setExptime(request.exptime()).build();
    }

    static Command metaSet(Request request) {
        MetaFlags meta = request.meta();
        Command.Builder command = Command.newBuilder().setOp(Op.STORE).setKey(bytes(request.key()))
                .setValue(bytes(request.value())).setClientFlags(meta.clientFlags());
        if (meta.hasTouch()) {
            command.setExptime(meta.touchExptime());
        }
        command.setMode(switch (request.metaSetMode()) {
            case ADD -> StoreMode.MODE_ADD;
            case REPLACE -> StoreMode.MODE_REPLACE;
            case APPEND -> StoreMode.MODE_APPEND;
            case PREPEND -> StoreMode.MODE_PREPEND;
            case CAS -> StoreMode.MODE_CAS;
            default -> StoreMode.MODE_SET;
        });
        int options = CommandOption.META_COMMAND_VALUE | common(meta, command);
        if (meta.invalidate()) {
            options |= CommandOption.INVALIDATE_VALUE;
        }
        return command.setOptions(options).build();
    }

    static Command metaDelete(Request request) {
        MetaFlags meta = request.meta();
        Command.Builder command = Command.newBuilder().setOp(Op.DELETE).setKey(bytes(request.key()));
        int options = CommandOption.META_COMMAND_VALUE | common(meta, command);
        if (meta.invalidate()) {
            options |= CommandOption.INVALIDATE_VALUE;
            if (meta.hasTouch()) {
                options |= CommandOption.HAS_EXPTIME_VALUE;
                command.setExptime(meta.touchExptime());
            }
        }
        return command.setOptions(options).build();
    }

    static Command metaArithmetic(Request request) {
        MetaFlags meta = request.meta();
        Command.Builder command = Command.newBuilder().setOp(Op.ARITH).setKey(bytes(request.key()))
                .setDelta(meta.delta()).setFlagOrder(new String(meta.order(), StandardCharsets.ISO_8859_1));
        int options = CommandOption.META_COMMAND_VALUE | common(meta, command);
        if (!request.metaIncrement()) {
            options |= CommandOption.DECREMENT_VALUE;
        }
        if (meta.hasVivify()) {
            options |= CommandOption.HAS_VIVIFY_VALUE;
            command.setVivifyExptime(meta.vivifyExptime()).setInitial(meta.initial());
        }
        if (meta.hasTouch()) {
            options |= CommandOption.HAS_EXPTIME_VALUE;
            command.setExptime(meta.touchExptime());
        }
        return command.setOptions(options).build();
    }

    /** mg with T, N or R, or one that may hand out a win token on a stale item. */
    static Command metaGet(Request request) {
        MetaFlags meta = request.meta();
        Command.Builder command = Command.newBuilder().setOp(Op.META_GET).setKey(bytes(request.key()))
                .setFlagOrder(new String(meta.order(), StandardCharsets.ISO_8859_1));
        int options = CommandOption.META_COMMAND_VALUE | common(meta, command);
        if (meta.hasTouch()) {
            options |= CommandOption.HAS_EXPTIME_VALUE;
            command.setExptime(meta.touchExptime());
        }
        if (meta.hasVivify()) {
            options |= CommandOption.HAS_VIVIFY_VALUE;
            command.setVivifyExptime(meta.vivifyExptime());
        }
        if (meta.hasRecache()) {
            options |= CommandOption.HAS_RECACHE_VALUE;
            command.setRecacheExptime(meta.recacheExptime());
        }
        if (meta.noLruBump()) {
            options |= CommandOption.NO_LRU_BUMP_VALUE;
        }
        return command.setOptions(options).build();
    }

    /** Flags every meta write shares: C (compare CAS), E (explicit CAS), b (binary key). */
    private static int common(MetaFlags meta, Command.Builder command) {
        int options = 0;
        if (meta.hasCompareCas()) {
            options |= CommandOption.HAS_COMPARE_CAS_VALUE;
            command.setCompareCas(meta.compareCas());
        }
        if (meta.hasNewCas()) {
            options |= CommandOption.HAS_EXPLICIT_CAS_VALUE;
            command.setExplicitCas(meta.newCas());
        }
        if (meta.keyBinary()) {
            options |= CommandOption.KEY_BINARY_VALUE;
        }
        return options;
    }
}
