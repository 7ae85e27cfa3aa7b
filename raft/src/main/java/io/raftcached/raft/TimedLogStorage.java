package io.raftcached.raft;

import com.alipay.sofa.jraft.core.DefaultJRaftServiceFactory;
import com.alipay.sofa.jraft.entity.LogEntry;
import com.alipay.sofa.jraft.option.LogStorageOptions;
import com.alipay.sofa.jraft.option.RaftOptions;
import com.alipay.sofa.jraft.storage.LogStorage;
import io.prometheus.metrics.core.datapoints.DistributionDataPoint;
import java.util.List;

/**
 * The Raft log storage with each append timed: both stores sync inside the append when fsync is
 * on, so the append's time is the fsync's plus the write. jraft has no hook for this short of its
 * own Dropwizard metrics, which time much more on the hot path.
 */
final class TimedLogStorage implements LogStorage {
    private final LogStorage storage;
    private final DistributionDataPoint appendSeconds;

    private TimedLogStorage(LogStorage storage, DistributionDataPoint appendSeconds) {
        this.storage = storage;
        this.appendSeconds = appendSeconds;
    }

    /** jraft's default services with the chosen log storage, wrapped. */
    static DefaultJRaftServiceFactory factory(RaftSettings settings, DistributionDataPoint appendSeconds) {
        return new DefaultJRaftServiceFactory() {
            @Override
            public LogStorage createLogStorage(String uri, RaftOptions raftOptions) {
                return new TimedLogStorage(settings.logStore().create(uri, raftOptions, settings.snapshotLogBytes(), super::createLogStorage),
                        appendSeconds);
            }
        };
    }

    @Override
    public boolean appendEntry(LogEntry entry) {
        long startNanos = System.nanoTime();
        boolean appended = storage.appendEntry(entry);
        appendSeconds.observe(RaftMetrics.secondsSince(startNanos));
        return appended;
    }

    @Override
    public int appendEntries(List<LogEntry> entries) {
        long startNanos = System.nanoTime();
        int appended = storage.appendEntries(entries);
        appendSeconds.observe(RaftMetrics.secondsSince(startNanos));
        return appended;
    }

    @Override
    public boolean init(LogStorageOptions options) {
        return storage.init(options);
    }

    @Override
    public void shutdown() {
        storage.shutdown();
    }

    @Override
    public long getFirstLogIndex() {
        return storage.getFirstLogIndex();
    }

    @Override
    public long getLastLogIndex() {
        return storage.getLastLogIndex();
    }

    @Override
    public LogEntry getEntry(long index) {
        return storage.getEntry(index);
    }

    @Override
    public long getTerm(long index) {
        return storage.getTerm(index);
    }

    @Override
    public boolean truncatePrefix(long firstIndexKept) {
        return storage.truncatePrefix(firstIndexKept);
    }

    @Override
    public boolean truncateSuffix(long lastIndexKept) {
        return storage.truncateSuffix(lastIndexKept);
    }

    @Override
    public boolean reset(long nextLogIndex) {
        return storage.reset(nextLogIndex);
    }
}
