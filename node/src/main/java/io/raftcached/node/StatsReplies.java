package io.raftcached.node;

import io.netty.buffer.ByteBuf;
import io.netty.channel.epoll.Epoll;
import io.netty.util.internal.PlatformDependent;
import io.raftcached.protocol.Replies;
import io.raftcached.raft.MemoryBudgets;
import io.raftcached.raft.RaftStatus;
import io.raftcached.raft.ReplicatedCache;
import io.raftcached.store.LruSettings;
import io.raftcached.store.MaintenanceStats;
import io.raftcached.store.SlabStats;
import io.raftcached.store.StoreCounters;
import io.raftcached.store.StoreConfig;
import io.raftcached.util.Limits;
import java.io.IOException;
import java.lang.management.BufferPoolMXBean;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryPoolMXBean;
import java.lang.management.MemoryType;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.atomic.AtomicLongArray;

/**
 * {@code stats}, {@code stats settings|items|slabs|sizes|conns} in memcached 1.6.18's names and
 * order, computed from the store (replicated facts) and this node's counters (local facts), plus
 * raftcached's own {@code raft_*} lines.
 */
final class StatsReplies {
    private final ReplicatedCache cluster;
    private final ServerConfig config;
    private final NodeStats stats;
    private final ConnectionRegistry connections;
    /**
     * This node's get and mg hits per slab class (memcached's lru_hits, shown as N:get_hits): a
     * local fact, like get_hits, never part of replicated state.
     */
    private final AtomicLongArray getHitsPerClass = new AtomicLongArray(Limits.SLAB_CLASS_IDS);

    StatsReplies(ReplicatedCache cluster, ServerConfig config, NodeStats stats, ConnectionRegistry connections) {
        this.cluster = cluster;
        this.config = config;
        this.stats = stats;
        this.connections = connections;
    }

    /** memcached 1.6.18's counters of machinery raftcached does not have (a logger thread's worker buffers, NAPI). */
    private static final String[] NO_SUCH_MACHINERY_STATS = {"malloc_fails", "log_worker_dropped", "log_worker_written"};
    private static final String[] NO_SUCH_MACHINERY_STATS_AFTER_WATCHERS = {"unexpected_napi_ids", "round_robin_fallback"};

