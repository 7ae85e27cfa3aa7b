package io.raftcached.raft;

import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.alipay.sofa.jraft.JRaftUtils;
import com.alipay.sofa.jraft.util.timer.Timer;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class CoarseRaftTimerFactoryTest {
    @Test
    void jraftLoadsTheCoarseTimers() {
        assertInstanceOf(CoarseRaftTimerFactory.class, JRaftUtils.raftTimerFactory());
    }

    @Test
    void aTimeoutStillFires() throws InterruptedException {
        Timer timer = JRaftUtils.raftTimerFactory().createTimer("coarse-timer-test");
        try {
            CountDownLatch fired = new CountDownLatch(1);
            timer.newTimeout(timeout -> fired.countDown(), 50, TimeUnit.MILLISECONDS);
            assertTrue(fired.await(5, TimeUnit.SECONDS), "a 50 ms timeout did not fire within 5 s");
        } finally {
            timer.stop();
        }
    }
}
