package io.raftcached.raft;

import com.alipay.sofa.jraft.Closure;
import com.alipay.sofa.jraft.Iterator;
import com.alipay.sofa.jraft.Status;
import com.alipay.sofa.jraft.core.StateMachineAdapter;
import com.alipay.sofa.jraft.entity.LeaderChangeContext;
import com.alipay.sofa.jraft.error.RaftError;
import com.alipay.sofa.jraft.error.RaftException;
import com.alipay.sofa.jraft.storage.snapshot.SnapshotReader;
import com.alipay.sofa.jraft.storage.snapshot.SnapshotWriter;
import io.raftcached.replica.Applied;
import io.raftcached.replica.Replica;
import io.raftcached.replica.ReplicaStopException;
import io.raftcached.store.SnapshotUnderWayException;
import io.raftcached.store.Store;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.concurrent.Executor;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * jraft's view of the {@link Replica}: feeds it committed entries in order, saves and loads its
 * snapshots, and reports what happened to the node around it. All the replicated logic is in the
 * replica; this class adds the local facts (when the last entry was applied, the read clock, who
 * waits for an index) and the locking that lets a digest see one applied index.
 *
 * <p>Fail-stop: if the replica throws while applying an entry, jraft is told to roll the entry
 * back (its node enters the error state) and the node is stopped through {@link FatalStop},
 * naming the entry. It replays or resyncs on restart; it never skips the entry and diverges.
 */
final class CacheStateMachine extends StateMachineAdapter {
    private static final Logger LOG = LoggerFactory.getLogger(CacheStateMachine.class);

    /** What the node around the state machine needs to hear about. */
    interface Listener {
        /** On the apply thread, after the replica applied each entry. */
        void onApplied(Applied applied);

        /** A snapshot replaced the replica's state (the writes it covers were never seen one by one). */
        void onSnapshotLoaded();

        /**
         * {@code leaderEndpoint} is the leader followed ("" when leading or stepping down): taken
         * from jraft's event, since asking jraft here would wait on its node lock, whose holder may
         * be waiting for room in this very thread's queue.
         */
        void onLeaderChange(boolean leader, long term, String leaderEndpoint);

        /** jraft stopped this node's Raft instance: it must stop serving. */
        void onRaftError(String reason);

        /** A membership change committed (watch raft). */
        default void onConfigurationCommitted(String members, String learners) {
        }

        /** A snapshot was saved or loaded (watch raft). */
        default void onSnapshot(String what, long index) {
        }
    }

    private final Replica replica;
    private final Listener listener;
    private final FatalStop fatal;
    private final Executor snapshotExecutor;
    private final StoreRetirement retirement;
    private final ReadClock readClock;
    private final RaftMetrics metrics;
    private final AppliedWaiters appliedWaiters = new AppliedWaiters();
    /** Held while applying a run of entries, so a digest or snapshot begins at one applied index. */
    private final ReentrantLock applyLock = new ReentrantLock();
    private final AtomicLong snapshotsInstalled = new AtomicLong();
    private final AtomicLong snapshotsSaved = new AtomicLong();
    private final AtomicLong snapshotsDeferred = new AtomicLong();
    /** Apply thread: the last snapshot attempt was deferred (its log line is written once per image). */
    private boolean deferring;
    private volatile long appliedAtNanos = System.nanoTime();
    private volatile long lastSnapshotBeginMicros;
    private volatile long lastSnapshotDumpMillis;
    private volatile long bytesSinceSnapshot;
    private final long failApplyAtIndex;

    /** @param failApplyAtIndex a test's injected fault: applying this entry throws (0: never) */
    CacheStateMachine(Replica replica, ReadClock readClock, Executor snapshotExecutor, StoreRetirement retirement,
            Listener listener, FatalStop fatal, long failApplyAtIndex, RaftMetrics metrics) {
        this.failApplyAtIndex = failApplyAtIndex;
        this.metrics = metrics;
        this.replica = replica;
        this.readClock = readClock;
        this.snapshotExecutor = snapshotExecutor;
        this.retirement = retirement;
        this.listener = listener;
        this.fatal = fatal;
        warmSnapshotBegin(replica);
    }

