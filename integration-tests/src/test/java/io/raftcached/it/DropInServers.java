package io.raftcached.it;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.params.provider.Arguments;

/**
 * A raftcached node and, beside it, a Debian memcached: the pair the drop-in tests run the same
 * scenario against, so every expectation is shown to be memcached's own behaviour (the memcached
 * run is skipped, with a message, where memcached is not installed).
 */
final class DropInServers implements AutoCloseable {
    /** One server under test: which one, and its client port on 127.0.0.1. */
    record Target(String name, int port, long pid) {
        boolean isRaftcached() {
            return name.equals("raftcached");
        }

        @Override
        public String toString() {
            return name;
        }
    }

    final NodeProcess node;
    final MemcachedProcess memcached;   // null where /usr/bin/memcached is missing

    private DropInServers(NodeProcess node, MemcachedProcess memcached) {
        this.node = node;
        this.memcached = memcached;
    }

    /** Starts a one-member node named {@code name} with {@code nodeArguments}, and a memcached with {@code memcachedArguments}. */
    static DropInServers start(String name, List<String> nodeArguments, List<String> memcachedArguments)
            throws IOException, InterruptedException {
        NodeProcess node = NodeProcess.single(name, nodeArguments.toArray(String[]::new));
        MemcachedProcess memcached = null;
        try {
            node.start().awaitReady();
            if (MemcachedProcess.isInstalled()) {
                memcached = MemcachedProcess.start(memcachedArguments.toArray(String[]::new));
            }
            return new DropInServers(node, memcached);
        } catch (IOException | InterruptedException | RuntimeException | AssertionError e) {
            node.kill();
            if (memcached != null) {
                memcached.close();
            }
            throw e;
        }
    }

    static DropInServers start(String name) throws IOException, InterruptedException {
        return start(name, List.of(), List.of());
    }

    Target raftcached() {
        return new Target("raftcached", node.port, node.pid());
    }

    /** The memcached target; skips the calling test where memcached is not installed. */
    Target memcached() {
        Assumptions.assumeTrue(memcached != null, MemcachedProcess.BINARY + " is not installed: the memcached"
                + " half of this comparison is skipped");
        return new Target("memcached", memcached.port, memcached.pid());
    }

    /** Both targets for a parameterized test: memcached first, so a wrong expectation shows as such. */
    Stream<Arguments> both() {
        List<Arguments> targets = new ArrayList<>();
        targets.add(Arguments.of(memcached != null ? memcached() : new Target("memcached (not installed)", -1, -1)));
        targets.add(Arguments.of(raftcached()));
        return targets.stream();
    }

    /** Skips a parameterized run on a memcached that is not installed. */
    static void assumeRunnable(Target target) {
        Assumptions.assumeTrue(target.port() > 0, MemcachedProcess.BINARY + " is not installed: skipped");
    }

    @Override
    public void close() throws InterruptedException {
        try {
            node.kill();
        } finally {
            if (memcached != null) {
                memcached.close();
            }
        }
    }
}
