package io.raftcached.raft;

import com.google.protobuf.ByteString;
import io.raftcached.proto.RelayedResult;
import io.raftcached.store.ItemView;
import io.raftcached.store.Store;
import io.raftcached.store.StoreResult;

/** {@link StoreResult}s and items read on a replica, as they travel back to the node that relayed the command. */
final class RelayedResults {
    private static final StoreResult.Status[] STATUSES = StoreResult.Status.values();
    private static final Store.ReadOutcome[] OUTCOMES = Store.ReadOutcome.values();

    private RelayedResults() {}

    static RelayedResult of(StoreResult result) {
        RelayedResult.Builder builder = RelayedResult.newBuilder()
                .setStatus(result.status.ordinal()).setCas(result.cas).setNumber(result.number)
                .setClientFlags(result.clientFlags).setTtlBeforeSeconds(result.ttlBeforeSeconds)
                .setTtlAfterSeconds(result.ttlAfterSeconds).setValueLength(result.valueLength)
                .setSlabClass(result.slabClass).setTotalSizeBytes(result.totalSizeBytes).setKeyBinary(result.keyBinary)
                .setWon(result.won).setStale(result.stale).setTokenAlreadySent(result.tokenAlreadySent)
                .setCreated(result.created).setAppliedNowMillis(result.appliedNowMillis);
        if (result.value != null) {
            builder.setHasValue(true).setValue(ByteString.copyFrom(result.value));
        }
        return builder.build();
    }

    static StoreResult toStoreResult(RelayedResult relayed) {
        if (relayed.getStatus() < 0 || relayed.getStatus() >= STATUSES.length) {
            throw new IllegalArgumentException("a relayed result of status " + relayed.getStatus() + ", which this node does not know");
        }
        StoreResult result = new StoreResult(STATUSES[relayed.getStatus()]);
        result.cas = relayed.getCas();
        result.number = relayed.getNumber();
        result.clientFlags = relayed.getClientFlags();
        result.ttlBeforeSeconds = relayed.getTtlBeforeSeconds();
        result.ttlAfterSeconds = relayed.getTtlAfterSeconds();
        result.valueLength = relayed.getValueLength();
        result.value = relayed.getHasValue() ? relayed.getValue().toByteArray() : null;
        result.slabClass = relayed.getSlabClass();
        result.totalSizeBytes = relayed.getTotalSizeBytes();
        result.keyBinary = relayed.getKeyBinary();
        result.won = relayed.getWon();
        result.stale = relayed.getStale();
        result.tokenAlreadySent = relayed.getTokenAlreadySent();
        result.created = relayed.getCreated();
        result.appliedNowMillis = relayed.getAppliedNowMillis();
        return result;
    }

    /** An item a read found, with its value, read at {@code readNowMillis}. */
    static RelayedResult ofItem(ItemView item, long readNowMillis) {
        return RelayedResult.newBuilder().setStatus(StoreResult.Status.HIT.ordinal()).setReadOutcome(Store.ReadOutcome.HIT.ordinal())
                .setCas(item.cas()).setClientFlags(item.clientFlags()).setTtlBeforeSeconds(item.ttlSeconds())
                .setValueLength(item.valueLength()).setHasValue(true).setValue(ByteString.copyFrom(item.copyValue()))
                .setSlabClass(item.slabClass()).setTotalSizeBytes(item.totalSizeBytes()).setKeyBinary(item.keyBinary())
                .setStale(item.stale()).setTokenAlreadySent(item.tokenSent()).setAppliedNowMillis(readNowMillis)
                .setFetched(item.fetched()).setSecondsSinceLastAccess(item.secondsSinceLastAccess()).build();
    }

    /** A read that found nothing live. */
    static RelayedResult ofMiss(Store.ReadOutcome outcome) {
        return RelayedResult.newBuilder().setStatus(StoreResult.Status.MISS.ordinal()).setReadOutcome(outcome.ordinal()).build();
    }

    static RelayedRead toRead(RelayedResult relayed) {
        if (relayed.getReadOutcome() < 0 || relayed.getReadOutcome() >= OUTCOMES.length) {
            throw new IllegalArgumentException("a relayed read of outcome " + relayed.getReadOutcome() + ", which this node does not know");
        }
        Store.ReadOutcome outcome = OUTCOMES[relayed.getReadOutcome()];
        return outcome == Store.ReadOutcome.HIT
                ? new RelayedRead(outcome, toStoreResult(relayed), relayed.getFetched(), relayed.getSecondsSinceLastAccess())
                : new RelayedRead(outcome, null, false, 0);
    }
}