    void general(ByteBuf out) {
        StoreCounters store = cluster.store();
        StoreConfig shape = store.config();
        long[] cpu = processCpuMicros();
        Replies.writeStat(out, "pid", ProcessHandle.current().pid());
        Replies.writeStat(out, "uptime", stats.uptimeSeconds());
        Replies.writeStat(out, "time", System.currentTimeMillis() / 1000);
        Replies.writeStat(out, "version", Replies.MEMCACHED_VERSION);
        Replies.writeStat(out, "raftcached_version", Versions.RAFTCACHED);
        // memcached names its event library here; raftcached's is Netty, with this transport.
        Replies.writeStat(out, "libevent", Epoll.isAvailable() ? "netty-epoll" : "netty-nio");
        Replies.writeStat(out, "pointer_size", 64);
        Replies.writeStat(out, "rusage_user", seconds(cpu[0]));
        Replies.writeStat(out, "rusage_system", seconds(cpu[1]));
        Replies.writeStat(out, "max_connections", config.flags().connLimit);
        Replies.writeStat(out, "curr_connections", stats.currentConnections.get());
        Replies.writeStat(out, "total_connections", stats.totalConnections.sum());
        Replies.writeStat(out, "rejected_connections", stats.rejectedConnections.sum());
        Replies.writeStat(out, "connection_structures", stats.currentConnections.get());
        // memcached's response objects and read buffers; Netty's pooled buffers play that part here.
        Replies.writeStat(out, "response_obj_oom", 0);
        Replies.writeStat(out, "response_obj_count", 0);
        Replies.writeStat(out, "response_obj_bytes", 0);
        Replies.writeStat(out, "read_buf_count", 0);
        Replies.writeStat(out, "read_buf_bytes", 0);
        Replies.writeStat(out, "read_buf_bytes_free", 0);
        Replies.writeStat(out, "read_buf_oom", stats.connectionsClosedForMemory.sum());
        Replies.writeStat(out, "reserved_fds", 0);
        Replies.writeStat(out, "cmd_get", stats.getCommands.sum());
        Replies.writeStat(out, "cmd_set", stats.setCommands.sum());
        Replies.writeStat(out, "cmd_flush", stats.flushCommands.sum());
        Replies.writeStat(out, "cmd_touch", stats.touchCommands.sum());
        Replies.writeStat(out, "cmd_meta", stats.metaCommands.sum());
        Replies.writeStat(out, "get_hits", stats.getHits.sum());
        Replies.writeStat(out, "get_misses", stats.getMisses.sum());
        Replies.writeStat(out, "get_expired", stats.getExpired.sum());
        Replies.writeStat(out, "get_flushed", stats.getFlushed.sum());
        Replies.writeStat(out, "delete_misses", stats.deleteMisses.sum());
        Replies.writeStat(out, "delete_hits", stats.deleteHits.sum());
        Replies.writeStat(out, "incr_misses", stats.incrMisses.sum());
        Replies.writeStat(out, "incr_hits", stats.incrHits.sum());
        Replies.writeStat(out, "decr_misses", stats.decrMisses.sum());
        Replies.writeStat(out, "decr_hits", stats.decrHits.sum());
        Replies.writeStat(out, "cas_misses", stats.casMisses.sum());
        Replies.writeStat(out, "cas_hits", stats.casHits.sum());
        Replies.writeStat(out, "cas_badval", stats.casBadValue.sum());
        Replies.writeStat(out, "touch_hits", stats.touchHits.sum());
        Replies.writeStat(out, "touch_misses", stats.touchMisses.sum());
        Replies.writeStat(out, "store_too_large", stats.storeTooLarge.sum());
        Replies.writeStat(out, "store_no_memory", stats.storeNoMemory.sum());
        Replies.writeStat(out, "auth_cmds", stats.authCommands.sum());
        Replies.writeStat(out, "auth_errors", stats.authErrors.sum());
        Replies.writeStat(out, "bytes_read", stats.bytesRead.sum());
        Replies.writeStat(out, "bytes_written", stats.bytesWritten.sum());
        Replies.writeStat(out, "limit_maxbytes", shape.memoryLimitBytes());
        Replies.writeStat(out, "accepting_conns", 1);
        Replies.writeStat(out, "listen_disabled_num", 0);
        Replies.writeStat(out, "time_in_listen_disabled_us", 0);
        Replies.writeStat(out, "threads", config.flags().threads);
        Replies.writeStat(out, "conn_yields", 0);
        Replies.writeStat(out, "hash_power_level", Long.numberOfTrailingZeros(store.hashBuckets()));
        Replies.writeStat(out, "hash_bytes", store.hashBuckets() * 8);
        Replies.writeStat(out, "hash_is_expanding", store.hashExpanding() ? 1 : 0);
        MaintenanceStats maintenance = store.maintenanceStats();
        Replies.writeStat(out, "slab_reassign_rescues", maintenance.slabReassignRescues());
        Replies.writeStat(out, "slab_reassign_chunk_rescues", maintenance.slabReassignChunkRescues());
        Replies.writeStat(out, "slab_reassign_evictions_nomem", maintenance.slabReassignEvictionsNomem());
        Replies.writeStat(out, "slab_reassign_inline_reclaim", 0);
        Replies.writeStat(out, "slab_reassign_busy_items", maintenance.slabReassignBusyItems());
        Replies.writeStat(out, "slab_reassign_busy_deletes", 0);
        Replies.writeStat(out, "slab_reassign_running", maintenance.slabReassignRunning() ? 1 : 0);
        Replies.writeStat(out, "slabs_moved", maintenance.slabsMoved());
        Replies.writeStat(out, "lru_crawler_running", maintenance.lruCrawlerRunning() ? 1 : 0);
        Replies.writeStat(out, "lru_crawler_starts", maintenance.lruCrawlerStarts());
        Replies.writeStat(out, "lru_maintainer_juggles", maintenance.lruMaintainerJuggles());
        for (String idle : NO_SUCH_MACHINERY_STATS) {
            Replies.writeStat(out, idle, 0);
        }
        Replies.writeStat(out, "log_watcher_skipped", stats.watchers.skipped.sum());
        Replies.writeStat(out, "log_watcher_sent", stats.watchers.sent.sum());
        Replies.writeStat(out, "log_watchers", stats.watchers.count());
        ClientTls tls = stats.clientTls;
        if (tls != null) {
            if (tls.options().sessionCache) {
                Replies.writeStat(out, "ssl_new_sessions", tls.newSessions.sum());
            }
            Replies.writeStat(out, "ssl_handshake_errors", tls.handshakeErrors.sum());
            Replies.writeStat(out, "time_since_server_cert_refresh", tls.secondsSinceRefresh());
        }
        for (String idle : NO_SUCH_MACHINERY_STATS_AFTER_WATCHERS) {
            Replies.writeStat(out, idle, 0);
        }
        long evicted = 0;
        long reclaimed = 0;
        long expiredUnfetched = 0;
        long evictedUnfetched = 0;
        long directReclaims = 0;
        long tailProtected = 0;
        for (int classId = 1; classId <= store.slabClasses().largestClass(); classId++) {
            SlabStats slab = store.slabStats(classId);
            evicted += slab.evicted;
            reclaimed += slab.reclaimed;
            expiredUnfetched += slab.expiredUnfetched;
            evictedUnfetched += slab.evictedUnfetched;
            directReclaims += slab.directReclaims;
            tailProtected += slab.tailProtected;
        }
        Replies.writeStat(out, "bytes", store.currentBytes());
        Replies.writeStat(out, "curr_items", store.currentItems());
        Replies.writeStat(out, "total_items", store.totalItems());
        boolean segmented = shape.lru().segmented();
        Replies.writeStat(out, "slab_global_page_pool", maintenance.slabGlobalPagePool());
        Replies.writeStat(out, "expired_unfetched", expiredUnfetched);
        Replies.writeStat(out, "evicted_unfetched", evictedUnfetched);
        if (segmented) {
            Replies.writeStat(out, "evicted_active", maintenance.evictedActive());
        }
        Replies.writeStat(out, "evictions", evicted);
        Replies.writeStat(out, "reclaimed", reclaimed);
        Replies.writeStat(out, "crawler_reclaimed", maintenance.crawlerReclaimed());
        Replies.writeStat(out, "crawler_items_checked", maintenance.crawlerItemsChecked());
        Replies.writeStat(out, "lrutail_reflocked", tailProtected);
        if (segmented) {
            Replies.writeStat(out, "moves_to_cold", maintenance.movesToCold());
            Replies.writeStat(out, "moves_to_warm", maintenance.movesToWarm());
            Replies.writeStat(out, "moves_within_lru", maintenance.movesWithinLru());
            Replies.writeStat(out, "direct_reclaims", directReclaims);
            // memcached drops LRU bumps its buffer cannot hold; here, access hints beyond a flush's room.
            Replies.writeStat(out, "lru_bumps_dropped", cluster.status().hintKeysDropped);
        }
        memory(out);
        raft(out);
        Replies.writeLine(out, "END");
    }

