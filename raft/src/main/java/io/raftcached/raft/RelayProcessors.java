package io.raftcached.raft;

import com.alipay.sofa.jraft.rpc.RpcContext;
import com.alipay.sofa.jraft.rpc.RpcProcessor;
import com.google.protobuf.InvalidProtocolBufferException;
import io.raftcached.proto.Command;
import io.raftcached.proto.RelayReadRequest;
import io.raftcached.proto.RelayReadResponse;
import io.raftcached.proto.RelayWriteRequest;
import io.raftcached.proto.RelayWriteResponse;
import io.raftcached.proto.RelayedResult;
import io.raftcached.store.Store;
import java.util.List;
import java.util.concurrent.CompletionException;

/**
 * A replica's side of relays ({@link RemoteGroup}): a node that holds no replica of a key's group
 * runs the key's writes and reads here. A write goes through this replica's own write stream, so
 * it reaches the leader with the exactly-once forwarding every write has and answers with the
 * result this replica applied; a read is served from this replica's store under its read
 * permission, as a client's read here would be, once this replica has applied the writes the
 * relaying node saw applied (read-your-writes when relays move to another replica). Both are
 * handled where bolt decoded them, in the order they arrived (a connection's commands stay in
 * order), and wait only on futures.
 */
final class RelayProcessors {
    private RelayProcessors() {}

    static List<RpcProcessor<?>> all(RaftHost host) {
        return List.of(
                host.new Dispatch<>(RelayWriteRequest.class, Runnable::run,
                        request -> host.hostingAt(request.getGroup(), request.getGroups()), RelayProcessors::write),
                host.new Dispatch<>(RelayReadRequest.class, Runnable::run,
                        request -> host.hostingAt(request.getGroup(), request.getGroups()), RelayProcessors::read));
    }

    private static void write(ClusterNode group, RpcContext context, RelayWriteRequest request) {
        if (group == null) {
            context.sendResponse(RelayWriteResponse.newBuilder().setStatus(RelayWriteResponse.Status.NOT_HOSTED).build());
            return;
        }
        Command command;
        try {
            command = Command.parseFrom(request.getCommand());
        } catch (InvalidProtocolBufferException e) {
            context.sendResponse(RelayWriteResponse.newBuilder().setStatus(RelayWriteResponse.Status.FAILED)
                    .setMessage("not written: the relayed command did not decode (" + e.getMessage() + ")").build());
            return;
        }
        group.submit(command).whenComplete((result, failure) -> {
            if (failure == null) {
                context.sendResponse(RelayWriteResponse.newBuilder().setStatus(RelayWriteResponse.Status.OK)
                        .setResult(RelayedResults.of(result)).setAppliedIndex(group.appliedIndex()).build());
                return;
            }
            Throwable cause = failure instanceof CompletionException && failure.getCause() != null ? failure.getCause() : failure;
            context.sendResponse(RelayWriteResponse.newBuilder().setStatus(RelayWriteResponse.Status.FAILED)
                    .setMessage(cause.getMessage() == null ? cause.toString() : cause.getMessage())
                    .setOutcomeUnknown(WriteFailedException.outcomeUnknown(cause)).build());
        });
    }

    private static void read(ClusterNode group, RpcContext context, RelayReadRequest request) {
        if (group == null) {
            context.sendResponse(RelayReadResponse.newBuilder().setStatus(RelayReadResponse.Status.NOT_HOSTED).build());
            return;
        }
        ReadPermission permission = group.readPermission();
        if (permission != ReadPermission.ALLOWED) {
            context.sendResponse(RelayReadResponse.newBuilder().setStatus(RelayReadResponse.Status.REFUSED)
                    .setReadPermission(permission.ordinal()).build());
            return;
        }
        if (request.getMinAppliedIndex() > group.appliedIndex()) {
            // Behind a write the relaying node saw applied on another replica: read once it is here too.
            group.awaitApplied(request.getMinAppliedIndex()).whenComplete((ignored, failure) -> {
                if (failure != null) {
                    context.sendResponse(RelayReadResponse.newBuilder().setStatus(RelayReadResponse.Status.REFUSED)
                            .setReadPermission(ReadPermission.NOT_READY.ordinal()).build());
                } else {
                    readAfterBarrier(group, context, request);
                }
            });
            return;
        }
        readAfterBarrier(group, context, request);
    }

    private static void readAfterBarrier(ClusterNode group, RpcContext context, RelayReadRequest request) {
        if (!request.getLinearizable()) {
            context.sendResponse(readNow(group, request));
            return;
        }
        group.linearizableBarrier().whenComplete((ignored, failure) ->
                context.sendResponse(failure != null
                        ? RelayReadResponse.newBuilder().setStatus(RelayReadResponse.Status.BARRIER_FAILED).build()
                        : readNow(group, request)));
    }

    /** The keys in order, stopping after the value that reaches {@code reply_bytes_max} (at least one key). */
    private static RelayReadResponse readNow(ClusterNode group, RelayReadRequest request) {
        RelayReadResponse.Builder response = RelayReadResponse.newBuilder().setStatus(RelayReadResponse.Status.OK);
        long nowMillis = group.readClockMillis();
        long valueBytes = 0;
        for (int i = 0; i < request.getKeysCount() && (i == 0 || valueBytes < request.getReplyBytesMax()); i++) {
            long version = i < request.getVersionsCount() ? request.getVersions(i) : 0;
            Store.Lookup lookup = version == 0 ? Store.Lookup.live(request.getBump()) : Store.Lookup.version(version);
            RelayedResult[] found = {null};
            Store.ReadOutcome outcome = group.read(request.getKeys(i).toByteArray(), nowMillis, lookup,
                    item -> found[0] = RelayedResults.ofItem(item, nowMillis));
            RelayedResult item = outcome == Store.ReadOutcome.HIT ? found[0] : RelayedResults.ofMiss(outcome);
            valueBytes += item.getValue().size();
            response.addItems(item);
        }
        return response.build();
    }
}
