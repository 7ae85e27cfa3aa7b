package io.raftcached.store;

import com.google.protobuf.ByteOutput;
import com.google.protobuf.ByteString;
import com.google.protobuf.UnsafeByteOperations;
import io.raftcached.proto.Command;
import io.raftcached.proto.CommandOption;
import io.raftcached.proto.StoreMode;
import io.raftcached.store.StoreResult.Status;
import io.raftcached.util.Limits;
import io.raftcached.util.SafeNumbers;
import java.io.IOException;
import java.io.UncheckedIOException;

/**
 * The deterministic cache: memcached's command semantics over off-heap slab memory.
 *
 * <p>Writes arrive only through {@link #apply}, on one thread, with time passed in through
 * {@link #advanceClock}: the same commands applied to the same state give the same results and
 * the same bytes on every replica. No clock, no randomness, no I/O in here (a build check keeps
 * it so). Reads ({@link #read}) run concurrently on any thread, change nothing replicated, and
 * use a read clock the caller derives from the applied time.
 */
public final class Store implements StoreCounters, AutoCloseable {
    /** Store seconds count from this Unix time so 32-bit times last until 2088. */
    static final long EPOCH_UNIX_SECONDS = 1_600_000_000L;
    /** memcached's REALTIME_MAXDELTA: exptimes above 30 days are absolute Unix times. */
    public static final long RELATIVE_EXPTIME_MAX_SECONDS = 60L * 60 * 24 * 30;

    public enum ReadOutcome { HIT, MISS, EXPIRED, FLUSHED }

    /** Visits the item a read found, while its memory is guaranteed to be that item's. */
    public interface ItemVisitor {
        void visit(ItemView item);
    }

    private final Items items;
    private final Maintainer maintainer;
    private final ReadEpochs epochs;
    private final LocalReads localReads;
    private final ThreadLocal<ItemView> readerViews;
    private long nowMillis;
    private volatile long publishedNowMillis;

    public Store(StoreConfig config, long hashSeed) {
        this(config, hashSeed, new ReadEpochs(), new LocalReads());
    }

    /**
     * A store whose readers register in {@code epochs}, which may be shared with the stores that
     * replace this one (snapshot installs), so a reader's section covers fetching the current store
     * too and a replaced store is freed only once no reader can still hold it.
     */
    public Store(StoreConfig config, long hashSeed, ReadEpochs epochs, LocalReads localReads) {
        this(config, hashSeed, 0, epochs, localReads);
    }

    Store(StoreConfig config, long hashSeed, long expectedItems, ReadEpochs epochs, LocalReads localReads) {
        this.epochs = epochs;
        this.localReads = localReads;
        this.items = new Items(config, epochs, hashSeed, expectedItems);
        this.maintainer = new Maintainer(items);
        this.readerViews = ThreadLocal.withInitial(() -> new ItemView(items, localReads.countersForCurrentThread()));
    }

    @Override
    public StoreConfig config() {
        return items.config;
    }

    @Override
    public SlabClasses slabClasses() {
        return items.classes;
    }

    // --- time ------------------------------------------------------------------------------

    /** Sets the replicated now to max(now, stamp): time never runs backwards across leaders. */
    public void advanceClock(long leaderTimeMillis) {
        if (leaderTimeMillis > nowMillis) {
            nowMillis = leaderTimeMillis;
            items.nowSeconds = toStoreSeconds(nowMillis);
            publishedNowMillis = nowMillis;
        }
    }

    /** The last applied now, readable from any thread (for the read clock). */
    public long appliedNowMillis() {
        return publishedNowMillis;
    }

    static int toStoreSeconds(long unixMillis) {
        long seconds = Math.floorDiv(unixMillis, 1000) - EPOCH_UNIX_SECONDS;
        return (int) Math.max(1, Math.min(Integer.MAX_VALUE, seconds));
    }

    /** memcached's realtime(EXPTIME_TO_POSITIVE_TIME(exptime)), in store seconds; 0 = never. */
    int realtime(long exptime) {
        return realtime(exptime, items.nowSeconds);
    }

    private static int realtime(long exptime, int nowSeconds) {
        if (exptime < 0) {
            exptime = RELATIVE_EXPTIME_MAX_SECONDS + 1;   // an absolute time long past: expired
        }
        return realtimeNonNegative(exptime, nowSeconds);
    }

    private int realtimeNonNegative(long exptime) {
        return realtimeNonNegative(exptime, items.nowSeconds);
    }

