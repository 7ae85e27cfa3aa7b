package io.raftcached.raft;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class OncePerHostTest {
    private final AtomicLong nanos = new AtomicLong();
    private final OncePerHost once = new OncePerHost(nanos::get);

    @Test
    void aHostIsLoggedOnceUntilTheIntervalPasses() {
        assertTrue(once.first("10.0.0.1"));
        assertFalse(once.first("10.0.0.1"));
        assertTrue(once.first("10.0.0.2"), "another host is news");
        nanos.addAndGet(OncePerHost.REPEAT_AFTER_NANOS - 1);
        assertFalse(once.first("10.0.0.1"));
        nanos.incrementAndGet();
        assertTrue(once.first("10.0.0.1"), "again after the interval");
        assertFalse(once.first("10.0.0.1"));
    }

    @Test
    void theOldestHostIsForgottenWhenFull() {
        for (int host = 0; host <= OncePerHost.HOSTS_MAX; host++) {
            assertTrue(once.first("host" + host));
        }
        assertTrue(once.first("host0"), "the first host was dropped to make room");
        assertFalse(once.first("host" + OncePerHost.HOSTS_MAX));
    }
}
