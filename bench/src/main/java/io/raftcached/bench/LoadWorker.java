package io.raftcached.bench;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;

/**
 * One generator thread: a selector over its connections, the thread's share of the request quota,
 * its key and op sequence, and its stats. The loop is bounded by {@code measureEndNanos}; it also
 * ends when the shared abort flag is set or, in request-bounded runs, when its quota is answered.
 */
final class LoadWorker implements Runnable {
    /** Upper bound on one select, so the deadline, abort flag and timeouts are checked often. */
    private static final long SELECT_MILLIS_MAX = 50;
    private static final long TIMEOUT_CHECK_INTERVAL_NANOS = 50_000_000L;

    final int index;
    private final LoadProfile profile;
    private final Selector selector;
    private final List<BenchConnection> connections = new ArrayList<>();
    private final RequestWriter encoder;
    private final SplittableRandom random;
    private final long measureStartNanos;
    private final long measureEndNanos;
    private final long readTimeoutNanos;
    private final AtomicBoolean abort;
    private final CountDownLatch finished;

    /** Requests this thread may issue after warm-up; Long.MAX_VALUE when bounded by time only. */
    private final long quota;
    private long issuedMeasured;
    private long inFlight;
    /** This thread's slice of the key space, for the sequential pattern. */
    private final long keyLow;
    private final long keyCount;
    private long sequentialCursor;
    private final int cycleLength;
    private int cyclePosition;
    /** Non-null for the Zipf pattern. */
    private final ZipfKeys zipf;
    /**
     * Cache-aside: keys whose get missed, oldest first, to be set by the next requests this thread
     * issues. A miss turns an in-flight get into a pending fill and a fill turns it back into an
     * in-flight request, so fills plus requests in flight never exceed this thread's pipeline slots:
     * the ring has exactly that many.
     */
    private final long[] pendingFills;
    private int pendingFillsHead;
    private int pendingFillsCount;
    /** The key of the request {@link #issue} encoded last; its connection keeps it with the request. */
    private long issuedKey;

    final WorkerStats stats = new WorkerStats();
    /** Reply time of the last reply counted in the window (request-bounded runs end there). */
    long lastCountedReplyNanos;
    long threadCpuNanosAtMeasureStart = -1;
    long threadCpuNanosAtEnd = -1;
    long endNanos;
    volatile Throwable failure;

    private final Consumer<SelectionKey> onKeyReady = this::onKeyReady;

    LoadWorker(int index, LoadProfile profile, Selector selector, long measureStartNanos, long measureEndNanos,
            AtomicBoolean abort, CountDownLatch finished) {
        this.index = index;
        this.profile = profile;
        this.selector = selector;
        this.measureStartNanos = measureStartNanos;
        this.measureEndNanos = measureEndNanos;
        this.readTimeoutNanos = profile.readTimeoutMillis() * 1_000_000L;
        this.abort = abort;
        this.finished = finished;
        this.encoder = profile.protocol().writer(profile.keyPrefix(), profile.valueSizeBytes(), profile.seed());
        this.random = new SplittableRandom(profile.seed() * 0x9E3779B97F4A7C15L + index);
        this.quota = profile.isRequestBounded() ? share(profile.requests(), index, profile.threads()) : Long.MAX_VALUE;
        this.keyLow = profile.keySpace() * index / profile.threads();
        long keyHigh = profile.keySpace() * (index + 1) / profile.threads();
        // More threads than keys leaves some slices empty; those threads reuse key 0..n of the space.
        this.keyCount = Math.max(1, keyHigh - keyLow);
        this.cycleLength = profile.getWeight() + profile.setWeight();
        this.zipf = profile.keyPattern() == KeyPattern.ZIPF ? new ZipfKeys(profile.keySpace(), profile.zipfExponent()) : null;
        // LoadRun hands connection i to worker i % threads.
        int ownConnections = (profile.connections() - index + profile.threads() - 1) / profile.threads();
        this.pendingFills = new long[profile.cacheAside() ? ownConnections * profile.pipeline() : 0];
    }

    /** Thread {@code index}'s part of {@code total} split over {@code parts}; the parts sum to total. */
    static long share(long total, int index, int parts) {
        return total * (index + 1) / parts - total * index / parts;
    }

    long issuedMeasured() {
        return issuedMeasured;
    }

    int requestBytesMax() {
        return encoder.requestBytesMax();
    }

    void add(BenchConnection connection) throws IOException {
        connection.register(selector);
        connections.add(connection);
    }

    /**
     * Encodes the next request into {@code out}; returns its op, or -1 when this thread may issue no
     * more. A pending cache-aside fill goes first; {@link #issuedKey} then names the key encoded.
     */
    byte issue(long now, ByteBuffer out) {
        if (now >= measureEndNanos) {
            return -1;
        }
        if (now >= measureStartNanos) {
            if (issuedMeasured >= quota) {
                return -1;
            }
            issuedMeasured++;
        }
        inFlight++;
        if (pendingFillsCount > 0) {
            issuedKey = pendingFills[pendingFillsHead];
            pendingFillsHead = pendingFillsHead + 1 == pendingFills.length ? 0 : pendingFillsHead + 1;
            pendingFillsCount--;
            encoder.encodeSet(out, issuedKey);
            return BenchConnection.OP_FILL;
        }
        // Deterministic get:set interleaving: the ratio holds exactly, not just on average.
        boolean get = cyclePosition < profile.getWeight();
        if (++cyclePosition == cycleLength) {
            cyclePosition = 0;
        }
        issuedKey = nextKey();
        if (get) {
            encoder.encodeGet(out, issuedKey);
            return BenchConnection.OP_GET;
        }
        encoder.encodeSet(out, issuedKey);
        return BenchConnection.OP_SET;
    }

