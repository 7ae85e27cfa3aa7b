package io.raftcached.it.jepsen;

import io.raftcached.it.GroupStats;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.function.IntFunction;
import java.util.stream.Collectors;

/**
 * The nodes of one fault run: on loopback, or each in its own namespace of a {@link NetnsLab}.
 * Keeps which nodes are members (membership changes add and remove some), finds the leader, runs
 * the admin CLI, and waits for the replicas to converge. Every wait is bounded.
 */
final class FaultRunCluster implements AutoCloseable {
    static final long START_TIMEOUT_MILLIS = 60_000;

    final String run;
    final NetnsLab lab;
    private final List<String> commonArguments;
    private final IntFunction<Long> clockOffsetById;
    /** Every node ever started in this run, by id (removed ones included, for their logs). */
    private final Map<Integer, FaultRunNode> nodes = new TreeMap<>();
    private final List<Integer> members = new CopyOnWriteArrayList<>();

    private FaultRunCluster(String run, NetnsLab lab, List<String> commonArguments, IntFunction<Long> clockOffsetById) {
        this.run = run;
        this.lab = lab;
        this.commonArguments = List.copyOf(commonArguments);
        this.clockOffsetById = clockOffsetById;
    }

    /**
     * Starts {@code size} nodes with {@code commonArguments}, waits until each serves reads and one
     * leads. {@code lab} null means loopback.
     */
    static FaultRunCluster start(String run, int size, NetnsLab lab, List<String> commonArguments, IntFunction<Long> clockOffsetById)
            throws IOException, InterruptedException {
        FaultRunCluster cluster = new FaultRunCluster(run, lab, commonArguments, clockOffsetById);
        try {
            for (int id = 1; id <= size; id++) {
                cluster.nodes.put(id, FaultRunNode.create(run, id, lab != null, clockOffsetById.apply(id)));
                cluster.members.add(id);
            }
            String peers = cluster.peers(cluster.members);
            for (FaultRunNode node : cluster.nodes.values()) {
                node.baseArguments(cluster.argumentsWithPeers(peers));
                node.start();
            }
            for (FaultRunNode node : cluster.nodes.values()) {
                node.awaitListening(START_TIMEOUT_MILLIS);
                node.awaitReady(START_TIMEOUT_MILLIS);
            }
            cluster.awaitLeader(30_000);
            return cluster;
        } catch (IOException | InterruptedException | RuntimeException e) {
            cluster.close();
            throw e;
        }
    }

    private List<String> argumentsWithPeers(String peers) {
        List<String> arguments = new ArrayList<>(List.of("--peers", peers));
        arguments.addAll(commonArguments);
        return arguments;
    }

    private String peers(List<Integer> ids) {
        return ids.stream().map(id -> id + "@" + nodes.get(id).raftEndpoint()).collect(Collectors.joining(","));
    }

    FaultRunNode node(int id) {
        return nodes.get(id);
    }

    /** Current members, in id order. */
    List<FaultRunNode> members() {
        return members.stream().sorted().map(nodes::get).toList();
    }

    /** Every node this run started, removed ones included. */
    List<FaultRunNode> allNodes() {
        return List.copyOf(nodes.values());
    }

    boolean inNamespaces() {
        return lab != null;
    }

    /** The member that says it leads now (highest term if two do), or null. One round, no waiting. */
    FaultRunNode leaderNow() {
        FaultRunNode best = null;
        long bestTerm = -1;
        for (FaultRunNode node : members()) {
            Map<String, String> raft = node.statsOrNull("raft");
            if (raft != null && "leader".equals(raft.get("raft_role"))) {
                long term = Long.parseLong(raft.getOrDefault("raft_term", "0"));
                if (term > bestTerm) {
                    best = node;
                    bestTerm = term;
                }
            }
        }
        return best;
    }

