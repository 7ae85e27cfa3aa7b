package io.raftcached.raft;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;

/**
 * Whether to log a refusal of a remote host: the first one, and again only after a long interval.
 * A peer that retries every few milliseconds (jraft's replicator, a misconfigured member) then
 * writes one line, not one per retry; the count of refusals lives in a counter next to it. A
 * success does not reset it: on a host running several nodes, the good ones succeed all the time.
 * At most {@link #HOSTS_MAX} hosts are remembered, the oldest forgotten first, so a scan from many
 * addresses cannot grow it.
 */
final class OncePerHost {
    static final int HOSTS_MAX = 1_024;
    static final int REPEAT_AFTER_MINUTES = 10;
    static final long REPEAT_AFTER_NANOS = TimeUnit.MINUTES.toNanos(REPEAT_AFTER_MINUTES);

    private final LongSupplier nanoTime;
    /** Host to when it was last logged. */
    private final Map<String, Long> logged = new LinkedHashMap<>(16, 0.75f, false) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<String, Long> eldest) {
            return size() > HOSTS_MAX;
        }
    };

    OncePerHost(LongSupplier nanoTime) {
        this.nanoTime = nanoTime;
    }

    /** True for the first refusal of {@code host}, and for the first after {@link #REPEAT_AFTER_NANOS}. */
    synchronized boolean first(String host) {
        long now = nanoTime.getAsLong();
        Long last = logged.get(host);
        if (last != null && now - last < REPEAT_AFTER_NANOS) {
            return false;
        }
        logged.remove(host);   // re-inserted last, so the oldest entry is the one a full map drops
        logged.put(host, now);
        return true;
    }
}
