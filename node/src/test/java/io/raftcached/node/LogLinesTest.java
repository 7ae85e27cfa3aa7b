package io.raftcached.node;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.ConnectException;
import java.util.concurrent.atomic.AtomicLong;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import org.junit.jupiter.api.Test;

/** The repeat limiter's counting and the two line formats, on records made here and a fake clock. */
class LogLinesTest {
    private static final long WINDOW_MILLIS = 60_000;

    private static LogRecord record(Level level, String message, Throwable thrown) {
        return record("com.alipay.sofa.jraft.core.Replicator", level, message, thrown);
    }

    private static LogRecord record(String logger, Level level, String message, Throwable thrown) {
        LogRecord record = new LogRecord(level, message);
        record.setLoggerName(logger);
        record.setThrown(thrown);
        return record;
    }

    @Test
    void repeatsWithinTheWindowAreCountedAndReportedWithTheNextOneWritten() {
        AtomicLong nanos = new AtomicLong();
        RepeatLimiter limiter = new RepeatLimiter(WINDOW_MILLIS, nanos::get);
        assertTrue(limiter.admit(record(Level.SEVERE, "Fail to connect 127.0.0.1:7003, errors=1", null)), "the first is written");
        for (int i = 0; i < 149; i++) {
            nanos.addAndGet(200_000_000L);
            assertFalse(limiter.admit(record(Level.SEVERE, "Fail to connect 127.0.0.1:7003, errors=" + (i + 2), null)),
                    "repeat " + i + ": a counter in jraft's message does not make it news");
        }
        assertTrue(limiter.admit(record(Level.SEVERE, "Fail to connect 127.0.0.1:7002", null)), "another peer is other news");
        assertTrue(limiter.admit(record(Level.WARNING, "Fail to connect 127.0.0.1:7003", null)), "another level is other news");
        nanos.addAndGet(WINDOW_MILLIS * 1_000_000);
        LogRecord next = record(Level.SEVERE, "Fail to connect 127.0.0.1:7003, errors=151", null);
        assertTrue(limiter.admit(next), "the first after the window is written");
        assertEquals("Fail to connect 127.0.0.1:7003, errors=151 [and 149 more like it in 60 s]", next.getMessage());
        LogRecord quiet = record(Level.SEVERE, "Fail to connect 127.0.0.1:7003", null);
        nanos.addAndGet(WINDOW_MILLIS * 1_000_000);
        assertTrue(limiter.admit(quiet));
        assertEquals("Fail to connect 127.0.0.1:7003", quiet.getMessage(), "no repeats in that window, no count");
    }

    @Test
    void raftcachedsOwnStateChangesAreAlwaysWritten() {
        AtomicLong nanos = new AtomicLong();
        RepeatLimiter limiter = new RepeatLimiter(WINDOW_MILLIS, nanos::get);
        String own = "io.raftcached.raft.ClusterNode";
        assertTrue(limiter.admit(record(own, Level.INFO, "became leader at term 2", null)));
        assertTrue(limiter.admit(record(own, Level.INFO, "stepped down as leader at term 2", null)));
        assertTrue(limiter.admit(record(own, Level.INFO, "became leader at term 4", null)), "another term is news");
        assertFalse(limiter.admit(record(own, Level.INFO, "became leader at term 4", null)), "the very same line is not");
    }

    @Test
    void theLimiterTracksABoundedNumberOfKinds() {
        AtomicLong nanos = new AtomicLong();
        RepeatLimiter limiter = new RepeatLimiter(WINDOW_MILLIS, nanos::get);
        for (int i = 0; i <= RepeatLimiter.KINDS_MAX; i++) {
            assertTrue(limiter.admit(record(Level.INFO, "message from 127.0.0." + i, null)));
        }
        assertTrue(limiter.admit(record(Level.INFO, "message from 127.0.0.0", null)), "the eldest kind was forgotten, so it is written again");
        assertFalse(limiter.admit(record(Level.INFO, "message from 127.0.0." + RepeatLimiter.KINDS_MAX, null)),
                "a recent kind is still limited");
    }

    @Test
    void aPeerBeingDownIsOneLineButAnUnexpectedFailureKeepsItsStackTrace() {
        IOException refused = new IOException("Create connection failed. The address is 127.0.0.1:7003",
                new ConnectException("Connection refused"));
        String down = new LogLines.Text(false).format(record(Level.SEVERE, "Fail to connect 127.0.0.1:7003", refused));
        assertEquals(1, down.lines().count(), down);
        assertTrue(down.matches("\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{3}Z \\[ERROR\\] com.alipay.sofa.jraft.core.Replicator"
                + " - Fail to connect 127.0.0.1:7003: java.io.IOException: Create connection failed.*"
                + "\\(cause: java.net.ConnectException: Connection refused\\)\\n"), down);

        String bug = new LogLines.Text(false).format(record(Level.WARNING, "periodic duty failed", new IllegalStateException("bug")));
        assertTrue(bug.contains("[WARN]") && bug.contains("\tat io.raftcached.node.LogLinesTest"), bug);
        String verbose = new LogLines.Text(true).format(record(Level.SEVERE, "Fail to connect", refused));
        assertTrue(verbose.contains("\tat "), "with -vv every stack trace is written: " + verbose);
    }

    @Test
    void jsonLinesAreOneObjectPerLineWithEscapedText() {
        String line = new LogLines.Json(false).format(record(Level.INFO, "became leader \"quoted\"\nnext\ttab\u0001", null));
        assertEquals(1, line.lines().count(), line);
        assertTrue(line.matches("\\{\"time\":\"[0-9T:.Z-]+\",\"level\":\"INFO\",\"logger\":\"com.alipay.sofa.jraft.core.Replicator\","
                + "\"thread\":\"[^\"]+\",\"message\":\"became leader \\\\\"quoted\\\\\"\\\\nnext\\\\ttab\\\\u0001\"\\}\\n"), line);
        String failure = new LogLines.Json(false).format(record(Level.SEVERE, "x", new IllegalStateException("bug")));
        assertTrue(failure.contains(",\"error\":\"java.lang.IllegalStateException: bug\",\"stack\":\"java.lang.IllegalStateException: bug\\n\\tat "),
                failure);
        String down = new LogLines.Json(false).format(record(Level.SEVERE, "x", new ConnectException("Connection refused")));
        assertTrue(down.endsWith(",\"error\":\"java.net.ConnectException: Connection refused\"}\n"), down);
    }
}
