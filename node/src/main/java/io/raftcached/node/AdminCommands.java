package io.raftcached.node;

import io.netty.buffer.ByteBuf;
import io.raftcached.protocol.Replies;
import io.raftcached.protocol.Request;

/**
 * The commands a node answers itself, without the store's data: stats, version, verbosity,
 * shutdown, refresh_certs (-Z), and memcached's admin lines raftcached does not have
 * (cache_memlimit, lru, extstore), refused by name. slabs and lru_crawler are {@link MaintenanceCommands}; watch
 * turns the connection into a {@link LogWatchers} stream (in {@link ConnectionHandler}).
 */
final class AdminCommands {
    private final ServerConfig config;
    private final NodeStats stats;
    private final StatsReplies statsReplies;
    private final Runnable shutdown;

    AdminCommands(ServerConfig config, NodeStats stats, StatsReplies statsReplies, Runnable shutdown) {
        this.config = config;
        this.stats = stats;
        this.statsReplies = statsReplies;
        this.shutdown = shutdown;
    }

    /** A get or mg hit on an item of {@code slabClass}, for the class's get_hits in {@code stats slabs}. */
    void countGetHit(int slabClass) {
        statsReplies.countGetHit(slabClass);
    }

    void execute(Request request, ByteBuf out) {
        switch (request.type()) {
            case VERSION -> Replies.writeVersion(out, Replies.MEMCACHED_VERSION);
            case VERBOSITY -> {
                stats.verbosity = Math.min(2, request.verbosityLevel());
                if (!request.noreply()) {
                    Replies.writeLine(out, "OK");
                }
            }
            case QUIT -> { }   // the connection handler closes after writing earlier replies
            case SHUTDOWN -> {
                if (!config.flags().enableShutdown) {
                    Replies.writeLine(out, Replies.ERROR_SHUTDOWN_DISABLED);
                } else if (request.errorLine() != null) {
                    Replies.writeLine(out, request.errorLine());
                } else {
                    shutdown.run();
                }
            }
            case STATS -> stats(request, out);
            case ADMIN -> {
                if (request.arg(0).equals("refresh_certs")) {
                    refreshCerts(request, out);
                } else if (!request.noreply()) {   // memcached's "cache_memlimit 64 noreply" answers nothing
                    Replies.writeLine(out, "CLIENT_ERROR " + request.arg(0) + " is not supported by raftcached");
                }
            }
            default -> Replies.writeLine(out, Replies.ERROR_LINE);
        }
    }

    /** memcached's refresh_certs: OK (unless noreply), or its error line, which noreply does not silence. */
    private void refreshCerts(Request request, ByteBuf out) {
        ClientTls tls = stats.clientTls;
        String error = tls == null ? "Error TLS not enabled" : tls.refresh();
        if (error != null) {
            Replies.writeLine(out, error);
        } else if (!request.noreply()) {
            Replies.writeLine(out, "OK");
        }
    }

    private void stats(Request request, ByteBuf out) {
        if (request.errorLine() != null) {
            Replies.writeLine(out, request.errorLine());
            return;
        }
        String subcommand = request.args() == null || request.args().isEmpty() ? "" : request.arg(0);
        switch (subcommand) {
            case "" -> statsReplies.general(out);
            case "settings" -> statsReplies.settings(out);
            case "items" -> statsReplies.items(out);
            case "slabs" -> statsReplies.slabs(out);
            case "sizes" -> statsReplies.sizes(out);
            case "conns" -> statsReplies.conns(out);
            case "raft" -> {
                statsReplies.raft(out);
                Replies.writeLine(out, "END");
            }
            case "reset" -> {
                statsReplies.reset();
                Replies.writeLine(out, "RESET");
            }
            case "detail" -> statsDetail(request, out);
            case "cachedump" -> Replies.writeLine(out, request.args().size() < 3 ? "CLIENT_ERROR bad command line"
                    : config.flags().disableDumping ? "CLIENT_ERROR stats cachedump not allowed"
                    : "CLIENT_ERROR stats cachedump is not supported by raftcached");
            // Debian's memcached has extstore built in; unconfigured, it reports nothing. Neither does raftcached.
            case "extstore" -> Replies.writeLine(out, "END");
            default -> Replies.writeLine(out, Replies.ERROR_LINE);
        }
    }

    /** Per-prefix stats ({@link PrefixStats}): switched on and off at run time, as memcached's. */
    private void statsDetail(Request request, ByteBuf out) {
        String mode = request.args().size() < 2 ? "" : request.arg(1);
        switch (mode) {
            case "on", "off" -> {
                stats.prefixes.enable(mode.equals("on"));
                Replies.writeLine(out, "OK");
            }
            case "dump" -> stats.prefixes.dump(out);
            default -> Replies.writeLine(out, "CLIENT_ERROR usage: stats detail on|off|dump");
        }
    }
}
