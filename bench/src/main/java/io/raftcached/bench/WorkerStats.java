package io.raftcached.bench;

import java.util.ArrayList;
import java.util.List;
import org.HdrHistogram.Histogram;

/** Counts and latency histograms of one worker; merged into one after the run. Not thread-safe. */
final class WorkerStats {
    /** Latencies above this (µs) are clamped; the read timeout fails a run long before. */
    static final long LATENCY_MICROS_MAX = 60_000_000L;
    static final int ERROR_SAMPLES_MAX = 5;

    final Histogram getLatencyMicros = new Histogram(LATENCY_MICROS_MAX, 3);
    final Histogram setLatencyMicros = new Histogram(LATENCY_MICROS_MAX, 3);
    long gets;
    long sets;
    /** Of the sets, those a cache-aside get miss caused. */
    long fills;
    long hits;
    long misses;
    /** Error or unexpected replies completed inside the measured window. */
    long errors;
    /** Error or unexpected replies during warm-up or after the window: not hidden, just not mixed in. */
    long errorsOutsideWindow;
    /** Connections replaced under --reconnect-interval, over the whole run (warm-up included). */
    long connectionsOpened;
    final List<String> errorSamples = new ArrayList<>();

    void recordError(String sample) {
        if (errorSamples.size() < ERROR_SAMPLES_MAX) {
            errorSamples.add(sample);
        }
    }

    void add(WorkerStats other) {
        getLatencyMicros.add(other.getLatencyMicros);
        setLatencyMicros.add(other.setLatencyMicros);
        gets += other.gets;
        sets += other.sets;
        fills += other.fills;
        hits += other.hits;
        misses += other.misses;
        errors += other.errors;
        errorsOutsideWindow += other.errorsOutsideWindow;
        connectionsOpened += other.connectionsOpened;
        for (String sample : other.errorSamples) {
            recordError(sample);
        }
    }

    long ops() {
        return gets + sets;
    }

    Histogram allLatencyMicros() {
        Histogram all = new Histogram(LATENCY_MICROS_MAX, 3);
        all.add(getLatencyMicros);
        all.add(setLatencyMicros);
        return all;
    }
}
