package io.raftcached.node;

import io.netty.buffer.ByteBuf;
import io.netty.channel.EventLoop;
import io.raftcached.proto.Command;
import io.raftcached.protocol.CommandType;
import io.raftcached.protocol.MetaResponseWriter;
import io.raftcached.protocol.Replies;
import io.raftcached.protocol.Request;
import io.raftcached.raft.ReadPermission;
import io.raftcached.raft.ReplicatedCache;
import io.raftcached.store.Store;
import io.raftcached.store.StoreResult;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * Executes one request: a read against the local store right away, a write through the Raft log
 * (answered once this node has applied it), or a command the node answers itself. Shared by all
 * connections of a listener; runs on their event loops.
 */
final class RequestExecutor {
    /** Writes a reply once its result is known; runs on the connection's event loop. */
    @FunctionalInterface
    interface Reply {
        void writeTo(ByteBuf out);
    }

    static final String SERVER_ERROR_NOT_READY = "SERVER_ERROR node is catching up with the cluster; reads resume when it has";
    static final String SERVER_ERROR_STALE = "SERVER_ERROR no leader confirmed within --max-staleness-ms; not serving possibly stale reads";
    static final String SERVER_ERROR_FAILED = "SERVER_ERROR this node's Raft instance stopped; see its log and stats raft_failure";
    static final String SERVER_ERROR_NO_QUORUM_READ = "SERVER_ERROR linearizable read failed: no quorum confirmed it";

    private final ReplicatedCache cluster;
    private final ServerConfig config;
    private final NodeStats stats;
    private final WriteReplies writeReplies;
    private final AdminCommands admin;
    private final boolean linearizable;
    private final ThreadLocal<NativeCopy> copies = ThreadLocal.withInitial(NativeCopy::new);

    RequestExecutor(ReplicatedCache cluster, ServerConfig config, NodeStats stats, AdminCommands admin, boolean linearizable) {
        this.cluster = cluster;
        this.config = config;
        this.stats = stats;
        this.writeReplies = new WriteReplies(stats);
        this.admin = admin;
        this.linearizable = linearizable;
    }

    /** Whether the node takes another write now; if not, {@code onRoom} runs when it does. */
    boolean admitsWrite(Runnable onRoom) {
        return cluster.admitsWrite(onRoom);
    }

    /** Writes go through the log, in the connection's order, without waiting for earlier replies. */
    static boolean isWrite(Request request) {
        return switch (request.type()) {
            case SET, ADD, REPLACE, APPEND, PREPEND, CAS, DELETE, INCR, DECR, TOUCH, GAT, GATS, FLUSH_ALL,
                    META_SET, META_DELETE, META_ARITHMETIC -> true;
            case META_GET -> request.meta().hasTouch() || request.meta().hasVivify() || request.meta().hasRecache();
            case ERROR_REPLY -> request.key() != null;
            default -> false;
        };
    }

    /**
     * Executes a request. Returns null when the reply was written to {@code out} already, else a
     * future of the reply (completed on any thread; the caller hops to its event loop).
     */
    CompletableFuture<Reply> execute(Request request, ByteBuf out, EventLoop loop) {
        return switch (request.type()) {
            case GET, GETS -> read(request, out, loop, this::get);
            case META_GET -> isWrite(request) ? metaGetThroughLog(request, MetaViews.LocalFacts.NONE)
                    : read(request, out, loop, this::metaGet);
            case META_DEBUG -> read(request, out, loop, this::metaDebug);
            case META_NOOP -> {
                MetaResponseWriter.writeNoop(out);
                yield null;
            }
            case GAT, GATS -> getAndTouch(request);
            case SET, ADD, REPLACE, APPEND, PREPEND, CAS -> {
                stats.setCommands.increment();
                yield write(LogCommands.storage(request), (buffer, result) -> writeReplies.storage(buffer, request, result), request);
            }
            case DELETE -> write(LogCommands.delete(request), (buffer, result) -> writeReplies.delete(buffer, request, result), request);
            case INCR, DECR -> write(LogCommands.arithmetic(request),
                    (buffer, result) -> writeReplies.arithmetic(buffer, request, result, request.type() == CommandType.INCR), request);
            case TOUCH -> write(LogCommands.touch(request), (buffer, result) -> writeReplies.touch(buffer, request, result), request);
            // memcached 1.6.18 counts cmd_meta for "me" only; ms/md/ma/mg count as the classic commands do
            case META_SET -> {
                stats.setCommands.increment();
                yield write(LogCommands.metaSet(request), (buffer, result) -> writeReplies.metaSet(buffer, request, result), null);
            }
            case META_DELETE -> {
                yield write(LogCommands.metaDelete(request), (buffer, result) -> writeReplies.metaDelete(buffer, request, result), null);
            }
            case META_ARITHMETIC -> {
                yield write(LogCommands.metaArithmetic(request),
                        (buffer, result) -> writeReplies.metaArithmetic(buffer, request, result), null);
            }
            case FLUSH_ALL -> flushAll(request, out);
            case ERROR_REPLY -> errorReply(request, out);
            default -> {
                admin.execute(request, out);
                yield null;
            }
        };
    }

