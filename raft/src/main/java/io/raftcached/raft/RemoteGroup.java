package io.raftcached.raft;

import com.google.protobuf.ByteString;
import com.google.protobuf.Message;
import io.raftcached.proto.Command;
import io.raftcached.proto.RelayReadRequest;
import io.raftcached.proto.RelayReadResponse;
import io.raftcached.proto.RelayWriteRequest;
import io.raftcached.proto.RelayWriteResponse;
import io.raftcached.store.StoreResult;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A group this node holds no replica of (docs/scale-out.md, "Any node serves any key"): its keys'
 * commands are relayed to one of its replicas ({@link RelayProcessors}), which runs them as it
 * runs its own clients' and answers with the result. Relays go to one replica at a time, the
 * group's preferred leader first, so a connection's commands for the group arrive in order on one
 * link; a replica that does not answer, holds no replica or refuses reads hands the relays on to
 * the next, and reads carry the index this node's writes were applied at, so they see them there too.
 *
 * <p>A write whose relay surely did not leave is tried on the next replica; one that left and got
 * no answer fails with "outcome unknown", as a write does whose log entry timed out.
 */
final class RemoteGroup {
    /** Value bytes a replica puts in one read reply (at least one item, so up to this plus one item). */
    static final long READ_REPLY_BYTES_MAX = 1 << 20;
    /** Keys asked in one read relay. */
    static final int READ_KEYS_MAX = 128;

    private final int ordinal;
    private final int count;
    /** Raft endpoints of the group's replicas, the preferred leader first. */
    private final List<String> replicas;
    private final RaftRpc rpc;
    private final long timeoutMillis;
    /** Index into {@link #replicas} of the one relays go to now. */
    private volatile int current;
    /**
     * The highest index of the group a replica had applied when it answered one of this node's
     * writes: reads wait for it wherever they go, so a read sees every write this node relayed
     * before it even after relays moved to another replica.
     */
    private final AtomicLong writtenIndex = new AtomicLong();

    RemoteGroup(int ordinal, int count, List<String> replicas, RaftRpc rpc, long timeoutMillis) {
        if (replicas.isEmpty() || ordinal < 1 || ordinal > count) {
            throw new IllegalArgumentException("group " + ordinal + " of " + count + " on " + replicas);
        }
        this.ordinal = ordinal;
        this.count = count;
        this.replicas = List.copyOf(replicas);
        this.rpc = rpc;
        this.timeoutMillis = timeoutMillis;
    }

    int ordinal() {
        return ordinal;
    }

    /** Runs {@code command} on a replica; completes with the result that replica applied. */
    CompletableFuture<StoreResult> submit(Command command) {
        CompletableFuture<StoreResult> result = new CompletableFuture<>();
        RelayWriteRequest request = RelayWriteRequest.newBuilder().setGroup(ordinal).setGroups(count)
                .setCommand(command.toByteString()).build();
        sendWrite(request, current, 0, result);
        return result;
    }

    private void sendWrite(RelayWriteRequest request, int replica, int tried, CompletableFuture<StoreResult> result) {
        rpc.relay(replicas.get(replica), request, timeoutMillis, (response, maybeRun) -> {
            if (response instanceof RelayWriteResponse answer && answer.getStatus() != RelayWriteResponse.Status.NOT_HOSTED) {
                if (answer.getStatus() == RelayWriteResponse.Status.OK) {
                    writtenIndex.accumulateAndGet(answer.getAppliedIndex(), Math::max);
                    result.complete(RelayedResults.toStoreResult(answer.getResult()));
                } else {
                    result.completeExceptionally(new WriteFailedException(answer.getMessage(), answer.getOutcomeUnknown()));
                }
                return;
            }
            int next = moveOn(replica);
            if (response == null && maybeRun) {
                result.completeExceptionally(new WriteFailedException("outcome unknown: replica " + replicas.get(replica)
                        + " of group g" + ordinal + " did not answer within " + timeoutMillis + " ms", true));
            } else if (tried + 1 < replicas.size()) {
                sendWrite(request, next, tried + 1, result);
            } else {
                result.completeExceptionally(new WriteFailedException("not written: no replica of group g" + ordinal
                        + " reachable (" + String.join(", ", replicas) + ")", false));
            }
        });
    }

    /**
     * Reads {@code keys} (at most {@link #READ_KEYS_MAX}) on a replica: their items in order, a
     * prefix of at least one key when the values fill a reply.
     *
     * @param versions per key, 0 for the live item or the version (cas) a touch returned
     */
    CompletableFuture<List<RelayedRead>> read(List<byte[]> keys, long[] versions, boolean bump, boolean linearizable) {
        if (keys.isEmpty() || keys.size() > READ_KEYS_MAX || versions.length != keys.size()) {
            throw new IllegalArgumentException(keys.size() + " keys, " + versions.length + " versions");
        }
        RelayReadRequest.Builder request = RelayReadRequest.newBuilder().setGroup(ordinal).setGroups(count).setBump(bump)
                .setLinearizable(linearizable).setReplyBytesMax(READ_REPLY_BYTES_MAX).setMinAppliedIndex(writtenIndex.get());
        for (int i = 0; i < keys.size(); i++) {
            request.addKeys(ByteString.copyFrom(keys.get(i))).addVersions(versions[i]);
        }
        CompletableFuture<List<RelayedRead>> result = new CompletableFuture<>();
        sendRead(request.build(), current, 0, null, result);
        return result;
    }

    private void sendRead(RelayReadRequest request, int replica, int tried, ReadRefusedException refusal,
            CompletableFuture<List<RelayedRead>> result) {
        rpc.relay(replicas.get(replica), request, timeoutMillis, (Message response, boolean maybeRun) -> {
            ReadRefusedException last = refusal;
            if (response instanceof RelayReadResponse answer) {
                switch (answer.getStatus()) {
                    case OK -> {
                        List<RelayedRead> reads = new ArrayList<>(answer.getItemsCount());
                        answer.getItemsList().forEach(item -> reads.add(RelayedResults.toRead(item)));
                        if (reads.isEmpty()) {
                            result.completeExceptionally(new IllegalStateException("replica " + replicas.get(replica)
                                    + " answered a read of " + request.getKeysCount() + " keys with none"));
                        } else {
                            result.complete(reads);
                        }
                        return;
                    }
                    case REFUSED -> last = new ReadRefusedException(answer.getReadPermission() > 0
                            && answer.getReadPermission() < ReadPermission.values().length
                            ? ReadPermission.values()[answer.getReadPermission()] : ReadPermission.FAILED);
                    case BARRIER_FAILED -> last = ReadRefusedException.noQuorum();
                    default -> { }
                }
            }
            int next = moveOn(replica);
            if (tried + 1 < replicas.size()) {
                sendRead(request, next, tried + 1, last, result);
            } else {
                result.completeExceptionally(last != null ? last : ReadRefusedException.unreachable(ordinal, replicas));
            }
        });
    }

    /** Relays go to the replica after {@code failed} from now on (unless another failure moved them already). */
    private int moveOn(int failed) {
        int next = (failed + 1) % replicas.size();
        if (current == failed) {
            current = next;
        }
        return next;
    }
}
