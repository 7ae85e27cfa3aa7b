package io.raftcached.node;

import io.netty.buffer.ByteBuf;
import io.raftcached.proto.Command;
import io.raftcached.protocol.CommandType;
import io.raftcached.protocol.MetaResponseWriter;
import io.raftcached.protocol.Replies;
import io.raftcached.protocol.Request;
import io.raftcached.raft.ReadPermission;
import io.raftcached.raft.ReadRefusedException;
import io.raftcached.raft.RelayedRead;
import io.raftcached.raft.RelayedReads;
import io.raftcached.raft.ReplicatedCache;
import io.raftcached.store.SlabClasses;
import io.raftcached.store.Store;
import io.raftcached.store.StoreResult;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.Executor;
import java.util.function.Consumer;

/**
 * Executes one request: a read against the local replica, a write through the Raft log (answered
 * once this node has applied it), or a command the node answers itself. Shared by all
 * connections of a listener; runs on their event loops.
 *
 * <p>A reply is a {@link Reply} the connection drives into its output. Reads are replies that read
 * as they write, key by key, and stop when the output is full ({@link Output#room()}); the
 * connection calls them again when the client has read. So a multi-get of many large values is
 * streamed through a bounded buffer, never built whole, and always at the head of the
 * connection's queue, where it sees exactly the connection's earlier writes.
 */
final class RequestExecutor {
    /** Where a reply goes. */
    interface Output {
        /** The buffer to write the next piece of a reply into. */
        ByteBuf buffer();

        /**
         * Called by a reply between pieces: hands a full buffer to the socket and says whether the
         * reply may go on now. False: stop, and continue when {@link Reply#writeTo} is called again.
         */
        boolean room();

        /**
         * For a reply that stopped (returned false) to wait for {@code ready} rather than for room:
         * it is written on once {@code ready} completes.
         */
        void resumeWhen(CompletableFuture<?> ready);
    }

    /** A reply; runs on the connection's event loop. */
    @FunctionalInterface
    interface Reply {
        /** Writes (the rest of) the reply; false if it stopped for room and must be called again. */
        boolean writeTo(Output out);

        /** The connection closed before the reply was written out: release what it holds. */
        default void abandon() {
        }
    }

    /** A reply written all at once (its size is small or already bounded). */
    static Reply whole(Consumer<ByteBuf> writer) {
        return out -> {
            writer.accept(out.buffer());
            return true;
        };
    }

    private static final Reply NOTHING = out -> true;
    /** Keys of other nodes' groups a multi-get asks for in one relay. */
    private static final int RELAYED_KEYS_PER_READ = 64;

    /** What executing gave: a reply now, or one once the log or a read barrier answers. */
    record Outcome(Reply now, CompletableFuture<Reply> later) {
        static Outcome now(Reply reply) {
            return new Outcome(reply, null);
        }

        static Outcome later(CompletableFuture<Reply> reply) {
            return new Outcome(null, reply);
        }
    }

    /**
     * How a request is ordered on its connection. A READ runs once every earlier write of the
     * connection is applied; a WRITE is sent to the log once every earlier read has run; a
     * WRITE_THEN_READ (gat) is both: it waits like a write and holds back what follows like a read.
     */
    enum Kind { READ, WRITE, WRITE_THEN_READ }

    /** Reply bytes a write's reply holds besides a value: the status line and echoed flags. */
    private static final long WRITE_REPLY_BYTES = 512;

    static final String SERVER_ERROR_NOT_READY = "SERVER_ERROR node is catching up with the cluster; reads resume when it has";
    static final String SERVER_ERROR_STALE = "SERVER_ERROR no leader confirmed within --max-staleness-ms; not serving possibly stale reads";
    static final String SERVER_ERROR_FAILED = "SERVER_ERROR this node's Raft instance stopped; see its log and stats raft_failure";
    static final String SERVER_ERROR_NO_QUORUM_READ = "SERVER_ERROR linearizable read failed: no quorum confirmed it in time";

