package io.raftcached.raft;

import java.nio.file.Path;
import java.util.List;

/**
 * How this node takes part in the cluster. Every value is explicit: the command line fills it in
 * from documented defaults, tests set what they need.
 *
 * @param peers the initial members, this node included; empty for a one-member group
 * @param logStore which store holds the Raft log
 * @param snapshotLogBytes take a snapshot once this many log bytes were applied since the last
 * @param writeTimeoutMillis a write not applied within this answers SERVER_ERROR
 * @param maxStalenessMillis stop serving reads when no leader was confirmed for this long; 0 = never
 * @param clusterToken with the initial members, names a new cluster's Raft group (etcd's --initial-cluster-token)
 * @param budgets how much memory writes, forwarded batches and waiting reads may hold
 * @param peerTls the PEM files members authenticate each other with ({@link PeerTls.Files#NONE}: plaintext)
 * @param faults what tests inject ({@link InjectedFaults#NONE} in production)
 */
public record RaftSettings(
        int nodeId,
        String raftHost,
        int raftPort,
        List<Peer> peers,
        Path dataDirectory,
        int electionTimeoutMillis,
        boolean fsync,
        LogStore logStore,
        int snapshotIntervalSeconds,
        long snapshotLogBytes,
        long writeTimeoutMillis,
        long maxStalenessMillis,
        String clientAddress,
        String clusterToken,
        MemoryBudgets budgets,
        PeerTls.Files peerTls,
        InjectedFaults faults) {

    /** A member as the operator names it: node id, Raft host and port. */
    public record Peer(int nodeId, String host, int port) {
        public static Peer parse(String text) {
            int at = text.indexOf('@');
            int colon = text.lastIndexOf(':');
            if (at <= 0 || colon <= at + 1 || colon == text.length() - 1) {
                throw new IllegalArgumentException("a peer is <node id>@<host>:<raft port>, got '" + text + "'");
            }
            try {
                return new Peer(Integer.parseInt(text.substring(0, at)), text.substring(at + 1, colon),
                        Integer.parseInt(text.substring(colon + 1)));
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("a peer is <node id>@<host>:<raft port>, got '" + text + "'");
            }
        }

        public String endpoint() {
            return host + ":" + port;
        }

        @Override
        public String toString() {
            return nodeId + "@" + endpoint();
        }
    }

    public RaftSettings {
        peers = List.copyOf(peers);
        if (nodeId <= 0) {
            throw new IllegalArgumentException("node id must be positive, got " + nodeId);
        }
        if (!peers.isEmpty() && peers.stream().noneMatch(p -> p.nodeId() == nodeId)) {
            throw new IllegalArgumentException("--peers must include this node (" + nodeId + ")");
        }
        if (peers.stream().map(Peer::nodeId).distinct().count() != peers.size()) {
            throw new IllegalArgumentException("--peers names a node id twice");
        }
        for (Peer peer : peers) {
            if (peer.nodeId() == nodeId && (peer.port() != raftPort || !peer.host().equals(raftHost))) {
                throw new IllegalArgumentException("--peers says node " + nodeId + " is at " + peer.endpoint()
                        + " but --raft says " + raftHost + ":" + raftPort);
            }
        }
        if (electionTimeoutMillis < 100) {
            throw new IllegalArgumentException("election timeout must be at least 100 ms");
        }
        if (writeTimeoutMillis < 10) {
            throw new IllegalArgumentException("write timeout must be at least 10 ms");
        }
    }

    /** The settings of one of a node's groups: its own data directory and its share of the budgets. */
    RaftSettings forGroup(HostedGroup group) {
        List<Peer> members = group.replicas().isEmpty() ? peers
                : peers.stream().filter(peer -> group.replicas().contains(peer.nodeId())).toList();
        return new RaftSettings(nodeId, raftHost, raftPort, members, group.dataDirectory(dataDirectory), electionTimeoutMillis,
                fsync, logStore, snapshotIntervalSeconds, snapshotLogBytes, writeTimeoutMillis, maxStalenessMillis,
                clientAddress, clusterToken, budgets.perGroup(group.count()), peerTls, faults);
    }

    public boolean singleMember() {
        return peers.size() <= 1;
    }
}
