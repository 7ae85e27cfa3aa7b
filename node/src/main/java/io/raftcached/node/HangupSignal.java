package io.raftcached.node;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import sun.misc.Signal;

/**
 * SIGHUP, as memcached takes it: a request to reload (the {@code -Y} auth file), never a reason to
 * stop. The JVM's own HUP handler would run the shutdown hooks, so it is replaced for every node,
 * with -Y or without, as memcached ignores HUP when it has nothing to reload.
 */
final class HangupSignal {
    private static final Logger LOG = LoggerFactory.getLogger(HangupSignal.class);

    private HangupSignal() {
    }

    static void handle(Runnable reload) {
        try {
            Signal.handle(new Signal("HUP"), signal -> reload.run());
        } catch (IllegalArgumentException e) {
            // the JVM keeps HUP for itself (-Xrs) or the platform lacks it: SIGHUP then does what the JVM does
            LOG.warn("cannot handle SIGHUP ({}): it will not reload the auth file", e.getMessage());
        }
    }
}
