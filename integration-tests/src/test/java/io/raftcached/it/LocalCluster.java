package io.raftcached.it;

import io.raftcached.testing.Await;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.function.IntFunction;
import java.util.stream.Collectors;

/**
 * A cluster of real node processes on 127.0.0.1: fresh ports and data directories, every node
 * knowing all the others through --peers. Nodes are addressed 1..n.
 */
final class LocalCluster implements AutoCloseable {
    private static final Duration LEADER_TIMEOUT = Duration.ofSeconds(30);
    private static final Duration CONVERGENCE_TIMEOUT = Duration.ofSeconds(60);

    final String name;
    final List<NodeProcess> nodes = new ArrayList<>();
    final List<Path> dataDirectories = new ArrayList<>();
    final List<String> commonArguments;

    private LocalCluster(String name, int size, List<String> commonArguments) throws IOException {
        this(name, size, id -> List.of(), commonArguments);
    }

    private LocalCluster(String name, int size, IntFunction<List<String>> perNodeArguments, List<String> commonArguments)
            throws IOException {
        this(name, size, List.of(), perNodeArguments, commonArguments);
    }

    private LocalCluster(String name, int size, List<String> jvmOptions, IntFunction<List<String>> perNodeArguments,
            List<String> commonArguments) throws IOException {
        this.name = name;
        this.commonArguments = List.copyOf(commonArguments);
        List<Integer> clientPorts = new ArrayList<>();
        List<Integer> raftPorts = new ArrayList<>();
        for (int i = 0; i < size; i++) {
            clientPorts.add(Ports.free());
            raftPorts.add(Ports.free());
        }
        String peers = java.util.stream.IntStream.range(0, size)
                .mapToObj(i -> (i + 1) + "@127.0.0.1:" + raftPorts.get(i)).collect(Collectors.joining(","));
        for (int i = 0; i < size; i++) {
            int id = i + 1;
            Path data = NodeProcess.freshDirectory(name + "-n" + id);
            dataDirectories.add(data);
            List<String> arguments = new ArrayList<>(List.of("-p", clientPorts.get(i).toString(), "-l", "127.0.0.1",
                    "--node-id", Integer.toString(id), "--raft", "127.0.0.1:" + raftPorts.get(i), "--peers", peers,
                    "--data-dir", data.toString()));
            arguments.addAll(commonArguments);
            arguments.addAll(perNodeArguments.apply(id));
            nodes.add(new NodeProcess(name + "-n" + id, clientPorts.get(i), arguments).jvmOptions(jvmOptions));
        }
    }

    /** Starts {@code size} nodes together and waits until they serve reads. */
    static LocalCluster start(String name, int size, String... extraArguments) throws IOException, InterruptedException {
        return start(new LocalCluster(name, size, List.of(extraArguments)));
    }

    /** Like {@link #start(String, int, String...)}, with arguments of each node's own (by node id 1..n) added. */
    static LocalCluster start(String name, int size, IntFunction<List<String>> perNodeArguments, String... extraArguments)
            throws IOException, InterruptedException {
        return start(new LocalCluster(name, size, perNodeArguments, List.of(extraArguments)));
    }

    /**
     * Like {@link #start(String, int, IntFunction, String...)}, every node's JVM started with
     * {@code jvmOptions} after the defaults (see {@link NodeProcess#jvmOptions}).
     */
    static LocalCluster start(String name, int size, List<String> jvmOptions, IntFunction<List<String>> perNodeArguments,
            String... extraArguments) throws IOException, InterruptedException {
        return start(new LocalCluster(name, size, jvmOptions, perNodeArguments, List.of(extraArguments)));
    }

    private static LocalCluster start(LocalCluster cluster) throws IOException, InterruptedException {
        try {
            for (NodeProcess node : cluster.nodes) {
                node.startWithoutWaiting();
            }
            for (NodeProcess node : cluster.nodes) {
                node.awaitListening().awaitReady();
            }
            cluster.awaitLeader();
            return cluster;
        } catch (IOException | InterruptedException | RuntimeException | AssertionError e) {
            cluster.close();
            throw e;
        }
    }

    NodeProcess node(int id) {
        return nodes.get(id - 1);
    }

    /** The node that reports itself leader, waiting up to 30 s for one. */
    NodeProcess awaitLeader() throws InterruptedException {
        return Await.value("a node of " + name + " to report itself leader", LEADER_TIMEOUT, this::leaderOrNull, Objects::nonNull,
                () -> ClusterChecks.logs(this));
    }

    private NodeProcess leaderOrNull() {
        return leaderAmong(alive());
    }

    /** The first of {@code candidates} that reports itself leader now, or null. */
    static NodeProcess leaderAmong(List<NodeProcess> candidates) {
        for (NodeProcess node : candidates) {
            if ("leader".equals(ClusterChecks.raftStat(node, "raft_role"))) {
                return node;
            }
        }
        return null;
    }

    List<NodeProcess> alive() {
        return nodes.stream().filter(NodeProcess::alive).toList();
    }

    /** Waits until every live node has applied and committed the same index, then returns their digests. */
    List<String> convergedDigests() throws InterruptedException {
        List<Applied> views = Await.value("the live nodes of " + name + " to apply and commit one index", CONVERGENCE_TIMEOUT,
                this::appliedWithDigests, LocalCluster::converged, () -> ClusterChecks.logs(this));
        return views.stream().map(Applied::digest).toList();
    }

    /** What one node has applied and committed, and its digest (asked only once every node reports one applied index). */
    record Applied(String node, long applied, long committed, String digest) {}

    private List<Applied> appliedWithDigests() throws IOException {
        List<NodeProcess> live = alive();
        List<Applied> views = new ArrayList<>();
        for (NodeProcess node : live) {
            Map<String, String> raft = node.stats("raft");
            views.add(new Applied(node.name, Long.parseLong(raft.get("raft_applied_index")), Long.parseLong(raft.get("raft_commit_index")),
                    null));
        }
        long first = views.get(0).applied();
        if (!views.stream().allMatch(v -> v.applied() == first && v.committed() == first)) {
            return views;
        }
        List<Applied> withDigests = new ArrayList<>();
        for (int i = 0; i < live.size(); i++) {
            Applied view = views.get(i);
            withDigests.add(new Applied(view.node(), view.applied(), view.committed(), live.get(i).stats("digest").get("digest")));
        }
        return withDigests;
    }

    /** One applied and committed index everywhere, and every digest taken at it ("index:sha256"). */
    private static boolean converged(List<Applied> views) {
        long first = views.get(0).applied();
        return views.stream().allMatch(v -> v.applied() == first && v.committed() == first && v.digest() != null
                && v.digest().startsWith(first + ":"));
    }

    @Override
    public void close() throws InterruptedException {
        for (NodeProcess node : nodes) {
            node.kill();
        }
    }
}