    private static int realtimeNonNegative(long exptime, int nowSeconds) {
        if (exptime == 0) {
            return 0;
        }
        if (exptime > RELATIVE_EXPTIME_MAX_SECONDS) {
            if (exptime <= EPOCH_UNIX_SECONDS) {
                return 1;
            }
            return (int) Math.min(Integer.MAX_VALUE, exptime - EPOCH_UNIX_SECONDS);
        }
        return (int) Math.min(Integer.MAX_VALUE, nowSeconds + exptime);
    }

    /**
     * The TTL an item gets from a client exptime applied at {@code appliedNowMillis}: seconds left,
     * possibly negative for a time in the past, or -1 for "never". For replies that show the TTL
     * a T or N flag set.
     */
    public static long ttlSecondsFor(long rawExptime, long appliedNowMillis) {
        int now = toStoreSeconds(appliedNowMillis);
        int exptime = realtime(rawExptime, now);
        return exptime == 0 ? -1 : (long) exptime - now;
    }

    // --- writes (apply thread) --------------------------------------------------------------

    /**
     * Applies one command at the current replicated time. {@code wantValue} asks for value bytes
     * in the result (only the node that answers the client needs them); it changes nothing else.
     * Never throws for any command contents: a malformed command yields {@link Status#INVALID}.
     */
    public StoreResult apply(Command command, boolean wantValue) {
        StoreResult result = applyCommand(command, wantValue);
        result.appliedNowMillis = nowMillis;
        return result;
    }

    private StoreResult applyCommand(Command command, boolean wantValue) {
        if (command.getOp() == io.raftcached.proto.Op.ACCESS_HINTS) {
            return accessHints(command);
        }
        if (command.getOp() == io.raftcached.proto.Op.MAINTENANCE) {
            return maintenance(command.getMaintenance());
        }
        if (command.getKey().size() == 0 && command.getOp() != io.raftcached.proto.Op.FLUSH_ALL
                || command.getKey().size() > Limits.KEY_MAX_BYTES) {
            return StoreResult.of(Status.INVALID);
        }
        return switch (command.getOp()) {
            case STORE -> store(command);
            case DELETE -> delete(command);
            case ARITH -> arithmetic(command);
            case TOUCH -> touch(command, false, false);
            // gat's values are read by the node that answers, from the item version this returns.
            case GET_TOUCH -> touch(command, true, false);
            case META_GET -> metaGet(command, wantValue);
            case FLUSH_ALL -> flushAll(command);
            default -> StoreResult.of(Status.INVALID);
        };
    }

    /**
     * Lets memory freed by earlier commands be reused, and moves a drained page's live chunks
     * on (physical work only: nothing replicated changes). Call between batches.
     */
    public void maintain() {
        items.slabs.reclaim();
        maintainer.betweenBatches();
    }

    /**
     * memcached's background work for the entry just applied ({@link Maintainer}): the segmented
     * LRU's moves, and once per log second (or on a {@code tick}) the crawler and the slab
     * automover. Apply thread, at the end of each entry, so every replica does it at the same index.
     */
    public void endOfEntry(boolean tick) {
        maintainer.endOfEntry(tick);
    }

    private static boolean has(Command command, CommandOption option) {
        return (command.getOptions() & option.getNumber()) != 0;
    }

