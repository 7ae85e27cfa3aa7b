package io.raftcached.testing.jepsen;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * After healing and convergence every replica holds the same state: the store digests the runner
 * read from each node (node name → digest, e.g. "index:sha256" from {@code stats digest}) must all
 * be equal. With several Raft groups, each on some of the nodes, a key {@code g<N>@<node>} is a
 * node's digest of group N, and digests are compared within each group. No digests at all is a
 * failure too (nothing was compared).
 */
public final class ConvergenceChecker {
    public static final String NAME = "convergence";

    private ConvergenceChecker() {}

    public static CheckResult check(Map<String, String> digestsByNode) {
        if (digestsByNode == null || digestsByNode.isEmpty()) {
            return CheckResult.violation(NAME, "no digests to compare: the members never converged or were not read", List.of());
        }
        Map<String, Map<String, String>> byGroup = new TreeMap<>();
        for (Map.Entry<String, String> entry : digestsByNode.entrySet()) {
            int at = entry.getKey().indexOf('@');
            byGroup.computeIfAbsent(at < 0 ? "" : entry.getKey().substring(0, at), group -> new TreeMap<>())
                    .put(entry.getKey(), entry.getValue());
        }
        List<String> agreed = new ArrayList<>();
        for (Map.Entry<String, Map<String, String>> group : byGroup.entrySet()) {
            String differing = differing(group.getValue());
            String scope = group.getKey().isEmpty() ? "" : "group " + group.getKey() + ": ";
            if (differing != null) {
                return CheckResult.violation(NAME, scope + differing, List.of());
            }
            agreed.add(scope + group.getValue().size() + " nodes hold the same state: " + group.getValue().values().iterator().next());
        }
        return CheckResult.ok(NAME, String.join("; ", agreed));
    }

    /** Null if every digest is the same, else which nodes hold which. */
    private static String differing(Map<String, String> digestsByNode) {
        Map<String, List<String>> nodesByDigest = new LinkedHashMap<>();
        for (Map.Entry<String, String> entry : digestsByNode.entrySet()) {
            nodesByDigest.computeIfAbsent(String.valueOf(entry.getValue()), d -> new ArrayList<>()).add(entry.getKey());
        }
        if (nodesByDigest.size() == 1) {
            return null;
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
        return "the nodes hold " + nodesByDigest.size() + " different states: " + nodesByDigest.get(majority) + " hold " + majority
                + ", but " + String.join("; ", differing);
    }
}
