package io.raftcached.node;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.prometheus.metrics.core.metrics.Histogram;
import io.prometheus.metrics.model.snapshots.HistogramSnapshot;
import io.raftcached.testing.Await;
import java.time.Duration;
import org.junit.jupiter.api.Test;

class GcPausesTest {
    private static long observed(Histogram pauses) {
        long count = 0;
        for (HistogramSnapshot.HistogramDataPointSnapshot point : pauses.collect().getDataPoints()) {
            count += point.getCount();
        }
        return count;
    }

    @Test
    void aCollectionIsObservedWithItsCollectorAndAction() throws InterruptedException {
        Histogram pauses = GcPauses.register();
        long before = observed(pauses);
        System.gc();   // a full collection, notified like any other
        Await.until("the collection is observed", Duration.ofSeconds(10), () -> observed(pauses) > before);
        HistogramSnapshot.HistogramDataPointSnapshot point = pauses.collect().getDataPoints().get(0);
        assertEquals(2, point.getLabels().size(), "gc and action: " + point.getLabels());
    }
}