    long issuedKey() {
        return issuedKey;
    }

    private void addPendingFill(long key) {
        if (pendingFillsCount == pendingFills.length) {
            throw new IllegalStateException("more cache-aside fills pending than pipeline slots (" + pendingFills.length + ")");
        }
        int tail = pendingFillsHead + pendingFillsCount;
        pendingFills[tail >= pendingFills.length ? tail - pendingFills.length : tail] = key;
        pendingFillsCount++;
    }

    private long nextKey() {
        if (profile.keyPattern() == KeyPattern.SEQUENTIAL) {
            long key = keyLow + sequentialCursor;
            if (++sequentialCursor == keyCount) {
                sequentialCursor = 0;
            }
            return key < profile.keySpace() ? key : key % profile.keySpace();
        }
        if (zipf != null) {
            return zipf.next(random);
        }
        return random.nextLong(profile.keySpace());
    }

    void onReply(BenchConnection connection, byte op, long key, long sentNanos, long replyNanos, ReplyKind kind,
            int valueCount, byte[] line, int lineLength) {
        inFlight--;
        assert inFlight >= 0 : "more replies than requests issued by this worker";
        assert sentNanos <= replyNanos : "reply stamped before its request";
        boolean counted = sentNanos >= measureStartNanos && replyNanos < measureEndNanos;
        boolean ok = kind == ReplyKind.OK ? valueCount <= 1
                : op == BenchConnection.OP_GET ? kind == ReplyKind.END && valueCount <= 1
                : kind == ReplyKind.STORED;
        if (!ok) {
            if (counted) {
                stats.errors++;
            } else {
                stats.errorsOutsideWindow++;
            }
            if (stats.errorSamples.size() < WorkerStats.ERROR_SAMPLES_MAX) {
                stats.recordError(connection.describe() + ": " + (op == BenchConnection.OP_GET ? "get" : "set")
                        + " -> " + ReplyParser.text(line, lineLength)
                        + (valueCount > 0 ? " (after " + valueCount + " VALUE blocks)" : ""));
            }
        }
        boolean miss = ok && op == BenchConnection.OP_GET && valueCount == 0;
        if (miss && profile.cacheAside()) {
            addPendingFill(key);
        }
        if (!counted) {
            return;
        }
        long micros = Math.min((replyNanos - sentNanos) / 1000, WorkerStats.LATENCY_MICROS_MAX);
        if (op == BenchConnection.OP_GET) {
            stats.gets++;
            if (ok) {
                if (valueCount == 1) {
                    stats.hits++;
                } else {
                    stats.misses++;
                }
            }
            stats.getLatencyMicros.recordValue(micros);
        } else {
            stats.sets++;
            if (op == BenchConnection.OP_FILL) {
                stats.fills++;
            }
            stats.setLatencyMicros.recordValue(micros);
        }
        lastCountedReplyNanos = replyNanos;
    }

    @Override
    public void run() {
        try {
            loop();
        } catch (UncheckedIOException e) {
            fail(e.getCause());
        } catch (Throwable t) {
            fail(t);
        } finally {
            endNanos = System.nanoTime();
            if (threadCpuNanosAtMeasureStart < 0) {
                threadCpuNanosAtMeasureStart = CpuClock.currentThreadCpuNanos();
            }
            threadCpuNanosAtEnd = CpuClock.currentThreadCpuNanos();
            finished.countDown();
        }
    }

    private void fail(Throwable t) {
        failure = t;
        abort.set(true);
    }

    private void loop() throws IOException {
        long now = System.nanoTime();
        for (BenchConnection connection : connections) {
            connection.fillAndFlush(now);
        }
        long nextTimeoutCheckNanos = now + TIMEOUT_CHECK_INTERVAL_NANOS;
        while (true) {
            now = System.nanoTime();
            if (threadCpuNanosAtMeasureStart < 0 && now >= measureStartNanos) {
                threadCpuNanosAtMeasureStart = CpuClock.currentThreadCpuNanos();
            }
            if (now >= measureEndNanos || abort.get()) {
                return;
            }
            if (issuedMeasured >= quota && inFlight == 0) {
                return;
            }
            long untilNanos = now < measureStartNanos ? measureStartNanos : measureEndNanos;
            long selectMillis = Math.max(1, Math.min(SELECT_MILLIS_MAX, (untilNanos - now) / 1_000_000));
            selector.select(onKeyReady, selectMillis);
            if (now >= nextTimeoutCheckNanos) {
                for (BenchConnection connection : connections) {
                    connection.checkReadTimeout(now, readTimeoutNanos);
                }
                nextTimeoutCheckNanos = now + TIMEOUT_CHECK_INTERVAL_NANOS;
            }
        }
    }

    private void onKeyReady(SelectionKey key) {
        BenchConnection connection = (BenchConnection) key.attachment();
        try {
            connection.onReady(key.readyOps());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    void closeAll() {
        for (BenchConnection connection : connections) {
            connection.close();
        }
        try {
            selector.close();
        } catch (IOException ignored) {
            // End of run; the channels are closed already.
        }
    }
}
