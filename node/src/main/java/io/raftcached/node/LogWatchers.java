package io.raftcached.node;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.raftcached.protocol.Request;
import io.raftcached.store.EvictionLog;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Consumer;

/**
 * memcached's {@code watch}: connections that receive this node's log stream, one line per event,
 * in memcached 1.6's line formats ({@code ts=<sec>.<usec> gid=<n> type=...}). Events are emitted at
 * the node's edges (reads served here, writes accepted here, connections, Raft events); the store
 * is never asked for anything, so watching changes no reply and no replicated state.
 *
 * <p>Bounded and never slowing the server, as memcached's logger: each watcher has a buffer of
 * {@link #BUFFER_BYTES_DEFAULT} (or -o watcher_logbuf_size); an event that does not fit is dropped for that watcher alone and counted,
 * and the next line that fits is preceded by {@code skipped=<n>}. A watcher is drained on its own
 * event loop only while its socket takes more, so a watcher that does not read holds at most its
 * buffer plus the socket's high water mark. Emitting costs one volatile read when nobody watches.
 */
final class LogWatchers {
    /** memcached's WATCHER_LIMIT. */
    static final int WATCHERS_MAX = 20;
    /** memcached's default logger_watcher_buf_size (256 KB); -o watcher_logbuf_size changes it. */
    static final int BUFFER_BYTES_DEFAULT = 256 * 1024;
    /** The largest -o watcher_logbuf_size taken: the buffers are heap, and 20 slow watchers of 4 MB hold 80 MB. */
    static final int BUFFER_BYTES_MAX = 4 * 1024 * 1024;
    /** Room kept for a {@code skipped=} line, as memcached requests line + 128. */
    private static final int SKIP_LINE_BYTES = 128;

    static final int FETCHERS = 1;
    static final int MUTATIONS = 1 << 1;
    static final int EVICTIONS = 1 << 2;
    static final int CONNEVENTS = 1 << 3;
    /** raftcached's own stream: leader, membership, snapshots, promotion, forwarded-write failures. */
    static final int RAFT = 1 << 4;

    private final boolean allowed;
    private final int bufferBytes;
    private final CopyOnWriteArrayList<Watcher> watchers = new CopyOnWriteArrayList<>();
    /** The union of the watchers' flags: the only thing an event reads when nobody watches. */
    private volatile int watched;
    private final AtomicLong gid = new AtomicLong();
    /** Told when the first watcher of evictions comes and the last goes: recording them costs the apply thread. */
    private volatile Consumer<Boolean> evictionsWatched = on -> { };
    final LongAdder sent = new LongAdder();
    final LongAdder skipped = new LongAdder();

    /** memcached's defaults: watch allowed, 256 KB per watcher. */
    LogWatchers() {
        this(true, BUFFER_BYTES_DEFAULT);
    }

    /**
     * @param allowed false with -W: every watch is answered {@code CLIENT_ERROR watch commands not allowed}
     * @param bufferBytes each watcher's buffer (-o watcher_logbuf_size)
     */
    LogWatchers(boolean allowed, int bufferBytes) {
        this.allowed = allowed;
        this.bufferBytes = bufferBytes;
    }

    /** What {@code watch <streams>} asked for: flags, or the error line to answer. */
    record Parsed(int flags, String errorLine) {
    }

    /**
     * Parses memcached's stream names (fetchers when none is named). proxyreqs, proxyevents and
     * proxyuser are memcached's proxy's, which raftcached does not have: refused by name.
     */
    Parsed parse(Request request) {
        if (!allowed) {
            return new Parsed(0, "CLIENT_ERROR watch commands not allowed");
        }
        int count = request.args().size();
        if (count < 2) {
            return new Parsed(FETCHERS, null);
        }
        int flags = 0;
        for (int i = 1; i < count; i++) {
            String stream = request.arg(i);
            switch (stream) {
                case "fetchers" -> flags |= FETCHERS;
                case "mutations" -> flags |= MUTATIONS;
                case "evictions" -> flags |= EVICTIONS;
                case "connevents" -> flags |= CONNEVENTS;
                case "raft" -> flags |= RAFT;
                case "proxyreqs", "proxyevents", "proxyuser" ->
                        { return new Parsed(0, "CLIENT_ERROR watch " + stream + ": raftcached has no proxy"); }
                case "rawcmds", "sysevents" ->
                        { return new Parsed(0, "CLIENT_ERROR watch " + stream + " is not supported by raftcached"); }
                default -> { return new Parsed(0, "ERROR"); }
            }
        }
        return new Parsed(flags, null);
    }

    boolean watching(int flag) {
        return (watched & flag) != 0;
    }

    int count() {
        return watchers.size();
    }

    /** Adds a watcher on {@code channel}; null when {@link #WATCHERS_MAX} already watch. */
    synchronized Watcher add(Channel channel, int flags) {
        if (watchers.size() >= WATCHERS_MAX) {
            return null;
        }
        Watcher watcher = new Watcher(channel, flags);
        watchers.add(watcher);
        setWatched(watched | flags);
        return watcher;
    }

    synchronized void remove(Watcher watcher) {
        watchers.remove(watcher);
        int flags = 0;
        for (Watcher w : watchers) {
            flags |= w.flags;
        }
        setWatched(flags);
    }

    private void setWatched(int flags) {
        boolean evictionsBefore = (watched & EVICTIONS) != 0;
        watched = flags;
        if (evictionsBefore != ((flags & EVICTIONS) != 0)) {
            evictionsWatched.accept(!evictionsBefore);
        }
    }

    /** Where to say whether evictions are watched (the replica records them only then). */
    void onEvictionsWatched(Consumer<Boolean> hook) {
        evictionsWatched = hook;
    }