    private final ReplicatedCache cluster;
    private final ServerConfig config;
    private final NodeStats stats;
    private final WriteReplies writeReplies;
    private final AdminCommands admin;
    private final MaintenanceCommands maintenance;
    private final Executor walks;
    private final boolean linearizable;
    private final long itemSizeMaxBytes;
    /** For watch lines' clsid of items stored. */
    private final SlabClasses slabClasses;
    private final ThreadLocal<NativeCopy> copies = ThreadLocal.withInitial(NativeCopy::new);

    /** @param walks runs whole-store walks ({@code stats digest}) off the event loops */
    RequestExecutor(ReplicatedCache cluster, ServerConfig config, NodeStats stats, AdminCommands admin, Executor walks,
            boolean linearizable) {
        this.cluster = cluster;
        this.config = config;
        this.stats = stats;
        this.writeReplies = new WriteReplies(stats);
        this.admin = admin;
        this.maintenance = new MaintenanceCommands(cluster, config, stats, walks);
        this.walks = walks;
        this.linearizable = linearizable;
        this.itemSizeMaxBytes = config.store().itemSizeMaxBytes();
        this.slabClasses = new SlabClasses(config.store());
    }

    static Kind kind(Request request) {
        return switch (request.type()) {
            case SET, ADD, REPLACE, APPEND, PREPEND, CAS, DELETE, INCR, DECR, TOUCH, FLUSH_ALL,
                    META_SET, META_DELETE, META_ARITHMETIC -> Kind.WRITE;
            case GAT, GATS -> Kind.WRITE_THEN_READ;
            case META_GET -> metaGetWrites(request) ? Kind.WRITE : Kind.READ;
            case ERROR_REPLY -> request.key() != null ? Kind.WRITE : Kind.READ;
            case ADMIN -> MaintenanceCommands.mayGoThroughLog(request) ? Kind.WRITE : Kind.READ;
            default -> Kind.READ;
        };
    }

    private static boolean metaGetWrites(Request request) {
        return request.meta().hasTouch() || request.meta().hasVivify() || request.meta().hasRecache();
    }

    /**
     * The most reply bytes a request may hold between executing and being written out: reads
     * stream theirs, so none; a meta get through the log carries its value.
     */
    long replyBytesBound(Request request) {
        if (kind(request) != Kind.WRITE) {
            return 0;
        }
        long key = request.key() == null ? 0 : request.key().length;
        return WRITE_REPLY_BYTES + key + (request.type() == CommandType.META_GET ? itemSizeMaxBytes : 0);
    }

    /** Whether the node takes this write now; if not, {@code onRoom} runs when it does. */
    boolean admitsWrite(Request request, Runnable onRoom) {
        long keys = request.key() != null ? request.key().length : request.keys() == null ? 0 : request.keys().size() * 64L;
        return cluster.admitsWrite(request.valueBytes() + keys + WRITE_REPLY_BYTES, onRoom);
    }

    /** Whether this read may wait for a linearizable barrier now; if not, {@code onRoom} runs later. */
    boolean admitsRead(Request request, Runnable onRoom) {
        return !linearizable || kind(request) != Kind.READ || !readsTheStore(request) || cluster.admitsRead(onRoom);
    }

    private static boolean readsTheStore(Request request) {
        return request.type() == CommandType.GET || request.type() == CommandType.GETS
                || request.type() == CommandType.META_GET || request.type() == CommandType.META_DEBUG;
    }

