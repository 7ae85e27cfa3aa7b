package io.raftcached.node;

import io.prometheus.metrics.model.snapshots.CounterSnapshot;
import io.prometheus.metrics.model.snapshots.GaugeSnapshot;
import io.prometheus.metrics.model.snapshots.Labels;
import io.prometheus.metrics.model.snapshots.MetricSnapshot;
import io.prometheus.metrics.model.snapshots.MetricSnapshots;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The families of one scrape, gathered value by value from counters read at scrape time and
 * built into client_java's snapshots at the end. A counter's name is given without its
 * {@code _total}, which the text format adds.
 */
final class MetricFamilies {
    private record Point(double value, Labels labels) {}

    private record Family(boolean counter, String help, List<Point> points) {}

    private final Map<String, Family> families = new LinkedHashMap<>();

    /** @param labels label names and values, alternating */
    void gauge(String name, String help, double value, String... labels) {
        add(name, false, help, value, labels);
    }

    /** @param labels label names and values, alternating */
    void counter(String name, String help, double value, String... labels) {
        add(name, true, help, value, labels);
    }

    private void add(String name, boolean counter, String help, double value, String... labels) {
        Family family = families.computeIfAbsent(name, key -> new Family(counter, help, new ArrayList<>()));
        assert family.counter() == counter : name + " is both a counter and a gauge";
        family.points().add(new Point(value, Labels.of(labels)));
    }

    MetricSnapshots build() {
        List<MetricSnapshot> snapshots = new ArrayList<>(families.size());
        families.forEach((name, family) -> {
            if (family.counter()) {
                CounterSnapshot.Builder counter = CounterSnapshot.builder().name(name).help(family.help());
                family.points().forEach(point -> counter.dataPoint(CounterSnapshot.CounterDataPointSnapshot.builder()
                        .value(point.value()).labels(point.labels()).build()));
                snapshots.add(counter.build());
            } else {
                GaugeSnapshot.Builder gauge = GaugeSnapshot.builder().name(name).help(family.help());
                family.points().forEach(point -> gauge.dataPoint(GaugeSnapshot.GaugeDataPointSnapshot.builder()
                        .value(point.value()).labels(point.labels()).build()));
                snapshots.add(gauge.build());
            }
        });
        return new MetricSnapshots(snapshots);
    }
}