    /**
     * This JVM's heap and direct memory, so a test (or an operator) can watch what a client costs
     * the node. The heap peak is the sum of the heap pools' peaks, each reached at its own moment:
     * an upper bound of the heap's peak since start. Direct memory is Netty's own counter where it
     * tracks it, else the JDK's direct buffer pool, which Netty's buffers then come from (item
     * memory is neither: the store allocates it off heap itself).
     */
    private static void memory(ByteBuf out) {
        long heapUsedBytes = 0;
        long heapPeakBytes = 0;
        for (MemoryPoolMXBean pool : ManagementFactory.getMemoryPoolMXBeans()) {
            if (pool.getType() == MemoryType.HEAP) {
                heapUsedBytes += pool.getUsage().getUsed();
                heapPeakBytes += pool.getPeakUsage().getUsed();
            }
        }
        Replies.writeStat(out, "raftcached_heap_used_bytes", heapUsedBytes);
        Replies.writeStat(out, "raftcached_heap_peak_bytes", heapPeakBytes);
        Replies.writeStat(out, "raftcached_direct_used_bytes", directUsedBytes());
    }

    private static long directUsedBytes() {
        long nettyBytes = PlatformDependent.usedDirectMemory();
        if (nettyBytes >= 0) {
            return nettyBytes;
        }
        for (BufferPoolMXBean pool : ManagementFactory.getPlatformMXBeans(BufferPoolMXBean.class)) {
            if (pool.getName().equals("direct")) {
                return pool.getMemoryUsed();
            }
        }
        return -1;
    }