    /**
     * Executes a request. Its value, if any, has moved on when this returns (into the log command,
     * or dropped), so the caller may release what it held for it.
     *
     * @param connection the connection's descriptor, memcached's cfd in watch lines
     */
    Outcome execute(Request request, int connection) {
        Request reply = request.withoutValue();
        return switch (request.type()) {
            case GET, GETS -> read(reply, () -> multiGet(reply, connection));
            case META_GET -> metaGetWrites(reply) ? Outcome.later(metaGetThroughLog(reply, MetaViews.LocalFacts.NONE, connection))
                    : cluster.holds(reply.key()) ? read(reply, () -> metaGet(reply, connection)) : relayedMetaGet(reply, connection);
            case META_DEBUG -> cluster.holds(reply.key()) ? read(reply, () -> Outcome.now(whole(out -> metaDebug(reply, out))))
                    : relayedMetaDebug(reply);
            case META_NOOP -> Outcome.now(whole(MetaResponseWriter::writeNoop));
            case GAT, GATS -> Outcome.later(getAndTouch(reply, connection));
            case SET, ADD, REPLACE, APPEND, PREPEND, CAS -> {
                stats.setCommands.increment();
                stats.prefixes.recordSet(reply.key());
                int sizeBytes = request.valueBytes();
                yield write(LogCommands.storage(request), (buffer, result) -> {
                    watchStore(reply, storeCommand(reply.type()), result, connection, sizeBytes);
                    writeReplies.storage(buffer, reply, result);
                }, reply);
            }
            case DELETE -> {
                stats.prefixes.recordDelete(reply.key());
                yield write(LogCommands.delete(reply), (buffer, result) -> writeReplies.delete(buffer, reply, result), reply);
            }
            case INCR, DECR -> write(LogCommands.arithmetic(reply),
                    (buffer, result) -> writeReplies.arithmetic(buffer, reply, result, reply.type() == CommandType.INCR), reply);
            case TOUCH -> write(LogCommands.touch(reply), (buffer, result) -> writeReplies.touch(buffer, reply, result), reply);
            // memcached 1.6.18 counts cmd_meta for "me" only; ms/md/ma/mg count as the classic commands do
            case META_SET -> {
                stats.setCommands.increment();
                int sizeBytes = request.valueBytes();
                yield write(LogCommands.metaSet(request), (buffer, result) -> {
                    watchStore(reply, metaSetCommand(reply.meta().mode()), result, connection, sizeBytes);
                    writeReplies.metaSet(buffer, reply, result);
                }, null);
            }
            case META_DELETE -> write(LogCommands.metaDelete(reply), (buffer, result) -> writeReplies.metaDelete(buffer, reply, result), null);
            case META_ARITHMETIC -> write(LogCommands.metaArithmetic(reply),
                    (buffer, result) -> writeReplies.metaArithmetic(buffer, reply, result), null);
            case FLUSH_ALL -> flushAll(reply);
            case ERROR_REPLY -> errorReply(reply);
            case STATS -> isStatsDigest(reply) ? Outcome.later(digest()) : Outcome.now(whole(out -> admin.execute(reply, out)));
            case ADMIN -> adminCommand(reply);
            default -> Outcome.now(whole(out -> admin.execute(reply, out)));
        };
    }

    // --- watch fetchers and mutations --------------------------------------------------------------

    private static String storeCommand(CommandType type) {
        return switch (type) {
            case ADD -> "add";
            case REPLACE -> "replace";
            case APPEND -> "append";
            case PREPEND -> "prepend";
            case CAS -> "cas";
            default -> "set";
        };
    }

    /** ms's M flag: E add, A append, P prepend, R replace, S (or none) set. */
    private static String metaSetCommand(byte mode) {
        return switch (mode) {
            case 'E', 'e' -> "add";
            case 'A', 'a' -> "append";
            case 'P', 'p' -> "prepend";
            case 'R', 'r' -> "replace";
            default -> "set";
        };
    }

    /** An item_store line for a storage command accepted on this node, once applied. */
    private void watchStore(Request request, String command, StoreResult result, int connection, int sizeBytes) {
        if (!stats.watchers.watching(LogWatchers.MUTATIONS)) {
            return;
        }
        String status = switch (result.status) {
            case STORED -> "stored";
            case EXISTS -> "exists";
            case NOT_FOUND -> "not_found";
            case TOO_LARGE -> "too_large";
            case OUT_OF_MEMORY -> "no_memory";
            default -> "not_stored";
        };
        // memcached names the item it built: for append and prepend, the joined value
        int itemBytes = result.valueLength > 0 ? result.valueLength : sizeBytes;
        int clientFlags = request.type() == CommandType.META_SET ? request.meta().clientFlags() : request.clientFlags();
        stats.watchers.itemStore(request.key(), status, command, ttlSeconds(request, result),
                slabClasses.classForItem(request.key().length, clientFlags, itemBytes), connection, itemBytes);
    }

