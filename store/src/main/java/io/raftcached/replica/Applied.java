package io.raftcached.replica;

import io.raftcached.proto.ClusterConfig;
import io.raftcached.proto.WriterId;
import io.raftcached.store.StoreResult;

/** What applying one log entry did, for the node around the replica to act on. */
public sealed interface Applied permits Applied.Batch, Applied.Config, Applied.Tick {
    /** The log index of the entry. */
    long index();

    /**
     * A batch of one writer's commands. {@code localResults} holds, for this node's own writers
     * only, one result per command in seq order (null for every other writer). A {@code refusal}
     * other than NONE says the whole batch changed nothing.
     */
    record Batch(long index, WriterId writer, long firstSeq, int commandCount, Refusal refusal, StoreResult[] localResults)
            implements Applied {
        public boolean refused() {
            return refusal != Refusal.NONE;
        }
    }

    /** Why a batch was not applied. */
    enum Refusal {
        NONE,
        /** An earlier seq of its writer is missing: the writer must resend in order. */
        GAP,
        /**
         * Its stream was abandoned: its node already wrote through a newer stream, and a late batch
         * of the old one applied now would take effect after writes its clients sent later.
         */
        STREAM_ABANDONED
    }

    /** A cluster config entry; {@code adopted} when it named the cluster (the first one does). */
    record Config(long index, ClusterConfig config, boolean adopted) implements Applied {}

    /** An entry that only moves replicated time forward. */
    record Tick(long index) implements Applied {}
}
