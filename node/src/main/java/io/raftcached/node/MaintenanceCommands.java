package io.raftcached.node;

import io.netty.buffer.ByteBuf;
import io.raftcached.proto.Command;
import io.raftcached.proto.Maintenance;
import io.raftcached.proto.Op;
import io.raftcached.protocol.Replies;
import io.raftcached.protocol.Request;
import io.raftcached.raft.ReplicatedCache;
import io.raftcached.store.ItemWalk;
import io.raftcached.store.MaintenanceReply;
import io.raftcached.store.StoreResult;
import io.raftcached.util.Limits;
import io.raftcached.util.SafeNumbers;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;

/**
 * memcached's {@code slabs} and {@code lru_crawler} commands, with memcached 1.6.18's syntax and
 * replies. Those that change how the store manages memory (page moves, the automover's mode, the
 * crawler's state and pace) go through the log so every replica changes alike; {@code
 * lru_crawler sleep} is this node's; {@code lru_crawler metadump} walks an image of this node's
 * replica.
 */
final class MaintenanceCommands {
    private static final long ALL_CLASSES = -2L;   // every bit but class 0's

    /** What a line asks for: a command through the log, or a reply (or nothing) right now. */
    record Parsed(Command command, String replyLine) {
        static Parsed reply(String line) {
            return new Parsed(null, line);
        }

        static Parsed log(Maintenance.Builder maintenance) {
            return new Parsed(Command.newBuilder().setOp(Op.MAINTENANCE).setMaintenance(maintenance).build(), null);
        }
    }

    private final ReplicatedCache cluster;
    private final ServerConfig config;
    private final NodeStats stats;
    private final Executor walks;

    MaintenanceCommands(ReplicatedCache cluster, ServerConfig config, NodeStats stats, Executor walks) {
        this.cluster = cluster;
        this.config = config;
        this.stats = stats;
        this.walks = walks;
    }

    /**
     * Whether an admin line may go through the log, so the connection orders it as a write (one
     * that turns out to be refused on the spot is merely ordered more strictly than it needs).
     */
    static boolean mayGoThroughLog(Request request) {
        List<byte[]> args = request.args();
        if (args == null || args.size() < 2) {
            return false;
        }
        String command = word(args, 0);
        String sub = word(args, 1);
        return command.equals("slabs") && (sub.equals("reassign") || sub.equals("automove"))
                || command.equals("lru_crawler") && List.of("crawl", "tocrawl", "enable", "disable").contains(sub);
    }

    /** Whether an admin line is {@code lru_crawler metadump}. */
    static boolean isMetadump(Request request) {
        List<byte[]> args = request.args();
        return args != null && args.size() == 3 && word(args, 0).equals("lru_crawler") && word(args, 1).equals("metadump");
    }

    /**
     * memcached's process_slabs_command() and process_lru_crawler_command() (except metadump);
     * null if the line is neither.
     */
    Parsed parse(Request request) {
        List<byte[]> args = request.args();
        if (args == null || args.isEmpty()) {
            return null;
        }
        int ntokens = args.size() + 1;   // memcached counts the empty token after the last
        return switch (word(args, 0)) {
            case "slabs" -> slabs(args, ntokens, request.noreply());
            case "lru_crawler" -> crawler(args, ntokens);
            default -> null;
        };
    }

    private Parsed slabs(List<byte[]> args, int ntokens, boolean noreply) {
        if (ntokens == 5 && word(args, 1).equals("reassign")) {
            if (!config.store().lru().slabReassign()) {
                return Parsed.reply("CLIENT_ERROR slab reassignment disabled");
            }
            Integer source = SafeNumbers.strtol32(word(args, 2));
            Integer destination = SafeNumbers.strtol32(word(args, 3));
            if (source == null || destination == null) {
                return Parsed.reply(Replies.CLIENT_ERROR_BAD_FORMAT);
            }
            return Parsed.log(Maintenance.newBuilder().setKind(Maintenance.Kind.SLABS_REASSIGN).setSourceClass(source)
                    .setDestinationClass(destination));
        }
        if (ntokens >= 4 && word(args, 1).equals("automove")) {
            Parsed automove = automove(args, ntokens);
            // memcached reads noreply in this branch only, and then answers nothing at all
            return noreply && automove.command() == null ? Parsed.reply(null) : automove;
        }
        return Parsed.reply(Replies.ERROR_LINE);
    }