    /** memcached's ttl: seconds to the stored item's expiry, 0 when it never expires. */
    private static long ttlSeconds(Request request, StoreResult result) {
        if (result.ttlAfterSeconds > 0) {
            return result.ttlAfterSeconds;
        }
        int exptime = request.type() == CommandType.META_SET ? 0 : request.exptime();
        if (exptime <= 0) {
            return 0;
        }
        return exptime <= Store.RELATIVE_EXPTIME_MAX_SECONDS ? exptime
                : Math.max(0, exptime - result.appliedNowMillis / 1000);
    }

    private static String getStatus(Store.ReadOutcome outcome) {
        return switch (outcome) {
            case HIT -> "found";
            case EXPIRED -> "expired";
            case FLUSHED -> "flushed";
            case MISS -> "not_found";
        };
    }

    /** slabs and lru_crawler (see {@link MaintenanceCommands}); the rest of memcached's admin lines are refused. */
    private Outcome adminCommand(Request request) {
        if (MaintenanceCommands.isMetadump(request)) {
            return Outcome.later(maintenance.metadump(request));
        }
        MaintenanceCommands.Parsed parsed = maintenance.parse(request);
        if (parsed == null) {
            return Outcome.now(whole(out -> admin.execute(request, out)));
        }
        if (parsed.command() != null) {
            return write(parsed.command(), MaintenanceCommands::writeReply, request);
        }
        String line = parsed.replyLine();
        return Outcome.now(line == null ? NOTHING : whole(out -> Replies.writeLine(out, line)));
    }

    private static boolean isStatsDigest(Request request) {
        return request.errorLine() == null && request.args() != null && !request.args().isEmpty() && request.arg(0).equals("digest");
    }

    /** {@code stats digest} walks the whole replica: off the event loop. */
    private CompletableFuture<Reply> digest() {
        return CompletableFuture.supplyAsync(cluster::digests, walks).thenApply(digests -> whole(out -> {
            if (digests.size() == 1) {
                Replies.writeStat(out, "digest", digests.get(0));
            } else {
                for (int group = 1; group <= digests.size(); group++) {
                    if (digests.get(group - 1) != null) {   // a group held here
                        Replies.writeStat(out, "digest_g" + group, digests.get(group - 1));
                    }
                }
            }
            Replies.writeLine(out, "END");
        }));
    }

    // --- writes --------------------------------------------------------------------------------

    private interface ResultWriter {
        void write(ByteBuf out, StoreResult result);
    }

    /** Submits a write; the reply comes from its applied result, or names why there is none. */
    private Outcome write(Command command, ResultWriter replyWriter, Request classic) {
        return Outcome.later(submit(command, replyWriter, classic != null && classic.noreply()));
    }

    private CompletableFuture<Reply> submit(Command command, ResultWriter replyWriter, boolean silent) {
        return cluster.submit(command).handle((result, failure) -> {
            if (failure != null) {
                String line = writeReplies.failureLine(failure);
                return silent ? NOTHING : whole(out -> Replies.writeLine(out, line));
            }
            return whole(out -> replyWriter.write(out, result));
        });
    }

    private Outcome flushAll(Request request) {
        stats.flushCommands.increment();
        if (config.flags().disableFlushAll) {
            return Outcome.now(request.noreply() ? NOTHING : whole(out -> Replies.writeLine(out, Replies.CLIENT_ERROR_FLUSH_DISABLED)));
        }
        if (request.errorLine() != null) {
            return Outcome.now(request.noreply() ? NOTHING : whole(out -> Replies.writeLine(out, request.errorLine())));
        }
        return write(LogCommands.flushAll(request), (buffer, result) -> {
            if (!request.noreply()) {
                Replies.writeLine(buffer, result.status == StoreResult.Status.OK ? "OK" : WriteReplies.SERVER_ERROR_INVALID);
            }
        }, request);
    }

