package io.raftcached.store;

import io.raftcached.util.Limits;
import java.util.ArrayList;
import java.util.List;

/**
 * memcached's slab classes: chunk sizes growing by {@code -f} from 48 bytes of header plus
 * {@code -n}, aligned to 8, up to {@code slab_chunk_max}. Choosing the class by the same size
 * formula as memcached keeps memory accounting (and so eviction) identical in kind to memcached's
 * and makes {@code stats slabs} read the same. Classes are numbered from 1; 0 means "too large".
 */
public final class SlabClasses {
    private static final int CHUNK_ALIGN_BYTES = 8;

    private final int[] chunkSizeBytes;   // index = class id; [0] unused
    private final int[] chunksPerPage;
    private final int largestClass;
    private final int itemSizeMaxBytes;
    private final boolean casEnabled;

    public SlabClasses(StoreConfig config) {
        List<int[]> classes = new ArrayList<>();
        long size = ItemLayout.HEADER_BYTES + config.chunkSizeMinBytes();
        int id = 1;
        for (; id < Limits.SLAB_CLASS_IDS - 1; id++) {   // memcached stops one short of its max too
            if (size >= config.slabChunkMaxBytes() / config.growthFactor()) {
                break;
            }
            if (size % CHUNK_ALIGN_BYTES != 0) {
                size += CHUNK_ALIGN_BYTES - (size % CHUNK_ALIGN_BYTES);
            }
            classes.add(new int[] {(int) size, config.slabPageSizeBytes() / (int) size});
            size = (long) (size * config.growthFactor());   // memcached truncates to unsigned int
        }
        classes.add(new int[] {config.slabChunkMaxBytes(), config.slabPageSizeBytes() / config.slabChunkMaxBytes()});
        largestClass = classes.size();
        chunkSizeBytes = new int[largestClass + 1];
        chunksPerPage = new int[largestClass + 1];
        for (int i = 0; i < classes.size(); i++) {
            chunkSizeBytes[i + 1] = classes.get(i)[0];
            chunksPerPage[i + 1] = classes.get(i)[1];
        }
        itemSizeMaxBytes = config.itemSizeMaxBytes();
        casEnabled = !config.casDisabled();
    }

    /** memcached's item_size_ok(): whether an item of these sizes has a slab class at all. */
    public boolean itemFits(int keyLength, int clientFlags, long valueLength) {
        return classForItem(keyLength, clientFlags, valueLength) != 0;
    }

    /** The class an item of these sizes is stored in, or 0 if it has none. */
    public int classForItem(int keyLength, int clientFlags, long valueLength) {
        return classFor(ItemLayout.totalSize(keyLength, clientFlags, valueLength, casEnabled));
    }

    /** The class for an allocation of {@code sizeBytes}, or 0 if it exceeds the item size limit. */
    public int classFor(long sizeBytes) {
        if (sizeBytes <= 0 || sizeBytes > itemSizeMaxBytes) {
            return 0;
        }
        // Binary search: classes are sorted by chunk size.
        int low = 1;
        int high = largestClass;
        while (low < high) {
            int mid = (low + high) >>> 1;
            if (chunkSizeBytes[mid] >= sizeBytes) {
                high = mid;
            } else {
                low = mid + 1;
            }
        }
        return low;
    }

    public int largestClass() {
        return largestClass;
    }

    public int chunkSizeBytes(int classId) {
        return chunkSizeBytes[classId];
    }

    public int chunksPerPage(int classId) {
        return chunksPerPage[classId];
    }

    /** The lines memcached prints at start-up with {@code -vv}. */
    public List<String> describe() {
        List<String> lines = new ArrayList<>(largestClass);
        for (int id = 1; id <= largestClass; id++) {
            lines.add(String.format("slab class %3d: chunk size %9d perslab %7d", id, chunkSizeBytes[id], chunksPerPage[id]));
        }
        return lines;
    }
}
