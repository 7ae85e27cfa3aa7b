package io.raftcached.testing;

import java.nio.ByteBuffer;
import java.util.Arrays;

/**
 * A file's bytes held in memory, for tests that write a store snapshot's pages and read them back:
 * {@code image::write} is a page sink, {@code image::readPage} a page source. Every byte may be
 * written once only, as a snapshot writes each part of a page once. Thread-safe.
 */
public final class MemoryImage {
    private byte[] bytes = new byte[0];
    private boolean[] written = new boolean[0];
    private long bytesWritten;
    private int sizeBytes;

    /** Writes {@code from}'s remaining bytes at {@code offsetBytes}, consuming them. */
    public synchronized void write(long offsetBytes, ByteBuffer from) {
        int lengthBytes = from.remaining();
        int end = Math.toIntExact(offsetBytes + lengthBytes);
        if (end > bytes.length) {
            bytes = Arrays.copyOf(bytes, Math.max(end, bytes.length * 2));
            written = Arrays.copyOf(written, bytes.length);
        }
        for (int i = (int) offsetBytes; i < end; i++) {
            if (written[i]) {
                throw new IllegalStateException("byte " + i + " written twice");
            }
            written[i] = true;
        }
        from.get(bytes, (int) offsetBytes, lengthBytes);
        bytesWritten += lengthBytes;
        sizeBytes = Math.max(sizeBytes, end);
    }

    /** Page {@code pageNumber} (from 1) of {@code into.length} bytes. */
    public synchronized void readPage(int pageNumber, byte[] into) {
        System.arraycopy(bytes, (pageNumber - 1) * into.length, into, 0, into.length);
    }

    public synchronized long bytesWritten() {
        return bytesWritten;
    }

    /** The image in direct memory, for code that reads pages in place by address. */
    public synchronized ByteBuffer toDirect() {
        return ByteBuffer.allocateDirect(sizeBytes).put(bytes, 0, sizeBytes).flip();
    }
}
