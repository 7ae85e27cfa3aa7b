package io.raftcached.it;

import io.raftcached.testing.Await;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicBoolean;
import net.rubyeye.xmemcached.MemcachedClient;
import net.rubyeye.xmemcached.XMemcachedClientBuilder;
import net.rubyeye.xmemcached.transcoders.StringTranscoder;

/**
 * A steady write load through a real memcached client (xmemcached): a few threads per target
 * node, each with a client of its own bound to that one node, writing unique keys and recording
 * every acknowledged write (key, value, when) and every failure (when, why). A write that failed
 * may or may not have been applied; only acknowledged ones must survive.
 */
final class WriteLoad implements AutoCloseable {
    static {
        // xmemcached reports every reconnect attempt to a killed node; that is expected here.
        setDefault("org.slf4j.simpleLogger.log.net.rubyeye.xmemcached", "error");
        setDefault("org.slf4j.simpleLogger.log.com.google.code.yanf4j", "off");
        setDefault("org.slf4j.simpleLogger.log.remoting", "off");
    }

    /** A client operation longer than this counts as a failure (outcome unknown). */
    static final long CLIENT_TIMEOUT_MILLIS = 10_000;
    private static final long FAILURE_PAUSE_MILLIS = 50;

    record Ack(String key, String value, String node, long startNanos, long endNanos) {}

    record Failure(String node, long startNanos, long endNanos, String reason) {}

    private final String prefix;
    private final List<NodeProcess> targets;
    private final int threadsPerNode;
    private final int valueBytes;
    private final long pauseMillis;
    private final AtomicBoolean running = new AtomicBoolean(true);
    private final List<Thread> threads = new ArrayList<>();
    private final ConcurrentLinkedQueue<Ack> acks = new ConcurrentLinkedQueue<>();
    private final ConcurrentLinkedQueue<Failure> failures = new ConcurrentLinkedQueue<>();
    private final ConcurrentLinkedQueue<Throwable> crashes = new ConcurrentLinkedQueue<>();

    /**
     * @param pauseMillis pause between one thread's writes, so the load is steady rather than
     *     saturating two cores shared by all the nodes
     */
    WriteLoad(String prefix, List<NodeProcess> targets, int threadsPerNode, int valueBytes, long pauseMillis) {
        this.prefix = prefix;
        this.targets = List.copyOf(targets);
        this.threadsPerNode = threadsPerNode;
        this.valueBytes = valueBytes;
        this.pauseMillis = pauseMillis;
    }

    static void setDefault(String property, String value) {
        if (System.getProperty(property) == null) {
            System.setProperty(property, value);
        }
    }

    static MemcachedClient client(NodeProcess node, long opTimeoutMillis) throws java.io.IOException {
        XMemcachedClientBuilder builder = new XMemcachedClientBuilder(List.of(new InetSocketAddress("127.0.0.1", node.port)));
        builder.setOpTimeout(opTimeoutMillis);
        builder.setConnectTimeout(2_000);
        builder.setConnectionPoolSize(1);
        builder.setEnableHealSession(true);
        builder.setHealSessionInterval(500);
        builder.setTranscoder(new StringTranscoder());
        builder.setName("it-" + node.name);
        return builder.build();
    }

    WriteLoad start() {
        for (NodeProcess node : targets) {
            for (int t = 0; t < threadsPerNode; t++) {
                String keyPrefix = prefix + "-" + node.name + "-t" + t + "-";
                Thread thread = new Thread(() -> run(node, keyPrefix), "load-" + node.name + "-" + t);
                thread.setDaemon(true);
                threads.add(thread);
                thread.start();
            }
        }
        return this;
    }

    private void run(NodeProcess node, String keyPrefix) {
        MemcachedClient client = null;
        try {
            client = client(node, CLIENT_TIMEOUT_MILLIS);
            for (long seq = 0; running.get(); seq++) {
                String key = keyPrefix + seq;
                String value = value(key);
                long start = System.nanoTime();
                try {
                    if (client.set(key, 0, value)) {
                        acks.add(new Ack(key, value, node.name, start, System.nanoTime()));
                        if (pauseMillis > 0) {
                            Thread.sleep(pauseMillis);
                        }
                    } else {
                        failures.add(new Failure(node.name, start, System.nanoTime(), "set returned false"));
                    }
                } catch (InterruptedException e) {
                    return;
                } catch (Exception e) {
                    failures.add(new Failure(node.name, start, System.nanoTime(), e.getClass().getSimpleName() + ": " + e.getMessage()));
                    Thread.sleep(FAILURE_PAUSE_MILLIS);
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (Throwable t) {
            crashes.add(t);
        } finally {
            if (client != null) {
                try {
                    client.shutdown();
                } catch (Exception ignored) {
                    // the test is over for this client
                }
            }
        }
    }

    private String value(String key) {
        StringBuilder value = new StringBuilder(valueBytes + key.length());
        value.append(key).append('=');
        while (value.length() < valueBytes) {
            value.append((char) ('a' + (value.length() * 7 + key.length()) % 26));
        }
        return value.toString();
    }

    /** Stops every writer and waits for the writes in progress to end (bounded by the client timeout). */
    void stop() throws InterruptedException {
        running.set(false);
        for (Thread thread : threads) {
            thread.join(CLIENT_TIMEOUT_MILLIS + 5_000);
            if (thread.isAlive()) {
                thread.interrupt();
                thread.join(5_000);
            }
        }
        if (!crashes.isEmpty()) {
            throw new AssertionError("a load thread crashed", crashes.peek());
        }
    }

    List<Ack> acks() {
        return new ArrayList<>(acks);
    }

    List<Failure> failures() {
        return new ArrayList<>(failures);
    }

    int ackCount() {
        return acks.size();
    }

    /** Every acknowledged key with the value written. */
    Map<String, String> ackedValues() {
        Map<String, String> values = new LinkedHashMap<>();
        for (Ack ack : acks) {
            values.put(ack.key(), ack.value());
        }
        return values;
    }

    /**
     * Waits until at least {@code more} further writes are acknowledged; fails after the timeout,
     * saying {@code what} it waited for, with the failures so far and the targets' logs.
     */
    void awaitMoreAcks(String what, int more, long timeoutMillis) throws InterruptedException {
        int target = acks.size() + more;
        Await.until(what + " (" + more + " more acknowledged writes, " + target + " in all)", Duration.ofMillis(timeoutMillis),
                () -> acks.size() >= target,
                () -> "; " + failures.size() + " failed writes, the last: " + failures.stream().reduce((a, b) -> b).orElse(null)
                        + ClusterChecks.logs(targets));
    }

    @Override
    public void close() throws InterruptedException {
        stop();
    }
}
