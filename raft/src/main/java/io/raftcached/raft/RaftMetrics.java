package io.raftcached.raft;

import io.prometheus.metrics.core.metrics.Counter;
import io.prometheus.metrics.core.metrics.Histogram;
import io.prometheus.metrics.model.registry.Collector;
import java.util.List;

/**
 * What the Raft path measures as it runs: the timings (log append with its fsync, apply, snapshots,
 * forwarding) and the events no other counter holds (leader changes, forwarded batches). The node
 * registers {@link #all} with the registry it serves; everything else it reads from
 * {@link RaftStatus} at scrape time. Names and buckets follow etcd's, so its dashboards read alike.
 */
public final class RaftMetrics {
    /** One RocksDB write of a batch of entries, with its fsync when fsync is on: etcd's wal_fsync. */
    final Histogram logAppendSeconds = seconds("raft_log_append_duration_seconds",
            "Time to append a batch of entries to the Raft log, fsync included when on (etcd: disk_wal_fsync_duration_seconds).",
            0.0001, 16);
    final Histogram applySeconds = seconds("raft_apply_duration_seconds",
            "Time to apply one committed log entry (a batch of up to 256 writes) to the store.", 0.00001, 18);
    final Histogram snapshotSaveSeconds = seconds("raft_snapshot_save_duration_seconds",
            "Time to save a snapshot, from its beginning (apply paused) to its files written.", 0.01, 14);
    final Histogram snapshotInstallSeconds = seconds("raft_snapshot_install_duration_seconds",
            "Time to install a snapshot received from the leader or loaded at start.", 0.01, 14);
    final Histogram forwardSeconds = seconds("raft_forward_duration_seconds",
            "Time from forwarding a batch of writes to the leader to the leader's answer (appended and committed).",
            0.0005, 14);
    final Counter leaderChanges = Counter.builder().name("raft_leader_changes_seen_total")
            .help("Leader changes this node has seen (it became leader, or learned of a new leader).").build();
    final Counter forwardedBatches = Counter.builder().name("raft_forwarded_batches_total")
            .help("Batches of writes this node forwarded to the leader.").build();
    final Counter forwardFailures = Counter.builder().name("raft_forward_failures_total")
            .help("Forwarded batches the leader did not take (no answer, not leader, overloaded); they are resent.").build();
    final Counter forwardedBatchesReceived = Counter.builder().name("raft_forwarded_batches_received_total")
            .help("Batches of writes followers forwarded to this node as leader.").build();

    private static Histogram seconds(String name, String help, double firstBoundSeconds, int buckets) {
        return Histogram.builder().name(name).help(help).classicOnly()
                .classicExponentialUpperBounds(firstBoundSeconds, 2, buckets).build();
    }

    /** Every metric above, for the registry that serves them. */
    public List<Collector> all() {
        return List.of(logAppendSeconds, applySeconds, snapshotSaveSeconds, snapshotInstallSeconds, forwardSeconds,
                leaderChanges, forwardedBatches, forwardFailures, forwardedBatchesReceived);
    }

    static double secondsSince(long startNanos) {
        return (System.nanoTime() - startNanos) / 1e9;
    }
}
