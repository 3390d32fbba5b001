package io.jtensor.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import org.junit.jupiter.api.Test;

class GeometryTest {
    @Test
    void contiguousOperandsCollapseToOneDim() {
        Geometry g = Geometry.of("t", new long[] {2, 3, 4}, new long[] {12, 4, 1}, new long[] {12, 4, 1});
        assertEquals(1, g.rank);
        assertEquals(24, g.numel);
        assertArrayEquals(new long[] {24}, g.sizes);
        assertTrue(g.contiguous());
    }

    @Test
    void broadcastDimStaysSeparate() {
        // out [2,3,4] contiguous, b broadcast along dim 1 (stride 0): dims 1 and 2 cannot merge for b, 0 and 1 cannot either.
        Geometry g = Geometry.of("t", new long[] {2, 3, 4}, new long[] {12, 4, 1}, new long[] {4, 0, 1});
        assertEquals(3, g.rank);
        assertArrayEquals(new long[] {2, 3, 4}, g.sizes);
        assertArrayEquals(new long[] {4, 0, 1}, g.strides[1]);
        assertFalse(g.contiguous());
    }

    @Test
    void sizeOneDimsDropAndTransposeKeepsTwoDims() {
        // a transposed [3,1,5] view of a [5,3] matrix: strides (1, *, 3)
        Geometry g = Geometry.of("t", new long[] {3, 1, 5}, new long[] {5, 5, 1}, new long[] {1, 99, 3});
        assertEquals(2, g.rank);
        assertArrayEquals(new long[] {3, 5}, g.sizes);
        assertArrayEquals(new long[] {5, 1}, g.strides[0]);
        assertArrayEquals(new long[] {1, 3}, g.strides[1]);
    }

    @Test
    void partialMergeOfOuterDims() {
        // [4, 6, 8] with stride 2 inside rows of 16: the inner two dims merge, the outer (stride 100) does not
        Geometry g = Geometry.of("t", new long[] {4, 6, 8}, new long[] {100, 16, 2});
        assertArrayEquals(new long[] {4, 48}, g.sizes);
        assertArrayEquals(new long[] {100, 2}, g.strides[0]);
        // a uniformly strided array collapses to one dim
        Geometry u = Geometry.of("t", new long[] {4, 6, 8}, new long[] {96, 16, 2});
        assertArrayEquals(new long[] {192}, u.sizes);
        assertArrayEquals(new long[] {2}, u.strides[0]);
    }

    @Test
    void emptyAndScalar() {
        Geometry e = Geometry.of("t", new long[] {3, 0, 2}, new long[] {0, 2, 1});
        assertEquals(0, e.numel);
        Geometry s = Geometry.of("t", new long[] {}, new long[] {});
        assertEquals(0, s.rank);
        assertEquals(1, s.numel);
        assertTrue(s.contiguous());
    }

    @Test
    void moreThanEightUnmergeableDimsIsAnError() {
        long[] shape = new long[9], st = new long[9];
        for (int i = 0; i < 9; i++) {
            shape[i] = 2;
            st[i] = 1L << (2 * (8 - i)); // every dim has a gap: nothing merges
        }
        IllegalArgumentException ex = assertThrows(IllegalArgumentException.class, () -> Geometry.of("add", shape, st));
        assertTrue(ex.getMessage().startsWith("add: CUDA kernels take at most 8 dims"), ex.getMessage());
    }

    @Test
    void packMatchesTheKernelStructLayout() {
        Geometry g = Geometry.of("t", new long[] {3, 5}, new long[] {5, 1}, new long[] {1, 3});
        try (Arena a = Arena.ofConfined()) {
            MemorySegment s = a.allocate(Geometry.structBytes(2), 8);
            g.pack(s);
            assertEquals(80 + 2 * 64, s.byteSize());
            assertEquals(2, s.get(ValueLayout.JAVA_INT, 0));
            assertEquals(1, s.get(ValueLayout.JAVA_INT, 4));
            assertEquals(15, s.get(ValueLayout.JAVA_LONG, 8));
            assertEquals(3, s.get(ValueLayout.JAVA_LONG, 16));
            assertEquals(5, s.get(ValueLayout.JAVA_LONG, 24));
            assertEquals(0, s.get(ValueLayout.JAVA_LONG, 32));
            assertEquals(5, s.get(ValueLayout.JAVA_LONG, 80));       // stride[0][0]
            assertEquals(1, s.get(ValueLayout.JAVA_LONG, 88));       // stride[0][1]
            assertEquals(1, s.get(ValueLayout.JAVA_LONG, 80 + 64));  // stride[1][0]
            assertEquals(3, s.get(ValueLayout.JAVA_LONG, 88 + 64));  // stride[1][1]
        }
    }

    @Test
    void largeOffsetsNeed64BitIndexing() {
        // 1000 elements, but 3 million elements apart: the offsets overflow an int
        Geometry g = Geometry.of("t", new long[] {1000}, new long[] {1}, new long[] {3_000_000});
        assertFalse(g.fits32());
        assertTrue(Geometry.of("t", new long[] {1000}, new long[] {1}, new long[] {2_000_000}).fits32());
        assertFalse(Geometry.of("t", new long[] {1L << 31}, new long[] {1}).fits32());
    }
}
