package io.raftcached.node;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;

/**
 * This node's own counters for {@code stats}: what its clients asked and got. They are per node
 * (memcached's are per process too) and never part of replicated state; the store's counters
 * (items, bytes, evictions) come from the applied log instead.
 */
final class NodeStats {
    final long startedMillis = System.currentTimeMillis();
    final long startedNanos = System.nanoTime();
    final AtomicInteger currentConnections = new AtomicInteger();
    final LongAdder totalConnections = new LongAdder();
    final LongAdder rejectedConnections = new LongAdder();
    final LongAdder bytesRead = new LongAdder();
    /** Connections closed to reclaim input memory their clients kept from moving on (memcached's read_buf_oom). */
    final LongAdder connectionsClosedForMemory = new LongAdder();
    final LongAdder bytesWritten = new LongAdder();
    final LongAdder getCommands = new LongAdder();
    final LongAdder setCommands = new LongAdder();
    final LongAdder flushCommands = new LongAdder();
    final LongAdder touchCommands = new LongAdder();
    final LongAdder metaCommands = new LongAdder();
    final LongAdder getHits = new LongAdder();
    final LongAdder getMisses = new LongAdder();
    final LongAdder getExpired = new LongAdder();
    final LongAdder getFlushed = new LongAdder();
    final LongAdder deleteHits = new LongAdder();
    final LongAdder deleteMisses = new LongAdder();
    final LongAdder incrHits = new LongAdder();
    final LongAdder incrMisses = new LongAdder();
    final LongAdder decrHits = new LongAdder();
    final LongAdder decrMisses = new LongAdder();
    final LongAdder casHits = new LongAdder();
    final LongAdder casMisses = new LongAdder();
    final LongAdder casBadValue = new LongAdder();
    final LongAdder touchHits = new LongAdder();
    final LongAdder touchMisses = new LongAdder();
    final LongAdder storeTooLarge = new LongAdder();
    final LongAdder storeNoMemory = new LongAdder();
    final LongAdder writesFailed = new LongAdder();
    final LongAdder writesOutcomeUnknown = new LongAdder();
    final LongAdder readsRefused = new LongAdder();
    final LongAdder linearizableReads = new LongAdder();
    volatile int verbosity;
    /** memcached's lru_crawler_sleep (-o, or lru_crawler sleep): shown by stats settings; the crawler here runs on the log's clock. */
    volatile int crawlerSleepMicros = 100;
    /** stats detail: per-prefix counters, on with -D or {@code stats detail on}. */
    final PrefixStats prefixes;
    /** watch: this node's log stream and its watchers (log_watcher_* in stats). */
    final LogWatchers watchers;
    /** -Z: the TLS context and its counters (ssl_* in stats, refresh_certs); null without -Z. */
    volatile ClientTls clientTls;

    /** memcached's defaults: delimiter ':', per-prefix stats off. */
    NodeStats() {
        this(new PrefixStats(':', false), new LogWatchers());
    }

    NodeStats(PrefixStats prefixes, LogWatchers watchers) {
        this.prefixes = prefixes;
        this.watchers = watchers;
    }

    long uptimeSeconds() {
        return (System.nanoTime() - startedNanos) / 1_000_000_000L;
    }
}
