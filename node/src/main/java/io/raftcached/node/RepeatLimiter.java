package io.raftcached.node;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.LongSupplier;
import java.util.logging.LogRecord;
import java.util.regex.Pattern;

/**
 * Keeps a message that repeats from flooding the log: the first of a kind is written, those within
 * the window after it are only counted, and the first one after the window is written with that
 * count ("... [and 149 more like it in 60 s]"). Messages are alike when one logger writes the same
 * text at the same level; in jraft's and bolt's messages counters do not count ("Fail to issue RPC
 * to 127.0.0.1:7003, consecutiveErrorTimes=11"), addresses do. raftcached's own lines are compared
 * whole: each is a state change, which differs from the last one (another term, another leader),
 * so it is always written. A bounded number of kinds is tracked, the least recently seen dropped first.
 */
final class RepeatLimiter {
    static final int KINDS_MAX = 1_024;

    private static final class Window {
        final long startNanos;
        long suppressed;

        Window(long startNanos) {
            this.startNanos = startNanos;
        }
    }

    /** A number standing alone (a count, a term, an index), not part of an address or a decimal. */
    private static final Pattern LONE_NUMBER = Pattern.compile("(?<![0-9.:])[0-9]+(?![0-9.:])");
    private static final String OWN_LOGGERS = "io.raftcached.";

    private final long windowNanos;
    private final long windowSeconds;
    private final LongSupplier nanoTime;
    private final Map<String, Window> windows = new LinkedHashMap<>(64, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<String, Window> eldest) {
            return size() > KINDS_MAX;
        }
    };

    RepeatLimiter(long windowMillis, LongSupplier nanoTime) {
        this.windowNanos = windowMillis * 1_000_000;
        this.windowSeconds = windowMillis / 1_000;
        this.nanoTime = nanoTime;
    }

    /** Whether to write {@code record}; when it ends a window with repeats, its message gains their count. */
    synchronized boolean admit(LogRecord record) {
        String message = record.getMessage() == null ? "" : record.getMessage();
        String logger = String.valueOf(record.getLoggerName());
        String text = logger.startsWith(OWN_LOGGERS) ? message : LONE_NUMBER.matcher(message).replaceAll("#");
        String kind = logger + '|' + record.getLevel().intValue() + '|' + text;
        long now = nanoTime.getAsLong();
        Window window = windows.get(kind);
        if (window != null && now - window.startNanos < windowNanos) {
            window.suppressed++;
            return false;
        }
        windows.put(kind, new Window(now));
        if (window != null && window.suppressed > 0) {
            record.setMessage(message + " [and " + window.suppressed + " more like it in " + windowSeconds + " s]");
        }
        return true;
    }
}
