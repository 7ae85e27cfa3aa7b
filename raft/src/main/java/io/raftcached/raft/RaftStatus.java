package io.raftcached.raft;

import java.util.List;

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
    public List<String> peers = List.of();
    public List<String> learners = List.of();
    public long snapshotsInstalled;
    public long snapshotsSaved;
    public long lastSnapshotBeginMicros;
    public long lastSnapshotDumpMillis;
    public long abandonedWriteStreams;
    public long duplicatesAnswered;
    public int pendingWrites;
    public String fatal;
}
