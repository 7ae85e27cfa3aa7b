package io.raftcached.placement;

/** A change the cluster map refuses, with the reason an operator reads. */
public final class PlacementException extends IllegalArgumentException {
    private static final long serialVersionUID = 1L;

    public PlacementException(String message) {
        super(message);
    }
}
