package io.raftcached.placement;

/**
 * One change to a {@link ClusterMap}'s placement. The balancer plans {@link Start} and {@link
 * TransferLeader}; the node carrying out a start reports how it ended with {@link Finish} or
 * {@link Abort}. A replica moves in two steps so a group never has fewer than its replicas while
 * data is copied: the new replica joins (as a learner, caught up by a snapshot, then promoted)
 * before the old one leaves.
 */
public sealed interface Move {
    int group();

    /**
     * Node {@code to} takes a replica of {@code group}; once it is promoted, {@code from} leaves
     * ({@code from} 0: a group short of replicas gains one and none leaves).
     */
    record Start(int group, int from, int to) implements Move {
        @Override
        public String toString() {
            return from == 0 ? "add g" + group + " on n" + to : "move g" + group + " n" + from + " -> n" + to;
        }
    }

    /** The started move completed: the new replica votes and the old one is gone. */
    record Finish(int group) implements Move {
        @Override
        public String toString() {
            return "finish g" + group;
        }
    }

    /** The started move was given up: the new replica is removed, the old one stays. */
    record Abort(int group) implements Move {
        @Override
        public String toString() {
            return "abort g" + group;
        }
    }

    /** {@code group} is led by node {@code to} from now on. */
    record TransferLeader(int group, int to) implements Move {
        @Override
        public String toString() {
            return "lead g" + group + " on n" + to;
        }
    }
}
