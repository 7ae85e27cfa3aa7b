package io.raftcached.raft;

/** Whether a local read may be served now, and if not, why. */
public enum ReadPermission {
    ALLOWED,
    /** Restarted or rejoined, and not yet caught up with the commit index the leader had then. */
    NOT_READY,
    /** No leader confirmed within {@code --max-staleness-ms}: this node may be cut off. */
    STALE,
    /** This node's Raft instance stopped (see {@code stats} raft_error); it serves nothing. */
    FAILED
}
