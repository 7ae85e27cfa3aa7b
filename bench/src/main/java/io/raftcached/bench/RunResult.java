package io.raftcached.bench;

/**
 * What one load run measured, over its measured window only.
 *
 * @param windowNanos length of the measured window (duration, or up to the last reply of a request-bounded run)
 * @param processCpuNanos this JVM's CPU time over the window; -1 if unknown
 * @param serverCpuNanos CPU time of the {@code --server-pid} processes over the window; -1 if none or unknown
 * @param machineBusyNanos CPU time of the whole machine (all CPUs, not idle) over the window; -1 if unknown
 * @param machineSoftirqNanos the part of machineBusyNanos spent in softirq (mostly loopback networking); -1 if unknown
 * @param workerBusy per worker thread, its CPU time divided by the window: near 1.0 means that thread saturated
 * @param complete false if a request-bounded run hit its duration cap before every request was answered
 * @param issuedMeasured requests issued after warm-up
 * @param windowStartEpochMicros when the measured window began, in µs since the epoch (wall clock)
 * @param serverWakeups the {@code --server-pid} processes' thread wake-ups over the window per thread
 *                      group, busiest first ({@link ThreadWakeups}); null if none or unknown
 * @param serverWakeupsByProcess the same per process (pid), busiest first; null if none or unknown
 */
record RunResult(
        LoadProfile profile,
        WorkerStats stats,
        long windowNanos,
        long processCpuNanos,
        long serverCpuNanos,
        long machineBusyNanos,
        long machineSoftirqNanos,
        double[] workerBusy,
        boolean complete,
        long issuedMeasured,
        long windowStartEpochMicros,
        java.util.Map<String, Long> serverWakeups,
        java.util.Map<String, Long> serverWakeupsByProcess) {

    /**
     * CPU time of everything that is neither this generator nor the {@code --server-pid} processes:
     * other processes disturbing the measurement (plus ksoftirqd, when the kernel defers network
     * work to it; softirq run in the context of our processes is already in their times). -1 if
     * unknown or if no server pid was given (then the server itself would count as "other").
     */
    long otherCpuNanos() {
        if (machineBusyNanos < 0 || processCpuNanos < 0 || serverCpuNanos < 0) {
            return -1;
        }
        // Tick-granular sources sampled microseconds apart: small negatives are rounding, not credit.
        return Math.max(0, machineBusyNanos - processCpuNanos - serverCpuNanos);
    }

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

    /** Wake-ups per completed op, or NaN. */
    static double perOp(long count, long ops) {
        return count < 0 || ops == 0 ? Double.NaN : (double) count / ops;
    }

    /** Cores' worth of CPU used over the window, or NaN. */
    double cores(long cpuNanos) {
        return cpuNanos < 0 || windowNanos <= 0 ? Double.NaN : (double) cpuNanos / windowNanos;
    }
}