    private StoreResult store(Command command) {
        byte[] key = command.getKey().toByteArray();
        long hash = items.index.hash(key, key.length);
        StoreMode mode = command.getMode();
        boolean meta = has(command, CommandOption.META_COMMAND);
        if (has(command, CommandOption.VALUE_TOO_LARGE)) {
            unlinkAfterFailedAllocation(key, hash, mode, meta);
            return StoreResult.of(Status.TOO_LARGE);
        }
        ByteString value = command.getValue();
        long item = items.allocate(key, command.getClientFlags(), realtime(command.getExptime()), value.size(), 0);
        if (item <= 0) {
            unlinkAfterFailedAllocation(key, hash, mode, meta);
            return StoreResult.of(item == Items.TOO_LARGE ? Status.TOO_LARGE : Status.OUT_OF_MEMORY);
        }
        writeValue(item, value);
        if (has(command, CommandOption.KEY_BINARY)) {
            items.setFlags(item, (byte) (items.flags(item) | ItemLayout.FLAG_KEY_BINARY));
        }
        items.stats.setCommands[items.classId(item)]++;
        long requestCas = has(command, CommandOption.HAS_COMPARE_CAS) ? command.getCompareCas() : 0;
        boolean setStale = has(command, CommandOption.INVALIDATE) && mode == StoreMode.MODE_CAS;
        long explicitCas = has(command, CommandOption.HAS_EXPLICIT_CAS) ? command.getExplicitCas() : 0;
        long old = items.getForWrite(key, hash);
        Status status = Status.NOT_STORED;
        long stored = 0;
        if (old != 0) {
            long oldCas = items.cas(old);
            int oldClass = items.classId(old);
            boolean casMatch = requestCas != 0 && requestCas == oldCas;
            boolean casStale = requestCas != 0 && !casMatch && setStale && Long.compareUnsigned(requestCas, oldCas) < 0;
            boolean casNone = requestCas == 0;
            switch (mode) {
                case MODE_ADD -> items.update(old);   // add fails but promotes the existing item (do_item_update)
                case MODE_CAS -> {
                    if (casMatch || casStale) {
                        items.stats.casHits[oldClass]++;
                        if (casStale) {
                            items.setExptime(item, items.exptime(old));
                            byte flags = (byte) (items.flags(item) | ItemLayout.FLAG_STALE
                                    | (items.flags(old) & ItemLayout.FLAG_TOKEN_SENT));
                            items.setFlags(item, flags);
                        }
                        stored = item;
                    } else {
                        items.stats.casBadValue[oldClass]++;
                        status = Status.EXISTS;
                    }
                }
                case MODE_APPEND, MODE_PREPEND -> {
                    if (!casNone && !casMatch) {
                        status = Status.EXISTS;
                    } else {
                        stored = concatenate(key, old, item, mode == StoreMode.MODE_APPEND, has(command, CommandOption.KEY_BINARY));
                    }
                }
                default -> stored = item;   // set, replace
            }
            if (stored != 0) {
                items.replace(old, stored, hash, explicitCas);
                status = Status.STORED;
            }
        } else if (mode == StoreMode.MODE_ADD || mode == StoreMode.MODE_SET) {
            items.link(item, hash, explicitCas);
            stored = item;
            status = Status.STORED;
        } else if (mode == StoreMode.MODE_CAS) {
            status = Status.NOT_FOUND;
        }
        StoreResult result = StoreResult.of(status);
        if (stored != 0) {
            result.cas = items.cas(stored);
        }
        if (stored != item) {
            items.free(item);
        }
        return result;
    }

    /** memcached drops the old value when a set (any ms) cannot allocate, rather than keep stale data. */
    private void unlinkAfterFailedAllocation(byte[] key, long hash, StoreMode mode, boolean meta) {
        if (meta || mode == StoreMode.MODE_SET) {
            long old = items.getForWrite(key, hash);
            if (old != 0) {
                items.unlink(old, hash);
            }
        }
    }

    /** append/prepend: a new item holding both values, with the old item's flags and exptime. */
    private long concatenate(byte[] key, long old, long addition, boolean append, boolean keyBinary) {
        int oldLength = items.valueLength(old);
        int addLength = items.valueLength(addition);
        long combined = items.allocate(key, items.clientFlags(old), items.exptime(old), (long) oldLength + addLength, old);
        if (combined <= 0) {
            return 0;
        }
        byte[] oldValue = new byte[oldLength];
        items.readValue(old, 0, oldValue, 0, oldLength);
        byte[] addValue = new byte[addLength];
        items.readValue(addition, 0, addValue, 0, addLength);
        items.writeValue(combined, 0, append ? oldValue : addValue, 0, append ? oldLength : addLength);
        items.writeValue(combined, append ? oldLength : addLength, append ? addValue : oldValue, 0, append ? addLength : oldLength);
        if (keyBinary) {
            items.setFlags(combined, (byte) (items.flags(combined) | ItemLayout.FLAG_KEY_BINARY));
        }
        return combined;
    }

    private void writeValue(long item, ByteString value) {
        try {
            UnsafeByteOperations.unsafeWriteTo(value, new ByteOutput() {
                private long offset;

                @Override
                public void write(byte b) {
                    write(new byte[] {b}, 0, 1);
                }

                @Override
                public void write(byte[] bytes, int start, int length) {
                    items.writeValue(item, offset, bytes, start, length);
                    offset += length;
                }

                @Override
                public void writeLazy(byte[] bytes, int start, int length) {
                    write(bytes, start, length);
                }

                @Override
                public void write(java.nio.ByteBuffer buffer) {
                    byte[] bytes = new byte[buffer.remaining()];
                    buffer.get(bytes);
                    write(bytes, 0, bytes.length);
                }

                @Override
                public void writeLazy(java.nio.ByteBuffer buffer) {
                    write(buffer);
                }
            });
        } catch (IOException e) {
            throw new UncheckedIOException(e);   // not reachable: the output never throws
        }
    }

