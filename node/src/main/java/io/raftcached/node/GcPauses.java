package io.raftcached.node;

import com.sun.management.GarbageCollectionNotificationInfo;
import io.prometheus.metrics.core.metrics.Histogram;
import java.lang.management.GarbageCollectorMXBean;
import java.lang.management.ManagementFactory;
import javax.management.NotificationEmitter;
import javax.management.openmbean.CompositeData;

/**
 * Each garbage collection's duration as a histogram ({@code jvm_gc_pause_seconds{gc,action}}):
 * client_java's {@code jvm_gc_collection_seconds} is a summary of count and sum, which shows how
 * much time GC took but not how long the pauses a client waits through were, and a pause near the
 * election timeout is what an operator must see. Fed by the JVM's GC notifications, off the
 * request path.
 */
final class GcPauses {
    private GcPauses() {
    }

    static Histogram register() {
        Histogram pauses = Histogram.builder().name("jvm_gc_pause_seconds")
                .help("Duration of each garbage collection, by collector and action (major or minor GC).")
                .labelNames("gc", "action").classicOnly().classicExponentialUpperBounds(0.0005, 2, 16).build();
        for (GarbageCollectorMXBean collector : ManagementFactory.getGarbageCollectorMXBeans()) {
            if (collector instanceof NotificationEmitter emitter) {
                emitter.addNotificationListener((notification, handback) -> {
                    if (GarbageCollectionNotificationInfo.GARBAGE_COLLECTION_NOTIFICATION.equals(notification.getType())) {
                        GarbageCollectionNotificationInfo info =
                                GarbageCollectionNotificationInfo.from((CompositeData) notification.getUserData());
                        pauses.labelValues(info.getGcName(), info.getGcAction()).observe(info.getGcInfo().getDuration() / 1000.0);
                    }
                }, null, null);
            }
        }
        return pauses;
    }
}