    /** A decoder-detected error; a too-large set still drops the old value through the log first. */
    private Outcome errorReply(Request request) {
        if (request.key() == null) {
            return Outcome.now(whole(out -> Replies.writeErrorReply(out, request)));
        }
        stats.storeTooLarge.increment();
        return Outcome.later(cluster.submit(LogCommands.unlinkAfterTooLarge(request.key()))
                .handle((result, failure) -> whole(out -> Replies.writeErrorReply(out, request))));
    }

    /**
     * gat/gats: each key is touched through the log, in order; once applied, the hits are read from
     * this node's replica and streamed like get's (the connection holds its later writes back until
     * then, so they are not seen).
     */
    private CompletableFuture<Reply> getAndTouch(Request request, int connection) {
        List<CompletableFuture<StoreResult>> touches = new ArrayList<>(request.keys().size());
        for (byte[] key : request.keys()) {
            touches.add(cluster.submit(LogCommands.getAndTouch(key, request.exptime())));
        }
        return CompletableFuture.allOf(touches.toArray(CompletableFuture[]::new)).handle((ignored, failure) -> {
            if (failure != null) {
                String line = writeReplies.failureLine(failure);
                return whole(out -> Replies.writeLine(out, line));
            }
            StoreResult[] results = new StoreResult[touches.size()];
            for (int i = 0; i < results.length; i++) {
                results[i] = touches.get(i).join();
                stats.touchCommands.increment();
                (results[i].status == StoreResult.Status.HIT ? stats.touchHits : stats.touchMisses).increment();
            }
            return new KeysReply(request, results, connection);
        });
    }

    /** mg that changes the item (T, N, R, or a win token on a stale item) goes through the log. */
    private CompletableFuture<Reply> metaGetThroughLog(Request request, MetaViews.LocalFacts facts, int connection) {
        return submit(LogCommands.metaGet(request), (out, result) -> {
            if (stats.watchers.watching(LogWatchers.FETCHERS)) {
                boolean hit = result.status == StoreResult.Status.HIT;
                stats.watchers.itemGet(request.key(), hit ? "found" : "not_found", hit ? result.slabClass : 0, connection,
                        hit ? result.valueLength : 0);
            }
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
        }, false);
    }

    // --- reads ---------------------------------------------------------------------------------

    /** Runs a local read if this node may serve one, first through a read barrier if linearizable. */
    private Outcome read(Request request, java.util.function.Supplier<Outcome> read) {
        String refusal = refusal();
        if (refusal != null) {
            stats.readsRefused.increment();
            return Outcome.now(whole(out -> Replies.writeLine(out, refusal)));
        }
        if (!linearizable) {
            return read.get();
        }
        stats.linearizableReads.increment();
        return Outcome.later(cluster.linearizableBarrier().handle((ignored, failure) -> {
            if (failure != null) {
                return whole(out -> Replies.writeLine(out, SERVER_ERROR_NO_QUORUM_READ));
            }
            // Runs when the connection writes it, at the head of its queue, on its event loop.
            return out -> {
                Outcome outcome = read.get();
                if (outcome.now() != null) {
                    return outcome.now().writeTo(out);
                }
                throw new IllegalStateException("a linearizable read of " + request + " turned into a write");
            };
        }));
    }

    private String refusal() {
        ReadPermission permission = cluster.readPermission();
        return switch (permission) {
            case FAILED -> SERVER_ERROR_FAILED;
            case NOT_READY -> config.flags().serveStaleWhileCatchingUp ? null : SERVER_ERROR_NOT_READY;
            case STALE -> SERVER_ERROR_STALE;
            case ALLOWED -> null;
        };
    }

    private Outcome multiGet(Request request, int connection) {
        if (request.errorLine() != null) {
            return Outcome.now(whole(out -> Replies.writeLine(out, request.errorLine())));
        }
        return Outcome.now(new KeysReply(request, null, connection));
    }

