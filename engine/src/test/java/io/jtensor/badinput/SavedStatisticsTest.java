package io.jtensor.badinput;

import static io.jtensor.badinput.BadInput.fails;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import io.jtensor.DType;
import io.jtensor.Device;
import io.jtensor.Generator;
import io.jtensor.NDArray;
import io.jtensor.memory.MemoryScope;
import java.util.function.Function;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The public backward helpers take statistics the caller saved from the forward. They accept them in any layout
 * and dtype (a strided view gives the same gradients as its contiguous copy) and check their sizes and the targets,
 * as the forward does, instead of reading past them or computing over the wrong rows.
 */
class SavedStatisticsTest {
    /** Ways to hand over the same statistic values: contiguous, a narrowed view of a wider array, every other element, F64. */
    private static final java.util.List<Function<NDArray, NDArray>> LAYOUTS = java.util.List.of(
            s -> s.share(),
            s -> NDArray.stack(java.util.List.of(s, s.mul(-7.0)), 1).select(1, 0), // stride 2
            s -> { NDArray wide = NDArray.cat(java.util.List.of(NDArray.full(-3, s.dtype(), s.device(), 5), s), 0); return wide.narrow(0, 5, s.numel()); },
            s -> s.to(DType.F64));

    @ParameterizedTest
    @MethodSource("io.jtensor.TestDevices#all")
    void batchNormBackwardGivesTheSameGradientsForEveryLayoutOfMeanAndVar(Device d) {
        try (MemoryScope scope = MemoryScope.open()) {
            Generator g = new Generator(5);
            NDArray x = NDArray.randn(g, DType.F32, d, 4, 3, 2), gy = NDArray.randn(g, DType.F32, d, 4, 3, 2);
            NDArray w = NDArray.randn(g, DType.F32, d, 3);
            NDArray[] f = x.batchNorm(w, null, 1e-5);
            NDArray[] want = NDArray.batchNormBackward(gy, x, f[1], f[2], w, 1e-5, true, true, true);
            for (Function<NDArray, NDArray> layout : LAYOUTS) {
                NDArray[] got = NDArray.batchNormBackward(gy, x, layout.apply(f[1]), layout.apply(f[2]), w, 1e-5, true, true, true);
                for (int k = 0; k < 3; k++) assertArrayEquals(want[k].toFloatArray(), got[k].toFloatArray(), 1e-6f, "output " + k);
            }
            fails(IllegalArgumentException.class, () -> NDArray.batchNormBackward(gy, x, f[1].narrow(0, 0, 2), f[2], w, 1e-5, true, false, false),
                    "batchNormBackward", "3 channels");
        }
    }

    @ParameterizedTest
    @MethodSource("io.jtensor.TestDevices#all")
    void layerNormBackwardAcceptsAnyLayoutAndChecksOneStatisticPerRow(Device d) {
        try (MemoryScope scope = MemoryScope.open()) {
            Generator g = new Generator(6);
            NDArray x = NDArray.randn(g, DType.F32, d, 5, 4), gy = NDArray.randn(g, DType.F32, d, 5, 4);
            NDArray w = NDArray.randn(g, DType.F32, d, 4);
            NDArray[] f = x.layerNorm(4, w, null, 1e-5);
            NDArray[] want = NDArray.layerNormBackward(gy, x, f[1], f[2], w, 4, true, true, true);
            for (Function<NDArray, NDArray> layout : LAYOUTS) {
                NDArray[] got = NDArray.layerNormBackward(gy, x, layout.apply(f[1]), layout.apply(f[2]), w, 4, true, true, true);
                for (int k = 0; k < 3; k++) assertArrayEquals(want[k].toFloatArray(), got[k].toFloatArray(), 1e-6f, "output " + k);
            }
            // one statistic per row of 4: with and without parameter gradients, too few and too many
            for (boolean params : new boolean[] {false, true}) {
                NDArray shortMean = f[1].narrow(0, 0, 4), longRstd = NDArray.cat(java.util.List.of(f[2], f[2]), 0);
                fails(IllegalArgumentException.class, () -> NDArray.layerNormBackward(gy, x, shortMean, f[2], w, 4, true, params, params),
                        "layerNormBackward", "5 rows", "[4]");
                fails(IllegalArgumentException.class, () -> NDArray.layerNormBackward(gy, x, f[1], longRstd, w, 4, true, params, params),
                        "layerNormBackward", "5 rows", "[10]");
                fails(IllegalArgumentException.class, () -> NDArray.layerNormBackward(gy, x, f[1], f[2], w, 2, true, params, params),
                        "layerNormBackward", "10 rows");
            }
        }
    }

