package io.raftcached.bench;

import picocli.CommandLine;

/**
 * The main class of {@code raftcached-bench.jar}: runs {@link BenchCommand}
 * ({@code bin/raftcached-bench ...} or {@code java -jar bench/target/raftcached-bench.jar ...}).
 */
public final class BenchMain {
    private BenchMain() {
    }

    public static void main(String[] args) {
        System.exit(new CommandLine(new BenchCommand()).execute(args));
    }
}