    /** raftcached's Raft view, part of plain {@code stats} and alone as {@code stats raft}. */
    void raft(ByteBuf out) {
        RaftStatus raft = cluster.status();
        Replies.writeStat(out, "raft_node_id", raft.nodeId);
        Replies.writeStat(out, "raft_peer_id", raft.peerId);
        Replies.writeStat(out, "raft_cluster_id", raft.clusterId.isEmpty() ? "-" : raft.clusterId);
        Replies.writeStat(out, "raft_role", raft.role);
        Replies.writeStat(out, "raft_term", raft.term);
        Replies.writeStat(out, "raft_leader", raft.leader.isEmpty() ? "-" : raft.leader);
        Replies.writeStat(out, "raft_commit_index", raft.committedIndex);
        Replies.writeStat(out, "raft_applied_index", raft.appliedIndex);
        Replies.writeStat(out, "raft_last_log_index", raft.lastLogIndex);
        Replies.writeStat(out, "raft_members", String.join(",", raft.peers));
        Replies.writeStat(out, "raft_learners", raft.learners.isEmpty() ? "-" : String.join(",", raft.learners));
        Replies.writeStat(out, "raft_ready", raft.ready ? 1 : 0);
        Replies.writeStat(out, "raft_snapshots_saved", raft.snapshotsSaved);
        Replies.writeStat(out, "raft_snapshots_deferred", raft.snapshotsDeferred);
        Replies.writeStat(out, "raft_snapshots_installed", raft.snapshotsInstalled);
        Replies.writeStat(out, "raft_last_snapshot_begin_us", raft.lastSnapshotBeginMicros);
        Replies.writeStat(out, "raft_last_snapshot_dump_ms", raft.lastSnapshotDumpMillis);
        Replies.writeStat(out, "raft_pending_writes", raft.pendingWrites);
        Replies.writeStat(out, "raft_log_buffer_bytes", raft.logBufferBytes);
        Replies.writeStat(out, "raft_forward_buffer_bytes", raft.forwardBufferBytes);
        Replies.writeStat(out, "raft_abandoned_write_streams", raft.abandonedWriteStreams);
        Replies.writeStat(out, "raft_dedupe_hits", raft.duplicatesAnswered);
        Replies.writeStat(out, "raft_writes_failed", stats.writesFailed.sum());
        Replies.writeStat(out, "raft_writes_outcome_unknown", stats.writesOutcomeUnknown.sum());
        Replies.writeStat(out, "raft_reads_refused", stats.readsRefused.sum());
        Replies.writeStat(out, "raft_linearizable_reads", stats.linearizableReads.sum());
        Replies.writeStat(out, "raft_lru_hint_writes", raft.hintWrites);
        Replies.writeStat(out, "raft_lru_hint_keys", raft.hintKeys);
        Replies.writeStat(out, "raft_lru_hint_bytes", raft.hintBytes);
        Replies.writeStat(out, "raft_forwards_refused_other_group", raft.forwardsRefusedOtherGroup);
        Replies.writeStat(out, "raft_peer_tls_refused", raft.peerTlsRefused);
        if (raft.failure != null) {
            Replies.writeStat(out, "raft_failure", raft.failure);
        }
        if (!raft.promotion.isEmpty()) {
            Replies.writeStat(out, "raft_promotion", raft.promotion);
        }
        if (raft.groupsTotal > 1) {
            groups(out, raft);
        }
    }

    /**
     * A node of a cluster of several groups: the lines above are the Raft view of the first group
     * it holds with the node's counters, then how many groups the cluster has, how many the node
     * holds and leads, and one line per group it holds.
     */
    private void groups(ByteBuf out, RaftStatus node) {
        Replies.writeStat(out, "raft_groups_total", node.groupsTotal);
        Replies.writeStat(out, "raft_groups", node.groups);
        Replies.writeStat(out, "raft_groups_led", node.groupsLed);
        Replies.writeStat(out, "raft_relayed_write_bytes", node.relayedWriteBytes);
        Replies.writeStat(out, "raft_relayed_read_bytes", node.relayedReadBytes);
        for (RaftStatus each : cluster.groupStatuses()) {
            Replies.writeStat(out, "raft_group_g" + each.group, "role=" + each.role + " leader=" + (each.leader.isEmpty() ? "-" : each.leader)
                    + " term=" + each.term + " commit=" + each.committedIndex + " applied=" + each.appliedIndex
                    + " ready=" + (each.ready ? 1 : 0) + " members=" + String.join(",", each.peers));
        }
    }

