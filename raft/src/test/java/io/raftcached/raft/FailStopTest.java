package io.raftcached.raft;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.alipay.sofa.jraft.Status;
import com.alipay.sofa.jraft.entity.EnumOutter;
import com.alipay.sofa.jraft.entity.RaftOutter;
import com.alipay.sofa.jraft.error.RaftError;
import com.alipay.sofa.jraft.error.RaftException;
import com.alipay.sofa.jraft.storage.snapshot.SnapshotWriter;
import com.google.protobuf.Message;
import io.raftcached.replica.Applied;
import io.raftcached.replica.LogEntries;
import io.raftcached.replica.Replica;
import io.raftcached.store.StoreConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentSkipListSet;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * An entry the replica cannot apply stops the node, naming the entry, and jraft is told to roll it
 * back: it is never turned into a no-op on one replica (which would diverge it silently). A Raft
 * instance in its error state makes the node refuse reads. A snapshot that cannot begin because a
 * store image holds the store's snapshot slot is deferred, neither waited for nor an error that
 * stops the node.
 */
class FailStopTest {
    private static final long START_MILLIS = 1_790_000_000_000L;
    private final Replica replica = new Replica(StoreConfig.withMemory(2L * StoreConfig.MEGABYTE), 1, 1, 1);
    private final ScheduledExecutorService scheduler = Executors.newSingleThreadScheduledExecutor();
    private final List<String> stops = new ArrayList<>();
    private final List<String> raftErrors = new ArrayList<>();
    private final List<Long> applied = new ArrayList<>();

    @AfterEach
    void close() {
        scheduler.shutdownNow();
        replica.close();
    }

    private CacheStateMachine machine(long failApplyAtIndex) {
        return new CacheStateMachine(replica, ReadClock.system(), Runnable::run, new StoreRetirement(scheduler),
                new CacheStateMachine.Listener() {
                    @Override
                    public void onApplied(Applied entry) {
                        applied.add(entry.index());
                    }

                    @Override
                    public void onSnapshotLoaded() { }

                    @Override
                    public void onLeaderChange(boolean leader, long term, String leaderEndpoint) { }

                    @Override
                    public void onRaftError(String reason) {
                        raftErrors.add(reason);
                    }
                }, (message, cause) -> stops.add(message), failApplyAtIndex, new RaftMetrics());
    }

    @Test
    void anEntryThatDoesNotParseStopsTheNodeAndIsRolledBack() {
        Entries entries = new Entries(List.of(LogEntries.tick(START_MILLIS), LogEntries.tick(START_MILLIS + 1),
                new byte[] {(byte) 0xff, 0x00, (byte) 0xff, 0x00}, LogEntries.tick(START_MILLIS + 2)));
        machine(0).onApply(entries);
        assertEquals(List.of(1L, 2L), applied, "the entries before it were applied, none after");
        assertEquals(2, replica.appliedIndex());
        assertEquals(1, stops.size());
        assertTrue(stops.get(0).startsWith("stopping at log entry 3: log entry 3 could not be applied"), stops.get(0));
        assertNotNull(entries.rolledBack, "jraft must be told the entry was not applied");
        assertEquals(1, entries.rolledBackEntries);
    }

    @Test
    void anInjectedFailureStopsTheNodeAtThatEntry() {
        machine(2).onApply(new Entries(List.of(LogEntries.tick(START_MILLIS), LogEntries.tick(START_MILLIS + 1))));
        assertEquals(List.of(1L), applied);
        assertTrue(stops.get(0).contains("log entry 2") && stops.get(0).contains("--debug-fail-apply-at-index"), stops.get(0));
    }

    @Test
    void aRaftErrorReachesTheNode() {
        machine(0).onError(new RaftException(EnumOutter.ErrorType.ERROR_TYPE_LOG, new Status(RaftError.EIO, "disk gone")));
        assertEquals(1, raftErrors.size());
        assertTrue(raftErrors.get(0).contains("disk gone"), raftErrors.get(0));
    }

    @Test
    void readinessRefusesEverythingOnceTheRaftInstanceFailed() {
        Readiness readiness = new Readiness(new AppliedWaiters(), 0, System::nanoTime);
        readiness.leading(0);
        assertEquals(ReadPermission.ALLOWED, readiness.permission(true));
        readiness.fail("the Raft instance stopped: disk gone");
        assertEquals(ReadPermission.FAILED, readiness.permission(true));
        assertEquals(false, readiness.ready());
    }

    @Test
    void aSnapshotDueWhileAStoreImageIsWrittenIsDeferredWithoutWaiting(@TempDir Path directory) throws Exception {
        CacheStateMachine machine = machine(0);
        machine.onApply(new Entries(List.of(LogEntries.tick(START_MILLIS))));
        Path image = Files.createDirectories(directory.resolve("image"));
        Path snapshot = Files.createDirectories(directory.resolve("snapshot"));
        List<Status> outcomes = new CopyOnWriteArrayList<>();
        Writer writer = new Writer(snapshot);
        try (SnapshotFiles.Save held = SnapshotFiles.beginSave(image.toString(), replica, false)) {
            assertTrue(WriteStreamLockTest.finishesWithin(() -> machine.onSnapshotSave(writer, outcomes::add)),
                    "the apply thread waited for the store image");
            assertEquals(1, outcomes.size());
            assertEquals(RaftError.EBUSY.getNumber(), outcomes.get(0).getCode(), outcomes.get(0).toString());
            assertEquals(1, machine.snapshotsDeferred());
            assertEquals(List.of(), stops);
            assertTrue(writer.files.isEmpty());
            held.writePages();
        }
        machine.onSnapshotSave(writer, outcomes::add);
        assertTrue(outcomes.get(1).isOk(), outcomes.get(1).toString());
        assertEquals(1, machine.snapshotsSaved());
        assertEquals(Set.copyOf(SnapshotFiles.FILES), writer.files);
    }

    /** jraft's snapshot writer, reduced to its directory and the files added to it. */
    private static final class Writer extends SnapshotWriter {
        private final Path directory;
        final Set<String> files = new ConcurrentSkipListSet<>();

        Writer(Path directory) {
            this.directory = directory;
        }

        @Override public boolean init(Void options) { return true; }
        @Override public void shutdown() { }
        @Override public boolean saveMeta(RaftOutter.SnapshotMeta meta) { return true; }
        @Override public boolean addFile(String fileName, Message fileMeta) { return files.add(fileName); }
        @Override public boolean removeFile(String fileName) { return files.remove(fileName); }
        @Override public void close(boolean keepDataOnError) { }
        @Override public void close() { }
        @Override public String getPath() { return directory.toString(); }
        @Override public Set<String> listFiles() { return files; }
        @Override public Message getFileMeta(String fileName) { return null; }
    }
}
