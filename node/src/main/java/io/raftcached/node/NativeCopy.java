package io.raftcached.node;

import io.netty.buffer.ByteBuf;
import io.netty.util.internal.PlatformDependent;
import io.raftcached.store.ItemView;

/**
 * Copies item bytes straight from off-heap item memory into an outgoing buffer: the one copy a
 * value makes between the store and the socket.
 */
final class NativeCopy implements ItemView.NativeSink {
    private ByteBuf target;

    NativeCopy into(ByteBuf buffer) {
        this.target = buffer;
        return this;
    }

    @Override
    public void write(long address, int lengthBytes) {
        target.ensureWritable(lengthBytes);
        int index = target.writerIndex();
        if (target.hasMemoryAddress()) {
            PlatformDependent.copyMemory(address, target.memoryAddress() + index, lengthBytes);
        } else if (target.hasArray()) {
            PlatformDependent.copyMemory(address, target.array(), target.arrayOffset() + index, lengthBytes);
        } else {
            byte[] bounce = new byte[lengthBytes];
            PlatformDependent.copyMemory(address, bounce, 0, lengthBytes);
            target.setBytes(index, bounce);
        }
        target.writerIndex(index + lengthBytes);
    }
}
