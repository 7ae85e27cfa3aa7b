package io.raftcached.raft;

import io.prometheus.metrics.core.datapoints.CounterDataPoint;
import io.prometheus.metrics.core.datapoints.DistributionDataPoint;
import io.prometheus.metrics.core.metrics.Counter;
import io.prometheus.metrics.core.metrics.Histogram;
import io.prometheus.metrics.model.registry.Collector;
import java.util.List;

/**
 * What the Raft path measures as it runs: the timings (log append with its fsync, apply, snapshots,
 * forwarding) and the events no other counter holds (leader changes, forwarded batches). The node
 * registers {@link #all} with the registry it serves; everything else it reads from
 * {@link RaftStatus} at scrape time. Names and buckets follow etcd's, so its dashboards read alike.
 * A node of several groups has one set of families labelled {@code group="g<N>"}, and one
 * {@code RaftMetrics} per group recording into its label; a node of one group has no label.
 */
public final class RaftMetrics {
    /** The families, shared by a node's groups. */
    private static final class Families {
        final Histogram logAppendSeconds;
        final Histogram applySeconds;
        final Histogram snapshotSaveSeconds;
        final Histogram snapshotInstallSeconds;
        final Histogram forwardSeconds;
        final Counter leaderChanges;
        final Counter forwardedBatches;
        final Counter forwardFailures;
        final Counter forwardedBatchesReceived;

        Families(String... labelNames) {
            logAppendSeconds = seconds("raft_log_append_duration_seconds", "Time to append a batch of entries to the Raft log,"
                    + " fsync included when on (etcd: disk_wal_fsync_duration_seconds).", 0.0001, 16, labelNames);
            applySeconds = seconds("raft_apply_duration_seconds",
                    "Time to apply one committed log entry (a batch of up to 256 writes) to the store.", 0.00001, 18, labelNames);
            snapshotSaveSeconds = seconds("raft_snapshot_save_duration_seconds",
                    "Time to save a snapshot, from its beginning (apply paused) to its files written.", 0.01, 14, labelNames);
            snapshotInstallSeconds = seconds("raft_snapshot_install_duration_seconds",
                    "Time to install a snapshot received from the leader or loaded at start.", 0.01, 14, labelNames);
            forwardSeconds = seconds("raft_forward_duration_seconds",
                    "Time from forwarding a batch of writes to the leader to the leader's answer (appended and committed).",
                    0.0005, 14, labelNames);
            leaderChanges = Counter.builder().name("raft_leader_changes_seen_total").labelNames(labelNames)
                    .help("Leader changes this node has seen (it became leader, or learned of a new leader).").build();
            forwardedBatches = Counter.builder().name("raft_forwarded_batches_total").labelNames(labelNames)
                    .help("Batches of writes this node forwarded to the leader.").build();
            forwardFailures = Counter.builder().name("raft_forward_failures_total").labelNames(labelNames)
                    .help("Forwarded batches the leader did not take (no answer, not leader, overloaded); they are resent.").build();
            forwardedBatchesReceived = Counter.builder().name("raft_forwarded_batches_received_total").labelNames(labelNames)
                    .help("Batches of writes followers forwarded to this node as leader.").build();
        }

        private static Histogram seconds(String name, String help, double firstBoundSeconds, int buckets, String... labelNames) {
            return Histogram.builder().name(name).help(help).labelNames(labelNames).classicOnly()
                    .classicExponentialUpperBounds(firstBoundSeconds, 2, buckets).build();
        }

        List<Collector> all() {
            return List.of(logAppendSeconds, applySeconds, snapshotSaveSeconds, snapshotInstallSeconds, forwardSeconds,
                    leaderChanges, forwardedBatches, forwardFailures, forwardedBatchesReceived);
        }
    }

    private final Families families;
    /** One RocksDB or segment write of a batch of entries, with its fsync when fsync is on: etcd's wal_fsync. */
    final DistributionDataPoint logAppendSeconds;
    final DistributionDataPoint applySeconds;
    final DistributionDataPoint snapshotSaveSeconds;
    final DistributionDataPoint snapshotInstallSeconds;
    final DistributionDataPoint forwardSeconds;
    final CounterDataPoint leaderChanges;
    final CounterDataPoint forwardedBatches;
    final CounterDataPoint forwardFailures;
    final CounterDataPoint forwardedBatchesReceived;

    /** A node of one group: its families have no labels. */
    public RaftMetrics() {
        this(new Families());
    }

    private RaftMetrics(Families families, String... labelValues) {
        this.families = families;
        logAppendSeconds = families.logAppendSeconds.labelValues(labelValues);
        applySeconds = families.applySeconds.labelValues(labelValues);
        snapshotSaveSeconds = families.snapshotSaveSeconds.labelValues(labelValues);
        snapshotInstallSeconds = families.snapshotInstallSeconds.labelValues(labelValues);
        forwardSeconds = families.forwardSeconds.labelValues(labelValues);
        leaderChanges = families.leaderChanges.labelValues(labelValues);
        forwardedBatches = families.forwardedBatches.labelValues(labelValues);
        forwardFailures = families.forwardFailures.labelValues(labelValues);
        forwardedBatchesReceived = families.forwardedBatchesReceived.labelValues(labelValues);
    }

    /** The metrics of the groups a node holds, in the order given, over one set of families labelled by group. */
    static List<RaftMetrics> perGroup(List<Integer> ordinals) {
        Families families = new Families("group");
        return ordinals.stream().map(group -> new RaftMetrics(families, "g" + group)).toList();
    }

    /** Every family, for the registry that serves them (for all the groups sharing them). */
    public List<Collector> all() {
        return families.all();
    }

    static double secondsSince(long startNanos) {
        return (System.nanoTime() - startNanos) / 1e9;
    }
}
