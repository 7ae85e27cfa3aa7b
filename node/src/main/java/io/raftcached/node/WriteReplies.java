package io.raftcached.node;

import io.netty.buffer.ByteBuf;
import io.raftcached.protocol.MetaArithmeticOutcome;
import io.raftcached.protocol.MetaDeleteOutcome;
import io.raftcached.protocol.MetaResponseWriter;
import io.raftcached.protocol.MetaStoreOutcome;
import io.raftcached.protocol.Replies;
import io.raftcached.protocol.Request;
import io.raftcached.raft.WriteFailedException;
import io.raftcached.store.StoreResult;
import io.raftcached.store.StoreResult.Status;

/**
 * The reply lines of writes, from the result the log applied (the same on every replica) or from
 * the reason the write got none. Classic noreply suppresses every line, as memcached does.
 */
final class WriteReplies {
    static final String SERVER_ERROR_UNKNOWN_OUTCOME =
            "SERVER_ERROR write outcome unknown: no quorum confirmed it in time; it may or may not be applied";
    static final String SERVER_ERROR_NOT_WRITTEN = "SERVER_ERROR not written: no leader reachable in time";
    static final String SERVER_ERROR_INVALID = "SERVER_ERROR the cluster could not apply this command";

    private final NodeStats stats;

    WriteReplies(NodeStats stats) {
        this.stats = stats;
    }

    /** The SERVER_ERROR line for a write that got no result. */
    String failureLine(Throwable failure) {
        stats.writesFailed.increment();
        if (WriteFailedException.outcomeUnknown(failure)) {
            stats.writesOutcomeUnknown.increment();
            return SERVER_ERROR_UNKNOWN_OUTCOME;
        }
        Throwable cause = failure.getCause() != null ? failure.getCause() : failure;
        String message = cause.getMessage();
        return message != null && message.startsWith("not written") ? SERVER_ERROR_NOT_WRITTEN
                : "SERVER_ERROR " + (message == null ? "write failed" : message);
    }

    /** Errors every write may get, in memcached's words; null if the status is not one of them. */
    private String errorLine(StoreResult result, boolean storing) {
        return switch (result.status) {
            case TOO_LARGE -> {
                stats.storeTooLarge.increment();
                yield Replies.SERVER_ERROR_TOO_LARGE;
            }
            case OUT_OF_MEMORY -> {
                stats.storeNoMemory.increment();
                yield storing ? Replies.SERVER_ERROR_OUT_OF_MEMORY_STORING : Replies.SERVER_ERROR_OUT_OF_MEMORY;
            }
            case NON_NUMERIC -> Replies.CLIENT_ERROR_NON_NUMERIC;
            case INVALID -> SERVER_ERROR_INVALID;
            default -> null;
        };
    }

    void storage(ByteBuf out, Request request, StoreResult result) {
        String error = errorLine(result, true);
        boolean cas = request.type() == io.raftcached.protocol.CommandType.CAS;
        if (cas) {
            switch (result.status) {
                case STORED -> stats.casHits.increment();
                case EXISTS -> stats.casBadValue.increment();
                case NOT_FOUND -> stats.casMisses.increment();
                default -> { }
            }
        }
        if (request.noreply()) {
            return;
        }
        if (error != null) {
            Replies.writeLine(out, error);
            return;
        }
        Replies.writeLine(out, switch (result.status) {
            case STORED -> "STORED";
            case EXISTS -> "EXISTS";
            case NOT_FOUND -> "NOT_FOUND";
            default -> "NOT_STORED";
        });
    }

    void delete(ByteBuf out, Request request, StoreResult result) {
        (result.status == Status.DELETED ? stats.deleteHits : stats.deleteMisses).increment();
        String error = errorLine(result, false);
        if (!request.noreply()) {
            Replies.writeLine(out, error != null ? error : result.status == Status.DELETED ? "DELETED" : "NOT_FOUND");
        }
    }

    void arithmetic(ByteBuf out, Request request, StoreResult result, boolean increment) {
        if (result.status == Status.NUMBER) {
            (increment ? stats.incrHits : stats.decrHits).increment();
        } else if (result.status == Status.NOT_FOUND) {
            (increment ? stats.incrMisses : stats.decrMisses).increment();
        }
        String error = errorLine(result, false);
        if (request.noreply()) {
            return;
        }
        if (error != null) {
            Replies.writeLine(out, error);
        } else if (result.status == Status.NUMBER) {
            Replies.writeNumber(out, result.number);
        } else {
            Replies.writeLine(out, "NOT_FOUND");
        }
    }

    void touch(ByteBuf out, Request request, StoreResult result) {
        stats.touchCommands.increment();
        (result.status == Status.TOUCHED ? stats.touchHits : stats.touchMisses).increment();
        String error = errorLine(result, false);
        if (!request.noreply()) {
            Replies.writeLine(out, error != null ? error : result.status == Status.TOUCHED ? "TOUCHED" : "NOT_FOUND");
        }
    }

    void metaSet(ByteBuf out, Request request, StoreResult result) {
        String error = errorLine(result, true);
        if (error != null) {
            Replies.writeLine(out, error);   // meta commands always return errors, q or not
            return;
        }
        MetaStoreOutcome outcome = switch (result.status) {
            case STORED -> MetaStoreOutcome.STORED;
            case EXISTS -> MetaStoreOutcome.EXISTS;
            case NOT_FOUND -> MetaStoreOutcome.NOT_FOUND;
            default -> MetaStoreOutcome.NOT_STORED;
        };
        MetaResponseWriter.writeSet(out, request, outcome, result.cas);
    }

    void metaDelete(ByteBuf out, Request request, StoreResult result) {
        String error = errorLine(result, false);
        if (error != null) {
            Replies.writeLine(out, error);
            return;
        }
        (result.status == Status.DELETED ? stats.deleteHits : stats.deleteMisses).increment();
        MetaResponseWriter.writeDelete(out, request, switch (result.status) {
            case DELETED -> MetaDeleteOutcome.DELETED;
            case EXISTS -> MetaDeleteOutcome.EXISTS;
            default -> MetaDeleteOutcome.NOT_FOUND;
        });
    }

    void metaArithmetic(ByteBuf out, Request request, StoreResult result) {
        // memcached counts ma as incr/decr: a hit (not one N created), a miss (not one N then created)
        boolean increment = request.metaIncrement();
        if (result.status == Status.NUMBER && !result.created) {
            (increment ? stats.incrHits : stats.decrHits).increment();
        } else if (result.status == Status.NOT_FOUND) {
            (increment ? stats.incrMisses : stats.decrMisses).increment();
        }
        String error = errorLine(result, false);
        if (result.status == Status.OUT_OF_MEMORY) {
            error = "SERVER_ERROR Out of memory allocating new item";   // memcached's words for ma N
        }
        if (error != null) {
            Replies.writeLine(out, error);
            return;
        }
        MetaArithmeticOutcome outcome = switch (result.status) {
            case NUMBER -> result.created ? MetaArithmeticOutcome.CREATED : MetaArithmeticOutcome.UPDATED;
            case EXISTS -> MetaArithmeticOutcome.EXISTS;
            default -> MetaArithmeticOutcome.NOT_FOUND;
        };
        boolean found = result.status == Status.NUMBER;
        MetaResponseWriter.writeArithmetic(out, request, outcome, result.number,
                found ? MetaViews.of(request.key(), result, MetaViews.LocalFacts.NONE) : null);
    }
}
