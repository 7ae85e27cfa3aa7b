package io.raftcached.raft;

import com.alipay.sofa.jraft.util.NamedThreadFactory;
import com.alipay.sofa.jraft.util.SPI;
import com.alipay.sofa.jraft.util.timer.DefaultRaftTimerFactory;
import com.alipay.sofa.jraft.util.timer.HashedWheelTimer;
import com.alipay.sofa.jraft.util.timer.Timer;
import java.util.concurrent.TimeUnit;

/**
 * jraft's timers (election, vote, step-down, snapshot) with a 10 ms tick instead of 1 ms. Each
 * timer thread otherwise wakes 1000 times a second, which made an idle node use a fifth of a core;
 * the timeouts they run are hundreds of milliseconds or more, so 10 ms of granularity changes
 * nothing. Found by jraft's service loader (META-INF/services), where the higher priority wins.
 */
@SPI(priority = 1)
public final class CoarseRaftTimerFactory extends DefaultRaftTimerFactory {
    static final long TICK_MILLIS = 10;
    private static final int TICKS_PER_WHEEL = 512;

    @Override
    public Timer createTimer(String name) {
        return new HashedWheelTimer(new NamedThreadFactory(name, true), TICK_MILLIS, TimeUnit.MILLISECONDS, TICKS_PER_WHEEL);
    }
}
