package io.raftcached.node.bench;

/**
 * What one load run measured, over its measured window only.
 *
 * @param windowNanos length of the measured window (duration, or up to the last reply of a request-bounded run)
 * @param processCpuNanos this JVM's CPU time over the window; -1 if unknown
 * @param serverCpuNanos CPU time of the {@code --server-pid} processes over the window; -1 if none or unknown
 * @param workerBusy per worker thread, its CPU time divided by the window: near 1.0 means that thread saturated
 * @param complete false if a request-bounded run hit its duration cap before every request was answered
 * @param issuedMeasured requests issued after warm-up
 */
record RunResult(
        LoadProfile profile,
        WorkerStats stats,
        long windowNanos,
        long processCpuNanos,
        long serverCpuNanos,
        double[] workerBusy,
        boolean complete,
        long issuedMeasured) {

    double windowSeconds() {
        return windowNanos / 1e9;
    }

    double opsPerSecond(long count) {
        return windowNanos <= 0 ? 0 : count / windowSeconds();
    }

    /** CPU µs per completed op, or NaN. */
    static double cpuMicrosPerOp(long cpuNanos, long ops) {
        return cpuNanos < 0 || ops == 0 ? Double.NaN : cpuNanos / 1000.0 / ops;
    }

    /** Cores' worth of CPU used over the window, or NaN. */
    double cores(long cpuNanos) {
        return cpuNanos < 0 || windowNanos <= 0 ? Double.NaN : (double) cpuNanos / windowNanos;
    }
}