    private StoreResult delete(Command command) {
        byte[] key = command.getKey().toByteArray();
        long hash = items.index.hash(key, key.length);
        long item = items.getForWrite(key, hash);
        if (item == 0) {
            return StoreResult.of(Status.NOT_FOUND);
        }
        if (has(command, CommandOption.HAS_COMPARE_CAS) && items.cas(item) != command.getCompareCas()) {
            return StoreResult.of(Status.EXISTS);
        }
        if (has(command, CommandOption.INVALIDATE)) {
            // md I: keep the item but mark it stale with a new CAS, so one client wins the recache.
            if (has(command, CommandOption.HAS_EXPTIME)) {
                items.setExptime(item, realtime(command.getExptime()));
            }
            byte flags = (byte) ((items.flags(item) | ItemLayout.FLAG_STALE) & ~ItemLayout.FLAG_TOKEN_SENT);
            items.setFlags(item, flags);
            items.setCas(item, has(command, CommandOption.HAS_EXPLICIT_CAS) ? command.getExplicitCas() : items.nextCas());
        } else {
            items.stats.deleteHits[items.classId(item)]++;
            items.unlink(item, hash);
        }
        return StoreResult.of(Status.DELETED);
    }

    private StoreResult arithmetic(Command command) {
        byte[] key = command.getKey().toByteArray();
        long hash = items.index.hash(key, key.length);
        boolean increment = !has(command, CommandOption.DECREMENT);
        long explicitCas = has(command, CommandOption.HAS_EXPLICIT_CAS) ? command.getExplicitCas() : 0;
        long item = items.getForWrite(key, hash);
        StoreResult result;
        if (item == 0) {
            if (!has(command, CommandOption.HAS_VIVIFY)) {
                return StoreResult.of(Status.NOT_FOUND);
            }
            byte[] digits = Long.toUnsignedString(command.getInitial()).getBytes(java.nio.charset.StandardCharsets.US_ASCII);
            item = items.allocate(key, 0, 0, digits.length, 0);
            if (item <= 0) {
                return StoreResult.of(Status.OUT_OF_MEMORY);
            }
            items.writeValue(item, 0, digits, 0, digits.length);
            items.link(item, hash, explicitCas);
            result = StoreResult.of(Status.NUMBER);
            result.number = command.getInitial();
            result.created = true;
        } else {
            int valueLength = items.valueLength(item);
            if (valueLength == 0 || items.chunked(item)) {
                return StoreResult.of(Status.NON_NUMERIC);
            }
            long requestCas = has(command, CommandOption.HAS_COMPARE_CAS) ? command.getCompareCas() : 0;
            if (requestCas != 0 && items.cas(item) != requestCas) {
                return StoreResult.of(Status.EXISTS);
            }
            byte[] current = new byte[valueLength];
            items.readValue(item, 0, current, 0, valueLength);
            Long parsed = SafeNumbers.strtoullOfValue(current);
            if (parsed == null) {
                return StoreResult.of(Status.NON_NUMERIC);
            }
            long delta = command.getDelta();
            long updated = increment ? parsed + delta : (Long.compareUnsigned(delta, parsed) > 0 ? 0 : parsed - delta);
            int classId = items.classId(item);
            if (increment) {
                items.stats.incrHits[classId]++;
            } else {
                items.stats.decrHits[classId]++;
            }
            byte[] digits = Long.toUnsignedString(updated).getBytes(java.nio.charset.StandardCharsets.US_ASCII);
            if (digits.length <= valueLength) {
                // memcached rewrites in place, space-padded; a relocated copy gives readers the same.
                long copy = items.relocate(item);
                byte[] padded = new byte[valueLength];
                java.util.Arrays.fill(padded, (byte) ' ');
                System.arraycopy(digits, 0, padded, 0, digits.length);
                items.writeValue(copy, 0, padded, 0, valueLength);
                items.setCas(copy, explicitCas != 0 ? explicitCas : items.nextCas());
                items.publishRelocated(item, copy, hash);
                item = copy;
                items.update(item);   // memcached's in-place incr: do_item_update
            } else {
                long grown = items.allocate(key, items.clientFlags(item), items.exptime(item), digits.length, item);
                if (grown <= 0) {
                    return StoreResult.of(Status.OUT_OF_MEMORY);
                }
                items.writeValue(grown, 0, digits, 0, digits.length);
                items.replace(item, grown, hash, explicitCas);
                item = grown;
            }
            result = StoreResult.of(Status.NUMBER);
            result.number = updated;
        }
        result.ttlBeforeSeconds = ttl(item);
        applyTtlFlags(command, item, result.created);
        result.ttlAfterSeconds = ttl(item);
        result.cas = items.cas(item);
        return result;
    }

