package io.raftcached.node;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.ConnectException;
import java.nio.channels.ClosedChannelException;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.concurrent.TimeoutException;
import java.util.logging.Formatter;
import java.util.logging.Level;
import java.util.logging.LogRecord;

/** The node's log line formats: text, or one JSON object per line. */
final class LogLines {
    private static final DateTimeFormatter TIME = DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss.SSSXX")
            .withZone(ZoneOffset.UTC);
    /** Causes of a failure that a cluster expects while a peer is down or restarting: no stack trace for them. */
    private static final String[] EXPECTED_MESSAGES = {"Create connection failed", "Connection refused", "connection timeout",
        "Connection reset", "Channel is closed"};

    private LogLines() {}

    /** slf4j's level names, which operators know, rather than java.util.logging's. */
    static String level(Level level) {
        int value = level.intValue();
        if (value >= Level.SEVERE.intValue()) {
            return "ERROR";
        }
        if (value >= Level.WARNING.intValue()) {
            return "WARN";
        }
        if (value >= Level.INFO.intValue()) {
            return "INFO";
        }
        return value >= Level.FINE.intValue() ? "DEBUG" : "TRACE";
    }

    /** Whether {@code thrown} is a network failure a cluster expects (a peer down, a connection refused or timed out). */
    static boolean expected(Throwable thrown) {
        for (Throwable cause = thrown; cause != null; cause = cause.getCause() == cause ? null : cause.getCause()) {
            if (cause instanceof ConnectException || cause instanceof ClosedChannelException
                    || cause instanceof TimeoutException || cause.getClass().getSimpleName().equals("RemotingException")) {
                return true;
            }
            String message = String.valueOf(cause.getMessage());
            for (String expected : EXPECTED_MESSAGES) {
                if (message.contains(expected)) {
                    return true;
                }
            }
        }
        return false;
    }

    /** The exception in one line: its class and message, and its innermost cause's. */
    static String summary(Throwable thrown) {
        Throwable root = thrown;
        for (int depth = 0; root.getCause() != null && root.getCause() != root && depth < 32; depth++) {
            root = root.getCause();
        }
        return root == thrown ? thrown.toString() : thrown + " (cause: " + root + ")";
    }

    static String stackTrace(Throwable thrown) {
        StringWriter out = new StringWriter();
        thrown.printStackTrace(new PrintWriter(out));
        return out.toString();
    }

    /** {@code 2026-01-01T12:00:00.000Z [WARN] logger - message}, then the stack trace if it is news. */
    static final class Text extends Formatter {
        private final boolean alwaysStackTraces;

        Text(boolean alwaysStackTraces) {
            this.alwaysStackTraces = alwaysStackTraces;
        }

        @Override
        public String format(LogRecord record) {
            StringBuilder line = new StringBuilder(160).append(TIME.format(record.getInstant())).append(" [")
                    .append(level(record.getLevel())).append("] ").append(record.getLoggerName()).append(" - ")
                    .append(record.getMessage());
            Throwable thrown = record.getThrown();
            if (thrown != null && !alwaysStackTraces && expected(thrown)) {
                line.append(": ").append(summary(thrown)).append('\n');
            } else {
                line.append('\n');
                if (thrown != null) {
                    line.append(stackTrace(thrown));
                }
            }
            return line.toString();
        }
    }

    /** {@code {"time":...,"level":...,"logger":...,"thread":...,"message":...,"error":...,"stack":...}} on one line. */
    static final class Json extends Formatter {
        private final boolean alwaysStackTraces;

        Json(boolean alwaysStackTraces) {
            this.alwaysStackTraces = alwaysStackTraces;
        }

        @Override
        public String format(LogRecord record) {
            StringBuilder line = new StringBuilder(200).append('{');
            field(line, "time", TIME.format(record.getInstant())).append(',');
            field(line, "level", level(record.getLevel())).append(',');
            field(line, "logger", record.getLoggerName()).append(',');
            field(line, "thread", Thread.currentThread().getName()).append(',');
            field(line, "message", record.getMessage());
            Throwable thrown = record.getThrown();
            if (thrown != null) {
                field(line.append(','), "error", summary(thrown));
                if (alwaysStackTraces || !expected(thrown)) {
                    field(line.append(','), "stack", stackTrace(thrown));
                }
            }
            return line.append("}\n").toString();
        }

        private static StringBuilder field(StringBuilder line, String name, String value) {
            line.append('"').append(name).append("\":\"");
            String text = value == null ? "" : value;
            for (int i = 0; i < text.length(); i++) {
                char c = text.charAt(i);
                switch (c) {
                    case '"' -> line.append("\\\"");
                    case '\\' -> line.append("\\\\");
                    case '\n' -> line.append("\\n");
                    case '\r' -> line.append("\\r");
                    case '\t' -> line.append("\\t");
                    default -> {
                        if (c < 0x20) {
                            line.append(String.format("\\u%04x", (int) c));
                        } else {
                            line.append(c);
                        }
                    }
                }
            }
            return line.append('"');
        }
    }
}