    void settings(ByteBuf out) {
        ServerOptions flags = config.flags();
        StoreConfig shape = config.store();
        Replies.writeStat(out, "maxbytes", shape.memoryLimitBytes());
        Replies.writeStat(out, "maxconns", flags.connLimit);
        Replies.writeStat(out, "tcpport", flags.port);   // memcached reports -p even when -s disables TCP
        Replies.writeStat(out, "udpport", 0);
        Replies.writeStat(out, "inter", flags.listen == null ? "NULL" : flags.listen);
        Replies.writeStat(out, "verbosity", stats.verbosity);
        Replies.writeStat(out, "oldest", 0);
        Replies.writeStat(out, "evictions", shape.evictionsDisabled() ? "off" : "on");
        Replies.writeStat(out, "domain_socket", flags.unixSocket == null ? "NULL" : flags.unixSocket);
        Replies.writeStat(out, "umask", flags.unixMask);
        Replies.writeStat(out, "shutdown_command", flags.enableShutdown ? "yes" : "no");
        Replies.writeStat(out, "growth_factor", String.format(Locale.ROOT, "%.2f", shape.growthFactor()));
        Replies.writeStat(out, "chunk_size", shape.chunkSizeMinBytes());
        Replies.writeStat(out, "num_threads", flags.threads);
        Replies.writeStat(out, "num_threads_per_udp", flags.threads);
        Replies.writeStat(out, "stat_key_prefix", String.valueOf(stats.prefixes.delimiter()));
        Replies.writeStat(out, "detail_enabled", stats.prefixes.enabled() ? "yes" : "no");
        Replies.writeStat(out, "reqs_per_event", flags.maxRequestsPerEvent);
        Replies.writeStat(out, "cas_enabled", shape.casDisabled() ? "no" : "yes");
        Replies.writeStat(out, "tcp_backlog", flags.listenBacklog);
        Replies.writeStat(out, "binding_protocol", "ascii");
        Replies.writeStat(out, "auth_enabled_sasl", "no");
        Replies.writeStat(out, "auth_enabled_ascii", flags.authFile != null ? flags.authFile : "no");   // memcached shows the path
        Replies.writeStat(out, "item_size_max", shape.itemSizeMaxBytes());
        Replies.writeStat(out, "maxconns_fast", "yes");
        Replies.writeStat(out, "hashpower_init", 0);
        LruSettings lru = shape.lru();
        // slabs automove and lru_crawler enable|disable change these at run time, through the log.
        MaintenanceStats maintenance = cluster.store().maintenanceStats();
        Replies.writeStat(out, "slab_reassign", lru.slabReassign() ? "yes" : "no");
        Replies.writeStat(out, "slab_automove", maintenance.slabAutomove());
        Replies.writeStat(out, "slab_automove_ratio", String.format(Locale.ROOT, "%.2f", maintenance.slabAutomoveRatio()));
        Replies.writeStat(out, "slab_automove_window", lru.slabAutomoveWindow());
        Replies.writeStat(out, "slab_chunk_max", shape.slabChunkMaxBytes());
        Replies.writeStat(out, "lru_crawler", maintenance.lruCrawlerEnabled() ? "yes" : "no");
        Replies.writeStat(out, "lru_crawler_sleep", stats.crawlerSleepMicros);
        Replies.writeStat(out, "lru_crawler_tocrawl", lru.crawlerToCrawl());
        Replies.writeStat(out, "tail_repair_time", 0);
        Replies.writeStat(out, "flush_enabled", flags.disableFlushAll ? "no" : "yes");
        Replies.writeStat(out, "dump_enabled", flags.disableDumping ? "no" : "yes");
        Replies.writeStat(out, "hash_algorithm", "raftcached");
        Replies.writeStat(out, "lru_maintainer_thread", lru.segmented() ? "yes" : "no");
        Replies.writeStat(out, "lru_segmented", lru.segmented() ? "yes" : "no");
        Replies.writeStat(out, "hot_lru_pct", lru.hotLruPercent());
        Replies.writeStat(out, "warm_lru_pct", lru.warmLruPercent());
        Replies.writeStat(out, "hot_max_factor", String.format(Locale.ROOT, "%.2f", lru.hotMaxFactor()));
        Replies.writeStat(out, "warm_max_factor", String.format(Locale.ROOT, "%.2f", lru.warmMaxFactor()));
        Replies.writeStat(out, "temp_lru", lru.tempLru() ? "yes" : "no");
        Replies.writeStat(out, "temporary_ttl", lru.temporaryTtlSeconds());
        Replies.writeStat(out, "idle_timeout", config.extended().idleTimeoutSeconds == null ? 0 : config.extended().idleTimeoutSeconds);
        Replies.writeStat(out, "watcher_logbuf_size", config.extended().watcherBufferBytes);
        Replies.writeStat(out, "worker_logbuf_size", 65536);
        MemoryBudgets budgets = config.raft().budgets();
        Replies.writeStat(out, "read_buf_mem_limit", budgets.clientInputBytes() + budgets.clientOutputBytes());
        Replies.writeStat(out, "track_sizes", config.extended().trackSizes ? "yes" : "no");
        Replies.writeStat(out, "inline_ascii_response", "no");
        // Debian's memcached is built with extstore; without -o ext_path (which raftcached refuses)
        // these are its inert defaults.
        Replies.writeStat(out, "ext_item_size", 512);
        Replies.writeStat(out, "ext_item_age", 4294967295L);
        Replies.writeStat(out, "ext_low_ttl", 0);
        Replies.writeStat(out, "ext_recache_rate", 2000);
        Replies.writeStat(out, "ext_wbuf_size", 4194304);
        Replies.writeStat(out, "ext_compact_under", 0);
        Replies.writeStat(out, "ext_drop_under", 0);
        Replies.writeStat(out, "ext_max_sleep", 1000000);
        Replies.writeStat(out, "ext_max_frag", "0.80");
        Replies.writeStat(out, "slab_automove_freeratio", "0.010");
        Replies.writeStat(out, "ext_drop_unread", "no");
        // memcached shows the ssl_* options given, with -Z or without; printf's "(null)" and its own "NULL" for unset
        TlsOptions tls = config.extended().tls;
        Replies.writeStat(out, "ssl_enabled", flags.ssl ? "yes" : "no");
        Replies.writeStat(out, "ssl_chain_cert", tls.chainCert == null ? "(null)" : tls.chainCert);
        Replies.writeStat(out, "ssl_key", tls.key == null ? "(null)" : tls.key);
        Replies.writeStat(out, "ssl_verify_mode", tls.verifyModeFlags());
        Replies.writeStat(out, "ssl_keyformat", tls.keyFormat);
        Replies.writeStat(out, "ssl_ciphers", tls.ciphers == null ? "NULL" : tls.ciphers);
        Replies.writeStat(out, "ssl_ca_cert", tls.caCert == null ? "NULL" : tls.caCert);
        Replies.writeStat(out, "ssl_wbuf_size", tls.wbufSizeBytes);
        Replies.writeStat(out, "ssl_session_cache", tls.sessionCache ? "yes" : "no");
        Replies.writeStat(out, "ssl_kernel_tls", tls.kernelTls ? "yes" : "no");
        Replies.writeStat(out, "ssl_min_version", tls.minVersionName());
        Replies.writeStat(out, "num_napi_ids", "(null)");
        Replies.writeStat(out, "memory_file", "(null)");
        Replies.writeStat(out, "raft_address", config.raft().raftHost() + ":" + config.raft().raftPort());
        Replies.writeStat(out, "raft_data_dir", config.raft().dataDirectory().toString());
        Replies.writeStat(out, "raft_fsync", config.raft().fsync() ? "yes" : "no");
        Replies.writeStat(out, "raft_log_store", config.raft().logStore().flagValue());
        Replies.writeStat(out, "raft_election_timeout_ms", config.raft().electionTimeoutMillis());
        Replies.writeStat(out, "raft_write_timeout_ms", config.raft().writeTimeoutMillis());
        Replies.writeStat(out, "raft_max_staleness_ms", config.raft().maxStalenessMillis());
        Replies.writeStat(out, "raft_peer_tls", config.raft().peerTls().enabled() ? "yes" : "no");
        Replies.writeStat(out, "raft_linearizable_reads", flags.linearizableReads ? "yes" : "no");
        Replies.writeStat(out, "raftcached_client_input_limit", budgets.clientInputBytes());
        Replies.writeStat(out, "raftcached_client_input_small_reserve", ByteBudget.inputReserveBytes(budgets.clientInputBytes()));
        Replies.writeStat(out, "raftcached_client_output_limit", budgets.clientOutputBytes());
        Replies.writeStat(out, "raft_write_buffer_limit", budgets.writeBytes());
        Replies.writeStat(out, "raft_forward_buffer_limit", budgets.forwardBytes());
        Replies.writeStat(out, "raft_log_buffer_limit", budgets.logBytes());
        Replies.writeStat(out, "raft_reads_waiting_max", budgets.readsWaitingMax());
        Replies.writeStat(out, "raft_linearizable_port", flags.linearizablePort);
        Replies.writeLine(out, "END");
    }

