package io.raftcached.node;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** Per-prefix stats: memcached's counting rules, hash order and reset; bounded where memcached's is not. */
class PrefixStatsTest {
    private static byte[] key(String key) {
        return key.getBytes(StandardCharsets.ISO_8859_1);
    }

    private static String dump(PrefixStats prefixes) {
        ByteBuf out = Unpooled.buffer();
        prefixes.dump(out);
        String text = out.toString(StandardCharsets.ISO_8859_1);
        out.release();
        return text;
    }

    @Test
    void murmur3IsMemcachedsDefaultHash() {
        assertEquals(0, PrefixStats.murmur3(key(""), 0));
        assertEquals(0x248bfa47, PrefixStats.murmur3(key("hello"), 5));
        assertEquals(0x2e4ff723, PrefixStats.murmur3(key("The quick brown fox jumps over the lazy dog"), 43));
        assertEquals(PrefixStats.murmur3(key("user"), 4), PrefixStats.murmur3(key("user:1"), 4), "only the prefix is hashed");
    }

    @Test
    void countsGetsHitsSetsAndDeletesPerPrefix() {
        PrefixStats prefixes = new PrefixStats(':', true);
        prefixes.recordSet(key("user:1"));
        prefixes.recordGet(key("user:1"), true);
        prefixes.recordGet(key("user:2"), false);
        prefixes.recordDelete(key("user:2"));
        prefixes.recordGet(key("noprefix"), true);
        assertEquals("PREFIX user get 2 hit 1 set 1 del 1\r\nEND\r\n", dump(prefixes));
    }

    @Test
    void countsNothingWhileOffAndForgetsOnReset() {
        PrefixStats prefixes = new PrefixStats('/', false);
        prefixes.recordSet(key("a/1"));
        assertEquals("END\r\n", dump(prefixes));
        prefixes.enable(true);
        prefixes.recordSet(key("a/1"));
        prefixes.recordSet(key("a:1"));
        assertEquals("PREFIX a get 0 hit 0 set 1 del 0\r\nEND\r\n", dump(prefixes), "the delimiter is -D's");
        prefixes.clear();
        assertEquals("END\r\n", dump(prefixes));
    }

    @Test
    void dumpsInHashBucketOrderNewestFirstWithinABucket() {
        PrefixStats prefixes = new PrefixStats(':', true);
        String[] names = {"alpha", "beta", "gamma", "delta", "epsilon"};
        for (String name : names) {
            prefixes.recordSet(key(name + ":x"));
        }
        int previousBucket = -1;
        for (String line : dump(prefixes).split("\r\n")) {
            if (line.equals("END")) {
                break;
            }
            String name = line.split(" ")[1];
            int bucket = Integer.remainderUnsigned(PrefixStats.murmur3(key(name), name.length()), 256);
            assertEquals(true, bucket >= previousBucket, line);
            previousBucket = bucket;
        }
    }

    @Test
    void theTableIsBounded() {
        PrefixStats prefixes = new PrefixStats(':', true);
        for (int i = 0; i < PrefixStats.PREFIXES_MAX + 10; i++) {
            prefixes.recordSet(key("p" + i + ":k"));
        }
        String dump = dump(prefixes);
        assertEquals(PrefixStats.PREFIXES_MAX, dump.split("\r\n").length - 1);
    }
}
