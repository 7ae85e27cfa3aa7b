package io.raftcached.node;

import java.io.PrintStream;
import java.util.ArrayList;
import java.util.List;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogManager;
import java.util.logging.LogRecord;
import java.util.logging.Logger;

/**
 * The node's log, through java.util.logging behind slf4j: one line per event on stderr, as text or
 * as JSON lines ({@code --log-format}), repeats of one message limited by {@link RepeatLimiter}
 * (the first is written, the rest counted and summed up in the next one written), and stack traces
 * left out for conditions that are expected in a cluster, such as a peer being down
 * ({@link LogLines#expected}). Levels follow memcached's verbosity: raftcached's own events and
 * everyone's warnings by default, jraft's news with -v, debugging with -vv (stack traces always)
 * and everything with -vvv. Runs before any logger is used.
 */
final class Logging {
    /** How long repeats of one message are counted rather than written. */
    static final long REPEAT_WINDOW_MILLIS = 60_000;
    /** JUL keeps loggers weakly: the configured ones are held here so their levels stay. */
    private static final List<Logger> CONFIGURED = new ArrayList<>();

    private Logging() {}

    /**
     * The JDK's LogManager resets itself in a shutdown hook of its own, which would drop the
     * handler while the node's graceful stop (another shutdown hook) still logs; this one resets
     * only when {@link Logging} sets it up. {@link #useNodeLogManager} installs it.
     */
    public static final class NodeLogManager extends LogManager {
        private static volatile boolean configuring;

        @Override
        public void reset() {
            if (configuring) {
                super.reset();
            }
        }
    }

    /** Run first in main, before anything touches java.util.logging: the LogManager is chosen once. */
    static void useNodeLogManager() {
        setDefault("java.util.logging.manager", NodeLogManager.class.getName());
    }

    static void configure(int verbosity, boolean json) {
        systemProperties();
        Level others = switch (verbosity) {
            case 0 -> Level.WARNING;
            case 1, 2 -> Level.INFO;
            default -> Level.FINEST;
        };
        Logger root = reset(others);
        level("io.raftcached", verbosity >= 2 ? Level.FINE : Level.INFO);
        // sofa-common-tools' connection checks warn on every reconnect to a peer that is down; that is not news.
        level("com.alipay.sofa.common.log", verbosity >= 1 ? Level.WARNING : Level.SEVERE);
        root.addHandler(handler(System.err, json ? new LogLines.Json(verbosity >= 2) : new LogLines.Text(verbosity >= 2),
                new RepeatLimiter(REPEAT_WINDOW_MILLIS, System::nanoTime)));
    }

    /** For the admin subcommands (cluster, probe): only errors, so their own output stays readable. */
    static void configureTool() {
        systemProperties();
        Logger root = reset(Level.SEVERE);
        // jraft logs a failed connection to a dead member as an error; the command says it better.
        level("com.alipay", Level.OFF);
        root.addHandler(handler(System.err, new LogLines.Text(false), new RepeatLimiter(REPEAT_WINDOW_MILLIS, System::nanoTime)));
    }

    private static void systemProperties() {
        // sofa-common-tools would otherwise look for a logging backend of its own and complain.
        setDefault("logging.path", System.getProperty("java.io.tmpdir"));
        setDefault("sofa.middleware.log.disable", "true");
        setDefault("com.google.protobuf.use_unsafe_pre22_gencode", "true");
    }

    private static Logger reset(Level level) {
        NodeLogManager.configuring = true;
        try {
            LogManager.getLogManager().reset();
        } finally {
            NodeLogManager.configuring = false;
        }
        Logger root = Logger.getLogger("");
        root.setLevel(level);
        CONFIGURED.add(root);
        return root;
    }

    private static void level(String name, Level level) {
        Logger logger = Logger.getLogger(name);
        logger.setLevel(level);
        CONFIGURED.add(logger);
    }

    /** Writes each admitted record at once: a node killed a moment later has still logged why. */
    private static Handler handler(PrintStream out, java.util.logging.Formatter formatter, RepeatLimiter limiter) {
        return new Handler() {
            @Override
            public synchronized void publish(LogRecord record) {
                if (isLoggable(record) && limiter.admit(record)) {
                    out.print(formatter.format(record));
                    out.flush();
                }
            }

            @Override
            public void flush() {
                out.flush();
            }

            @Override
            public void close() {
                out.flush();
            }
        };
    }

    private static void setDefault(String property, String value) {
        if (System.getProperty(property) == null) {
            System.setProperty(property, value);
        }
    }
}
