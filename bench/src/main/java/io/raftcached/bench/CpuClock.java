package io.raftcached.bench;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.lang.management.OperatingSystemMXBean;
import java.lang.management.ThreadMXBean;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/** CPU time of this process, of the current thread, and of other local processes (Linux /proc). */
final class CpuClock {
    private static final ThreadMXBean THREADS = ManagementFactory.getThreadMXBean();

    private CpuClock() {
    }

    /** CPU time (user + system, all threads: workers, JIT, GC) of this JVM, in ns; -1 if unknown. */
    static long processCpuNanos() {
        OperatingSystemMXBean os = ManagementFactory.getOperatingSystemMXBean();
        if (os instanceof com.sun.management.OperatingSystemMXBean sun) {
            long nanos = sun.getProcessCpuTime();
            if (nanos >= 0) {
                return nanos;
            }
        }
        return ProcessHandle.current().info().totalCpuDuration().map(Duration::toNanos).orElse(-1L);
    }

    /** CPU time of the calling thread in ns; -1 if the JVM cannot measure it. */
    static long currentThreadCpuNanos() {
        return THREADS.isCurrentThreadCpuTimeSupported() ? THREADS.getCurrentThreadCpuTime() : -1;
    }

    /**
     * Sum of utime + stime of the given processes (all their threads) in ns, from
     * {@code /proc/<pid>/stat}; -1 if any cannot be read.
     */
    static long processesCpuNanos(List<Long> pids, int clockTicksPerSecond) {
        long ticks = 0;
        for (long pid : pids) {
            try {
                ticks += statCpuTicks(Files.readString(Path.of("/proc", Long.toString(pid), "stat")));
            } catch (IOException | RuntimeException e) {
                return -1;
            }
        }
        return ticks * (1_000_000_000L / clockTicksPerSecond);
    }

    /**
     * Whole-machine CPU time from the first line of {@code /proc/stat}, in ns:
     * {@code [busy, softirq]}, where busy is everything but idle and iowait (softirq included). Null
     * if unavailable. Loopback traffic is processed largely in softirq; the share is reported because
     * it is CPU the network costs, usually charged to whichever of our processes it interrupted.
     */
    static long[] machineCpuNanos(int clockTicksPerSecond) {
        try {
            String first = Files.readAllLines(Path.of("/proc/stat")).get(0);
            return machineCpuTicks(first, 1_000_000_000L / clockTicksPerSecond);
        } catch (IOException | RuntimeException e) {
            return null;
        }
    }

    /** {@code cpu user nice system idle iowait irq softirq steal ...} to {@code [busy, softirq]} times {@code scale}. */
    static long[] machineCpuTicks(String cpuLine, long scale) {
        String[] f = cpuLine.trim().split("\\s+");
        if (!f[0].equals("cpu") || f.length < 9) {
            throw new IllegalArgumentException("not a /proc/stat cpu line: " + cpuLine);
        }
        long busy = 0;
        for (int i = 1; i <= 8; i++) {
            if (i != 4 && i != 5) { // idle, iowait
                busy += Long.parseLong(f[i]);
            }
        }
        return new long[] {busy * scale, Long.parseLong(f[7]) * scale};
    }

    /** Fields 14 (utime) and 15 (stime) of proc(5) stat, counted after the parenthesised command name. */
    static long statCpuTicks(String stat) {
        int close = stat.lastIndexOf(')');
        String[] fields = stat.substring(close + 2).trim().split(" ");
        // fields[0] is field 3 (state), so field n is fields[n - 3].
        return Long.parseLong(fields[14 - 3]) + Long.parseLong(fields[15 - 3]);
    }
}