    // --- writes --------------------------------------------------------------------------------

    private interface ResultWriter {
        void write(ByteBuf out, StoreResult result);
    }

    /** Submits a write; the reply comes from its applied result, or names why there is none. */
    private CompletableFuture<Reply> write(Command command, ResultWriter replyWriter, Request classic) {
        boolean silent = classic != null && classic.noreply();
        return cluster.submit(command).handle((result, failure) -> {
            if (failure != null) {
                String line = writeReplies.failureLine(failure);
                return silent ? out -> { } : out -> Replies.writeLine(out, line);
            }
            return out -> replyWriter.write(out, result);
        });
    }

    private CompletableFuture<Reply> flushAll(Request request, ByteBuf out) {
        stats.flushCommands.increment();
        if (config.flags().disableFlushAll) {
            if (!request.noreply()) {
                Replies.writeLine(out, Replies.CLIENT_ERROR_FLUSH_DISABLED);
            }
            return null;
        }
        if (request.errorLine() != null) {
            if (!request.noreply()) {
                Replies.writeLine(out, request.errorLine());
            }
            return null;
        }
        return write(LogCommands.flushAll(request), (buffer, result) -> {
            if (!request.noreply()) {
                Replies.writeLine(buffer, result.status == StoreResult.Status.OK ? "OK" : WriteReplies.SERVER_ERROR_INVALID);
            }
        }, request);
    }

    /** A decoder-detected error; a too-large set still drops the old value through the log first. */
    private CompletableFuture<Reply> errorReply(Request request, ByteBuf out) {
        if (request.key() == null) {
            Replies.writeErrorReply(out, request);
            return null;
        }
        stats.storeTooLarge.increment();
        return cluster.submit(LogCommands.unlinkAfterTooLarge(request.key()))
                .handle((result, failure) -> buffer -> Replies.writeErrorReply(buffer, request));
    }

    /** gat/gats: each key touched through the log, in order; the hits are returned like get's. */
    private CompletableFuture<Reply> getAndTouch(Request request) {
        List<CompletableFuture<StoreResult>> touches = new ArrayList<>(request.keys().size());
        for (byte[] key : request.keys()) {
            touches.add(cluster.submit(LogCommands.getAndTouch(key, request.exptime())));
        }
        boolean withCas = request.type() == CommandType.GATS;
        return CompletableFuture.allOf(touches.toArray(CompletableFuture[]::new)).handle((ignored, failure) -> {
            if (failure != null) {
                String line = writeReplies.failureLine(failure);
                return out -> Replies.writeLine(out, line);
            }
            return out -> {
                for (int i = 0; i < touches.size(); i++) {
                    StoreResult result = touches.get(i).join();
                    stats.touchCommands.increment();
                    if (result.status == StoreResult.Status.HIT) {
                        stats.touchHits.increment();
                        if (request.errorLine() == null) {
                            byte[] key = request.keys().get(i);
                            if (withCas) {
                                Replies.writeValueHeader(out, key, result.clientFlags, result.valueLength, result.cas);
                            } else {
                                Replies.writeValueHeader(out, key, result.clientFlags, result.valueLength);
                            }
                            Replies.writeDataBlock(out, result.value);
                        }
                    } else {
                        stats.touchMisses.increment();
                    }
                }
                Replies.writeLine(out, request.errorLine() != null ? request.errorLine() : "END");
            };
        });
    }

    /** mg that changes the item (T, N, R, or a win token on a stale item) goes through the log. */
    private CompletableFuture<Reply> metaGetThroughLog(Request request, MetaViews.LocalFacts facts) {
        return write(LogCommands.metaGet(request), (out, result) -> {
            if (result.status == StoreResult.Status.HIT && request.meta().hasTouch()) {
                stats.touchCommands.increment();   // memcached counts an mg that touched a hit as a touch
                stats.touchHits.increment();
            } else {
                stats.getCommands.increment();
            }
            if (result.status == StoreResult.Status.HIT) {
                if (!request.meta().hasTouch()) {
                    stats.getHits.increment();
                    admin.countGetHit(result.slabClass);
                }
                MetaResponseWriter.writeGetHit(out, request, MetaViews.of(request.key(), result, facts));
                if (request.meta().returnValue()) {
                    Replies.writeDataBlock(out, result.value);
                }
            } else if (result.status == StoreResult.Status.MISS) {
                stats.getMisses.increment();
                MetaResponseWriter.writeGetMiss(out, request);
            } else {
                Replies.writeLine(out, WriteReplies.SERVER_ERROR_INVALID);
            }
        }, null);
    }

    // --- reads ---------------------------------------------------------------------------------

