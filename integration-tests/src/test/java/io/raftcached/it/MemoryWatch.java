package io.raftcached.it;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Samples one node's memory every {@value #PERIOD_MILLIS} ms while a case runs: heap and direct
 * memory in use (its {@code raftcached_*} stats, over a connection opened beforehand, so a flood
 * of connections cannot lock the watch out) and its resident set (/proc). The kernel's resident
 * high-water mark (VmHWM) is reset when the watch starts, so at the end it is the case's own peak,
 * moments between two samples included.
 */
final class MemoryWatch implements AutoCloseable {
    static final long PERIOD_MILLIS = 50;
    /** A bound on the sampling loop: longer than any case runs. */
    private static final long WATCH_MAX_MILLIS = TimeUnit.MINUTES.toMillis(15);

    /**
     * What the watch saw, in bytes and kB as named; the pools' peak is the JVM's since it started
     * (raftcached_heap_peak_bytes is not reset), the others are the watch's own. An error says why
     * sampling stopped early (the node died, or closed the watch's connection).
     */
    record Peaks(long heapUsedBytes, long heapPoolsPeakBytes, long directUsedBytes, long residentKb, String error) {
        static long megabytes(long bytes) {
            return bytes / (1024 * 1024);
        }
    }

    private final NodeProcess node;
    private final TextClient client;
    private final Thread thread;
    private volatile boolean running = true;
    private long heapUsedMaxBytes;
    private long directUsedMaxBytes;
    private long residentMaxKb;
    private String error;

    private MemoryWatch(NodeProcess node) throws IOException {
        this.node = node;
        this.client = new TextClient(node.port);
        this.thread = new Thread(this::sample, "memory-watch-" + node.name);
        thread.setDaemon(true);
    }

    /** Resets the node's VmHWM and starts sampling. */
    static MemoryWatch start(NodeProcess node) throws IOException {
        resetResidentHighWaterMark(node.pid());
        MemoryWatch watch = new MemoryWatch(node);
        watch.thread.start();
        return watch;
    }

    private void sample() {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(WATCH_MAX_MILLIS);
        while (running && System.nanoTime() < deadline) {
            try {
                takeSample();
                Thread.sleep(PERIOD_MILLIS);
            } catch (IOException e) {
                synchronized (this) {
                    error = node.name + ": " + e.getMessage();
                }
                return;
            } catch (InterruptedException e) {
                return;
            }
        }
    }

    private void takeSample() throws IOException {
        Map<String, String> stats = client.stats("");
        long residentKb = statusKb(node.pid(), "VmRSS:");
        synchronized (this) {
            heapUsedMaxBytes = Math.max(heapUsedMaxBytes, Long.parseLong(stats.get("raftcached_heap_used_bytes")));
            directUsedMaxBytes = Math.max(directUsedMaxBytes, Long.parseLong(stats.get("raftcached_direct_used_bytes")));
            residentMaxKb = Math.max(residentMaxKb, residentKb);
        }
    }

    /** Stops sampling and returns the peaks, with one last sample and the kernel's high-water mark. */
    Peaks stop() throws InterruptedException {
        running = false;
        thread.join(TimeUnit.SECONDS.toMillis(10));
        long poolsPeakBytes = -1;
        try {
            if (error == null) {
                takeSample();
                poolsPeakBytes = Long.parseLong(client.stats("").get("raftcached_heap_peak_bytes"));
            }
            residentMaxKb = Math.max(residentMaxKb, statusKb(node.pid(), "VmHWM:"));
        } catch (IOException e) {
            error = error != null ? error : node.name + ": " + e.getMessage();
        }
        synchronized (this) {
            return new Peaks(heapUsedMaxBytes, poolsPeakBytes, directUsedMaxBytes, residentMaxKb, error);
        }
    }

    @Override
    public void close() throws IOException, InterruptedException {
        running = false;
        thread.join(TimeUnit.SECONDS.toMillis(10));
        client.close();
    }

    /** A "VmXXX:" line of /proc/pid/status, in kB. */
    static long statusKb(long pid, String field) throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc", Long.toString(pid), "status"))) {
            if (line.startsWith(field)) {
                return Long.parseLong(line.replaceAll("[^0-9]", ""));
            }
        }
        throw new IOException("no " + field + " for pid " + pid);
    }

    /** Writing 5 to clear_refs resets VmHWM to the current resident set (Linux 4.0 and later). */
    private static void resetResidentHighWaterMark(long pid) throws IOException {
        Files.writeString(Path.of("/proc", Long.toString(pid), "clear_refs"), "5");
    }
}