    /** memcached's item_stats(), with the segmented LRU's fields when its maintainer runs. */
    void items(ByteBuf out) {
        StoreCounters store = cluster.store();
        LruSettings lru = store.config().lru();
        boolean segmented = lru.segmented();
        for (int classId = 1; classId <= store.slabClasses().largestClass(); classId++) {
            SlabStats slab = store.slabStats(classId);
            if (slab.items == 0) {
                continue;
            }
            String prefix = "items:" + classId + ":";
            Replies.writeStat(out, prefix + "number", slab.items);
            if (segmented) {
                Replies.writeStat(out, prefix + "number_hot", slab.hotItems);
                Replies.writeStat(out, prefix + "number_warm", slab.warmItems);
                Replies.writeStat(out, prefix + "number_cold", slab.coldItems);
                if (lru.tempLru()) {
                    Replies.writeStat(out, prefix + "number_temp", slab.tempItems);
                }
                Replies.writeStat(out, prefix + "age_hot", slab.hotAgeSeconds);
                Replies.writeStat(out, prefix + "age_warm", slab.warmAgeSeconds);
            }
            Replies.writeStat(out, prefix + "age", slab.oldestItemAgeSeconds);
            Replies.writeStat(out, prefix + "mem_requested", slab.requestedBytes);
            Replies.writeStat(out, prefix + "evicted", slab.evicted);
            Replies.writeStat(out, prefix + "evicted_nonzero", slab.evictedNonzero);
            Replies.writeStat(out, prefix + "evicted_time", slab.evictedTimeSeconds);
            Replies.writeStat(out, prefix + "outofmemory", slab.outOfMemory);
            Replies.writeStat(out, prefix + "tailrepairs", 0);
            Replies.writeStat(out, prefix + "reclaimed", slab.reclaimed);
            Replies.writeStat(out, prefix + "expired_unfetched", slab.expiredUnfetched);
            Replies.writeStat(out, prefix + "evicted_unfetched", slab.evictedUnfetched);
            if (segmented) {
                Replies.writeStat(out, prefix + "evicted_active", slab.evictedActive);
            }
            Replies.writeStat(out, prefix + "crawler_reclaimed", slab.crawlerReclaimed);
            Replies.writeStat(out, prefix + "crawler_items_checked", slab.crawlerItemsChecked);
            Replies.writeStat(out, prefix + "lrutail_reflocked", slab.tailProtected);
            if (segmented) {
                Replies.writeStat(out, prefix + "moves_to_cold", slab.movesToCold);
                Replies.writeStat(out, prefix + "moves_to_warm", slab.movesToWarm);
                Replies.writeStat(out, prefix + "moves_within_lru", slab.movesWithinLru);
                Replies.writeStat(out, prefix + "direct_reclaims", slab.directReclaims);
                // Hits this node served from each segment: reads are local, as memcached's are per thread.
                Replies.writeStat(out, prefix + "hits_to_hot", store.hits(classId, 0));
                Replies.writeStat(out, prefix + "hits_to_warm", store.hits(classId, 1));
                Replies.writeStat(out, prefix + "hits_to_cold", store.hits(classId, 2));
                Replies.writeStat(out, prefix + "hits_to_temp", store.hits(classId, 3));
            }
        }
        Replies.writeLine(out, "END");
    }

