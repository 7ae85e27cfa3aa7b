package io.raftcached.node;

import io.netty.util.internal.PlatformDependent;
import io.prometheus.metrics.model.registry.MultiCollector;
import io.prometheus.metrics.model.snapshots.MetricSnapshots;
import io.raftcached.raft.RaftStatus;
import io.raftcached.raft.ReplicatedCache;
import io.raftcached.store.SlabStats;
import io.raftcached.store.StoreCounters;
import java.util.List;

/**
 * The Raft group as this node sees it, in the manner of etcd's {@code etcd_server_*} families, and
 * this node's off-heap memory, read from {@link ReplicatedCache#status} and the node's counters
 * once per scrape. The timings (append, apply, snapshots, forwarding) are histograms the Raft path
 * keeps itself ({@link io.raftcached.raft.RaftMetrics}).
 */
final class RaftCollector implements MultiCollector {
    private final ReplicatedCache cluster;
    private final NodeStats stats;

    RaftCollector(ReplicatedCache cluster, NodeStats stats) {
        this.cluster = cluster;
        this.stats = stats;
    }

    @Override
    public MetricSnapshots collect() {
        RaftStatus raft = cluster.status();
        MetricFamilies out = new MetricFamilies();
        out.gauge("raft_node_info", "This node's id and cluster, always 1.", 1, "node_id", Integer.toString(raft.nodeId),
                "cluster_id", raft.clusterId.isEmpty() ? "-" : raft.clusterId);
        List<RaftStatus> groups = cluster.groupStatuses();
        for (RaftStatus group : groups) {
            groupFamilies(out, group, raft.groupsTotal == 1 ? new String[0] : new String[] {"group", "g" + group.group});
        }
        out.counter("raft_proposals_failed", "Writes answered SERVER_ERROR as not written (etcd: proposals_failed_total).",
                stats.writesFailed.sum());
        out.counter("raft_writes_outcome_unknown", "Writes answered SERVER_ERROR because their outcome stayed unknown.",
                stats.writesOutcomeUnknown.sum());
        out.counter("raft_write_streams_abandoned", "Write streams given up after their writes were not applied in time.",
                raft.abandonedWriteStreams);
        out.counter("raft_dedupe_hits", "Retried writes answered from the replicated dedupe table instead of applied again.",
                raft.duplicatesAnswered);
        out.counter("raft_snapshots_saved", "Snapshots this node saved.", raft.snapshotsSaved);
        out.counter("raft_snapshots_deferred", "Snapshot attempts deferred because a store image (stats digest, metadump) was being written.",
                raft.snapshotsDeferred);
        out.counter("raft_snapshots_installed", "Snapshots this node installed (from the leader or at start).",
                raft.snapshotsInstalled);
        out.gauge("raft_snapshot_last_begin_pause_seconds", "How long apply paused to begin the last snapshot.",
                raft.lastSnapshotBeginMicros / 1e6);
        out.counter("raft_reads_refused", "Reads refused because this node was not ready or had no leader for too long.",
                stats.readsRefused.sum());
        out.counter("raft_linearizable_reads", "Reads served after a ReadIndex barrier.", stats.linearizableReads.sum());
        out.counter("raft_lru_hint_writes", "Access-hint writes this node sent through the log.", raft.hintWrites);
        out.counter("raft_lru_hint_keys_dropped", "Access hints dropped for want of room in a flush.", raft.hintKeysDropped);
        out.counter("raft_forwards_refused_other_group",
                "Forwarded batches refused because their sender runs another Raft group (another cluster).",
                raft.forwardsRefusedOtherGroup);
        out.counter("raft_peer_tls_refused", "Incoming peer connections refused by peer TLS (no certificate, an untrusted"
                + " one, or plaintext).", raft.peerTlsRefused);
        out.gauge("raft_read_clock_offset_seconds",
                "The read clock (the log's time plus local time since applied) minus this node's wall clock.",
                (cluster.readClockMillis() - System.currentTimeMillis()) / 1000.0);
        raft.followerLag.forEach((follower, entries) -> out.gauge("raft_follower_lag_entries",
                "On the leader: log entries not yet replicated to each follower or learner.", entries, "follower", follower));
        raft.sentBytes.forEach((peer, bytes) -> out.counter("raft_peer_sent_bytes",
                "Bytes of AppendEntries (entries and heartbeats) this node sent to each peer while it led.", bytes, "peer", peer));
        memory(out);
        return out.build();
    }

    /** One group's view (a node of several labels each series with its group). */
    private static void groupFamilies(MetricFamilies out, RaftStatus raft, String... group) {
        boolean leader = raft.role.equals("leader");
        out.gauge("raft_has_leader", "Whether this node knows of a leader (1) or not (0).",
                leader || !raft.leader.isEmpty() ? 1 : 0, group);
        out.gauge("raft_is_leader", "Whether this node is the leader.", leader ? 1 : 0, group);
        out.gauge("raft_is_learner", "Whether this node is a learner (catching up, not voting yet).",
                raft.role.equals("learner") ? 1 : 0, group);
        out.gauge("raft_term", "The current Raft term.", raft.term, group);
        out.gauge("raft_commit_index", "The last log index this node knows committed (etcd: proposals_committed_total).",
                raft.committedIndex, group);
        out.gauge("raft_applied_index", "The last log index applied to this node's store (etcd: proposals_applied_total).",
                raft.appliedIndex, group);
        out.gauge("raft_last_log_index", "The last index in this node's log.", raft.lastLogIndex, group);
        out.gauge("raft_members", "Voting members in the current configuration.", raft.peers.size(), group);
        out.gauge("raft_learners", "Learners in the current configuration.", raft.learners.size(), group);
        out.gauge("raft_ready", "Whether this node serves reads (caught up, not failed, not cut off).", raft.ready ? 1 : 0, group);
        out.gauge("raft_failed", "Whether this node's Raft instance failed and it stopped serving.", raft.failure == null ? 0 : 1,
                group);
        out.gauge("raft_proposals_pending", "This node's writes submitted and not yet applied (etcd: proposals_pending).",
                raft.pendingWrites, group);
    }

    /** Item memory lives off heap, outside the JVM's pools; Netty's direct buffers are counted apart. */
    private void memory(MetricFamilies out) {
        StoreCounters store = cluster.store();
        long pages = 0;
        for (int classId = 1; classId <= store.slabClasses().largestClass(); classId++) {
            SlabStats slab = store.slabStats(classId);
            pages += slab.totalPages;
        }
        out.gauge("raftcached_slab_pages", "Off-heap slab pages (1 MB each) holding items.", pages);
        out.gauge("raftcached_slab_allocated_bytes", "Off-heap bytes allocated to slab pages.", store.mallocedBytes());
        long nettyBytes = PlatformDependent.usedDirectMemory();
        if (nettyBytes >= 0) {
            out.gauge("raftcached_netty_direct_used_bytes", "Direct memory held by Netty's buffers (client input and output).",
                    nettyBytes);
        }
    }
}
