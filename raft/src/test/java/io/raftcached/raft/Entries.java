package io.raftcached.raft;

import com.alipay.sofa.jraft.Closure;
import com.alipay.sofa.jraft.Iterator;
import com.alipay.sofa.jraft.Status;
import java.nio.ByteBuffer;
import java.util.List;

/** jraft's iterator over a few entries, from index 1. */
final class Entries implements Iterator {
    private final List<byte[]> data;
    private int position;
    Status rolledBack;
    long rolledBackEntries;

    Entries(List<byte[]> data) {
        this.data = data;
    }

    @Override public boolean hasNext() { return rolledBack == null && position < data.size(); }
    @Override public ByteBuffer next() { return ByteBuffer.wrap(data.get(position++)); }
    @Override public ByteBuffer getData() { return ByteBuffer.wrap(data.get(position)); }
    @Override public long getIndex() { return position + 1; }
    @Override public long getTerm() { return 1; }
    @Override public Closure done() { return null; }
    @Override public void setAutoCommitPerLog(boolean status) { }
    @Override public boolean commit() { return false; }
    @Override public void commitAndSnapshotSync(Closure done) { }

    @Override
    public void setErrorAndRollback(long ntail, Status st) {
        rolledBack = st;
        rolledBackEntries = ntail;
    }
}
