package io.raftcached.it;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * Pipelined memcached text traffic to one server for the memory-parity tests: a batch of sets or
 * gets is written in one go and its replies read after, so one thread drives thousands of
 * operations a second and the client is not what limits a server. Sets go on one connection, gets
 * round-robin over a few others (so a server sees several readers, and no read waits behind this
 * client's own writes). Every reply is checked; values are skipped, not kept.
 */
final class CacheTraffic implements AutoCloseable {
    /** A batch waits behind a server's fsyncs and evictions; far longer than any healthy batch takes. */
    private static final int READ_TIMEOUT_MILLIS = 30_000;
    /** Keys per pipelined window when counting what a server holds. */
    private static final int COUNT_WINDOW = 500;

    final String server;
    final int port;
    private final TextClient writer;
    private final List<TextClient> readers = new ArrayList<>();
    private int nextReader;
    /** Sets answered with anything but STORED (e.g. SERVER_ERROR out of memory), and the last such reply. */
    private long refusedSets;
    private String lastRefusal = "";

    CacheTraffic(String server, int port, int readerConnections) throws IOException {
        this.server = server;
        this.port = port;
        this.writer = open(port);
        try {
            for (int i = 0; i < readerConnections; i++) {
                readers.add(open(port));
            }
        } catch (IOException e) {
            close();
            throw e;
        }
    }

    private static TextClient open(int port) throws IOException {
        return new TextClient("127.0.0.1", port, TextClient.TIMEOUT_MILLIS, READ_TIMEOUT_MILLIS);
    }

    /** Sets every key to {@code value} with {@code exptimeSeconds} (0: no expiry); returns how many were STORED. */
    int set(List<String> keys, byte[] value, int exptimeSeconds) throws IOException {
        ByteArrayOutputStream batch = new ByteArrayOutputStream(keys.size() * (value.length + 64));
        for (String key : keys) {
            batch.write(ascii("set " + key + " 0 " + exptimeSeconds + " " + value.length + "\r\n"));
            batch.write(value);
            batch.write(ascii("\r\n"));
        }
        writer.send(batch.toByteArray());
        int stored = 0;
        for (String key : keys) {
            String reply = writer.line();
            if (reply.equals("STORED")) {
                stored++;
            } else if (reply.startsWith("SERVER_ERROR")) {
                refusedSets++;
                lastRefusal = "set " + key + ": " + reply;
            } else {
                throw new IOException(server + ": unexpected reply to set " + key + ": " + reply);
            }
        }
        return stored;
    }

    /** One pipelined {@code get} per key, on the next reader connection; returns how many hit. */
    int get(List<String> keys) throws IOException {
        TextClient reader = readers.get(nextReader);
        nextReader = (nextReader + 1) % readers.size();
        return get(reader, keys);
    }

    /** How many of {@code keys} the server holds now (it reads them: call it once the scenario is over). */
    int countPresent(List<String> keys) throws IOException {
        int present = 0;
        for (int from = 0; from < keys.size(); from += COUNT_WINDOW) {
            present += get(writer, keys.subList(from, Math.min(keys.size(), from + COUNT_WINDOW)));
        }
        return present;
    }

    private int get(TextClient client, List<String> keys) throws IOException {
        StringBuilder batch = new StringBuilder(keys.size() * 24);
        for (String key : keys) {
            batch.append("get ").append(key).append("\r\n");
        }
        client.send(batch.toString());
        int hits = 0;
        for (String key : keys) {
            String line = client.line();
            if (line.startsWith("VALUE " + key + " ")) {
                String[] fields = line.split(" ");
                client.bytes(Integer.parseInt(fields[3]) + 2);
                line = client.line();
                hits++;
            }
            if (!line.equals("END")) {
                throw new IOException(server + ": unexpected reply to get " + key + ": " + line);
            }
        }
        return hits;
    }

    long refusedSets() {
        return refusedSets;
    }

    /** The last refused set and its reply, for a failure message; empty if none. */
    String lastRefusal() {
        return lastRefusal;
    }

    /** {@code stats <args>} of this server. */
    java.util.Map<String, String> stats(String args) throws IOException {
        return MemcachedProcess.statsOf(port, args);
    }

    long stat(String name) throws IOException {
        String value = stats("").get(name);
        if (value == null) {
            throw new IOException(server + " has no STAT " + name);
        }
        return Long.parseLong(value);
    }

    /** The sum of {@code stats items} values named {@code items:<class>:<field>} over every slab class. */
    long itemsStatSum(String field) throws IOException {
        long sum = 0;
        for (var stat : stats("items").entrySet()) {
            if (stat.getKey().endsWith(":" + field)) {
                sum += Long.parseLong(stat.getValue());
            }
        }
        return sum;
    }

    /** Keys {@code <prefix><n>} for n in [from, to). */
    static List<String> keys(String prefix, int from, int to) {
        List<String> keys = new ArrayList<>(Math.max(0, to - from));
        for (int n = from; n < to; n++) {
            keys.add(prefix + n);
        }
        return keys;
    }

    /** A value of {@code sizeBytes} printable bytes. */
    static byte[] value(int sizeBytes, char fill) {
        byte[] value = new byte[sizeBytes];
        java.util.Arrays.fill(value, (byte) fill);
        return value;
    }

    /** What one step of a paced scenario does; {@code step} counts from 0. */
    interface Step {
        void run(int step) throws IOException;
    }

    /**
     * Runs steps 0..steps-1, step i due at start + i × tickMillis. A server that falls behind gets
     * the next step at once, so every server sees the same sequence of operations, only later.
     * Returns the milliseconds the steps took.
     */
    static long paced(int steps, long tickMillis, Step step) throws IOException, InterruptedException {
        long startNanos = System.nanoTime();
        for (int i = 0; i < steps; i++) {
            long dueNanos = startNanos + i * tickMillis * 1_000_000L;
            long aheadNanos = dueNanos - System.nanoTime();
            if (aheadNanos > 0) {
                Thread.sleep(aheadNanos / 1_000_000L, (int) (aheadNanos % 1_000_000L));
            }
            step.run(i);
        }
        return (System.nanoTime() - startNanos) / 1_000_000L;
    }

    private static byte[] ascii(String text) {
        return text.getBytes(StandardCharsets.US_ASCII);
    }

    @Override
    public void close() throws IOException {
        IOException first = null;
        List<TextClient> all = new ArrayList<>(readers);
        all.add(writer);
        for (TextClient client : all) {
            try {
                client.close();
            } catch (IOException e) {
                first = first == null ? e : first;
            }
        }
        if (first != null) {
            throw first;
        }
    }
}
