package io.raftcached.raft;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.alipay.sofa.jraft.Closure;
import com.alipay.sofa.jraft.Node;
import com.alipay.sofa.jraft.Status;
import com.alipay.sofa.jraft.error.RaftError;
import io.raftcached.replica.Applied;
import io.raftcached.replica.LogEntries;
import io.raftcached.replica.Replica;
import io.raftcached.store.StoreConfig;
import java.lang.reflect.Proxy;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The periodic duties against a jraft node that only records what it is asked. */
class DutiesTest {
    private final Replica replica = new Replica(StoreConfig.withMemory(2L * StoreConfig.MEGABYTE), 1, 1, 1);
    private final ScheduledExecutorService scheduler = Executors.newSingleThreadScheduledExecutor();
    private final AtomicLong nanos = new AtomicLong(1_000_000_000L);
    private final List<Status> snapshotAnswers = new ArrayList<>();
    private int snapshotsAsked;

    @AfterEach
    void close() {
        scheduler.shutdownNow();
        replica.close();
    }

    /** A jraft node that answers each snapshot request with the next of {@link #snapshotAnswers}. */
    private Node raft() {
        return (Node) Proxy.newProxyInstance(Node.class.getClassLoader(), new Class<?>[] {Node.class}, (proxy, method, args) -> {
            if (method.getName().equals("snapshot") && args.length == 1) {
                ((Closure) args[0]).run(snapshotAnswers.get(snapshotsAsked++));
            }
            return method.getReturnType() == boolean.class ? false : null;
        });
    }

    private Duties duties(long snapshotLogBytes) {
        CacheStateMachine machine = new CacheStateMachine(replica, ReadClock.system(), Runnable::run, new StoreRetirement(scheduler),
                new CacheStateMachine.Listener() {
                    @Override public void onApplied(Applied applied) { }
                    @Override public void onSnapshotLoaded() { }
                    @Override public void onLeaderChange(boolean leader, long term, String leaderEndpoint) { }
                    @Override public void onRaftError(String reason) { }
                }, (message, cause) -> { throw new AssertionError(message, cause); }, 0, new RaftMetrics());
        machine.onApply(new Entries(List.of(LogEntries.tick(1_790_000_000_000L))));
        Node raft = raft();
        Duties.Host host = new Duties.Host() {
            @Override public Node raft() { return raft; }
            @Override public boolean leader() { return false; }
            @Override public long stampMillis() { return 0; }
            @Override public void promote(Node node) { }
        };
        return new Duties(host, replica, machine, new Readiness(new AppliedWaiters(), 0, nanos::get), snapshotLogBytes, nanos::get);
    }

    private void round(Duties duties, long afterMillis) {
        nanos.addAndGet(TimeUnit.MILLISECONDS.toNanos(afterMillis));
        duties.run();
    }

    @Test
    void aSnapshotThatFailedIsAskedForAgainAfterAPauseNotAtEveryRound() {
        Status busy = new Status(RaftError.EBUSY, "a store image is being written");
        snapshotAnswers.addAll(List.of(busy, busy, Status.OK(), Status.OK()));
        Duties duties = duties(1);
        round(duties, 0);
        assertEquals(1, snapshotsAsked, "the log passed the trigger's size");
        for (long waited = Duties.PERIOD_MILLIS; waited < Duties.SNAPSHOT_RETRY_MILLIS; waited += Duties.PERIOD_MILLIS) {
            round(duties, Duties.PERIOD_MILLIS);
        }
        assertEquals(1, snapshotsAsked, "asked again before the pause after a failure was over");
        round(duties, Duties.PERIOD_MILLIS);
        assertEquals(2, snapshotsAsked);
        round(duties, Duties.SNAPSHOT_RETRY_MILLIS);
        assertEquals(3, snapshotsAsked, "the pause starts again at each failure and ends");
        round(duties, Duties.PERIOD_MILLIS);
        assertEquals(4, snapshotsAsked, "after a success the trigger asks as soon as the log is past its size again");
    }
}
