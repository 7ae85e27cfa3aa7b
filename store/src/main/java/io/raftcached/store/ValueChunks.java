package io.raftcached.store;

/**
 * Value access for chunked items (values larger than {@code slab_chunk_max}): the header chunk
 * holds the handle of the first data chunk, each data chunk the handle of the next, and data
 * fills each chunk after its {@link ItemLayout#CHUNK_HEADER_BYTES}-byte header, in order.
 */
final class ValueChunks {
    private ValueChunks() {}

    /** Calls {@code visitor} for each piece of value bytes in {@code [offset, offset+length)}. */
    interface PieceVisitor {
        void piece(long address, long pieceOffsetInRange, int length);
    }

    static void forEachPiece(Items items, long handle, long offset, long length, PieceVisitor visitor) {
        forEachPiece(items, handle, offset, length, false, visitor);
    }

    private static void forEachPiece(Items items, long handle, long offset, long length, boolean forWriting,
            PieceVisitor visitor) {
        long chunk = OffHeap.getLong(items.dataAddress(handle));
        long chunkStart = 0;
        long done = 0;
        while (done < length) {
            if (chunk == 0) {
                throw new IllegalStateException("chunked value shorter than its length");
            }
            long capacity = items.chunkDataCapacity(chunk);
            long chunkEnd = chunkStart + capacity;
            long position = offset + done;
            if (position < chunkEnd) {
                int pieceLength = (int) Math.min(chunkEnd - position, length - done);
                long chunkAddress = forWriting ? items.writable(chunk) : items.address(chunk);
                visitor.piece(chunkAddress + ItemLayout.CHUNK_HEADER_BYTES + (position - chunkStart), done, pieceLength);
                done += pieceLength;
            }
            chunkStart = chunkEnd;
            chunk = OffHeap.getLong(items.address(chunk) + ItemLayout.CHUNK_NEXT);
        }
    }

    static void write(Items items, long handle, long valueOffset, byte[] source, int sourceOffset, int length) {
        forEachPiece(items, handle, valueOffset, length, true,
                (address, done, pieceLength) -> OffHeap.copyFromArray(source, sourceOffset + (int) done, address, pieceLength));
    }

    static void read(Items items, long handle, long valueOffset, byte[] target, int targetOffset, int length) {
        forEachPiece(items, handle, valueOffset, length,
                (address, done, pieceLength) -> OffHeap.copyToArray(address, target, targetOffset + (int) done, pieceLength));
    }
}
