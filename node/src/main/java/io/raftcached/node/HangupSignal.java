package io.raftcached.node;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import sun.misc.Signal;

/**
 * SIGHUP, as memcached takes it: a request to reload (the {@code -Y} auth file), never a reason to
 * stop. The JVM's own HUP handler would run the shutdown hooks, so it is replaced for every node,
 * with -Y or without, as memcached ignores HUP when it has nothing to reload. It is replaced before
 * the node listens, so a client that reaches the node cannot signal it before that: a HUP that
 * arrives while the server is still starting is kept and delivered once it has started.
 */
final class HangupSignal {
    private static final Logger LOG = LoggerFactory.getLogger(HangupSignal.class);
    /** What a HUP does once the server has started; null before. Guarded by this. */
    private Runnable reload;
    /** A HUP arrived before {@link #deliverTo}. Guarded by this. */
    private boolean pending;

    private HangupSignal() {
    }

    /** Replaces the JVM's HUP handler now; HUPs are kept until {@link #deliverTo} names what they do. */
    static HangupSignal install() {
        HangupSignal hangups = new HangupSignal();
        try {
            Signal.handle(new Signal("HUP"), signal -> hangups.hangup());
        } catch (IllegalArgumentException e) {
            // the JVM keeps HUP for itself (-Xrs) or the platform lacks it: SIGHUP then does what the JVM does
            LOG.warn("cannot handle SIGHUP ({}): it will not reload the auth file", e.getMessage());
        }
        if (ignoredAtStart()) {
            // HotSpot leaves an inherited "ignore" in place and takes no handler for it
            LOG.warn("SIGHUP was ignored when this process started (as under nohup) and the JVM keeps it ignored:"
                    + " SIGHUP will not reload the auth file; start the node without nohup to reload it so");
        }
        return hangups;
    }

    /** Whether SIGHUP is ignored in this process (Linux: the SigIgn mask of /proc/self/status). */
    static boolean ignoredAtStart() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith("SigIgn:")) {
                    return (Long.parseUnsignedLong(line.substring("SigIgn:".length()).trim(), 16) & 1L) != 0;   // bit 0: signal 1, HUP
                }
            }
        } catch (IOException | NumberFormatException e) {
            LOG.debug("cannot read the ignored signals: {}", e.toString());
        }
        return false;
    }

    /** From now on a HUP runs {@code reload}; one that arrived before runs now. */
    synchronized void deliverTo(Runnable reload) {
        this.reload = reload;
        if (pending) {
            pending = false;
            reload.run();
        }
    }

    private synchronized void hangup() {
        if (reload == null) {
            pending = true;
        } else {
            reload.run();
        }
    }
}
