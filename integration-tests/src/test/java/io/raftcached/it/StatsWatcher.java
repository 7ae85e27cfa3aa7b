package io.raftcached.it;

import java.io.IOException;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Supplier;

/**
 * Polls {@code stats raft} of some nodes in the background and keeps every distinct view it saw,
 * so a test can assert on a state that may last only a moment (a learner before its promotion).
 */
final class StatsWatcher implements AutoCloseable {
    record Seen(String node, long nanos, Map<String, String> raft) {}

    private final Supplier<List<NodeProcess>> nodes;
    private final List<Seen> seen = new CopyOnWriteArrayList<>();
    private final Thread thread;
    private volatile boolean running = true;

    StatsWatcher(Supplier<List<NodeProcess>> nodes, long periodMillis) {
        this.nodes = nodes;
        this.thread = new Thread(() -> {
            while (running) {
                for (NodeProcess node : this.nodes.get()) {
                    if (!node.alive()) {
                        continue;
                    }
                    try {
                        Map<String, String> raft = node.stats("raft");
                        Seen last = lastOf(node.name);
                        if (last == null || !same(last.raft(), raft)) {
                            seen.add(new Seen(node.name, System.nanoTime(), raft));
                        }
                    } catch (IOException | RuntimeException notNow) {
                        // starting, stopped or stopping: try again next round
                    }
                }
                try {
                    Thread.sleep(periodMillis);
                } catch (InterruptedException e) {
                    return;
                }
            }
        }, "stats-watcher");
        thread.setDaemon(true);
        thread.start();
    }

    private static boolean same(Map<String, String> a, Map<String, String> b) {
        for (String key : List.of("raft_role", "raft_peer_id", "raft_members", "raft_learners", "raft_leader", "raft_ready",
                "raft_snapshots_installed")) {
            if (!String.valueOf(a.get(key)).equals(String.valueOf(b.get(key)))) {
                return false;
            }
        }
        return true;
    }

    private Seen lastOf(String node) {
        for (int i = seen.size() - 1; i >= 0; i--) {
            if (seen.get(i).node().equals(node)) {
                return seen.get(i);
            }
        }
        return null;
    }

    List<Seen> seen() {
        return List.copyOf(seen);
    }

    /** The distinct views seen, one line each, for a failure message. */
    String describe() {
        StringBuilder text = new StringBuilder();
        for (Seen view : seen) {
            text.append("\n  ").append(view.node()).append(": role=").append(view.raft().get("raft_role"))
                    .append(" peer=").append(view.raft().get("raft_peer_id")).append(" members=").append(view.raft().get("raft_members"))
                    .append(" learners=").append(view.raft().get("raft_learners")).append(" ready=").append(view.raft().get("raft_ready"))
                    .append(" installed=").append(view.raft().get("raft_snapshots_installed"));
        }
        return text.toString();
    }

    @Override
    public void close() throws InterruptedException {
        running = false;
        thread.interrupt();
        thread.join(5_000);
    }
}
