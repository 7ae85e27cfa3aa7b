package io.raftcached.bench;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.UnaryOperator;

/**
 * How often the server's threads went to sleep and were woken, from each thread's
 * {@code voluntary_ctxt_switches} in {@code /proc/<pid>/task/<tid>/status}. A voluntary switch is a
 * thread blocking (on a futex, a socket, epoll, a disk sync) and so, once woken, one wake-up: per
 * op, the number of times a request was handed from one sleeping thread to another, plus the
 * sleeps on I/O. Comparable across servers of any kind (memcached's worker threads count the same
 * way), and grouped by thread name so the hand-offs show where they are.
 */
final class ThreadWakeups {
    /** Thread groups listed per op at most, the busiest first. */
    static final int GROUPS_LISTED_MAX = 8;

    /** Voluntary switches so far per thread, keyed by pid/tid; the name kept for grouping. */
    record Sample(Map<String, Long> switchesByThread, Map<String, String> groupByThread) {
    }

    private ThreadWakeups() {
    }

    /** Reads every thread of {@code pids}; null if any process cannot be read. */
    static Sample sample(List<Long> pids) {
        Map<String, Long> switches = new HashMap<>();
        Map<String, String> groups = new HashMap<>();
        for (long pid : pids) {
            Path tasks = Path.of("/proc", Long.toString(pid), "task");
            try (DirectoryStream<Path> threads = Files.newDirectoryStream(tasks)) {
                for (Path thread : threads) {
                    String key = pid + "/" + thread.getFileName();
                    try {
                        switches.put(key, voluntarySwitches(Files.readString(thread.resolve("status"))));
                        groups.put(key, group(Files.readString(thread.resolve("comm")).strip()));
                    } catch (IOException | RuntimeException e) {
                        // The thread ended between listing and reading: it is counted in no sample.
                    }
                }
            } catch (IOException e) {
                return null;
            }
        }
        return new Sample(switches, groups);
    }

    /**
     * Wake-ups between two samples per thread group, in descending order. A thread that started
     * after {@code start} counts from zero; one that ended before {@code end} is lost (the server's
     * pools are long-lived, so this is a small undercount at most).
     */
    static Map<String, Long> between(Sample start, Sample end) {
        return sum(start, end, thread -> end.groupByThread().get(thread));
    }

    /** Wake-ups between two samples per process (its pid as text), in descending order. */
    static Map<String, Long> byProcess(Sample start, Sample end) {
        return sum(start, end, thread -> thread.substring(0, thread.indexOf('/')));
    }

    private static Map<String, Long> sum(Sample start, Sample end, UnaryOperator<String> keyOfThread) {
        Map<String, Long> byKey = new HashMap<>();
        end.switchesByThread().forEach((thread, switches) -> {
            long delta = switches - start.switchesByThread().getOrDefault(thread, 0L);
            byKey.merge(keyOfThread.apply(thread), Math.max(0, delta), Long::sum);
        });
        Map<String, Long> sorted = new LinkedHashMap<>();
        byKey.entrySet().stream()
                .sorted(Map.Entry.<String, Long>comparingByValue().reversed().thenComparing(Map.Entry.comparingByKey()))
                .forEach(e -> sorted.put(e.getKey(), e.getValue()));
        return sorted;
    }

    static long total(Map<String, Long> byGroup) {
        return byGroup.values().stream().mapToLong(Long::longValue).sum();
    }

    /** {@code voluntary_ctxt_switches:	N} from a proc(5) status file. */
    static long voluntarySwitches(String status) {
        for (String line : status.split("\n")) {
            if (line.startsWith("voluntary_ctxt_switches:")) {
                return Long.parseLong(line.substring(line.indexOf(':') + 1).strip());
            }
        }
        throw new IllegalArgumentException("no voluntary_ctxt_switches line in a status file");
    }

    /**
     * A thread name without its pool number, so a pool counts as one group: {@code
     * JRaft-FSMCaller-Disruptor-0} and {@code epollEventLoopGroup-2-1} become {@code
     * JRaft-FSMCaller-Disruptor} and {@code epollEventLoopGroup}. The kernel keeps 15 characters.
     */
    static String group(String comm) {
        String name = comm.replaceAll("([-_ #]?\\d+)+$", "");
        name = name.replaceAll("-\\d+(?=-|$)", "");
        return name.isEmpty() ? comm : name;
    }
}
