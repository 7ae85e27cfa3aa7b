package io.raftcached.it;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * A well-behaved client that shares a node with an attacker: on a connection of its own it gets
 * small keys in a loop, one at a time with a millisecond between them, checks every value and
 * times every get. {@link #cut()} hands over the latencies recorded so far and starts a new series,
 * so one series covers an attack and the next a baseline without it. A get still waiting at a cut
 * counts with the time it has waited so far: a victim stalled for the whole attack shows as such,
 * not as an empty series.
 */
final class VictimClient implements AutoCloseable {
    /** A get that takes longer than this ends the victim: the node stalled it. */
    private static final int READ_TIMEOUT_MILLIS = 60_000;
    /** A bound on the loop: longer than any case runs. */
    private static final long RUN_MAX_MILLIS = TimeUnit.MINUTES.toMillis(15);
    private static final long PAUSE_MILLIS = 1;

    /** Latencies of one series, in microseconds. */
    record Series(long[] latenciesMicros) {
        int count() {
            return latenciesMicros.length;
        }

        /** The 99th percentile in milliseconds (nearest rank), or -1 for an empty series. */
        double p99Millis() {
            if (latenciesMicros.length == 0) {
                return -1;
            }
            long[] sorted = latenciesMicros.clone();
            Arrays.sort(sorted);
            int rank = (int) Math.ceil(0.99 * sorted.length) - 1;
            return sorted[rank] / 1000.0;
        }

        double maxMillis() {
            return Arrays.stream(latenciesMicros).max().orElse(-1) / 1000.0;
        }
    }

    private final TextClient client;
    private final List<Map.Entry<String, String>> keys;
    private final Thread thread;
    private volatile boolean running = true;
    private final List<Long> current = new ArrayList<>();
    /** When the get in flight was sent (0: none), and whether a cut already counted it. */
    private long inFlightSinceNanos;
    private boolean inFlightCounted;
    private volatile String failure;
    private long gets;

    private VictimClient(NodeProcess node, Map<String, String> values) throws IOException {
        this.client = new TextClient("127.0.0.1", node.port, TextClient.TIMEOUT_MILLIS, READ_TIMEOUT_MILLIS);
        this.keys = List.copyOf(values.entrySet());
        this.thread = new Thread(this::run, "victim-" + node.name);
        thread.setDaemon(true);
    }

    /** Connects to {@code node} and starts getting {@code values}' keys, which must be stored there. */
    static VictimClient start(NodeProcess node, Map<String, String> values) throws IOException {
        VictimClient victim = new VictimClient(node, values);
        victim.thread.start();
        return victim;
    }

    private void run() {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(RUN_MAX_MILLIS);
        for (int i = 0; running && System.nanoTime() < deadline; i++) {
            Map.Entry<String, String> entry = keys.get(i % keys.size());
            try {
                long sent = System.nanoTime();
                synchronized (this) {
                    inFlightSinceNanos = sent;
                    inFlightCounted = false;
                }
                String value = get(entry.getKey());
                long micros = TimeUnit.NANOSECONDS.toMicros(System.nanoTime() - sent);
                synchronized (this) {
                    if (!inFlightCounted) {
                        current.add(micros);
                    }
                    inFlightSinceNanos = 0;
                    gets++;
                }
                if (!entry.getValue().equals(value)) {
                    failure = "get " + entry.getKey() + " returned " + (value == null ? "a miss" : "a wrong value");
                    return;
                }
                Thread.sleep(PAUSE_MILLIS);
            } catch (IOException e) {
                if (running) {
                    failure = "get " + entry.getKey() + " failed: " + e.getMessage();
                }
                return;
            } catch (InterruptedException e) {
                return;
            }
        }
    }

    private String get(String key) throws IOException {
        String header = client.call("get " + key + "\r\n");
        if (header.equals("END")) {
            return null;
        }
        String[] parts = header.split(" ");
        if (parts.length != 4 || !parts[0].equals("VALUE") || !parts[1].equals(key)) {
            throw new IOException("unexpected reply to get " + key + ": " + header);
        }
        byte[] data = client.bytes(Integer.parseInt(parts[3]) + 2);
        String end = client.line();
        if (!end.equals("END")) {
            throw new IOException("unexpected line after the value of " + key + ": " + end);
        }
        return new String(data, 0, data.length - 2, StandardCharsets.ISO_8859_1);
    }

    /** The latencies recorded since the last cut (a get in flight with its time so far); starts a new series. */
    synchronized Series cut() {
        List<Long> taken = new ArrayList<>(current);
        if (inFlightSinceNanos != 0 && !inFlightCounted) {
            taken.add(TimeUnit.NANOSECONDS.toMicros(System.nanoTime() - inFlightSinceNanos));
            inFlightCounted = true;
        }
        current.clear();
        return new Series(taken.stream().mapToLong(Long::longValue).toArray());
    }

    /** Why the victim stopped early (a wrong value, an error, a get stalled past its timeout), or null. */
    String failure() {
        return failure;
    }

    synchronized long gets() {
        return gets;
    }

    @Override
    public void close() throws IOException, InterruptedException {
        running = false;
        client.close();   // ends a get in flight at once
        thread.join(TimeUnit.SECONDS.toMillis(10));
    }
}