    /**
     * The VALUE blocks of get/gets (every key) or gat/gats (the item versions the touches hit), read
     * from this node's replica key by key as the output has room, then END. Counts get stats for
     * get/gets. Keys of groups this node holds no replica of are read on replicas elsewhere
     * ({@link ReplicatedCache#readElsewhere}), a run of consecutive such keys at a time: the reply
     * waits for the run's items and writes them all at once, so it holds none while the client
     * is slow to read and the node's budget for relayed reads covers only reads in flight.
     */
    private final class KeysReply implements Reply {
        private final Request request;
        private final StoreResult[] touched;
        private final int connection;
        private int next;
        /** The last item read, for a fetchers line: class and value length. */
        private int readClass;
        private int readLength;
        /** Items read elsewhere for the keys from {@link #next} on, and the next of them; null when none are in hand. */
        private List<RelayedRead> relayed;
        private int relayedNext;
        /** The run of keys asked for elsewhere and not yet arrived, or null. */
        private CompletableFuture<RelayedReads> relaying;

        KeysReply(Request request, StoreResult[] touched, int connection) {
            this.request = request;
            this.touched = touched;
            this.connection = connection;
        }

        @Override
        public boolean writeTo(Output out) {
            boolean withCas = request.type() == CommandType.GETS || request.type() == CommandType.GATS;
            boolean send = request.errorLine() == null;
            List<byte[]> keys = request.keys();
            while (next < keys.size()) {
                byte[] key = keys.get(next);
                RelayedRead read = null;
                if (elsewhere(next)) {
                    if (relayed == null) {
                        if (relaying == null) {
                            relaying = askRun();
                            out.resumeWhen(relaying);
                            return false;
                        }
                        if (!relaying.isDone()) {
                            return false;   // resumed when the run's items are here
                        }
                        String failure = takeRun();
                        if (failure != null) {
                            Replies.writeLine(out.buffer(), failure);
                            return true;
                        }
                    }
                    read = relayed.get(relayedNext++);
                    if (relayedNext == relayed.size()) {
                        relayed = null;
                    }
                }
                next++;
                ByteBuf buffer = out.buffer();
                if (touched == null) {
                    stats.getCommands.increment();
                    Store.ReadOutcome outcome = read != null ? writeRelayed(buffer, key, read, withCas)
                            : cluster.read(key, cluster.readClockMillis(), Store.Lookup.live(true), item -> {
                                admin.countGetHit(item.slabClass());
                                writeValue(buffer, key, item, withCas);
                            });
                    countRead(outcome);
                    stats.prefixes.recordGet(key, outcome == Store.ReadOutcome.HIT);
                    if (stats.watchers.watching(LogWatchers.FETCHERS)) {
                        boolean hit = outcome == Store.ReadOutcome.HIT;
                        stats.watchers.itemGet(key, getStatus(outcome), hit ? readClass : 0, connection, hit ? readLength : 0);
                    }
                } else {
                    StoreResult result = touched[next - 1];
                    boolean hit = result.status == StoreResult.Status.HIT;
                    stats.prefixes.recordGet(key, hit);
                    if (stats.watchers.watching(LogWatchers.FETCHERS)) {
                        stats.watchers.itemGet(key, hit ? "found" : "not_found", hit ? result.slabClass : 0, connection,
                                hit ? result.valueLength : 0);
                    }
                    if (hit && send && read != null) {
                        writeRelayed(buffer, key, read, withCas);
                    } else if (hit && send) {
                        cluster.read(key, cluster.readClockMillis(), Store.Lookup.version(touched[next - 1].cas),
                                item -> writeValue(buffer, key, item, withCas));
                    }
                }
                boolean room = out.room();
                if (next < keys.size() && relayed == null && !room) {
                    return false;
                }
            }
            Replies.writeLine(out.buffer(), send ? "END" : request.errorLine());
            return true;
        }

        /** Whether key {@code index} is read elsewhere: its group is not held here (and, for gat, the touch hit it). */
        private boolean elsewhere(int index) {
            return !cluster.holds(request.keys().get(index)) && (touched == null || touched[index].status == StoreResult.Status.HIT);
        }

        /** Asks for the run of keys from {@link #next} on that are read elsewhere, up to a batch. */
        private CompletableFuture<RelayedReads> askRun() {
            List<byte[]> keys = request.keys();
            List<byte[]> run = new ArrayList<>();
            long[] versions = new long[Math.min(RELAYED_KEYS_PER_READ, keys.size() - next)];
            for (int i = next; i < keys.size() && run.size() < versions.length && elsewhere(i); i++) {
                versions[run.size()] = touched == null ? 0 : touched[i].cas;
                run.add(keys.get(i));
            }
            return cluster.readElsewhere(run, Arrays.copyOf(versions, run.size()), touched == null, linearizable);
        }