    /**
     * Begins and drops a snapshot of the still empty store, before apply starts: the first real
     * snapshot then pauses apply for the begin itself (a few milliseconds), not for loading and
     * initializing its classes (tens of milliseconds more, measured on the first snapshot of a node).
     */
    private static void warmSnapshotBegin(Replica replica) {
        replica.beginSnapshot((offsetBytes, bytes) -> {
            throw new IllegalStateException("a warm-up snapshot writes nothing");
        }).store().close();
    }

    @Override
    public void onApply(Iterator iterator) {
        applyLock.lock();
        try {
            while (iterator.hasNext()) {
                long index = iterator.getIndex();
                ByteBuffer data = iterator.getData();
                Closure done = iterator.done();
                bytesSinceSnapshot += data.remaining();
                Applied applied;
                long applyStartNanos = System.nanoTime();
                try {
                    if (index == failApplyAtIndex) {
                        throw new IllegalStateException("injected by --debug-fail-apply-at-index");
                    }
                    applied = replica.apply(index, data);
                } catch (Throwable t) {
                    String message = t instanceof ReplicaStopException ? t.getMessage()
                            : "log entry " + index + " could not be applied (" + t + "); stopping rather than skip it"
                            + " and diverge from the other replicas; on restart this node replays or resyncs";
                    iterator.setErrorAndRollback(1, new Status(RaftError.ESTATEMACHINE, "entry %d: %s", index, message));
                    fatal.stop("stopping at log entry " + index + ": " + message, t);
                    return;
                }
                metrics.applySeconds.observe(RaftMetrics.secondsSince(applyStartNanos));
                readClock.catchUp(replica.appliedNowMillis());
                appliedAtNanos = System.nanoTime();
                listener.onApplied(applied);
                if (done != null) {
                    done.run(Status.OK());
                }
                iterator.next();
            }
        } finally {
            replica.maintain();
            applyLock.unlock();
            appliedWaiters.advance(replica.appliedIndex());
        }
    }

    // --- snapshots ----------------------------------------------------------------------------

    @Override
    public void onSnapshotSave(SnapshotWriter writer, Closure done) {
        long beginNanos = System.nanoTime();
        SnapshotFiles.Save save;
        try {
            save = SnapshotFiles.beginSave(writer.getPath(), replica, true);
        } catch (SnapshotUnderWayException imageUnderWay) {
            deferSnapshot(done);
            return;
        } catch (IOException | RuntimeException e) {
            LOG.error("could not begin a snapshot in {}", writer.getPath(), e);
            done.run(new Status(RaftError.EIO, "snapshot begin failed: %s", e.getMessage()));
            return;
        }
        deferring = false;
        bytesSinceSnapshot = 0;
        long index = replica.appliedIndex();   // onSnapshotSave runs on the apply thread: the snapshot's index
        lastSnapshotBeginMicros = (System.nanoTime() - beginNanos) / 1_000;
        snapshotExecutor.execute(() -> finishSave(writer, done, save, index, beginNanos));
    }

    /**
     * A store image (stats digest, metadump) holds the store's one snapshot slot while it writes
     * its pages. Waiting for it here would pause apply for that whole write, and jraft, which
     * hands commits to this thread without a bound under its node lock, would stall with it.
     * EBUSY fails only this attempt (EIO would stop the node); the log-size trigger and jraft's
     * snapshot timer try again.
     */
    private void deferSnapshot(Closure done) {
        snapshotsDeferred.incrementAndGet();
        if (!deferring) {
            deferring = true;
            LOG.info("snapshot deferred: a store image (stats digest or metadump) is being written; retrying later");
        }
        done.run(new Status(RaftError.EBUSY, "a store image (stats digest or metadump) is being written: snapshot deferred"));
    }

