package io.jtensor.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.jtensor.DType;
import io.jtensor.Device;
import io.jtensor.Generator;
import io.jtensor.NDArray;
import io.jtensor.backend.Backend;
import io.jtensor.backend.Backends;
import java.util.Arrays;

/**
 * Helpers for the CUDA-vs-CPU tests: the GPU (or a skip saying why there is none), random inputs made on the CPU
 * and copied over, poisoned outputs, and comparisons with tolerances per dtype.
 */
final class GpuCheck {
    static final DType[] FLOATS = {DType.F32, DType.F64, DType.F16, DType.BF16};

    private GpuCheck() {}

    /** cuda:0, or the test is skipped with the reason CUDA is unavailable. */
    static Device gpu() {
        assumeTrue(Backends.cudaAvailable(), () -> "no CUDA GPU: " + Backends.cudaUnavailableReason());
        return Device.cuda(0);
    }

    static Backend cpu() { return Backends.cpu(); }

    static Backend cuda() { return Backends.cuda(); }

    /** Normal(0, scale) values on the CPU in dtype t (integers: uniform in [lo, hi)). */
    static NDArray random(long seed, DType t, double scale, long... shape) {
        Generator g = new Generator(seed);
        if (!t.isFloating()) {
            try (NDArray i = NDArray.randint(g, -20, 20, Device.cpu(), shape)) {
                if (t == DType.BOOL) return i.gt(0);
                if (t == DType.U8) {
                    try (NDArray s = i.add(20)) {
                        return s.to(t);
                    }
                }
                return i.to(t);
            }
        }
        try (NDArray n = NDArray.normal(g, 0, scale, DType.F64, Device.cpu(), shape)) {
            return n.to(t);
        }
    }

    /** Values in [lo, hi) on the CPU in dtype t. */
    static NDArray uniform(long seed, DType t, double lo, double hi, long... shape) {
        try (NDArray u = NDArray.uniform(new Generator(seed), lo, hi, DType.F64, Device.cpu(), shape)) {
            return u.to(t);
        }
    }

    /** Random integers in [lo, hi), as dtype t (exact in every dtype for small ranges). */
    static NDArray integers(long seed, DType t, long lo, long hi, long... shape) {
        try (NDArray i = NDArray.randint(new Generator(seed), lo, hi, Device.cpu(), shape)) {
            return i.to(t);
        }
    }

    /** An uninitialised GPU array filled with a value every kernel would overwrite (NaN for floats). */
    static NDArray poisoned(DType t, Device d, long... shape) {
        NDArray a = NDArray.empty(t, d, shape);
        a.fill(t.isFloating() ? Double.NaN : (t == DType.BOOL ? 1 : 77));
        return a;
    }

    /** Elementwise tolerance: |got - ref| <= atol + rtol |ref|; NaN must match NaN. */
    static double rtol(DType t) {
        return switch (t) {
            case F64 -> 1e-12;
            case F32 -> 1e-5;
            case F16 -> 2e-3;
            case BF16 -> 1.6e-2;
            default -> 0;
        };
    }

    static double atol(DType t) {
        return switch (t) {
            case F64 -> 1e-12;
            case F32 -> 1e-6;
            case F16 -> 1e-3;
            case BF16 -> 1e-2;
            default -> 0;
        };
    }

    static void assertClose(String what, NDArray ref, NDArray got) { assertClose(what, ref, got, rtol(ref.dtype()), atol(ref.dtype())); }

    static void assertClose(String what, NDArray ref, NDArray got, double rtol, double atol) {
        assertArrayEquals(ref.shape(), got.shape(), what + ": shape");
        assertEquals(ref.dtype(), got.dtype(), what + ": dtype");
        double[] r = ref.toDoubleArray(), g = got.toDoubleArray();
        for (int i = 0; i < r.length; i++) {
            boolean ok = Double.isNaN(r[i]) ? Double.isNaN(g[i])
                    : (r[i] == g[i] || Math.abs(g[i] - r[i]) <= atol + rtol * Math.abs(r[i]));
            if (!ok) {
                fail(what + ": element " + i + " of " + r.length + " (shape " + Arrays.toString(ref.shape()) + "): expected " + r[i]
                        + " got " + g[i] + " (rtol " + rtol + ", atol " + atol + ")");
            }
        }
    }

    /** ||got - ref|| / ||ref|| <= tol, no NaN. */
    static void assertRelNorm(String what, NDArray ref, NDArray got, double tol) {
        assertArrayEquals(ref.shape(), got.shape(), what + ": shape");
        double[] r = ref.toDoubleArray(), g = got.toDoubleArray();
        double num = 0, den = 0;
        for (int i = 0; i < r.length; i++) {
            if (Double.isNaN(g[i]) && !Double.isNaN(r[i])) fail(what + ": NaN at element " + i + " (expected " + r[i] + ")");
            num += (g[i] - r[i]) * (g[i] - r[i]);
            den += r[i] * r[i];
        }
        double rel = den == 0 ? Math.sqrt(num) : Math.sqrt(num / den);
        if (!(rel <= tol)) fail(what + ": relative error " + rel + " > " + tol);
    }

    /** Bytes identical (casts, copies, uniforms). */
    static void assertSameBytes(String what, NDArray ref, NDArray got) {
        assertArrayEquals(ref.shape(), got.shape(), what + ": shape");
        byte[] r = ref.toBytes(), g = got.toBytes();
        int es = ref.dtype().byteSize();
        for (int i = 0; i < r.length; i++) {
            if (r[i] != g[i]) {
                fail(what + ": element " + (i / es) + " differs: expected " + ref.toDoubleArray()[i / es] + " got " + got.toDoubleArray()[i / es]);
            }
        }
    }

    /** Relative tolerance of a reduction or product of K terms in dtype t, measured by norms. */
    static double normTol(DType t) {
        return switch (t) {
            case F64 -> 1e-12;
            case F32 -> 1e-5;
            case F16 -> 2e-3;
            case BF16 -> 1e-2;
            default -> 0;
        };
    }
}
