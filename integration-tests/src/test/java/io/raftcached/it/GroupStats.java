package io.raftcached.it;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * A node's Raft groups as its {@code stats raft} and {@code stats digest} show them: one group
 * (the plain {@code raft_*} lines and {@code digest}) or several ({@code raft_group_g<N>} lines of
 * {@code key=value} fields and {@code digest_g<N>}). Group numbers start at 1.
 */
public final class GroupStats {
    private GroupStats() {}

    /**
     * Whether the node holds a replica of {@code group}: a node of several groups lists the ones
     * it holds; a node of one group holds it.
     */
    public static boolean holds(Map<String, String> raft, int group) {
        return raft.containsKey("raft_group_g" + group) || !raft.containsKey("raft_groups_total") && group == 1;
    }

    /** How many groups the cluster has (a node may hold some of them only). */
    public static int count(Map<String, String> raft) {
        return Integer.parseInt(raft.getOrDefault("raft_groups_total", "1"));
    }

    public static long applied(Map<String, String> raft, int group) {
        return Long.parseLong(field(raft, group, "applied", "raft_applied_index"));
    }

    public static long committed(Map<String, String> raft, int group) {
        return Long.parseLong(field(raft, group, "commit", "raft_commit_index"));
    }

    public static String role(Map<String, String> raft, int group) {
        return field(raft, group, "role", "raft_role");
    }

    public static boolean ready(Map<String, String> raft, int group) {
        return "1".equals(field(raft, group, "ready", "raft_ready"));
    }

    /** Group {@code group}'s "index:sha256" from {@code stats digest}, or null if absent. */
    public static String digest(Map<String, String> digests, int group) {
        return digests.containsKey("digest") ? digests.get("digest") : digests.get("digest_g" + group);
    }

    /** Every group's digest, in group order. */
    public static List<String> digests(Map<String, String> digests, int count) {
        List<String> all = new ArrayList<>();
        for (int group = 1; group <= count; group++) {
            all.add(digest(digests, group));
        }
        return all;
    }

    /** A field of group {@code group}'s line, or the one-group node's {@code plain} stat. */
    private static String field(Map<String, String> raft, int group, String name, String plain) {
        String line = raft.get("raft_group_g" + group);
        if (line == null) {
            if (!holds(raft, group) || !raft.containsKey(plain)) {
                throw new IllegalArgumentException("no group " + group + " in " + raft.keySet());
            }
            return raft.get(plain);
        }
        for (String pair : line.split(" ")) {
            if (pair.startsWith(name + "=")) {
                return pair.substring(name.length() + 1);
            }
        }
        throw new IllegalArgumentException("no " + name + " in raft_group_g" + group + ": " + line);
    }
}