    private static Parsed automove(List<byte[]> args, int ntokens) {
        if (word(args, 2).equals("ratio")) {
            Double ratio = ntokens < 5 ? null : strtod(word(args, 3));
            if (ratio == null) {
                return Parsed.reply(Replies.ERROR_LINE);
            }
            return Parsed.log(Maintenance.newBuilder().setKind(Maintenance.Kind.SLABS_AUTOMOVE_RATIO).setAutomoveRatio(ratio));
        }
        Long level = SafeNumbers.strtoul32(word(args, 2));
        if (level == null) {
            return Parsed.reply(Replies.CLIENT_ERROR_BAD_FORMAT);
        }
        if (level > 2) {
            return Parsed.reply(Replies.ERROR_LINE);
        }
        return Parsed.log(Maintenance.newBuilder().setKind(Maintenance.Kind.SLABS_AUTOMOVE).setAutomoveMode(level.intValue()));
    }

    private Parsed crawler(List<byte[]> args, int ntokens) {
        String sub = args.size() > 1 ? word(args, 1) : "";
        if (ntokens == 4 && sub.equals("crawl")) {
            Long classes = crawlClasses(word(args, 2));
            return classes == null ? Parsed.reply("BADCLASS invalid class id")
                    : Parsed.log(Maintenance.newBuilder().setKind(Maintenance.Kind.CRAWLER_CRAWL).setCrawlClasses(classes));
        }
        if (ntokens == 4 && sub.equals("tocrawl")) {
            Long items = SafeNumbers.strtoul32(word(args, 2));
            return items == null ? Parsed.reply(Replies.CLIENT_ERROR_BAD_FORMAT)
                    : Parsed.log(Maintenance.newBuilder().setKind(Maintenance.Kind.CRAWLER_TOCRAWL)
                            .setCrawlerToCrawl((int) Math.min(items, Integer.MAX_VALUE)));
        }
        if (ntokens == 4 && sub.equals("sleep")) {
            Long micros = SafeNumbers.strtoul32(word(args, 2));
            if (micros == null) {
                return Parsed.reply(Replies.CLIENT_ERROR_BAD_FORMAT);
            }
            if (micros > 1_000_000) {
                return Parsed.reply("CLIENT_ERROR sleep must be one second or less");
            }
            stats.crawlerSleepMicros = micros.intValue();
            return Parsed.reply("OK");
        }
        if (ntokens == 3 && sub.equals("enable")) {
            return Parsed.log(Maintenance.newBuilder().setKind(Maintenance.Kind.CRAWLER_ENABLE));
        }
        if (ntokens == 3 && sub.equals("disable")) {
            return Parsed.log(Maintenance.newBuilder().setKind(Maintenance.Kind.CRAWLER_DISABLE));
        }
        return Parsed.reply(Replies.ERROR_LINE);
    }

    /** memcached's lru_crawler_crawl() class list: {@code all}, {@code hash}, or ids separated by commas. */
    private static Long crawlClasses(String list) {
        if (list.equals("all") || list.equals("hash")) {
            return ALL_CLASSES;
        }
        long bits = 0;
        for (String id : list.split(",")) {
            Long classId = id.isEmpty() ? null : SafeNumbers.strtoul32(id);
            if (classId == null || classId < 1 || classId >= Limits.SLAB_CLASS_IDS) {
                return null;
            }
            bits |= 1L << classId;
        }
        return bits;
    }

