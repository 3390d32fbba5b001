package io.jtensor.backend.cuda;

import io.jtensor.backend.Backend;

/** Philox random fills (kernels/cu/rng.cu), the same stream as io.jtensor.Philox. */
final class CudaRandom {
    private static final String[] UNIFORM = KernelCodes.names("rng_uniform_");
    private static final String[] NORMAL = KernelCodes.names("rng_normal_");

    private CudaRandom() {}

    static void fill(CudaDevice dev, Backend.RandomKind kind, long seed, long offset, double a, double b, DevArray out) {
        if (!out.dtype().isFloating()) throw new IllegalArgumentException("random: expected a floating dtype, got " + out.dtype());
        if (!out.isContiguous()) {
            try (DevArray.Temp t = new DevArray.Temp(dev, out.dtype(), out.shape())) {
                fill(dev, kind, seed, offset, a, b, t.array);
                CudaElementwise.copy(dev, t.array, out);
            }
            return;
        }
        long n = out.numel();
        if (n == 0) return;
        long stream = dev.enter();
        String k = (kind == Backend.RandomKind.UNIFORM ? UNIFORM : NORMAL)[out.dtype().ordinal()];
        KernelArgs.start().i64(seed).i64(offset).i64(n).f64(a).f64(b).ptr(out.address())
                .launch(dev.gpu.function(k), dev.grid((n + 3) / 4, 256), 256, stream);
    }
}