    private interface LocalRead {
        /** Reads and writes the reply; may instead return a future (mg that must use the log). */
        CompletableFuture<Reply> run(Request request, ByteBuf out);
    }

    /** Runs a local read if this node may serve one, first through ReadIndex if linearizable. */
    private CompletableFuture<Reply> read(Request request, ByteBuf out, EventLoop loop, LocalRead read) {
        ReadPermission permission = cluster.readPermission();
        if (permission == ReadPermission.FAILED) {
            stats.readsRefused.increment();
            Replies.writeLine(out, SERVER_ERROR_FAILED);
            return null;
        }
        if (permission == ReadPermission.NOT_READY && !config.flags().serveStaleWhileCatchingUp) {
            stats.readsRefused.increment();
            Replies.writeLine(out, SERVER_ERROR_NOT_READY);
            return null;
        }
        if (permission == ReadPermission.STALE) {
            stats.readsRefused.increment();
            Replies.writeLine(out, SERVER_ERROR_STALE);
            return null;
        }
        if (!linearizable) {
            return read.run(request, out);
        }
        stats.linearizableReads.increment();
        CompletableFuture<Reply> reply = new CompletableFuture<>();
        cluster.linearizableBarrier().whenComplete((ignored, failure) -> loop.execute(() -> {
            if (failure != null) {
                reply.complete(buffer -> Replies.writeLine(buffer, SERVER_ERROR_NO_QUORUM_READ));
                return;
            }
            // The read runs now, on the event loop, into a buffer of its own.
            ByteBuf buffer = io.netty.buffer.Unpooled.buffer();
            CompletableFuture<Reply> later = read.run(request, buffer);
            if (later != null) {
                buffer.release();
                later.whenComplete((r, f) -> reply.complete(r));
            } else {
                reply.complete(target -> {
                    target.writeBytes(buffer);
                    buffer.release();
                });
            }
        }));
        return reply;
    }

    private CompletableFuture<Reply> get(Request request, ByteBuf out) {
        if (request.errorLine() != null) {
            Replies.writeLine(out, request.errorLine());
            return null;
        }
        long now = cluster.readClockMillis();
        boolean withCas = request.type() == CommandType.GETS;
        NativeCopy copy = copies.get().into(out);
        for (byte[] key : request.keys()) {
            stats.getCommands.increment();
            Store.ReadOutcome outcome = cluster.read(key, now, true, item -> {
                admin.countGetHit(item.slabClass());
                if (withCas) {
                    Replies.writeValueHeader(out, key, item.clientFlags(), item.valueLength(), item.cas());
                } else {
                    Replies.writeValueHeader(out, key, item.clientFlags(), item.valueLength());
                }
                item.writeValueWithCrlf(copy);
            });
            countRead(outcome);
        }
        Replies.writeLine(out, "END");
        return null;
    }

    private void countRead(Store.ReadOutcome outcome) {
        switch (outcome) {
            case HIT -> stats.getHits.increment();
            case EXPIRED -> {
                stats.getExpired.increment();
                stats.getMisses.increment();
            }
            case FLUSHED -> {
                stats.getFlushed.increment();
                stats.getMisses.increment();
            }
            default -> stats.getMisses.increment();
        }
    }

    private CompletableFuture<Reply> metaGet(Request request, ByteBuf out) {
        long now = cluster.readClockMillis();
        boolean[] mustUseLog = {false};
        MetaViews.LocalFacts[] facts = {MetaViews.LocalFacts.NONE};
        NativeCopy copy = copies.get().into(out);
        Store.ReadOutcome outcome = cluster.read(request.key(), now, !request.meta().noLruBump(), item -> {
            if (item.stale() && !item.tokenSent()) {
                // This mg hands out the win token: a change to the item, so it goes through the log.
                mustUseLog[0] = true;
                facts[0] = new MetaViews.LocalFacts(item.fetched(), item.secondsSinceLastAccess());
                return;
            }
            admin.countGetHit(item.slabClass());
            MetaResponseWriter.writeGetHit(out, request, MetaViews.of(request.key(), item, now));
            if (request.meta().returnValue()) {
                item.writeValueWithCrlf(copy);
            }
        });
        if (mustUseLog[0]) {
            return metaGetThroughLog(request, facts[0]);
        }
        stats.getCommands.increment();
        countRead(outcome);
        if (outcome != Store.ReadOutcome.HIT) {
            MetaResponseWriter.writeGetMiss(out, request);
        }
        return null;
    }

    private CompletableFuture<Reply> metaDebug(Request request, ByteBuf out) {
        stats.metaCommands.increment();
        long now = cluster.readClockMillis();
        Store.ReadOutcome outcome = cluster.read(request.key(), now, false, item ->
                MetaResponseWriter.writeDebug(out, MetaViews.of(request.key(), item, now), item.slabClass(), item.totalSizeBytes()));
        if (outcome != Store.ReadOutcome.HIT) {
            MetaResponseWriter.writeDebugMiss(out);
        }
        return null;
    }
}
