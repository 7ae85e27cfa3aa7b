package io.raftcached.bench;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** The Zipf sampler against the exact probabilities, and its determinism. */
class ZipfKeysTest {

    @Test
    void frequenciesMatchTheZipfLaw() {
        for (double exponent : new double[] {0.5, 0.99, 1.0, 1.2}) {
            int keySpace = 20;
            int draws = 1_000_000;
            ZipfKeys zipf = new ZipfKeys(keySpace, exponent);
            long[] counts = new long[keySpace];
            SplittableRandom random = new SplittableRandom(7);
            for (int i = 0; i < draws; i++) {
                counts[(int) zipf.next(random)]++;
            }
            double norm = 0;
            for (int k = 1; k <= keySpace; k++) {
                norm += Math.pow(k, -exponent);
            }
            for (int k = 0; k < keySpace; k++) {
                double expected = Math.pow(k + 1, -exponent) / norm;
                double observed = (double) counts[k] / draws;
                // 6 standard deviations of a binomial share: a wrong law fails, sampling noise does not.
                double tolerance = 6 * Math.sqrt(expected * (1 - expected) / draws);
                assertEquals(expected, observed, tolerance, "exponent " + exponent + ", key " + k);
            }
        }
    }

    @Test
    void staysInsideHugeKeySpacesAndFavoursTheHead() {
        ZipfKeys zipf = new ZipfKeys(1_000_000_000_000L, 0.99);
        SplittableRandom random = new SplittableRandom(1);
        int inFirstThousand = 0;
        for (int i = 0; i < 100_000; i++) {
            long key = zipf.next(random);
            assertTrue(key >= 0 && key < zipf.keySpace(), "key " + key);
            if (key < 1000) {
                inFirstThousand++;
            }
        }
        // H(1000)/H(1e12) at s = 0.99 is about 0.24: the first thousand keys take a large share.
        assertTrue(inFirstThousand > 20_000 && inFirstThousand < 35_000, "draws among the first 1000 keys: " + inFirstThousand);
    }

    @Test
    void sameSeedSameKeys() {
        ZipfKeys zipf = new ZipfKeys(500_000, 0.99);
        long[] first = new long[1000];
        long[] second = new long[1000];
        SplittableRandom a = new SplittableRandom(42);
        SplittableRandom b = new SplittableRandom(42);
        for (int i = 0; i < first.length; i++) {
            first[i] = zipf.next(a);
            second[i] = zipf.next(b);
        }
        assertArrayEquals(first, second);
    }

    @Test
    void oneKeyAndBadArguments() {
        ZipfKeys single = new ZipfKeys(1, 0.99);
        SplittableRandom random = new SplittableRandom(3);
        for (int i = 0; i < 100; i++) {
            assertEquals(0, single.next(random));
        }
        assertThrows(IllegalArgumentException.class, () -> new ZipfKeys(0, 0.99));
        assertThrows(IllegalArgumentException.class, () -> new ZipfKeys(10, 0));
        assertThrows(IllegalArgumentException.class, () -> new ZipfKeys(10, Double.NaN));
    }
}