    private void finishSave(SnapshotWriter writer, Closure done, SnapshotFiles.Save save, long index, long beginNanos) {
        long dumpStart = System.nanoTime();
        try (save) {
            save.finish();
            for (String file : SnapshotFiles.FILES) {
                if (!writer.addFile(file)) {
                    throw new IOException("snapshot writer refused " + file);
                }
            }
            lastSnapshotDumpMillis = (System.nanoTime() - dumpStart) / 1_000_000;
            snapshotsSaved.incrementAndGet();
            metrics.snapshotSaveSeconds.observe(RaftMetrics.secondsSince(beginNanos));
            listener.onSnapshot("saved", index);
            LOG.info("snapshot saved in {}: {} pages, apply paused {} us to begin it, dump took {} ms, "
                    + "{}", writer.getPath(), save.pageCount(),
                    lastSnapshotBeginMicros, lastSnapshotDumpMillis, save.applyShare());
            done.run(Status.OK());
        } catch (IOException | RuntimeException e) {
            LOG.error("snapshot save failed in {}", writer.getPath(), e);
            done.run(new Status(RaftError.EIO, "snapshot save failed: %s", String.valueOf(e.getMessage())));
        }
    }

    @Override
    public boolean onSnapshotLoad(SnapshotReader reader) {
        long index = reader.load().getLastIncludedIndex();
        long startNanos = System.nanoTime();
        applyLock.lock();
        try {
            Store replaced = SnapshotFiles.load(reader.getPath(), (header, pages, machine) ->
                    replica.restore(index, header, pages, machine));
            retirement.retire(replaced, replica::retiredStoreUnread);
        } catch (ReplicaStopException e) {
            fatal.stop("refusing the snapshot at index " + index + ": " + e.getMessage(), e);
            return false;
        } catch (IOException e) {
            LOG.error("could not load the snapshot in {}", reader.getPath(), e);
            return false;
        } finally {
            applyLock.unlock();
        }
        readClock.catchUp(replica.appliedNowMillis());
        appliedAtNanos = System.nanoTime();
        snapshotsInstalled.incrementAndGet();
        metrics.snapshotInstallSeconds.observe(RaftMetrics.secondsSince(startNanos));
        listener.onSnapshotLoaded();
        listener.onSnapshot("loaded", index);
        appliedWaiters.advance(index);
        LOG.info("snapshot installed from {}: {} items, {} MB of slab pages at index {} in {} ms", reader.getPath(),
                replica.store().currentItems(), replica.store().mallocedBytes() >> 20, index,
                (System.nanoTime() - startNanos) / 1_000_000);
        return true;
    }

    /** Runs a read of the whole replica with apply held back, so it sees one applied index. */
    <T> T withApplyPaused(Function<Replica, T> reader) {
        applyLock.lock();
        try {
            return reader.apply(replica);
        } finally {
            applyLock.unlock();
        }
    }

    // --- leadership and errors -----------------------------------------------------------------

    @Override
    public void onLeaderStart(long term) {
        listener.onLeaderChange(true, term, "");
    }

    @Override
    public void onLeaderStop(Status status) {
        listener.onLeaderChange(false, -1, "");
    }

    @Override
    public void onStartFollowing(LeaderChangeContext context) {
        listener.onLeaderChange(false, context.getTerm(), context.getLeaderId() == null ? "" : context.getLeaderId().getEndpoint().toString());
    }

    @Override
    public void onConfigurationCommitted(com.alipay.sofa.jraft.conf.Configuration conf) {
        listener.onConfigurationCommitted(conf.getPeers().toString(), conf.getLearners().toString());
    }

    /** jraft stopped this node's Raft instance (a failed log write, a rolled-back entry, ...). */
    @Override
    public void onError(RaftException e) {
        LOG.error("raft error: {}; this node stops serving", e.getStatus(), e);
        listener.onRaftError("the Raft instance stopped: " + e.getStatus());
    }

    // --- local facts ---------------------------------------------------------------------------

    AppliedWaiters appliedWaiters() {
        return appliedWaiters;
    }

    long appliedAtNanos() {
        return appliedAtNanos;
    }

    /** Log bytes applied since the last snapshot began, for the log-size snapshot trigger. */
    long bytesSinceSnapshot() {
        return bytesSinceSnapshot;
    }

    long snapshotsInstalled() {
        return snapshotsInstalled.get();
    }

    long snapshotsSaved() {
        return snapshotsSaved.get();
    }

    long snapshotsDeferred() {
        return snapshotsDeferred.get();
    }

    long lastSnapshotBeginMicros() {
        return lastSnapshotBeginMicros;
    }

    long lastSnapshotDumpMillis() {
        return lastSnapshotDumpMillis;
    }
}
