package io.jtensor.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.jtensor.DType;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * CudaConv.weightProduct's addressing, checked without a GPU: its two device operations are replaced by host loops
 * over native memory that follow their contracts, and the split product (batched slices, a shorter last slice,
 * groups, the slice sum) must equal the weight gradient computed straight from the definition.
 */
class SplitKAddressingTest {
    private static final ValueLayout.OfFloat F = ValueLayout.JAVA_FLOAT;

    /** Host loops with the contracts of CudaGemm.gemm and the slice sum, on F32 at raw addresses. */
    private static final class HostOps implements CudaConv.WeightOps {
        @Override public void gemm(long batch, long M, long N, long K, long a, long sAb, long sAm, long sAk, long b, long sBb, long sBk,
                                   long sBn, long c, long sCb, long ldc) {
            for (long z = 0; z < batch; z++) {
                for (long m = 0; m < M; m++) {
                    for (long n = 0; n < N; n++) {
                        double acc = 0;
                        for (long k = 0; k < K; k++) acc += at(a, z * sAb + m * sAm + k * sAk) * at(b, z * sBb + k * sBk + n * sBn);
                        put(c, z * sCb + m * ldc + n, (float) acc);
                    }
                }
            }
        }

        @Override public void sumSlices(long parts, int slices, long count, long target) {
            for (long i = 0; i < count; i++) {
                double acc = 0;
                for (int s = 0; s < slices; s++) acc += at(parts, s * count + i);
                put(target, i, (float) acc);
            }
        }
    }

    private static float at(long address, long index) { return MemorySegment.ofAddress(address + 4 * index).reinterpret(4).get(F, 0); }

    private static void put(long address, long index, float v) { MemorySegment.ofAddress(address + 4 * index).reinterpret(4).set(F, 0, v); }

    @Test
    void splitProductsEqualTheDefinition() {
        // {groups, O, C per group, K}: one group, two and three groups; K a multiple of 64 or not; each unsplit, as SplitK
        // plans it, and in slices of 1024 with a shorter last one
        long[][] cases = {{1, 6, 5, 2500}, {2, 8, 3, 3001}, {3, 3, 2, 4096}};
        for (long[] cs : cases) {
            int groups = (int) cs[0];
            long O = cs[1], cPerGroup = cs[2], K = cs[3];
            // a 1x1 "convolution": CKK = C per group, L = K positions in one image
            CudaConv.Dims d = new CudaConv.Dims(1, cPerGroup * groups, 1, K, O, 1, 1, 1, K, groups);
            long outElems = O * d.CKK();
            for (SplitK split : new SplitK[] {new SplitK(1, K), SplitK.plan(d.Og(), d.CKK(), K, groups, 132, outElems * 4, 1L << 26),
                    new SplitK((int) ((K + 1023) / 1024), 1024)}) {
                try (Arena arena = Arena.ofConfined()) {
                    SplittableRandom r = new SplittableRandom(K + split.slices());
                    MemorySegment gop = arena.allocate(4 * O * K, 64), cols = arena.allocate(4 * d.R() * K, 64);
                    for (long i = 0; i < O * K; i++) gop.setAtIndex(F, i, (float) r.nextDouble(-1, 1));
                    for (long i = 0; i < d.R() * K; i++) cols.setAtIndex(F, i, (float) r.nextDouble(-1, 1));
                    MemorySegment target = arena.allocate(4 * outElems, 64), parts = arena.allocate(4 * outElems * split.slices(), 64);
                    CudaConv.weightProduct(new HostOps(), DType.F32, d, K, gop.address(), cols.address(), target.address(), parts.address(), split);
                    for (int g = 0; g < groups; g++) {
                        for (long o = 0; o < d.Og(); o++) {
                            for (long c = 0; c < d.CKK(); c++) {
                                double want = 0;
                                for (long k = 0; k < K; k++) {
                                    want += gop.getAtIndex(F, (g * d.Og() + o) * K + k) * cols.getAtIndex(F, (g * d.CKK() + c) * K + k);
                                }
                                float got = target.getAtIndex(F, (g * d.Og() + o) * d.CKK() + c);
                                assertEquals(want, got, 1e-3, split + " groups " + groups + " K " + K + ": gradW[" + (g * d.Og() + o) + "][" + c + "]");
                            }
                        }
                    }
                }
            }
        }
    }
}