    /** The reply line of an applied maintenance command. */
    static void writeReply(ByteBuf out, StoreResult result) {
        Replies.writeLine(out, result.status == StoreResult.Status.MAINTENANCE ? MaintenanceReply.of(result).line()
                : "SERVER_ERROR this cluster was created by a version of raftcached without this command");
    }

    // --- metadump ----------------------------------------------------------------------------------

    /**
     * {@code lru_crawler metadump <classes|all|hash>}: one line per live item, then END, streamed
     * as the client reads them, from an image of this node's replica taken off the event loop.
     */
    CompletableFuture<RequestExecutor.Reply> metadump(Request request) {
        if (!cluster.store().maintenanceStats().lruCrawlerEnabled()) {
            return CompletableFuture.completedFuture(RequestExecutor.whole(out -> Replies.writeLine(out, "CLIENT_ERROR lru crawler disabled")));
        }
        if (config.flags().disableDumping) {
            return CompletableFuture.completedFuture(RequestExecutor.whole(out -> Replies.writeLine(out, "ERROR metadump not allowed")));
        }
        Long classes = crawlClasses(word(request.args(), 2));
        if (classes == null) {
            return CompletableFuture.completedFuture(RequestExecutor.whole(out -> Replies.writeLine(out, "BADCLASS invalid class id")));
        }
        return CompletableFuture.supplyAsync(() -> {
            try {
                return new MetadumpReply(cluster.metadump(classes));
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }, walks);
    }

    /** Writes the walk's lines as the connection has room; closes the image when done or abandoned. */
    private static final class MetadumpReply implements RequestExecutor.Reply {
        private final ItemWalk walk;
        private boolean closed;

        MetadumpReply(ItemWalk walk) {
            this.walk = walk;
        }

        @Override
        public boolean writeTo(RequestExecutor.Output out) {
            ItemWalk.ItemLine line = (key, exptime, updated, cas, fetched, classId, size) -> {
                ByteBuf buffer = out.buffer();
                buffer.writeCharSequence("key=", StandardCharsets.US_ASCII);
                uriEncode(key, buffer);
                buffer.writeCharSequence(" exp=" + exptime + " la=" + updated + " cas=" + Long.toUnsignedString(cas)
                        + " fetch=" + (fetched ? "yes" : "no") + " cls=" + classId + " size=" + size + "\n",
                        StandardCharsets.US_ASCII);
            };
            while (walk.next(line)) {
                if (!out.room()) {
                    return false;
                }
            }
            Replies.writeLine(out.buffer(), "END");
            abandon();
            return true;
        }

        @Override
        public void abandon() {
            if (!closed) {
                closed = true;
                walk.close();
            }
        }
    }

    private static String word(List<byte[]> args, int index) {
        return new String(args.get(index), StandardCharsets.ISO_8859_1);
    }

    private static final java.util.regex.Pattern DECIMAL =
            java.util.regex.Pattern.compile("\\s*[+-]?(\\d+\\.?\\d*|\\.\\d+)([eE][+-]?\\d+)?");

    /** memcached's safe_strtod for decimal numbers: the whole token one (leading spaces allowed); null otherwise. */
    private static Double strtod(String token) {
        return DECIMAL.matcher(token).matches() ? Double.valueOf(token.strip()) : null;
    }

    /** memcached's uriencode(): letters, digits and {@code -._~} as they are, every other byte as %XX. */
    static void uriEncode(byte[] key, ByteBuf out) {
        for (byte b : key) {
            int c = b & 0xFF;
            if (c < 0x80 && (Character.isLetterOrDigit(c) || c == '-' || c == '.' || c == '_' || c == '~')) {
                out.writeByte(c);
            } else {
                out.writeByte('%').writeByte(HEX[c >>> 4]).writeByte(HEX[c & 0xF]);
            }
        }
    }

    private static final byte[] HEX = "0123456789ABCDEF".getBytes(StandardCharsets.US_ASCII);
}
