package io.raftcached.raft;

import java.util.List;

/**
 * Why a read relayed to another group's replicas got no items: every replica refused it (its
 * {@link #permission}, as a local read would be refused), a linearizable read's barrier failed
 * ({@link #barrierFailed}), or no replica answered (neither).
 */
public final class ReadRefusedException extends RuntimeException {
    private static final long serialVersionUID = 1L;
    private final transient ReadPermission permission;
    private final boolean barrierFailed;

    ReadRefusedException(ReadPermission permission) {
        this(permission, false, "every replica refused the read: " + permission);
    }

    private ReadRefusedException(ReadPermission permission, boolean barrierFailed, String message) {
        super(message, null, false, false);
        this.permission = permission;
        this.barrierFailed = barrierFailed;
    }

    static ReadRefusedException noQuorum() {
        return new ReadRefusedException(null, true, "no quorum confirmed the read in time");
    }

    static ReadRefusedException unreachable(int ordinal, List<String> replicas) {
        return new ReadRefusedException(null, false, "no replica of group g" + ordinal + " answered (" + String.join(", ", replicas) + ")");
    }

    /** The replicas' refusal, or null. */
    public ReadPermission permission() {
        return permission;
    }

    public boolean barrierFailed() {
        return barrierFailed;
    }
}