    /** The other saved forward results: softmax's output and max pooling's indices, in a transposed or padded layout. */
    @ParameterizedTest
    @MethodSource("io.jtensor.TestDevices#all")
    void softmaxOutputsAndPoolingIndicesInAnyLayoutGiveTheSameGradients(Device d) {
        try (MemoryScope scope = MemoryScope.open()) {
            Generator g = new Generator(8);
            NDArray x = NDArray.randn(g, DType.F32, d, 3, 5), gy = NDArray.randn(g, DType.F32, d, 3, 5);
            for (boolean log : new boolean[] {false, true}) {
                NDArray y = log ? x.logSoftmax(1) : x.softmax(1);
                NDArray want = NDArray.softmaxBackward(y, gy, 1, log);
                NDArray yt = y.t().contiguous().t(), gt = gy.t().contiguous().t(); // same values, column-major
                assertArrayEquals(want.toFloatArray(), NDArray.softmaxBackward(yt, gt, 1, log).toFloatArray(), 1e-6f, "log " + log);
            }
            NDArray img = NDArray.randn(g, DType.F32, d, 2, 3, 4, 4);
            NDArray.ValuesIndices vi = img.maxPool2d(2, 2, io.jtensor.backend.ConvParams.of(2, 0));
            NDArray go = NDArray.randn(g, DType.F32, d, 2, 3, 2, 2);
            NDArray want = NDArray.maxPool2dBackward(go, vi.indices(), new long[] {2, 3, 4, 4});
            NDArray idxT = vi.indices().permute(0, 1, 3, 2).contiguous().permute(0, 1, 3, 2);
            NDArray goT = go.permute(0, 1, 3, 2).contiguous().permute(0, 1, 3, 2);
            assertArrayEquals(want.toFloatArray(), NDArray.maxPool2dBackward(goT, idxT, new long[] {2, 3, 4, 4}).toFloatArray(), 0f);
        }
    }

    @ParameterizedTest
    @MethodSource("io.jtensor.TestDevices#all")
    void crossEntropyBackwardRejectsTargetsOutsideTheClassesAsTheForwardDoes(Device d) {
        try (MemoryScope scope = MemoryScope.open()) {
            NDArray logits = NDArray.randn(new Generator(1), DType.F32, d, 3, 4);
            NDArray good = NDArray.of(new long[] {0, 3, -100}, 3).to(d);
            NDArray[] f = logits.crossEntropyPerPosition(good, -100, 0);
            NDArray gl = NDArray.ones(DType.F32, d, 3);
            NDArray.crossEntropyBackward(logits, good, f[1], gl, -100, 0); // accepted
            for (long bad : new long[] {4, -1, 1L << 40, -100 + 1}) {
                NDArray t = NDArray.of(new long[] {0, bad, 1}, 3).to(d);
                fails(IndexOutOfBoundsException.class, () -> logits.crossEntropyPerPosition(t, -100, 0), "crossEntropy", "got index " + bad);
                fails(IndexOutOfBoundsException.class, () -> NDArray.crossEntropyBackward(logits, t, f[1], gl, -100, 0.1),
                        "crossEntropyBackward", "[0, 4)", "got index " + bad);
            }
            // a target equal to a custom ignore index is skipped in both
            NDArray t = NDArray.of(new long[] {0, 7, 1}, 3).to(d);
            NDArray[] f7 = logits.crossEntropyPerPosition(t, 7, 0);
            NDArray.crossEntropyBackward(logits, t, f7[1], gl, 7, 0);
        }
    }
}
