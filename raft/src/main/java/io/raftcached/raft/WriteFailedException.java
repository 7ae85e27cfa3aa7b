package io.raftcached.raft;

import java.util.concurrent.CompletionException;

/** Why a write got no result: surely not written, or written or not (its outcome is unknown). */
public final class WriteFailedException extends RuntimeException {
    private static final long serialVersionUID = 1L;
    private final boolean outcomeUnknown;

    public WriteFailedException(String message, boolean outcomeUnknown) {
        super(message, null, false, false);
        this.outcomeUnknown = outcomeUnknown;
    }

    public boolean outcomeUnknown() {
        return outcomeUnknown;
    }

    /** Whether a failure of {@link ReplicatedCache#submit} left the write's outcome unknown. */
    public static boolean outcomeUnknown(Throwable failure) {
        Throwable cause = failure instanceof CompletionException ? failure.getCause() : failure;
        return cause instanceof WriteFailedException written && written.outcomeUnknown;
    }
}