    void slabs(ByteBuf out) {
        StoreCounters store = cluster.store();
        int active = 0;
        for (int classId = 1; classId <= store.slabClasses().largestClass(); classId++) {
            SlabStats slab = store.slabStats(classId);
            if (slab.totalPages == 0) {
                continue;
            }
            active++;
            String prefix = classId + ":";
            Replies.writeStat(out, prefix + "chunk_size", slab.chunkSizeBytes);
            Replies.writeStat(out, prefix + "chunks_per_page", slab.chunksPerPage);
            Replies.writeStat(out, prefix + "total_pages", slab.totalPages);
            Replies.writeStat(out, prefix + "total_chunks", slab.totalChunks);
            Replies.writeStat(out, prefix + "used_chunks", slab.usedChunks());
            Replies.writeStat(out, prefix + "free_chunks", slab.freeChunks);
            Replies.writeStat(out, prefix + "free_chunks_end", 0);
            Replies.writeStat(out, prefix + "get_hits", classId < Limits.SLAB_CLASS_IDS ? getHitsPerClass.get(classId) : 0);
            Replies.writeStat(out, prefix + "cmd_set", slab.setCommands);
            Replies.writeStat(out, prefix + "delete_hits", slab.deleteHits);
            Replies.writeStat(out, prefix + "incr_hits", slab.incrHits);
            Replies.writeStat(out, prefix + "decr_hits", slab.decrHits);
            Replies.writeStat(out, prefix + "cas_hits", slab.casHits);
            Replies.writeStat(out, prefix + "cas_badval", slab.casBadValue);
            Replies.writeStat(out, prefix + "touch_hits", slab.touchHits);
        }
        Replies.writeStat(out, "active_slabs", active);
        Replies.writeStat(out, "total_malloced", store.mallocedBytes());
        Replies.writeLine(out, "END");
    }

