package io.raftcached.node.bench;

import picocli.CommandLine;

/**
 * Runs {@link BenchCommand} on its own ({@code java -cp raftcached.jar io.raftcached.node.bench.BenchMain ...}),
 * so scripts can drive the load generator without the server's main class.
 */
public final class BenchMain {
    private BenchMain() {
    }

    public static void main(String[] args) {
        System.exit(new CommandLine(new BenchCommand()).execute(args));
    }
}
