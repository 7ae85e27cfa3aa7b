package io.raftcached.bench;

import java.io.IOException;
import java.nio.channels.Selector;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Runs one {@link LoadProfile}: connects every connection (and does its TLS handshake, with the
 * connect timeout, so setup is neither measured nor racing the load), starts one {@link LoadWorker} thread per
 * {@code --threads}, samples CPU clocks at the edges of the measured window, and merges results.
 * The coordinating thread only sleeps, so it does not steal CPU from the workers.
 */
final class LoadRun {
    /** Slack past the deadline for workers to notice it (they select for at most 50 ms). */
    private static final long STOP_GRACE_MILLIS = 2_000;

    private LoadRun() {
    }

    static RunResult execute(LoadProfile profile, List<Long> serverPids, int clockTicksPerSecond)
            throws IOException, InterruptedException {
        List<ServerAddress> servers = profile.servers();
        List<Wire> wires = new ArrayList<>(profile.connections());
        List<LoadWorker> workers = new ArrayList<>(profile.threads());
        AtomicBoolean abort = new AtomicBoolean();
        CountDownLatch finished = new CountDownLatch(profile.threads());
        try {
            Connector connector = new Connector(profile);
            for (int i = 0; i < profile.connections(); i++) {
                wires.add(connector.open(servers.get(i % servers.size())));
            }
            long startNanos = System.nanoTime();
            long measureStartNanos = startNanos + profile.warmupNanos();
            long measureEndNanos = measureStartNanos + profile.durationNanos();
            // The window on the wall clock too, so scripts can line up server-side logs (GC, syscall counts).
            java.time.Instant wallNow = java.time.Instant.now();
            long windowStartEpochMicros = wallNow.getEpochSecond() * 1_000_000 + wallNow.getNano() / 1000
                    + (measureStartNanos - System.nanoTime()) / 1000;
            for (int t = 0; t < profile.threads(); t++) {
                workers.add(new LoadWorker(t, profile, Selector.open(), measureStartNanos, measureEndNanos,
                        abort, finished));
            }
            for (int i = 0; i < wires.size(); i++) {
                LoadWorker worker = workers.get(i % workers.size());
                worker.add(new BenchConnection(i, servers.get(i % servers.size()), wires.get(i), connector, worker,
                        profile.pipeline(), worker.requestBytesMax(), profile.protocol().reader(),
                        profile.reconnectInterval()));
            }
            List<Thread> threads = new ArrayList<>();
            for (LoadWorker worker : workers) {
                Thread thread = new Thread(worker, "bench-worker-" + worker.index);
                // Daemon: a worker wedged in a syscall must not keep the JVM alive after we report it.
                thread.setDaemon(true);
                threads.add(thread);
            }
            for (Thread thread : threads) {
                thread.start();
            }

            finished.await(Math.max(0, measureStartNanos - System.nanoTime()), TimeUnit.NANOSECONDS);
            long[] machineAtStart = CpuClock.machineCpuNanos(clockTicksPerSecond);
            long processCpuAtStart = CpuClock.processCpuNanos();
            long serverCpuAtStart = serverPids.isEmpty() ? -1 : CpuClock.processesCpuNanos(serverPids, clockTicksPerSecond);
            ThreadWakeups.Sample wakeupsAtStart = serverPids.isEmpty() ? null : ThreadWakeups.sample(serverPids);
            finished.await(Math.max(0, measureEndNanos - System.nanoTime()), TimeUnit.NANOSECONDS);
            long[] machineAtEnd = CpuClock.machineCpuNanos(clockTicksPerSecond);
            long processCpuAtEnd = CpuClock.processCpuNanos();
            long serverCpuAtEnd = serverPids.isEmpty() ? -1 : CpuClock.processesCpuNanos(serverPids, clockTicksPerSecond);
            ThreadWakeups.Sample wakeupsAtEnd = serverPids.isEmpty() ? null : ThreadWakeups.sample(serverPids);

            if (!finished.await(profile.readTimeoutMillis() + STOP_GRACE_MILLIS, TimeUnit.MILLISECONDS)) {
                abort.set(true);
                throw new IOException("bench worker threads did not stop within "
                        + (profile.readTimeoutMillis() + STOP_GRACE_MILLIS) + " ms of the deadline");
            }
            for (LoadWorker worker : workers) {
                if (worker.failure != null) {
                    Throwable f = worker.failure;
                    throw f instanceof IOException io ? io : new IOException("bench worker failed: " + f, f);
                }
            }

            WorkerStats stats = new WorkerStats();
            long issuedMeasured = 0;
            long lastReplyNanos = measureStartNanos;
            double[] busy = new double[workers.size()];
            for (LoadWorker worker : workers) {
                stats.add(worker.stats);
                issuedMeasured += worker.issuedMeasured();
                lastReplyNanos = Math.max(lastReplyNanos, worker.lastCountedReplyNanos);
                long threadCpu = worker.threadCpuNanosAtEnd - worker.threadCpuNanosAtMeasureStart;
                long threadWall = worker.endNanos - measureStartNanos;
                busy[worker.index] = worker.threadCpuNanosAtEnd < 0 || threadWall <= 0
                        ? Double.NaN : (double) threadCpu / threadWall;
            }
            assert !profile.isRequestBounded() || issuedMeasured <= profile.requests() : "issued past --requests";
            assert stats.ops() <= issuedMeasured : "counted more replies than requests sent in the window";
            boolean complete = true;
            long windowEndNanos = measureEndNanos;
            if (profile.isRequestBounded()) {
                complete = issuedMeasured == profile.requests() && stats.ops() == profile.requests();
                if (complete) {
                    windowEndNanos = Math.min(measureEndNanos, lastReplyNanos);
                }
            }
            return new RunResult(profile, stats, windowEndNanos - measureStartNanos,
                    delta(processCpuAtStart, processCpuAtEnd), delta(serverCpuAtStart, serverCpuAtEnd),
                    machineAtStart == null || machineAtEnd == null ? -1 : machineAtEnd[0] - machineAtStart[0],
                    machineAtStart == null || machineAtEnd == null ? -1 : machineAtEnd[1] - machineAtStart[1],
                    busy, complete, issuedMeasured, windowStartEpochMicros,
                    wakeupsAtStart == null || wakeupsAtEnd == null ? null : ThreadWakeups.between(wakeupsAtStart, wakeupsAtEnd),
                    wakeupsAtStart == null || wakeupsAtEnd == null ? null : ThreadWakeups.byProcess(wakeupsAtStart, wakeupsAtEnd));
        } finally {
            abort.set(true);
            for (LoadWorker worker : workers) {
                worker.closeAll();
            }
            for (Wire wire : wires) {
                wire.close();
            }
        }
    }

    private static long delta(long start, long end) {
        return start < 0 || end < 0 ? -1 : end - start;
    }
}