        /** Takes the run's items (its room in the relay budget goes back now); the line to end the reply with if it failed. */
        private String takeRun() {
            CompletableFuture<RelayedReads> arrived = relaying;
            relaying = null;
            try (RelayedReads reads = arrived.join()) {
                relayed = reads.reads();
                relayedNext = 0;
                return null;
            } catch (CompletionException e) {
                return relayFailureLine(e.getCause() != null ? e.getCause() : e);
            }
        }

        /** A key read elsewhere: its VALUE block on a hit (a get counts the hit), and the read's outcome. */
        private Store.ReadOutcome writeRelayed(ByteBuf buffer, byte[] key, RelayedRead read, boolean withCas) {
            if (read.outcome() != Store.ReadOutcome.HIT) {
                return read.outcome();
            }
            StoreResult item = read.item();
            if (touched == null) {
                admin.countGetHit(item.slabClass);
            }
            readClass = item.slabClass;
            readLength = item.valueLength;
            if (withCas) {
                Replies.writeValueHeader(buffer, key, item.clientFlags, item.valueLength, item.cas);
            } else {
                Replies.writeValueHeader(buffer, key, item.clientFlags, item.valueLength);
            }
            Replies.writeDataBlock(buffer, item.value);
            return Store.ReadOutcome.HIT;
        }

        @Override
        public void abandon() {
            if (relaying != null) {
                relaying.thenAccept(RelayedReads::close);
            }
        }

        private void writeValue(ByteBuf buffer, byte[] key, io.raftcached.store.ItemView item, boolean withCas) {
            readClass = item.slabClass();
            readLength = item.valueLength();
            if (withCas) {
                Replies.writeValueHeader(buffer, key, item.clientFlags(), item.valueLength(), item.cas());
            } else {
                Replies.writeValueHeader(buffer, key, item.clientFlags(), item.valueLength());
            }
            item.writeValueWithCrlf(copies.get().into(buffer));
        }
    }

    /** The line a read relayed to another node's replicas ends with when it got no items: as a local refusal would say. */
    private static String relayFailureLine(Throwable failure) {
        if (failure instanceof ReadRefusedException refused) {
            if (refused.barrierFailed()) {
                return SERVER_ERROR_NO_QUORUM_READ;
            }
            if (refused.permission() != null) {
                return switch (refused.permission()) {
                    case NOT_READY -> SERVER_ERROR_NOT_READY;
                    case STALE -> SERVER_ERROR_STALE;
                    default -> SERVER_ERROR_FAILED;
                };
            }
        }
        return "SERVER_ERROR " + failure.getMessage();
    }

    /** mg of a key held elsewhere: read on a replica; a stale item whose token is unsent goes through the log, as here. */
    private Outcome relayedMetaGet(Request request, int connection) {
        CompletableFuture<RelayedReads> relayed = cluster.readElsewhere(List.of(request.key()), new long[1],
                !request.meta().noLruBump(), linearizable);
        return Outcome.later(relayed.handle((reads, failure) -> {
            if (failure != null) {
                String line = relayFailureLine(failure instanceof CompletionException && failure.getCause() != null ? failure.getCause() : failure);
                return CompletableFuture.completedFuture(whole(out -> Replies.writeLine(out, line)));
            }
            RelayedRead read = reads.reads().get(0);
            reads.close();
            if (read.outcome() == Store.ReadOutcome.HIT && read.item().stale && !read.item().tokenAlreadySent) {
                return metaGetThroughLog(request, new MetaViews.LocalFacts(read.fetched(), read.secondsSinceLastAccess()), connection);
            }
            return CompletableFuture.completedFuture(whole(out -> {
                stats.getCommands.increment();
                countRead(read.outcome());
                if (read.outcome() == Store.ReadOutcome.HIT) {
                    StoreResult item = read.item();
                    admin.countGetHit(item.slabClass);
                    MetaResponseWriter.writeGetHit(out, request, MetaViews.of(request.key(), item,
                            new MetaViews.LocalFacts(read.fetched(), read.secondsSinceLastAccess())));
                    if (request.meta().returnValue()) {
                        Replies.writeDataBlock(out, item.value);
                    }
                } else {
                    MetaResponseWriter.writeGetMiss(out, request);
                }
                if (stats.watchers.watching(LogWatchers.FETCHERS)) {
                    boolean hit = read.outcome() == Store.ReadOutcome.HIT;
                    stats.watchers.itemGet(request.key(), getStatus(read.outcome()), hit ? read.item().slabClass : 0, connection,
                            hit ? read.item().valueLength : 0);
                }
            }));
        }).thenCompose(reply -> reply));
    }

