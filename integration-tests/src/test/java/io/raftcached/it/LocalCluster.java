package io.raftcached.it;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.IntFunction;
import java.util.stream.Collectors;

/**
 * A cluster of real node processes on 127.0.0.1: fresh ports and data directories, every node
 * knowing all the others through --peers. Nodes are addressed 1..n.
 */
final class LocalCluster implements AutoCloseable {
    final String name;
    final List<NodeProcess> nodes = new ArrayList<>();
    final List<Path> dataDirectories = new ArrayList<>();
    final List<String> commonArguments;

    private LocalCluster(String name, int size, List<String> commonArguments) throws IOException {
        this(name, size, id -> List.of(), commonArguments);
    }

    private LocalCluster(String name, int size, IntFunction<List<String>> perNodeArguments, List<String> commonArguments)
            throws IOException {
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
            nodes.add(new NodeProcess(name + "-n" + id, clientPorts.get(i), arguments));
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
        } catch (IOException | InterruptedException | RuntimeException e) {
            cluster.close();
            throw e;
        }
    }

    NodeProcess node(int id) {
        return nodes.get(id - 1);
    }

    /** The node that reports itself leader, waiting up to 30 s for one. */
    NodeProcess awaitLeader() throws IOException, InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (System.nanoTime() < deadline) {
            for (NodeProcess node : nodes) {
                if (node.alive()) {
                    try {
                        if ("leader".equals(node.stats("raft").get("raft_role"))) {
                            return node;
                        }
                    } catch (IOException unreachable) {
                        // starting or stopping: ask the others
                    }
                }
            }
            Thread.sleep(50);
        }
        throw new IOException("no leader within 30 s");
    }

    List<NodeProcess> alive() {
        return nodes.stream().filter(NodeProcess::alive).toList();
    }

    /** Waits until every live node has applied the same index, then returns their digests. */
    List<String> convergedDigests() throws IOException, InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (System.nanoTime() < deadline) {
            List<Map<String, String>> views = new ArrayList<>();
            for (NodeProcess node : alive()) {
                views.add(node.stats("raft"));
            }
            long first = Long.parseLong(views.get(0).get("raft_applied_index"));
            boolean same = views.stream().allMatch(v -> Long.parseLong(v.get("raft_applied_index")) == first
                    && Long.parseLong(v.get("raft_commit_index")) == first);
            if (same) {
                List<String> digests = new ArrayList<>();
                for (NodeProcess node : alive()) {
                    digests.add(node.stats("digest").get("digest"));
                }
                if (digests.stream().allMatch(d -> d.startsWith(first + ":"))) {
                    return digests;
                }
            }
            Thread.sleep(200);
        }
        throw new IOException("nodes did not converge on one applied index within 60 s");
    }

    @Override
    public void close() throws InterruptedException {
        for (NodeProcess node : nodes) {
            node.kill();
        }
    }
}