    /** Builds the body of an event line (after {@code ts= gid=}); called only while someone watches. */
    @FunctionalInterface
    interface Body {
        void write(ByteBuf line);
    }

    /** Emits an event of stream {@code flag} to the watchers of that stream. */
    void emit(int flag, Body body) {
        if (!watching(flag)) {
            return;
        }
        Instant now = Instant.now();
        ByteBuf line = Unpooled.buffer(160);
        // memcached prints the microseconds with %d, unpadded: ts=1700000000.5123 is .005123 s.
        ascii(line, "ts=" + now.getEpochSecond() + "." + now.getNano() / 1000 + " gid=" + gid.incrementAndGet() + " ");
        body.write(line);
        line.writeByte('\n');
        byte[] bytes = new byte[line.readableBytes()];
        line.readBytes(bytes);
        for (Watcher watcher : watchers) {
            if ((watcher.flags & flag) != 0) {
                watcher.offer(bytes);
            }
        }
    }

    // --- memcached's events, in logger.c's formats ---------------------------------------------

    /** A key a read looked up here: status found, not_found, expired or flushed. */
    void itemGet(byte[] key, String status, int slabClass, int connection, int sizeBytes) {
        emit(FETCHERS, line -> {
            ascii(line, "type=item_get key=");
            MaintenanceCommands.uriEncode(key, line);
            ascii(line, " status=" + status + " clsid=" + slabClass + " cfd=" + connection + " size=" + sizeBytes);
        });
    }

    /** A storage command accepted here, once applied: its status as memcached names it. */
    void itemStore(byte[] key, String status, String command, long ttlSeconds, int slabClass, int connection, int sizeBytes) {
        emit(MUTATIONS, line -> {
            ascii(line, "type=item_store key=");
            MaintenanceCommands.uriEncode(key, line);
            ascii(line, " status=" + status + " cmd=" + command + " ttl=" + ttlSeconds + " clsid=" + slabClass
                    + " cfd=" + connection + " size=" + sizeBytes);
        });
    }

    void connectionNew(SocketAddress remote, int connection) {
        emit(CONNEVENTS, line -> ascii(line, "type=conn_new " + endpoint(remote) + " cfd=" + connection));
    }

    /** @param reason memcached's: normal, error, idle_timeout or shutdown */
    void connectionClose(SocketAddress remote, String reason, int connection) {
        emit(CONNEVENTS, line -> ascii(line, "type=conn_close " + endpoint(remote) + " reason=" + reason + " cfd=" + connection));
    }

    /** An item the replica evicted while applying (memcached's fetch= is whether this node served it). */
    void eviction(EvictionLog.Evicted evicted) {
        emit(EVICTIONS, line -> {
            ascii(line, "type=eviction key=");
            MaintenanceCommands.uriEncode(evicted.key(), line);
            ascii(line, " fetch=" + (evicted.fetched() ? "yes" : "no") + " ttl=" + evicted.ttlSeconds() + " la="
                    + evicted.lastAccessSecondsAgo() + " clsid=" + evicted.slabClass() + " size=" + evicted.valueLength());
        });
    }

    /** A Raft event of this node ({@link io.raftcached.raft.RaftEvents}), already {@code type=... key=value}. */
    void raft(String event) {
        emit(RAFT, line -> ascii(line, event));
    }

    private static String endpoint(SocketAddress remote) {
        if (remote instanceof InetSocketAddress inet) {
            return "rip=" + inet.getAddress().getHostAddress() + " rport=" + inet.getPort() + " transport=tcp";
        }
        return "rip=unix rport=0 transport=local";
    }

    static void ascii(ByteBuf line, String text) {
        line.writeCharSequence(text, StandardCharsets.US_ASCII);
    }

    /** One watching connection and its bounded buffer. */
    final class Watcher {
        private final Channel channel;
        final int flags;
        /** Lines not yet handed to the socket. Guarded by this. */
        private final ArrayDeque<byte[]> lines = new ArrayDeque<>();
        private int bufferedBytes;
        private long skippedSinceSent;
        private boolean drainScheduled;

        private Watcher(Channel channel, int flags) {
            this.channel = channel;
            this.flags = flags;
        }

        private void offer(byte[] line) {
            synchronized (this) {
                if (bufferedBytes + line.length + SKIP_LINE_BYTES > bufferBytes) {
                    skippedSinceSent++;
                    skipped.increment();
                    return;
                }
                if (skippedSinceSent > 0) {
                    byte[] skip = ("skipped=" + skippedSinceSent + "\n").getBytes(StandardCharsets.US_ASCII);
                    lines.addLast(skip);
                    bufferedBytes += skip.length;
                    skippedSinceSent = 0;
                }
                lines.addLast(line);
                bufferedBytes += line.length;
                sent.increment();
                if (drainScheduled) {
                    return;
                }
                drainScheduled = true;
            }
            channel.eventLoop().execute(this::drain);
        }

        /** On the watcher's event loop: hands buffered lines to the socket while it takes more. */
        void drain() {
            ByteBuf batch = null;
            boolean more;
            synchronized (this) {
                drainScheduled = false;
                while (!lines.isEmpty() && channel.isWritable() && (batch == null || batch.readableBytes() < 64 * 1024)) {
                    byte[] line = lines.pollFirst();
                    bufferedBytes -= line.length;
                    if (batch == null) {
                        batch = channel.alloc().buffer();
                    }
                    batch.writeBytes(line);
                }
                more = !lines.isEmpty() && channel.isWritable();
                drainScheduled |= more;   // more than one batch: go on after this write
            }
            if (batch != null) {
                channel.writeAndFlush(batch);
            }
            if (more) {
                channel.eventLoop().execute(this::drain);
            }
        }
    }
}
