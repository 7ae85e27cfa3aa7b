package io.raftcached.raft;

import com.alipay.sofa.jraft.StateMachine;
import com.alipay.sofa.jraft.conf.Configuration;
import com.alipay.sofa.jraft.option.NodeOptions;
import com.alipay.sofa.jraft.option.RaftOptions;
import com.alipay.sofa.jraft.option.ReadOnlyOption;
import java.nio.file.Path;

/** jraft's options for a raftcached node, every one that matters set here explicitly, with why. */
final class JraftOptions {
    /** AppendEntries in flight per follower (jraft: 256); see where it is set. */
    static final int REPLICATOR_INFLIGHT_MESSAGES = 16;

    private JraftOptions() {}

    static NodeOptions of(RaftSettings settings, StateMachine machine, Path raftDirectory, Configuration initial,
            RaftMetrics metrics) {
        NodeOptions options = new NodeOptions();
        options.setServiceFactory(TimedLogStorage.factory(metrics.logAppendSeconds));
        options.setFsm(machine);
        options.setLogUri(raftDirectory.resolve("log").toString());
        options.setRaftMetaUri(raftDirectory.resolve("meta").toString());
        options.setSnapshotUri(raftDirectory.resolve("snapshot").toString());
        options.setInitialConf(initial);
        options.setElectionTimeoutMs(settings.electionTimeoutMillis());
        options.setSnapshotIntervalSecs(settings.snapshotIntervalSeconds());
        // Compact the whole log behind a snapshot: a follower that far behind gets the snapshot.
        options.setSnapshotLogIndexMargin(0);
        // The admin CLI (add/remove members, transfer leadership) talks to jraft's CLI service.
        options.setDisableCli(false);
        options.setSharedElectionTimer(false);
        RaftOptions raftOptions = new RaftOptions();
        raftOptions.setSync(settings.fsync());
        raftOptions.setSyncMeta(settings.fsync());
        // Linearizable reads and the readiness probe need a quorum round, not a leader lease.
        raftOptions.setReadOnlyOptions(ReadOnlyOption.ReadOnlySafe);
        // Bounds the heap a catching-up follower costs the leader: each in-flight AppendEntries holds
        // up to maxBodySize (512 KB) of entries, about three times over while it is serialized. jraft's
        // 256 let a leader with a 512 MB heap run out of memory resyncing a node with 1 GB of items.
        raftOptions.setMaxReplicatorInflightMsgs(REPLICATOR_INFLIGHT_MESSAGES);
        options.setRaftOptions(raftOptions);
        return options;
    }
}