    /** With -o track_sizes, the histogram of item sizes in 32-byte buckets, as memcached keeps it. */
    void sizes(ByteBuf out) {
        if (!config.extended().trackSizes) {
            Replies.writeStat(out, "sizes_status", "disabled");
        } else {
            cluster.sizeHistogram().forEach((bucket, count) -> Replies.writeStat(out, Long.toString(bucket), count));
        }
        Replies.writeLine(out, "END");
    }

    void conns(ByteBuf out) {
        connections.describe(out);
        Replies.writeLine(out, "END");
    }

    void countGetHit(int slabClass) {
        if (slabClass > 0 && slabClass < Limits.SLAB_CLASS_IDS) {
            getHitsPerClass.incrementAndGet(slabClass);
        }
    }

    void reset() {
        stats.prefixes.clear();
        for (int classId = 0; classId < Limits.SLAB_CLASS_IDS; classId++) {
            getHitsPerClass.set(classId, 0);
        }
        for (java.util.concurrent.atomic.LongAdder counter : new java.util.concurrent.atomic.LongAdder[] {
                stats.getCommands, stats.setCommands, stats.flushCommands, stats.touchCommands, stats.metaCommands,
                stats.getHits, stats.getMisses, stats.getExpired, stats.getFlushed, stats.deleteHits,
                stats.deleteMisses, stats.incrHits, stats.incrMisses, stats.decrHits, stats.decrMisses, stats.casHits,
                stats.casMisses, stats.casBadValue, stats.touchHits, stats.touchMisses, stats.storeTooLarge,
                stats.storeNoMemory, stats.bytesRead, stats.bytesWritten, stats.totalConnections,
                stats.rejectedConnections}) {
            counter.reset();
        }
    }

    private static String seconds(long micros) {
        return String.format(Locale.ROOT, "%d.%06d", micros / 1_000_000, micros % 1_000_000);
    }

    /** User and system CPU of this process in microseconds, from /proc (0 where unavailable). */
    private static long[] processCpuMicros() {
        try {
            String stat = Files.readString(Path.of("/proc/self/stat"));
            String[] fields = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
            long ticksPerSecond = 100;   // USER_HZ on Linux
            long user = Long.parseLong(fields[11]) * 1_000_000 / ticksPerSecond;
            long system = Long.parseLong(fields[12]) * 1_000_000 / ticksPerSecond;
            return new long[] {user, system};
        } catch (IOException | RuntimeException e) {
            return new long[] {0, 0};
        }
    }
}
