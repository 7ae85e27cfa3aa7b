package io.raftcached.raft;

import com.alipay.sofa.jraft.core.State;
import java.util.List;
import java.util.Map;
import java.util.Locale;

/** This node's view of the Raft group, for {@code stats} and {@code cluster status}. */
public final class RaftStatus {
    public int nodeId;
    public String peerId = "";
    public String clusterId = "";
    public String role = "starting";
    public long term;
    public String leader = "";
    public long committedIndex;
    public long appliedIndex;
    public long lastLogIndex;
    public boolean ready;
    /**
     * Raft groups this node runs (holds a replica of) and leads (one, and it or not, before
     * groups), and the cluster's groups: a node of more than three may hold some of them only.
     */
    public int groups = 1;
    public int groupsTotal = 1;
    /** Which group this status is of, 1..groupsTotal (the first group a node holds, for a node's summed status). */
    public int group = 1;
    /** Relayed writes in flight and relayed read replies reserved, in bytes (a node of several groups). */
    public long relayedWriteBytes;
    public long relayedReadBytes;
    public int groupsLed;
    public List<String> peers = List.of();
    public List<String> learners = List.of();
    public long snapshotsInstalled;
    public long snapshotsSaved;
    /** Snapshot attempts given up because a store image (stats digest, metadump) held the store's snapshot slot. */
    public long snapshotsDeferred;
    public long lastSnapshotBeginMicros;
    public long lastSnapshotDumpMillis;
    public long abandonedWriteStreams;
    public long duplicatesAnswered;
    public int pendingWrites;
    /** On the leader: bytes of entries it proposed that jraft holds, and of forwarded batches admitted and not committed. */
    public long logBufferBytes;
    public long forwardBufferBytes;
    /** Forwarded batches this node refused because their sender runs another Raft group (another cluster). */
    public long forwardsRefusedOtherGroup;
    /** Incoming peer connections refused by peer TLS (no certificate, an untrusted one, plaintext), since start. */
    public long peerTlsRefused;
    /** Why this node stopped serving (its Raft instance failed), or null. */
    public String failure;
    /** A learner's pending or failing promotion to voter, or empty. */
    public String promotion = "";
    /** Access hints this node sent: writes, keys and key bytes; and keys dropped for want of room. */
    public long hintWrites;
    public long hintKeys;
    public long hintBytes;
    public long hintKeysDropped;
    /** On the leader: each follower's and learner's entries not yet replicated to it, by peer id. */
    public Map<String, Long> followerLag = Map.of();
    /** Bytes of AppendEntries this node sent to each peer while it led, by "host:port", since it started. */
    public Map<String, Long> sentBytes = Map.of();

    static String role(State state, boolean learner) {
        if (state == State.STATE_LEADER) {
            return "leader";
        }
        if (learner) {
            return "learner";
        }
        return state == State.STATE_FOLLOWER ? "follower" : state.name().replace("STATE_", "").toLowerCase(Locale.ROOT);
    }
}