    /** T and N of ma/mg, in request order; returns whether N made the client a recache winner. */
    private boolean applyTtlFlags(Command command, long item, boolean created) {
        boolean won = false;
        String order = command.getFlagOrder();
        for (int i = 0; i < order.length(); i++) {
            char flag = order.charAt(i);
            if (flag == 'T' && has(command, CommandOption.HAS_EXPTIME)) {
                items.setExptime(item, realtime(command.getExptime()));
            } else if (flag == 'N' && created) {
                items.setExptime(item, realtime(command.getVivifyExptime()));
                won = true;
            } else if (flag == 'R' && has(command, CommandOption.HAS_RECACHE) && !created
                    && !items.hasFlag(item, ItemLayout.FLAG_TOKEN_SENT) && items.exptime(item) != 0
                    && items.exptime(item) < realtime(command.getRecacheExptime())) {
                won = true;
            }
        }
        return won;
    }

    private long ttl(long item) {
        int exptime = items.exptime(item);
        return exptime == 0 ? -1 : Integer.toUnsignedLong(exptime - items.nowSeconds);
    }

    private StoreResult touch(Command command, boolean returnsItem, boolean wantValue) {
        byte[] key = command.getKey().toByteArray();
        long hash = items.index.hash(key, key.length);
        long item = items.getForWrite(key, hash);
        if (item == 0) {
            return StoreResult.of(returnsItem ? Status.MISS : Status.NOT_FOUND);
        }
        items.fetched(item);   // touch and gat fetch the item (do_item_get with DO_UPDATE)
        items.setExptime(item, realtime(command.getExptime()));
        items.stats.touchHits[items.classId(item)]++;
        StoreResult result = StoreResult.of(returnsItem ? Status.HIT : Status.TOUCHED);
        describe(item, result, wantValue);
        return result;
    }

    /** mg with T, N or R, or on a stale item: the flags that change the item go through the log. */
    private StoreResult metaGet(Command command, boolean wantValue) {
        byte[] key = command.getKey().toByteArray();
        long hash = items.index.hash(key, key.length);
        long item = items.getForWrite(key, hash);
        boolean created = false;
        if (item == 0 && has(command, CommandOption.HAS_VIVIFY)) {
            item = items.allocate(key, 0, 0, 0, 0);
            if (item > 0) {
                // memcached 1.6.18 does not mark a vivified item's key as binary, even under b.
                items.link(item, hash, has(command, CommandOption.HAS_EXPLICIT_CAS) ? command.getExplicitCas() : 0);
                created = true;
            } else {
                item = 0;
            }
        }
        if (item == 0) {
            return StoreResult.of(Status.MISS);
        }
        StoreResult result = StoreResult.of(Status.HIT);
        result.created = created;
        result.ttlBeforeSeconds = ttl(item);
        boolean won = applyTtlFlags(command, item, created);
        result.ttlAfterSeconds = ttl(item);
        result.tokenAlreadySent = items.hasFlag(item, ItemLayout.FLAG_TOKEN_SENT);
        result.stale = items.hasFlag(item, ItemLayout.FLAG_STALE);
        if (result.stale && !result.tokenAlreadySent) {
            won = true;
        }
        if (won) {
            items.setFlags(item, (byte) (items.flags(item) | ItemLayout.FLAG_TOKEN_SENT));
        }
        result.won = won;
        if (has(command, CommandOption.HAS_EXPTIME)) {
            items.stats.touchHits[items.classId(item)]++;
        }
        if (!has(command, CommandOption.NO_LRU_BUMP)) {
            items.fetched(item);
        }
        describe(item, result, wantValue);
        return result;
    }

    private void describe(long item, StoreResult result, boolean wantValue) {
        result.cas = items.cas(item);
        result.clientFlags = items.clientFlags(item);
        result.valueLength = items.valueLength(item);
        result.slabClass = items.classId(item);
        result.totalSizeBytes = items.totalSize(item);
        result.keyBinary = items.hasFlag(item, ItemLayout.FLAG_KEY_BINARY);
        if (result.ttlBeforeSeconds == -1 && result.ttlAfterSeconds == -1) {
            result.ttlBeforeSeconds = ttl(item);
            result.ttlAfterSeconds = result.ttlBeforeSeconds;
        }
        if (wantValue) {
            result.value = new byte[result.valueLength];
            items.readValue(item, 0, result.value, 0, result.valueLength);
        }
    }