    /** me of a key held elsewhere: the item as a replica has it. */
    private Outcome relayedMetaDebug(Request request) {
        return Outcome.later(cluster.readElsewhere(List.of(request.key()), new long[1], false, linearizable).handle((reads, failure) -> {
            if (failure != null) {
                String line = relayFailureLine(failure instanceof CompletionException && failure.getCause() != null ? failure.getCause() : failure);
                return whole(out -> Replies.writeLine(out, line));
            }
            RelayedRead read = reads.reads().get(0);
            reads.close();
            return whole(out -> {
                stats.metaCommands.increment();
                if (read.outcome() == Store.ReadOutcome.HIT) {
                    MetaResponseWriter.writeDebug(out, MetaViews.of(request.key(), read.item(),
                            new MetaViews.LocalFacts(read.fetched(), read.secondsSinceLastAccess())),
                            read.item().slabClass, read.item().totalSizeBytes);
                } else {
                    MetaResponseWriter.writeDebugMiss(out);
                }
            });
        }));
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

    /**
     * mg without log flags: a local read, unless the item is stale and its win token unsent, which
     * makes this mg hand out the token: a change to the item, so it goes through the log.
     */
    private Outcome metaGet(Request request, int connection) {
        long now = cluster.readClockMillis();
        MetaViews.LocalFacts[] tokenFacts = {null};
        cluster.read(request.key(), now, Store.Lookup.live(false), item -> {
            if (item.stale() && !item.tokenSent()) {
                tokenFacts[0] = new MetaViews.LocalFacts(item.fetched(), item.secondsSinceLastAccess());
            }
        });
        if (tokenFacts[0] != null) {
            return Outcome.later(metaGetThroughLog(request, tokenFacts[0], connection));
        }
        return Outcome.now(whole(out -> {
            stats.getCommands.increment();
            int[] found = {0, 0};   // class and value length, for a fetchers line
            Store.ReadOutcome outcome = cluster.read(request.key(), now, Store.Lookup.live(!request.meta().noLruBump()), item -> {
                admin.countGetHit(item.slabClass());
                found[0] = item.slabClass();
                found[1] = item.valueLength();
                MetaResponseWriter.writeGetHit(out, request, MetaViews.of(request.key(), item, now));
                if (request.meta().returnValue()) {
                    item.writeValueWithCrlf(copies.get().into(out));
                }
            });
            countRead(outcome);
            if (stats.watchers.watching(LogWatchers.FETCHERS)) {
                stats.watchers.itemGet(request.key(), getStatus(outcome), found[0], connection, found[1]);
            }
            if (outcome != Store.ReadOutcome.HIT) {
                MetaResponseWriter.writeGetMiss(out, request);
            }
        }));
    }

    private void metaDebug(Request request, ByteBuf out) {
        stats.metaCommands.increment();
        long now = cluster.readClockMillis();
        Store.ReadOutcome outcome = cluster.read(request.key(), now, Store.Lookup.live(false), item ->
                MetaResponseWriter.writeDebug(out, MetaViews.of(request.key(), item, now), item.slabClass(), item.totalSizeBytes()));
        if (outcome != Store.ReadOutcome.HIT) {
            MetaResponseWriter.writeDebugMiss(out);
        }
    }
}
