package io.raftcached.it;

import java.util.List;

/**
 * {@code -Dit.logStore=rocksdb} runs every node the suite starts on that Raft log store, so the
 * whole fault suite can be pointed at a store other than the default by hand:
 * {@code mvn verify -Dit.logStore=rocksdb}.
 */
public final class LogStoreUnderTest {
    private LogStoreUnderTest() {
    }

    /** What to add to a server's arguments (one that names --data-dir and no store of its own). */
    public static List<String> arguments(List<String> serverArguments) {
        String logStore = System.getProperty("it.logStore");
        if (logStore == null || !serverArguments.contains("--data-dir") || serverArguments.contains("--log-store")) {
            return List.of();
        }
        return List.of("--log-store", logStore);
    }
}
