package io.raftcached.raft;

import io.raftcached.store.Store;
import io.raftcached.store.StoreResult;

/**
 * What a replica of another node's group found for one key ({@link ReplicatedCache#readElsewhere}):
 * the outcome and, on a hit, the item as a {@link StoreResult} with its value (time to live in
 * {@code ttlBeforeSeconds}, the replica's read clock in {@code appliedNowMillis}), with the
 * per-replica facts an mg reports.
 */
public record RelayedRead(Store.ReadOutcome outcome, StoreResult item, boolean fetched, long secondsSinceLastAccess) {
    public RelayedRead {
        if ((outcome == Store.ReadOutcome.HIT) != (item != null)) {
            throw new IllegalArgumentException("a hit, and only a hit, has an item: " + outcome);
        }
    }
}
