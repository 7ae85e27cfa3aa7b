package io.raftcached.testing.jepsen;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * After healing and convergence every replica holds the same state: the store digests the runner
 * read from each node (node name → digest, e.g. "index:sha256" from {@code stats digest}) must all
 * be equal. No digests at all is a failure too (nothing was compared).
 */
public final class ConvergenceChecker {
    public static final String NAME = "convergence";

    private ConvergenceChecker() {}

    public static CheckResult check(Map<String, String> digestsByNode) {
        if (digestsByNode == null || digestsByNode.isEmpty()) {
            return CheckResult.violation(NAME, "no digests to compare: the members never converged or were not read", List.of());
        }
        Map<String, List<String>> nodesByDigest = new LinkedHashMap<>();
        for (Map.Entry<String, String> entry : new TreeMap<>(digestsByNode).entrySet()) {
            nodesByDigest.computeIfAbsent(String.valueOf(entry.getValue()), d -> new ArrayList<>()).add(entry.getKey());
        }
        if (nodesByDigest.size() == 1) {
            return CheckResult.ok(NAME, digestsByNode.size() + " nodes hold the same state: " + nodesByDigest.keySet().iterator().next());
        }
        String majority = null;
        for (Map.Entry<String, List<String>> group : nodesByDigest.entrySet()) {
            if (majority == null || group.getValue().size() > nodesByDigest.get(majority).size()) {
                majority = group.getKey();
            }
        }
        List<String> differing = new ArrayList<>();
        for (Map.Entry<String, List<String>> group : nodesByDigest.entrySet()) {
            if (!group.getKey().equals(majority)) {
                differing.add(group.getValue() + " hold " + group.getKey());
            }
        }
        return CheckResult.violation(NAME, "the nodes hold " + nodesByDigest.size() + " different states: " + nodesByDigest.get(majority)
                + " hold " + majority + ", but " + String.join("; ", differing), List.of());
    }
}
