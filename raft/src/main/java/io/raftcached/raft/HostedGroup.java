package io.raftcached.raft;

import java.nio.file.Path;
import java.util.List;

/**
 * Which of a node's Raft groups one {@link ClusterNode} is (docs/scale-out.md): the first group is
 * a single-group cluster's, with its name, data directory and behaviour; group {@code N > 1} is
 * named after the first with {@code -g<N>} and keeps its data under {@code groups/g<N>/}.
 *
 * @param ordinal the group's position, 1..{@code count}
 * @param count how many groups the node runs
 * @param preferredLeader the node id that should lead the group while it is a voter, 0 for none
 * @param replicas the node ids of the group's members among {@code --peers}, empty for all of them
 */
record HostedGroup(int ordinal, int count, int preferredLeader, List<Integer> replicas) {
    /** A node of one group, as every node was before groups. */
    static final HostedGroup ONLY = new HostedGroup(1, 1, 0, List.of());
    /** Groups one node may run: each has its own log, threads and store. */
    static final int COUNT_MAX = 64;

    HostedGroup {
        if (count < 1 || count > COUNT_MAX || ordinal < 1 || ordinal > count || preferredLeader < 0) {
            throw new IllegalArgumentException("group " + ordinal + " of " + count + " preferring " + preferredLeader);
        }
        replicas = List.copyOf(replicas);
    }

    /** Appended to the first group's jraft group id to name this one. */
    String nameSuffix() {
        return ordinal == 1 ? "" : "-g" + ordinal;
    }

    /** Where this group keeps its state, given the node's {@code --data-dir}. */
    Path dataDirectory(Path nodeDataDirectory) {
        return ordinal == 1 ? nodeDataDirectory : nodeDataDirectory.resolve("groups").resolve("g" + ordinal);
    }

    boolean shared() {
        return count > 1;
    }
}
