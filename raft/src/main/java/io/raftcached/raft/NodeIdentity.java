package io.raftcached.raft;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Properties;

/**
 * Who this node is, kept next to its Raft state in {@code node.properties}: its node id, the
 * incarnation its Raft peer id carries, the cluster it belongs to and that cluster's store shape
 * (both empty until the cluster's config reached this node), and the jraft group id its Raft RPCs
 * carry, which a node of another cluster at a reused address does not answer to.
 * A node whose directory lost this file lost its Raft state too: it rejoins as a new incarnation
 * and never votes under the old one.
 */
record NodeIdentity(int nodeId, int incarnation, String clusterId, String shape, String raftGroup) {
    static final String FILE = "node.properties";
    /**
     * The group id every node used before group ids were derived per cluster; a data directory
     * without one keeps it, so an existing cluster upgrades node by node.
     */
    static final String LEGACY_RAFT_GROUP = "raftcached";

    static NodeIdentity load(Path dataDirectory) throws IOException {
        Path file = dataDirectory.resolve(FILE);
        if (!Files.exists(file)) {
            return null;
        }
        Properties properties = new Properties();
        try (InputStream in = Files.newInputStream(file)) {
            properties.load(in);
        }
        try {
            return new NodeIdentity(Integer.parseInt(properties.getProperty("node_id")),
                    Integer.parseInt(properties.getProperty("incarnation")),
                    properties.getProperty("cluster_id", ""), properties.getProperty("shape", ""),
                    properties.getProperty("raft_group", LEGACY_RAFT_GROUP));
        } catch (RuntimeException e) {
            throw new IOException(file + " is damaged: " + e.getMessage(), e);
        }
    }

    /** With the cluster this node turned out to belong to, and that cluster's store shape. */
    NodeIdentity withCluster(String id, String clusterShape) {
        return new NodeIdentity(nodeId, incarnation, id, clusterShape, raftGroup);
    }

    /** Written to a temporary file, synced and renamed, so a crash leaves the old or the new file. */
    void save(Path dataDirectory) throws IOException {
        Properties properties = new Properties();
        properties.setProperty("node_id", Integer.toString(nodeId));
        properties.setProperty("incarnation", Integer.toString(incarnation));
        properties.setProperty("cluster_id", clusterId);
        properties.setProperty("shape", shape);
        properties.setProperty("raft_group", raftGroup);
        Path temporary = dataDirectory.resolve(FILE + ".tmp");
        try (OutputStream out = Files.newOutputStream(temporary)) {
            properties.store(out, "raftcached node identity: do not edit; delete the whole data directory instead");
        }
        try (var channel = java.nio.channels.FileChannel.open(temporary, java.nio.file.StandardOpenOption.WRITE)) {
            channel.force(true);
        }
        Files.move(temporary, dataDirectory.resolve(FILE), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    }
}
