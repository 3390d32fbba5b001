package io.jtensor.backend.cuda;

import io.jtensor.DType;
import io.jtensor.NDArray;
import io.jtensor.backend.BackendContract;
import io.jtensor.backend.ComposedCrossEntropy;

/**
 * Cross-entropy and its gradient on the GPU (Backend.crossEntropy / crossEntropyBackward): fused kernels
 * (kernels/cu/softmax.cu, xent_*: one read of the logits forward, one read and one write backward, no [N, C]
 * temporary) or the composition of the backend's own ops ({@link ComposedCrossEntropy}). Which:
 * {@code -Djtensor.cuda.variant.crossentropy=composed|fused} or {@link #setVariant}; composed by default until a GPU
 * run has checked the fused kernels.
 */
final class CudaCrossEntropy {
    enum Variant { COMPOSED, FUSED }

    private static final KernelVariant<Variant> VARIANT = new KernelVariant<>("jtensor.cuda.variant.crossentropy", Variant.COMPOSED);

    static Variant variant() { return VARIANT.get(); }

    static void setVariant(Variant v) { VARIANT.set(v); }

    private static final String[] FWD_ROWS = KernelCodes.names("xent_fwd_rows_");
    private static final String[] FWD_COLS = KernelCodes.names("xent_fwd_cols_");
    private static final String[] BWD_ROWS = KernelCodes.names("xent_bwd_rows_");
    private static final String[] BWD_COLS = KernelCodes.names("xent_bwd_cols_");
    private static final int THREADS = 256, WARPS = THREADS / 32;

    private CudaCrossEntropy() {}

    static void forward(NDArray logits, NDArray targets, long ignoreIndex, double smoothing, NDArray loss, NDArray lse) {
        if (variant() == Variant.COMPOSED) {
            ComposedCrossEntropy.forward(logits, targets, ignoreIndex, smoothing, loss, lse);
            return;
        }
        Layout l = Layout.of("crossEntropy", logits, targets);
        if (l.positions() == 0) return;
        CudaDevice dev = device(logits);
        int t = logits.dtype().ordinal();
        DType st = lse.dtype();
        long classes = l.C;
        dev.launchChecked("crossEntropy", (flag, stream) -> {
            KernelArgs a = l.args().ptr(address(logits)).ptr(address(targets)).i64(ignoreIndex);
            smoothing(a, st, smoothing).ptr(address(loss)).ptr(address(lse)).ptr(flag);
            l.launch(a, dev, FWD_ROWS[t], FWD_COLS[t], stream);
        }, (code, value) -> code == KernelCodes.E_INDEX_OUT_OF_RANGE ? BackendContract.badClassIndex(value, classes, ignoreIndex) : null);
    }

    static void backward(NDArray logits, NDArray targets, NDArray lse, NDArray gradLoss, long ignoreIndex, double smoothing,
                         NDArray gradLogits) {
        if (variant() == Variant.COMPOSED) {
            ComposedCrossEntropy.backward(logits, targets, lse, gradLoss, ignoreIndex, smoothing, gradLogits);
            return;
        }
        Layout l = Layout.of("crossEntropyBackward", logits, targets);
        if (l.positions() == 0 || l.C == 0) return;
        // the backward kernels have no error flag: check on the device first (one read-back of a flag)
        ComposedCrossEntropy.requireClassIndices(targets, ignoreIndex, l.C);
        CudaDevice dev = device(logits);
        int t = logits.dtype().ordinal();
        long stream = dev.enter();
        KernelArgs a = l.args().ptr(address(logits)).ptr(address(targets)).ptr(address(lse)).ptr(address(gradLoss)).i64(ignoreIndex);
        smoothing(a, lse.dtype(), smoothing).ptr(address(gradLogits));
        l.launch(a, dev, BWD_ROWS[t], BWD_COLS[t], stream);
    }

    /** logits [N, C, inner...] as the kernels see them. */
    private record Layout(long N, long C, long inner) {
        static Layout of(String op, NDArray logits, NDArray targets) {
            if (!logits.isContiguous() || !targets.isContiguous()) throw new IllegalArgumentException(op + ": expected contiguous logits and targets");
            if (targets.dtype() != DType.I64) throw new IllegalArgumentException(op + ": expected I64 targets, got " + targets.dtype());
            long[] s = logits.shape();
            long inner = 1;
            for (int i = 2; i < s.length; i++) inner *= s[i];
            return new Layout(s[0], s[1], inner);
        }

        long positions() { return N * inner; }

        /** The leading arguments: (positions, C) for the rows kernels (inner == 1), (N, C, inner) for the column ones. */
        KernelArgs args() { return inner == 1 ? KernelArgs.start().i64(N).i64(C) : KernelArgs.start().i64(N).i64(C).i64(inner); }

        /** A warp per row when inner == 1, else a thread per position. */
        void launch(KernelArgs a, CudaDevice dev, String rowsKernel, String colsKernel, long stream) {
            if (inner == 1) a.launch(dev.gpu.function(rowsKernel), (N + WARPS - 1) / WARPS, THREADS, stream);
            else a.launch(dev.gpu.function(colsKernel), dev.grid(positions(), THREADS), THREADS, stream);
        }
    }

    private static KernelArgs smoothing(KernelArgs a, DType statsType, double e) {
        return statsType == DType.F64 ? a.f64(e) : a.f32((float) e);
    }

    private static CudaDevice device(NDArray a) { return io.jtensor.backend.Backends.cuda().device(a.device()); }

    private static long address(NDArray a) { return DevArray.of(a).address(); }
}
