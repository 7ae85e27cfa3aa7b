package io.raftcached.placement;

import io.raftcached.proto.MapChange;

/**
 * Applies the metadata group's log entries to the cluster map. A change the map refuses throws
 * {@link PlacementException}: every replica refuses it alike (same map, same change), so the
 * metadata group answers the refusal and goes on. A change of a kind this version does not know
 * is not refusable that way (another replica may know it): IllegalStateException, and the node stops.
 */
public final class MapChanges {
    private MapChanges() {}

    public static ClusterMap apply(ClusterMap map, MapChange change) {
        return switch (change.getChangeCase()) {
            case ADD_NODE -> map.withNode(change.getAddNode().getId(), change.getAddNode().getCapacityMb());
            case CREATE_GROUPS -> map.withGroups(change.getCreateGroups().getCount(), change.getCreateGroups().getMemoryMb());
            case DRAIN_NODE -> map.draining(change.getDrainNode());
            case REMOVE_NODE -> map.withoutNode(change.getRemoveNode().getId(), change.getRemoveNode().getForce());
            case MOVE_START -> map.apply(new Move.Start(change.getMoveStart().getGroup(), change.getMoveStart().getFrom(),
                    change.getMoveStart().getTo()));
            case MOVE_FINISH -> map.apply(new Move.Finish(change.getMoveFinish()));
            case MOVE_ABORT -> map.apply(new Move.Abort(change.getMoveAbort()));
            case LEADER_TRANSFER -> map.apply(new Move.TransferLeader(change.getLeaderTransfer().getGroup(),
                    change.getLeaderTransfer().getTo()));
            case CHANGE_NOT_SET -> throw new IllegalStateException("a cluster map change of a kind this version does not know");
        };
    }

    /** The log entry that carries a move the balancer planned. */
    public static MapChange of(Move move) {
        MapChange.Builder change = MapChange.newBuilder();
        if (move instanceof Move.Start start) {
            change.setMoveStart(MapChange.MoveStart.newBuilder().setGroup(start.group()).setFrom(start.from()).setTo(start.to()));
        } else if (move instanceof Move.Finish finish) {
            change.setMoveFinish(finish.group());
        } else if (move instanceof Move.Abort abort) {
            change.setMoveAbort(abort.group());
        } else {
            Move.TransferLeader transfer = (Move.TransferLeader) move;
            change.setLeaderTransfer(MapChange.LeaderTransfer.newBuilder().setGroup(transfer.group()).setTo(transfer.to()));
        }
        return change.build();
    }
}
