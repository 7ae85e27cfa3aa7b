package io.raftcached.raft;

import com.alipay.sofa.jraft.StateMachine;
import com.alipay.sofa.jraft.conf.Configuration;
import com.alipay.sofa.jraft.option.NodeOptions;
import com.alipay.sofa.jraft.option.RaftOptions;
import com.alipay.sofa.jraft.option.ReadOnlyOption;
import com.alipay.sofa.jraft.util.Utils;
import java.nio.file.Path;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * jraft's options for a raftcached node, every one that matters set here explicitly, with why.
 *
 * <p>Where jraft holds the bytes of an entry the leader appends: one array shared by its apply
 * queue, its in-memory log (until the entry is applied and on disk) and its disk queue, bounded by
 * the log budget ({@link MemoryBudgets#logBytes}, {@link ClusterNode#propose}); and, per follower,
 * a copy in each AppendEntries request in flight, bounded here by their number. A value in the
 * largest write batch (2 MB) makes each request about that large, whatever {@code maxBodySize}
 * says, so the number in flight is what bounds those bytes.
 */
final class JraftOptions {
    private static final Logger LOG = LoggerFactory.getLogger(JraftOptions.class);
    /** Bytes of entries per AppendEntries request, the last entry excepted (jraft's default, stated). */
    static final int APPEND_ENTRIES_BODY_BYTES = 512 * 1024;
    /** An AppendEntries request at most: the body, then one more entry of up to a whole write batch. */
    static final long APPEND_ENTRIES_BYTES_MAX = APPEND_ENTRIES_BODY_BYTES + (long) WriteStream.BATCH_BYTES_MAX;
    /** AppendEntries in flight per follower, at least: one being answered while the next is stored. */
    static final int REPLICATOR_INFLIGHT_MIN = 2;
    static final int REPLICATOR_INFLIGHT_MAX = 16;
    /**
     * Slots of jraft's rings: the apply queue, the disk queue, the state machine's queue and the
     * ReadIndex queue (jraft's default, stated). A full apply queue fails a proposal, so
     * {@link #PROPOSED_ENTRIES_MAX} stays well under it.
     */
    static final int DISRUPTOR_SLOTS = 16_384;
    /** Entries this node proposes as leader and jraft holds, at most ({@link InFlightBudget}). */
    static final int PROPOSED_ENTRIES_MAX = DISRUPTOR_SLOTS / 4;
    /**
     * jraft's in-memory log, at most, as a multiple of the log budget. It keeps an entry until it is
     * applied and on disk; the budget ends at applied, so an entry a quorum of followers stored
     * before the leader's own disk did can linger past it; a follower keeps what it received until
     * applied. This soft limit makes a leader refuse proposals (they are resent) and a follower
     * refuse AppendEntries (jraft drops the connection and the leader retries) while over it: a
     * last resort, well above what a healthy node holds, against a disk or an apply thread that
     * stalls while entries keep coming.
     */
    static final int LOG_IN_MEMORY_BUDGETS = 4;

    private JraftOptions() {}

    /** jraft's pool for RPC answers a node receives (its default, stated), shared out among a node's groups. */
    static final int RPC_PROCESSOR_THREADS = 80;
    /** The least of that pool a group of several keeps (a third of it always runs). */
    static final int RPC_PROCESSOR_THREADS_MIN = 12;

    /** @param hosted which of the process's groups: several share jraft's timer pools and its RPC threads */
    static NodeOptions of(RaftSettings settings, StateMachine machine, Path raftDirectory, Configuration initial,
            RaftMetrics metrics, HostedGroup hosted) {
        NodeOptions options = new NodeOptions();
        options.setServiceFactory(TimedLogStorage.factory(settings, metrics.logAppendSeconds));
        options.setFsm(machine);
        options.setLogUri(LogStore.logDirectory(settings.dataDirectory()).toString());
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
        // One group per process keeps its own timer threads; a node of many groups shares jraft's
        // pools (as RheaKV's regions do) rather than run a scheduler of six threads and three timers
        // per group, and splits the RPC answer pool (80 threads, a third always running, per group).
        boolean shared = hosted.shared();
        options.setSharedTimerPool(shared);
        options.setSharedVoteTimer(shared);
        options.setSharedStepDownTimer(shared);
        options.setSharedSnapshotTimer(shared);
        options.setRpcProcessorThreadPoolSize(Math.max(RPC_PROCESSOR_THREADS_MIN, RPC_PROCESSOR_THREADS / hosted.count()));
        RaftOptions raftOptions = new RaftOptions();
        raftOptions.setSync(settings.fsync());
        raftOptions.setSyncMeta(settings.fsync());
        // Linearizable reads and the readiness probe need a quorum round, not a leader lease.
        raftOptions.setReadOnlyOptions(ReadOnlyOption.ReadOnlySafe);
        raftOptions.setMaxReplicatorInflightMsgs(replicatorInflightMessages(settings.budgets().logBytes()));
        raftOptions.setMaxBodySize(APPEND_ENTRIES_BODY_BYTES);
        raftOptions.setDisruptorBufferSize(DISRUPTOR_SLOTS);
        raftOptions.setMaxLogsInMemoryBytes(LOG_IN_MEMORY_BUDGETS * settings.budgets().logBytes());
        options.setRaftOptions(raftOptions);
        return options;
    }

    /**
     * AppendEntries in flight per follower (jraft: 256, and it lets one more go): each holds up to
     * {@link #APPEND_ENTRIES_BYTES_MAX}, copied whole into a buffer of its own until the follower
     * answers, and the follower holds it twice (as read and as parsed) until it is on its disk. So
     * the leader's copies for each follower stay near the log budget: under a bulk load of 1 MB
     * values, jraft's 256 ran a leader with a 256 MB heap out of memory, and 16 (what raftcached
     * had set, for resyncs of large stores) left it in full GCs. Each answer waits for the
     * follower's fsync, so even a few keep its disk busy.
     */
    static int replicatorInflightMessages(long logBytes) {
        return (int) Math.max(REPLICATOR_INFLIGHT_MIN, Math.min(REPLICATOR_INFLIGHT_MAX, logBytes / APPEND_ENTRIES_BYTES_MAX));
    }

    /**
     * Settings jraft and bolt read once from system properties, when their classes load: so set
     * before the first node starts (an operator's own {@code -D} wins).
     *
     * <ul>
     * <li>Bolt hands a batch of decoded messages to a multi-threaded executor unless told
     * otherwise, which can reorder requests of one connection. jraft turns that off when a node
     * starts, but our RPC server starts earlier (peers probe it during bootstrap): the forwarding
     * lane and jraft's replication pipeline both rely on per-connection order.
     * <li>jraft pools the buffers it copies each AppendEntries request into: up to 256 per thread,
     * each kept if under 4 MB. Under 1 MB values that pool held 70 MB of a 256 MB heap, for
     * nothing: a fresh buffer costs an allocation, a pooled one a share of the heap for good.
     * <li>RPC responses are processed on the I/O thread that read them ({@link BoltResponseDispatch}).
     * </ul>
     */
    static void setProcessWide() {
        System.setProperty("bolt.rpc.dispatch-msg-list-in-default-executor", "false");
        BoltResponseDispatch.install();
        if (System.getProperty("jraft.max_collector_size_per_thread") == null) {
            System.setProperty("jraft.max_collector_size_per_thread", "0");
        }
        if (!Integer.toString(Utils.MAX_COLLECTOR_SIZE_PER_THREAD).equals(System.getProperty("jraft.max_collector_size_per_thread"))) {
            LOG.warn("jraft was loaded before its buffer pool could be turned off; it pools up to {} buffers per thread",
                    Utils.MAX_COLLECTOR_SIZE_PER_THREAD);
        }
    }
}
