package io.raftcached.replica;

import com.google.protobuf.ByteString;
import io.raftcached.proto.ClusterConfig;
import io.raftcached.proto.LogEntry;

/**
 * The bytes the leader proposes to the log. Each entry carries the leader's stamp, from which
 * every replica derives the same replicated time ({@link Replica#apply}).
 */
public final class LogEntries {
    /** Entries of a newer format stop a replica that cannot read them ({@link ReplicaStopException}). */
    public static final int FORMAT_VERSION = 1;

    private LogEntries() {}

    /** A serialized {@link io.raftcached.proto.Batch}, kept as bytes so a forwarded batch is not re-encoded. */
    public static byte[] batch(long stampMillis, ByteString batch) {
        return LogEntry.newBuilder().setFormatVersion(FORMAT_VERSION).setLeaderTimeMillis(stampMillis).setBatch(batch)
                .build().toByteArray();
    }

    /** Moves replicated time to the stamp and nothing else, so TTLs expire on an idle cluster. */
    public static byte[] tick(long stampMillis) {
        return LogEntry.newBuilder().setFormatVersion(FORMAT_VERSION).setLeaderTimeMillis(stampMillis).build().toByteArray();
    }

    /** Names the cluster and fixes its store shape; only the first one applied counts. */
    public static byte[] config(long stampMillis, ClusterConfig config) {
        return LogEntry.newBuilder().setFormatVersion(FORMAT_VERSION).setLeaderTimeMillis(stampMillis).setConfig(config)
                .build().toByteArray();
    }
}
