package io.raftcached.store;

import com.google.protobuf.ByteString;
import io.raftcached.proto.AutomoveClassState;
import io.raftcached.proto.MaintainerState;

/**
 * memcached's background threads, brought onto the log: the LRU maintainer's juggling, the slab
 * automover and the LRU crawler. memcached runs them on timers; here they run at the end of an
 * applied entry — the juggle after every entry for the classes that allocated, the rest once per
 * second of the log's clock (the first entry applied in a new second, or a tick) — so each
 * replica does the same work at the same index. The physical half of a page move runs between
 * batches instead ({@link #betweenBatches}), since it changes nothing replicated. Apply thread only.
 */
final class Maintainer {
    /** Chunks a drain step copies between two batches: keeps each pause short. */
    static final int DRAIN_RELOCATIONS_PER_STEP = 256;

    private final Items items;
    final Crawler crawler;
    final SlabAutomove automove;
    final SlabRebalancer rebalancer;
    /** Replicated: the log second the once-a-second work last ran in. */
    int maintainedSeconds;
    /** Replicated: memcached's lru_maintainer_juggles, counted per second of work. */
    long juggles;

    Maintainer(Items items) {
        this.items = items;
        this.crawler = new Crawler(items);
        this.automove = new SlabAutomove(items);
        this.rebalancer = new SlabRebalancer(items);
    }

    void endOfEntry(boolean tick) {
        boolean newSecond = items.nowSeconds != maintainedSeconds;
        items.juggle(tick || newSecond);
        int evictingClass = items.lastEvictedClass;
        items.lastEvictedClass = 0;
        if (evictingClass != 0 && rebalancer.automoveMode == 2 && items.config.lru().slabReassign()) {
            // memcached's slab_automove=2: an eviction asks for a page from any class with one to spare.
            rebalancer.reassign(-1, evictingClass);
        }
        if (!newSecond) {
            return;
        }
        maintainedSeconds = items.nowSeconds;
        juggles++;
        crawler.step(crawler.itemsPerSecond);
        if (rebalancer.automoveMode == 1 && items.config.lru().slabReassign()) {
            SlabAutomove.Move move = automove.run(rebalancer.automoveRatio);
            if (move != null) {
                rebalancer.reassign(move.sourceClass(), move.destinationClass());
            }
        }
    }

    void betweenBatches() {
        rebalancer.drainStep(DRAIN_RELOCATIONS_PER_STEP);
    }

    // --- snapshots and the digest ----------------------------------------------------------------

    private static final int WINDOW_DIRTY = 1;
    private static final int WINDOW_EVICTIONS_SEEN = 2;

    /** The replicated state; {@code withCursorHandle} false leaves out the crawler's page handle (not replicated). */
    MaintainerState toProto(boolean withCursorHandle) {
        MaintainerState.Builder state = MaintainerState.newBuilder()
                .setMaintainedSeconds(maintainedSeconds).setJuggles(juggles)
                .setCrawlerEnabled(crawler.enabled).setCrawlerLruId(items.lru.cursorLruId)
                .setCrawlerCursor(withCursorHandle ? items.lru.cursor : 0).setCrawlerPasses(crawler.passesStarted)
                .setCrawlerRequestedClasses(crawler.requestedClasses).setCrawlerItemsPerSecond(crawler.itemsPerSecond)
                .setAutomoveMode(rebalancer.automoveMode).setAutomoveRatio(rebalancer.automoveRatio)
                .setSlabsMoved(rebalancer.slabsMoved).setEvictionsForMoves(rebalancer.evictionsForMoves)
                .setMovesAbandoned(rebalancer.movesAbandoned).setLastMoveSeconds(rebalancer.lastMoveSeconds)
                .setPickAnyCursor(rebalancer.pickAnyCursor).setPoolPages(items.slabs.logicalPoolPages())
                .setWindowCursor(automove.windowCursor);
        int window = automove.windowSize;
        for (int classId = 1; classId <= items.classes.largestClass(); classId++) {
            AutomoveClassState.Builder automoveClass = AutomoveClassState.newBuilder()
                    .setEvictedBefore(automove.evictedBefore[classId])
                    .setOutOfMemoryBefore(automove.outOfMemoryBefore[classId])
                    .setPagesBefore(automove.pagesBefore[classId]);
            byte[] flags = new byte[window];
            for (int n = 0; n < window; n++) {
                int slot = classId * window + n;
                automoveClass.addWindowAge(automove.windowAge[slot]).addWindowEvictedRatio(automove.windowEvictedRatio[slot]);
                flags[n] = (byte) ((automove.windowDirty[slot] ? WINDOW_DIRTY : 0)
                        | (automove.windowEvictedSeen[slot] ? WINDOW_EVICTIONS_SEEN : 0));
            }
            state.addAutomoveClasses(automoveClass.setWindowFlags(ByteString.copyFrom(flags)));
        }
        return state.build();
    }

    void restore(MaintainerState state) {
        maintainedSeconds = state.getMaintainedSeconds();
        juggles = state.getJuggles();
        crawler.enabled = state.getCrawlerEnabled();
        items.lru.cursorLruId = state.getCrawlerLruId();
        items.lru.cursor = state.getCrawlerCursor();
        crawler.passesStarted = state.getCrawlerPasses();
        crawler.requestedClasses = state.getCrawlerRequestedClasses();
        crawler.itemsPerSecond = state.getCrawlerItemsPerSecond();
        rebalancer.automoveMode = state.getAutomoveMode();
        rebalancer.automoveRatio = state.getAutomoveRatio();
        rebalancer.slabsMoved = state.getSlabsMoved();
        rebalancer.evictionsForMoves = state.getEvictionsForMoves();
        rebalancer.movesAbandoned = state.getMovesAbandoned();
        rebalancer.lastMoveSeconds = state.getLastMoveSeconds();
        rebalancer.pickAnyCursor = state.getPickAnyCursor();
        automove.windowCursor = state.getWindowCursor();
        int window = automove.windowSize;
        for (int classId = 1; classId <= state.getAutomoveClassesCount(); classId++) {
            AutomoveClassState automoveClass = state.getAutomoveClasses(classId - 1);
            automove.evictedBefore[classId] = automoveClass.getEvictedBefore();
            automove.outOfMemoryBefore[classId] = automoveClass.getOutOfMemoryBefore();
            automove.pagesBefore[classId] = automoveClass.getPagesBefore();
            byte[] flags = automoveClass.getWindowFlags().toByteArray();
            for (int n = 0; n < window; n++) {
                int slot = classId * window + n;
                automove.windowAge[slot] = automoveClass.getWindowAge(n);
                automove.windowEvictedRatio[slot] = automoveClass.getWindowEvictedRatio(n);
                automove.windowDirty[slot] = (flags[n] & WINDOW_DIRTY) != 0;
                automove.windowEvictedSeen[slot] = (flags[n] & WINDOW_EVICTIONS_SEEN) != 0;
            }
        }
    }
}