    /**
     * Reads other nodes served, reported in batches: each live item named is fetched as memcached's
     * get fetches it (FETCHED, then ACTIVE; the flat LRU's bump), so what is read survives what is
     * only written on every replica alike. A key that is gone or expired is skipped; nothing else
     * changes.
     */
    private StoreResult accessHints(Command command) {
        for (int i = 0; i < command.getHintKeysCount(); i++) {
            byte[] key = command.getHintKeys(i).toByteArray();
            if (key.length == 0 || key.length > Limits.KEY_MAX_BYTES) {
                continue;
            }
            long item = items.index.find(key, key.length, items.index.hash(key, key.length));
            if (item != 0 && !items.flushedAt(item, items.nowSeconds) && !items.expiredAt(item, items.nowSeconds)) {
                items.fetched(item);
            }
        }
        return StoreResult.of(Status.OK);
    }

    private StoreResult maintenance(io.raftcached.proto.Maintenance request) {
        MaintenanceReply reply = maintenanceReply(request);
        if (reply == null) {
            return StoreResult.of(Status.INVALID);
        }
        StoreResult result = StoreResult.of(Status.MAINTENANCE);
        result.number = reply.ordinal();
        return result;
    }

    private MaintenanceReply maintenanceReply(io.raftcached.proto.Maintenance request) {
        LruSettings settings = items.config.lru();
        SlabRebalancer rebalancer = maintainer.rebalancer;
        Crawler crawler = maintainer.crawler;
        switch (request.getKind()) {
            case SLABS_REASSIGN:
                return !settings.slabReassign() ? MaintenanceReply.REASSIGN_DISABLED
                        : rebalancer.reassign(request.getSourceClass(), request.getDestinationClass());
            case SLABS_AUTOMOVE:
                if (request.getAutomoveMode() > 2) {
                    return null;
                }
                rebalancer.automoveMode = request.getAutomoveMode();
                return MaintenanceReply.OK;
            case SLABS_AUTOMOVE_RATIO:
                rebalancer.automoveRatio = request.getAutomoveRatio();
                return MaintenanceReply.OK;
            case CRAWLER_ENABLE:
                if (crawler.enabled) {
                    return MaintenanceReply.CRAWLER_ALREADY_ENABLED;
                }
                crawler.enabled = true;
                return MaintenanceReply.OK;
            case CRAWLER_DISABLE:
                crawler.enabled = false;
                return MaintenanceReply.OK;
            case CRAWLER_CRAWL:
                if (!crawler.enabled) {
                    return MaintenanceReply.CRAWLER_DISABLED;
                }
                if ((request.getCrawlClasses() & 1L) != 0) {
                    return MaintenanceReply.CRAWLER_BADCLASS;
                }
                if (crawler.requestedClasses != 0) {
                    return MaintenanceReply.CRAWLER_BUSY;
                }
                long classes = request.getCrawlClasses() & allClassBits();
                if (classes != 0) {
                    crawler.request(classes);   // memcached answers OK for a class without items too
                }
                return MaintenanceReply.OK;
            case CRAWLER_TOCRAWL:
                crawler.itemsPerSecond = request.getCrawlerToCrawl() == 0 ? settings.crawlerItemsPerSecond()
                        : request.getCrawlerToCrawl();
                return MaintenanceReply.OK;
            default:
                return null;
        }
    }

    /** A bit per slab class id this store has, for {@code lru_crawler crawl all}. */
    public long allClassBits() {
        int largest = items.classes.largestClass();
        return (largest == 63 ? -1L : (1L << (largest + 1)) - 1) & ~1L;
    }

    /** memcached's flush_all: a marker, not a sweep; items are dropped as they are met. */
    private StoreResult flushAll(Command command) {
        long delay = command.getExptime();
        int newOldest = delay > 0 ? realtimeNonNegative(delay) : items.nowSeconds;
        if (items.casEnabled) {
            items.oldestLiveSeconds = newOldest - 1;
            if (newOldest - 1 <= items.nowSeconds) {
                items.oldestCas = items.nextCas();
            }
        } else {
            items.oldestLiveSeconds = newOldest;
        }
        return StoreResult.of(Status.OK);
    }

    // --- reads (any thread) -----------------------------------------------------------------

