package io.jtensor.nn.data;

import static org.junit.jupiter.api.Assertions.*;

import io.jtensor.Generator;
import io.jtensor.Philox;
import java.util.Arrays;
import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.api.Test;

class SamplerTest {

    @Test
    void sequentialIsZeroToN() {
        Sampler s = new SequentialSampler(5);
        assertEquals(5, s.length());
        assertArrayEquals(new long[] {0, 1, 2, 3, 4}, s.indices());
        s.setEpoch(3);
        assertArrayEquals(new long[] {0, 1, 2, 3, 4}, s.indices());
    }

    @Test
    void randomIsAPermutationFixedBySeedAndEpoch() {
        RandomSampler a = new RandomSampler(50, 11), b = new RandomSampler(50, 11);
        long[] e0 = a.indices();
        assertPermutation(e0, 50);
        assertArrayEquals(e0, b.indices(), "same seed, same epoch, same order");
        a.setEpoch(1);
        long[] e1 = a.indices();
        assertPermutation(e1, 50);
        assertFalse(Arrays.equals(e0, e1), "a new epoch reshuffles");
        a.setEpoch(0);
        assertArrayEquals(e0, a.indices(), "going back to an epoch gives its order again");
        assertFalse(Arrays.equals(e0, new RandomSampler(50, 12).indices()), "another seed, another order");
        assertFalse(Arrays.equals(e0, new SequentialSampler(50).indices()));
    }

    @Test
    void distributedWithoutShuffleDealsIndicesRoundRobinWithWrapAroundPadding() {
        // n = 10 over 3 ranks: ceil(10/3) = 4 each; the order 0..9 is padded with 0, 1.
        assertArrayEquals(new long[] {0, 3, 6, 9}, new DistributedSampler(10, 0, 3, false, 0, false).indices());
        assertArrayEquals(new long[] {1, 4, 7, 0}, new DistributedSampler(10, 1, 3, false, 0, false).indices());
        assertArrayEquals(new long[] {2, 5, 8, 1}, new DistributedSampler(10, 2, 3, false, 0, false).indices());
        // dropLast: floor(10/3) = 3 each, index 9 dropped.
        assertArrayEquals(new long[] {0, 3, 6}, new DistributedSampler(10, 0, 3, false, 0, true).indices());
        assertArrayEquals(new long[] {2, 5, 8}, new DistributedSampler(10, 2, 3, false, 0, true).indices());
        // Padding longer than the dataset wraps around more than once: n = 2 over 5 ranks.
        long[] got = new long[5];
        for (int r = 0; r < 5; r++) {
            long[] idx = new DistributedSampler(2, r, 5, false, 0, false).indices();
            assertEquals(1, idx.length);
            got[r] = idx[0];
        }
        assertArrayEquals(new long[] {0, 1, 0, 1, 0}, got);
    }

    @Test
    void distributedShuffledPartitionsCoverEverythingWithEqualCounts() {
        int n = 103, world = 4;
        for (boolean dropLast : new boolean[] {false, true}) {
            for (long epoch = 0; epoch < 3; epoch++) {
                Set<Long> union = new HashSet<>();
                int total = 0;
                for (int r = 0; r < world; r++) {
                    DistributedSampler s = new DistributedSampler(n, r, world, true, 5, dropLast);
                    s.setEpoch(epoch);
                    long[] idx = s.indices();
                    assertEquals(dropLast ? 25 : 26, idx.length, "every rank gets the same count");
                    assertEquals(idx.length, s.length());
                    for (long i : idx) {
                        assertTrue(i >= 0 && i < n);
                        union.add(i);
                    }
                    total += idx.length;
                }
                if (dropLast) {
                    assertEquals(100, total);
                    assertEquals(100, union.size(), "dropLast: the ranks' shares are disjoint");
                } else {
                    assertEquals(104, total);
                    assertEquals(n, union.size(), "padded: the union covers every index");
                }
            }
        }
    }

    @Test
    void distributedEpochsDifferAndSeedsReproduce() {
        DistributedSampler a = new DistributedSampler(40, 1, 2, true, 9, false);
        DistributedSampler b = new DistributedSampler(40, 1, 2, true, 9, false);
        a.setEpoch(4);
        b.setEpoch(4);
        assertArrayEquals(a.indices(), b.indices(), "same seed and epoch, same share");
        long[] e4 = a.indices();
        a.setEpoch(5);
        assertFalse(Arrays.equals(e4, a.indices()), "setEpoch reshuffles");
        DistributedSampler c = new DistributedSampler(40, 1, 2, true, 10, false);
        c.setEpoch(4);
        assertFalse(Arrays.equals(e4, c.indices()), "another seed, another share");
    }

    @Test
    void distributedRejectsBadRanks() {
        assertThrows(IllegalArgumentException.class, () -> new DistributedSampler(10, 3, 3));
        assertThrows(IllegalArgumentException.class, () -> new DistributedSampler(10, -1, 3));
        assertThrows(IllegalArgumentException.class, () -> new DistributedSampler(10, 0, 0));
        assertEquals(0, new DistributedSampler(0, 0, 2).indices().length);
    }

    @Test
    void philoxRandomFollowsTheEngineStream() {
        // Stand-alone: counters 0, 1, ... under the seed, lanes in order.
        PhiloxRandom r = new PhiloxRandom(77);
        int[] block = new int[4];
        for (long counter = 0; counter < 3; counter++) {
            Philox.block(counter, 77, block);
            for (int lane = 0; lane < 4; lane++) assertEquals(block[lane], r.nextInt());
        }
        // From a Generator: each block takes the generator's next offset.
        Generator g = new Generator(5);
        g.setOffset(100);
        PhiloxRandom fromG = PhiloxRandom.from(g);
        Philox.block(100, 5, block);
        assertEquals(((long) block[0] << 32) | (block[1] & 0xFFFFFFFFL), fromG.nextLong());
        assertEquals(101, g.offset());
        // Derived streams: reproducible, and different for different keys.
        assertEquals(PhiloxRandom.derive(1, 2, 3).nextLong(), PhiloxRandom.derive(1, 2, 3).nextLong());
        assertNotEquals(PhiloxRandom.derive(1, 2, 3).nextLong(), PhiloxRandom.derive(1, 3, 2).nextLong());
        assertNotEquals(PhiloxRandom.derive(1, 2).nextLong(), PhiloxRandom.derive(2, 2).nextLong());
    }

    private static void assertPermutation(long[] p, int n) {
        long[] sorted = p.clone();
        Arrays.sort(sorted);
        for (int i = 0; i < n; i++) assertEquals(i, sorted[i]);
        assertEquals(n, p.length);
    }
}