    /** Waits for a leader; null when none appeared within the time. */
    FaultRunNode awaitLeaderOrNull(long timeoutMillis) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMillis);
        do {
            FaultRunNode leader = leaderNow();
            if (leader != null) {
                return leader;
            }
            Thread.sleep(50);
        } while (System.nanoTime() < deadline);
        return null;
    }

    FaultRunNode awaitLeader(long timeoutMillis) throws IOException, InterruptedException {
        FaultRunNode leader = awaitLeaderOrNull(timeoutMillis);
        if (leader == null) {
            throw new IOException("no leader within " + timeoutMillis + " ms" + logTails(20));
        }
        return leader;
    }

    // --- membership -----------------------------------------------------------------------------

    /**
     * Grows the cluster by one node as the README's runbook says: a node with an empty data
     * directory and --peers naming the members and itself joins as a learner and is promoted once
     * caught up. Waits until the leader lists it as a voter.
     */
    FaultRunNode grow(long timeoutMillis) throws IOException, InterruptedException {
        int id = nodes.keySet().stream().mapToInt(Integer::intValue).max().orElse(0) + 1;
        if (lab != null && id > lab.slots()) {
            throw new IllegalStateException("no namespace slot left for node " + id + " (lab has " + lab.slots() + ")");
        }
        FaultRunNode node = FaultRunNode.create(run, id, lab != null, clockOffsetById.apply(id));
        nodes.put(id, node);
        List<Integer> withNew = new ArrayList<>(members);
        withNew.add(id);
        node.baseArguments(argumentsWithPeers(peers(withNew)));
        node.start();
        members.add(id);
        node.awaitListening(START_TIMEOUT_MILLIS);
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMillis);
        while (System.nanoTime() < deadline) {
            FaultRunNode leader = leaderNow();
            if (leader != null) {
                Map<String, String> raft = leader.statsOrNull("raft");
                if (raft != null && endpoints(raft.get("raft_members")).contains(node.raftEndpoint())) {
                    node.awaitReady(Math.max(1_000, TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime())));
                    return node;
                }
            }
            Thread.sleep(100);
        }
        throw new IOException(node.name + " was not promoted to voter within " + timeoutMillis + " ms; log:\n" + node.tail(30));
    }

    /** Removes a member with {@code raftcached cluster remove} through another member, then stops it. */
    NetnsLab.Sh.Result remove(FaultRunNode node) throws IOException, InterruptedException {
        FaultRunNode via = members().stream().filter(n -> n != node && n.alive() && !n.paused()).findFirst()
                .orElseThrow(() -> new IllegalStateException("no other live member to ask"));
        NetnsLab.Sh.Result result = cli("remove", node.raftEndpoint(), "--node", via.raftEndpoint(), "--timeout-ms", "10000");
        if (result.exitCode() != 0) {
            throw new IOException("cluster remove " + node.raftEndpoint() + " failed: " + result.output());
        }
        members.remove(Integer.valueOf(node.id));
        node.stop();
        return result;
    }

    /** {@code raftcached cluster <arguments>} in its own small JVM, in the root namespace (it reaches every node). */
    NetnsLab.Sh.Result cli(String... arguments) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xms16m", "-Xmx128m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-XX:ActiveProcessorCount=1",
                "--add-opens", "java.base/java.lang=ALL-UNNAMED", "-Dcom.google.protobuf.use_unsafe_pre22_gencode=true",
                "-jar", FaultRunNode.privateJar().toString(), "cluster"));
        command.addAll(List.of(arguments));
        return NetnsLab.Sh.run(command, 60_000);
    }

    /** Raft endpoints (host:port) named in a stats list such as raft_members ("host:port[:incarnation],..."). */
    static List<String> endpoints(String list) {
        List<String> endpoints = new ArrayList<>();
        if (list == null || list.equals("-") || list.isBlank()) {
            return endpoints;
        }
        for (String peer : list.split(",")) {
            String[] parts = peer.strip().split(":");
            if (parts.length >= 2) {
                endpoints.add(parts[0] + ":" + parts[1]);
            }
        }
        return endpoints;
    }

    // --- convergence ----------------------------------------------------------------------------

    /**
     * Waits until every member is running and, in each Raft group it holds, has applied and
     * committed the same index as the group's other replicas, then returns each member's
     * {@code stats digest} ("index:sha256") by name, or with several groups by
     * {@code g<N>@<name>} for each group the member holds (compared within each group). Null
     * values never; a timeout throws with the last views.
     */
    Map<String, String> convergedDigests(long timeoutMillis) throws IOException, InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMillis);
        Map<String, String> lastViews = new LinkedHashMap<>();
        while (System.nanoTime() < deadline) {
            lastViews.clear();
            List<Map<String, String>> views = new ArrayList<>();
            for (FaultRunNode node : members()) {
                Map<String, String> raft = node.statsOrNull("raft");
                lastViews.put(node.name, raft == null ? "unreachable" : "applied " + raft.get("raft_applied_index") + " committed "
                        + raft.get("raft_commit_index") + " role " + raft.get("raft_role") + " ready " + raft.get("raft_ready")
                        + (GroupStats.count(raft) > 1 ? " groups " + GroupStats.count(raft) : ""));
                views.add(raft);
            }
            Map<String, String> digests = views.contains(null) ? null : digestsIfConverged(views);
            if (digests != null) {
                return digests;
            }
            Thread.sleep(200);
        }
        throw new IOException("members did not converge on one applied index within " + timeoutMillis + " ms: " + lastViews);
    }

    /** The members' digests if every group's replicas applied one committed index and digest at it; else null. */
    private Map<String, String> digestsIfConverged(List<Map<String, String>> views) {
        int groups = GroupStats.count(views.get(0));
        long[] indexes = new long[groups + 1];
        for (int group = 1; group <= groups; group++) {
            indexes[group] = -1;
            for (Map<String, String> raft : views) {
                if (GroupStats.count(raft) != groups) {
                    return null;
                }
                if (!GroupStats.holds(raft, group)) {
                    continue;
                }
                long applied = GroupStats.applied(raft, group);
                indexes[group] = indexes[group] < 0 ? applied : indexes[group];
                if (applied != indexes[group] || GroupStats.committed(raft, group) != indexes[group] || !GroupStats.ready(raft, group)) {
                    return null;
                }
            }
        }
        Map<String, String> digests = new LinkedHashMap<>();
        List<FaultRunNode> members = members();
        for (int i = 0; i < members.size(); i++) {
            FaultRunNode node = members.get(i);
            Map<String, String> digest = node.statsOrNull("digest");
            if (digest == null) {
                return null;
            }
            for (int group = 1; group <= groups; group++) {
                if (!GroupStats.holds(views.get(i), group)) {
                    continue;
                }
                String one = GroupStats.digest(digest, group);
                if (one == null || !one.startsWith(indexes[group] + ":")) {
                    return null;
                }
                digests.put(groups == 1 ? node.name : "g" + group + "@" + node.name, one);
            }
        }
        return digests;
    }

    String logTails(int lines) {
        StringBuilder text = new StringBuilder();
        for (FaultRunNode node : nodes.values()) {
            text.append("\n----- ").append(node.name).append(node.alive() ? " (pid " + node.pid() + ")" : " (not running)")
                    .append(" -----\n").append(node.tail(lines));
        }
        return text.toString();
    }

    /** Appends a line to every node's log, so a log reader sees where the test stood. */
    void markLogs(String text) {
        for (FaultRunNode node : nodes.values()) {
            try {
                Files.writeString(node.log, "=== test: " + text + "\n", StandardCharsets.UTF_8, java.nio.file.StandardOpenOption.APPEND,
                        java.nio.file.StandardOpenOption.CREATE);
            } catch (IOException ignored) {
                // a log marker is a convenience
            }
        }
    }

    /** Every running node's threads into its log, to explain a run that failed or timed out. */
    void dumpThreads() {
        boolean interrupted = Thread.interrupted();
        for (FaultRunNode node : nodes.values()) {
            try {
                node.dumpThreads();
            } catch (IOException | InterruptedException | RuntimeException e) {
                System.err.println("no thread dump of " + node.name + ": " + e);
            }
        }
        try {
            Thread.sleep(1_000);   // the JVM writes the dump from its own thread
        } catch (InterruptedException e) {
            interrupted = true;
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }

    /** Kills every node by pid and removes the namespaces; runs to the end even when the thread was interrupted (a test timeout). */
    @Override
    public void close() throws InterruptedException {
        boolean interrupted = Thread.interrupted();
        for (FaultRunNode node : nodes.values()) {
            try {
                node.kill();
            } catch (InterruptedException | RuntimeException e) {
                System.err.println("could not kill " + node.name + ": " + e);
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
        if (lab != null) {
            try {
                lab.close();
            } catch (IOException e) {
                System.err.println("netns clean-up failed: " + e);
            }
        }
    }
}