    /** What a lookup asks for: the live item, or the version an applied command returned. */
    public record Lookup(boolean markAccess, boolean versioned, long casUnique) {
        /** A plain read; {@code markAccess} records this node's access facts and may send a hint. */
        public static Lookup live(boolean markAccess) {
            return markAccess ? LIVE_MARKED : LIVE;
        }

        /**
         * The item version an applied command returned (gat: the touch answered with its CAS, and
         * memcached returns that item even when the touch itself expired it). If the key still holds
         * that version it is visited whatever its expiry or a later flush says; if a later write
         * replaced it, the current item is visited only if it is live, as a plain read would. With
         * CAS disabled every version has CAS 0 and the item found is taken as the one applied.
         */
        public static Lookup version(long casUnique) {
            return new Lookup(false, true, casUnique);
        }

        private static final Lookup LIVE = new Lookup(false, false, 0);
        private static final Lookup LIVE_MARKED = new Lookup(true, false, 0);
    }

    /**
     * Looks a key up at {@code readNowMillis} without changing replicated state, in a read section
     * of its own. On a hit the visitor sees the item; marking access then records this node's own
     * access facts (fetched, last access) after the visit, as memcached reports them "before" the
     * command.
     */
    public ReadOutcome read(byte[] key, long readNowMillis, Lookup lookup, ItemVisitor visitor) {
        ReadEpochs.Reader reader = epochs.reader();
        reader.enter();
        try {
            return readInSection(key, readNowMillis, lookup, visitor);
        } finally {
            reader.exit();
        }
    }

    /** {@link #read} for a caller already inside a read section of {@link #epochs()}. */
    public ReadOutcome readInSection(byte[] key, long readNowMillis, Lookup lookup, ItemVisitor visitor) {
        assert epochs.reader().inSection() : "read outside a read section";
        if (key.length == 0 || key.length > Limits.KEY_MAX_BYTES) {
            return ReadOutcome.MISS;
        }
        long item = items.index.find(key, key.length, items.index.hash(key, key.length));
        if (item == 0) {
            return ReadOutcome.MISS;
        }
        int nowSeconds = toStoreSeconds(readNowMillis);
        if (!lookup.versioned() || items.cas(item) != lookup.casUnique()) {
            if (items.flushedAt(item, nowSeconds)) {
                return ReadOutcome.FLUSHED;
            }
            if (items.expiredAt(item, nowSeconds)) {
                return ReadOutcome.EXPIRED;
            }
        }
        ItemView view = readerViews.get();
        view.reset(item, nowSeconds);
        visitor.visit(view);
        if (lookup.markAccess()) {
            long address = items.address(item);
            OffHeap.putInt(address + ItemLayout.LAST_ACCESS, nowSeconds);
            OffHeap.putByte(address + ItemLayout.LOCAL_FLAGS,
                    (byte) (OffHeap.getByte(address + ItemLayout.LOCAL_FLAGS) | ItemLayout.LOCAL_FLAG_FETCHED));
            if (view.countHitAndClaimHint()) {
                localReads.hint(key);
            }
        }
        return ReadOutcome.HIT;
    }

    /** The reader registry this store's memory reuse waits on. */
    public ReadEpochs epochs() {
        return epochs;
    }

    // --- facts for stats and the digest -----------------------------------------------------

    Maintainer maintainer() {
        return maintainer;
    }

    /** Records this store's evictions into {@code log} (while it records): a replica passes its own to each store it installs. */
    public void recordEvictionsInto(EvictionLog log) {
        items.evictionLog = log;
    }

    Items items() {
        return items;
    }

    @Override
    public long currentItems() {
        return items.currentItems;
    }

    @Override
    public long totalItems() {
        return items.totalItems;
    }

    @Override
    public long currentBytes() {
        return items.currentBytes;
    }

    public long casCounter() {
        return items.casCounter;
    }

    @Override
    public long mallocedBytes() {
        return items.slabs.mallocedBytes();
    }

    /** Memory actually allocated for pages, including slack held for readers. */
    public long physicalBytes() {
        return items.slabs.physicalBytes();
    }

    @Override
    public long hashBuckets() {
        return items.index.bucketCount();
    }

    @Override
    public boolean hashExpanding() {
        return items.index.migrating();
    }

    @Override
    public MaintenanceStats maintenanceStats() {
        return MaintenanceStats.of(items, maintainer);
    }

    /** Hits this node served from one segment of a class (memcached's hits_to_hot etc.); segment 0..3: hot, warm, cold, temp. */
    @Override
    public long hits(int classId, int segmentIndex) {
        return localReads.hits(classId | LruLists.SEGMENTS[segmentIndex]);
    }

