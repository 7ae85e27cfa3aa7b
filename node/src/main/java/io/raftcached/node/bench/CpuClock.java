package io.raftcached.node.bench;

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

    /** Fields 14 (utime) and 15 (stime) of proc(5) stat, counted after the parenthesised command name. */
    static long statCpuTicks(String stat) {
        int close = stat.lastIndexOf(')');
        String[] fields = stat.substring(close + 2).trim().split(" ");
        // fields[0] is field 3 (state), so field n is fields[n - 3].
        return Long.parseLong(fields[14 - 3]) + Long.parseLong(fields[15 - 3]);
    }
}