    @Override
    public SlabStats slabStats(int classId) {
        return new SlabStats(items, classId);
    }

    /**
     * Keeps memcached's item size histogram from now on ({@code -o track_sizes}): one walk now,
     * then a count per link and unlink. Apply thread (or with apply held back).
     */
    public void trackSizes() {
        items.trackSizes();
    }

    /**
     * memcached's {@code stats sizes}: linked items counted by total size rounded up to 32 bytes,
     * as a map from bucket size to count. Read from the tracked histogram on any thread, as
     * memcached reads its own; empty unless {@link #trackSizes} was called.
     */
    @Override
    public java.util.SortedMap<Long, Long> sizeHistogram() {
        java.util.SortedMap<Long, Long> histogram = new java.util.TreeMap<>();
        long[] buckets = items.sizeBuckets();
        if (buckets == null) {
            return histogram;
        }
        for (int bucket = 0; bucket < buckets.length; bucket++) {
            if (buckets[bucket] > 0) {
                histogram.put((long) bucket * Items.SIZE_BUCKET_BYTES, buckets[bucket]);
            }
        }
        return histogram;
    }

    /**
     * Throws {@link IllegalStateException} if the store's structures disagree (LRU links and counts,
     * index, item and byte counters, chunks per class). Walks every item; the caller keeps apply
     * from running meanwhile. For tests and debug runs.
     */
    public void checkInvariants() {
        items.checkInvariants();
    }

    /** One item as memcached's {@code stats cachedump} lists it: key, value bytes, expiry (0 = never). */
    /**
     * An item as {@code stats cachedump} shows it, with where it sits in the segmented LRU
     * ({@code hot}, {@code warm}, {@code cold}, {@code temp}; the flat LRU's one list is {@code
     * hot}) and its replicated FETCHED and ACTIVE marks.
     */
    public record DumpedItem(byte[] key, int valueBytes, long exptimeUnixSeconds, String segment, boolean fetched,
            boolean active) {}

    private static final String[] SEGMENT_NAMES = {"hot", "warm", "cold", "temp"};

    /**
     * The items of one slab class in LRU order, segment by segment (HOT, WARM, COLD, TEMP), most
     * recently linked first, at most {@code limit} of them (memcached's {@code stats cachedump}).
     * The caller keeps apply from running meanwhile.
     */
    public java.util.List<DumpedItem> cachedump(int classId, int limit) {
        java.util.List<DumpedItem> dumped = new java.util.ArrayList<>();
        if (classId < 1 || classId > items.classes.largestClass()) {
            return dumped;
        }
        for (int s = 0; s < LruLists.SEGMENTS.length; s++) {
            for (long item = items.lru.head(classId | LruLists.SEGMENTS[s]); item != 0 && dumped.size() < limit;
                    item = items.lru.next(item)) {
                byte[] key = new byte[items.keyLength(item)];
                OffHeap.copyToArray(items.address(item) + items.keyOffset, key, 0, key.length);
                int exptime = items.exptime(item);
                dumped.add(new DumpedItem(key, items.valueLength(item), exptime == 0 ? 0 : exptime + EPOCH_UNIX_SECONDS,
                        SEGMENT_NAMES[s], items.hasFlag(item, ItemLayout.FLAG_FETCHED), items.hasFlag(item, ItemLayout.FLAG_ACTIVE)));
            }
        }
        return dumped;
    }

    /** A digest of all replicated state; the caller must keep apply from running meanwhile. */
    public String digest() {
        return StoreDigest.of(this, items);
    }

    long nowMillisForDigest() {
        return nowMillis;
    }

    /**
     * Starts a point-in-time snapshot of the state applied so far; apply may continue while the
     * returned snapshot's pages are written out. Apply thread only.
     */
    public StoreSnapshot beginSnapshot(StoreSnapshot.PageSink sink) {
        return beginSnapshot(sink, StoreSnapshot.COPY_BUDGET_BYTES);
    }

    StoreSnapshot beginSnapshot(StoreSnapshot.PageSink sink, long copyBudgetBytes) {
        return StoreSnapshot.begin(items, maintainer, nowMillis, sink, copyBudgetBytes);
    }

    /** Used by a snapshot restore: the replicated clock as the snapshot recorded it. */
    void restoreClock(long restoredNowMillis) {
        nowMillis = restoredNowMillis;
        items.nowSeconds = toStoreSeconds(restoredNowMillis);
        publishedNowMillis = restoredNowMillis;
    }

    @Override
    public void close() {
        items.release();
    }
}
