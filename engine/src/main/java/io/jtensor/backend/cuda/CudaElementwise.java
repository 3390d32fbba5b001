package io.jtensor.backend.cuda;

import io.jtensor.DType;
import io.jtensor.backend.BackendContract;
import io.jtensor.backend.BinaryOp;
import io.jtensor.backend.UnaryOp;
import io.jtensor.bindings.cuda.CudaDriver;

/** Elementwise launches: unary, binary, comparisons, where, copies and casts, fills. */
final class CudaElementwise {
    private static final String[] UNARY = KernelCodes.names("elementwise_unary_");
    private static final String[] UNARY_BOOL = KernelCodes.names("elementwise_unarybool_");
    private static final String[] BINARY = KernelCodes.names("elementwise_binary_");
    private static final String[] COMPARE = KernelCodes.names("elementwise_compare_");
    private static final String[] WHERE = KernelCodes.widthNames("elementwise_where_");
    private static final String[] BITS = KernelCodes.widthNames("copy_bits_");
    private static final String[] FILL = KernelCodes.widthNames("copy_fill_");
    private static final String[][] CAST = castNames();
    static final int BLOCK = 256;

    private CudaElementwise() {}

    private static String[][] castNames() {
        DType[] all = DType.values();
        String[][] n = new String[all.length][all.length];
        for (DType f : all) for (DType t : all) n[f.ordinal()][t.ordinal()] = "copy_cast_" + KernelCodes.suffix(f) + "_" + KernelCodes.suffix(t);
        return n;
    }

    private static long gridFor(CudaDevice dev, Geometry g) {
        return dev.grid(g.contiguous() ? (g.numel + 3) / 4 : g.numel, BLOCK);
    }

    static void unary(CudaDevice dev, UnaryOp op, DevArray x, DevArray out, double p1, double p2) {
        if (KernelCodes.predicate(op)) {
            if (out.dtype() != DType.BOOL) {
                try (DevArray.Temp t = new DevArray.Temp(dev, DType.BOOL, out.shape())) {
                    unary(dev, op, x, t.array, p1, p2);
                    copy(dev, t.array, out);
                }
                return;
            }
            launchUnary(dev, UNARY_BOOL[x.dtype().ordinal()], op, x, out, p1, p2, false);
            return;
        }
        if (!x.dtype().isFloating() && KernelCodes.floatOnly(op)) {
            try (DevArray.Temp fx = new DevArray.Temp(dev, DType.F32, x.shape());
                 DevArray.Temp fo = new DevArray.Temp(dev, DType.F32, out.shape())) {
                copy(dev, x, fx.array);
                unary(dev, op, fx.array, fo.array, p1, p2);
                copy(dev, fo.array, out);
            }
            return;
        }
        if (out.dtype() != x.dtype()) {
            try (DevArray.Temp t = new DevArray.Temp(dev, x.dtype(), out.shape())) {
                unary(dev, op, x, t.array, p1, p2);
                copy(dev, t.array, out);
            }
            return;
        }
        launchUnary(dev, UNARY[x.dtype().ordinal()], op, x, out, p1, p2, true);
    }

    private static void launchUnary(CudaDevice dev, String kernel, UnaryOp op, DevArray x, DevArray out, double p1, double p2,
                                    boolean withParams) {
        Geometry g = Geometry.of(op.name().toLowerCase(), out.shape(), out.strides(), x.strides());
        if (g.numel == 0) return;
        long stream = dev.enter();
        KernelArgs a = KernelArgs.start().i32(KernelCodes.unary(op)).geom(g).ptr(x.address()).ptr(out.address());
        if (withParams) a.f64(p1).f64(p2);
        a.launch(dev.gpu.function(kernel), gridFor(dev, g), BLOCK, stream);
    }

    static void binary(CudaDevice dev, BinaryOp op, DevArray a, DevArray b, DevArray out) {
        if (a.dtype() != b.dtype()) throw new IllegalArgumentException(op + ": operands must share a dtype, got " + a.dtype() + " and " + b.dtype());
        if (op.isComparison()) {
            if (out.dtype() != DType.BOOL) {
                try (DevArray.Temp t = new DevArray.Temp(dev, DType.BOOL, out.shape())) {
                    binary(dev, op, a, b, t.array);
                    copy(dev, t.array, out);
                }
                return;
            }
            launchBinary(dev, COMPARE[a.dtype().ordinal()], op, a, b, out);
            return;
        }
        if (op == BinaryOp.GELU_BACKWARD && !a.dtype().isFloating()) {
            try (DevArray.Temp fa = new DevArray.Temp(dev, DType.F32, a.shape()); DevArray.Temp fb = new DevArray.Temp(dev, DType.F32, b.shape());
                 DevArray.Temp fo = new DevArray.Temp(dev, DType.F32, out.shape())) {
                copy(dev, a, fa.array);
                copy(dev, b, fb.array);
                binary(dev, op, fa.array, fb.array, fo.array);
                copy(dev, fo.array, out);
            }
            return;
        }
        if (out.dtype() != a.dtype()) {
            try (DevArray.Temp t = new DevArray.Temp(dev, a.dtype(), out.shape())) {
                binary(dev, op, a, b, t.array);
                copy(dev, t.array, out);
            }
            return;
        }
        launchBinary(dev, BINARY[a.dtype().ordinal()], op, a, b, out);
    }

    private static void launchBinary(CudaDevice dev, String kernel, BinaryOp op, DevArray a, DevArray b, DevArray out) {
        Geometry g = Geometry.of(op.name().toLowerCase(), out.shape(), out.strides(), a.strides(), b.strides());
        if (g.numel == 0) return;
        boolean canFail = !a.dtype().isFloating() && (op == BinaryOp.DIV || op == BinaryOp.REMAINDER || op == BinaryOp.POW);
        if (!canFail) {
            launchBinary(dev, kernel, op, g, a, b, out, 0, dev.enter());
            return;
        }
        // The CPU throws for an integer division by zero and a negative integer exponent; the kernel reports them, and
        // this call waits to throw the same. (These ops are rare on integers: the synchronisation costs little.)
        dev.launchChecked(op.name().toLowerCase(), (flag, stream) -> launchBinary(dev, kernel, op, g, a, b, out, flag, stream),
                (code, value) -> switch (code) {
                    case KernelCodes.E_DIVISION_BY_ZERO -> BackendContract.integerDivisionByZero(op);
                    case KernelCodes.E_NEGATIVE_EXPONENT -> BackendContract.negativeIntegerExponent(value);
                    default -> null;
                });
    }

    private static void launchBinary(CudaDevice dev, String kernel, BinaryOp op, Geometry g, DevArray a, DevArray b, DevArray out,
                                     long errorFlag, long stream) {
        KernelArgs.start().i32(KernelCodes.binary(op)).geom(g).ptr(a.address()).ptr(b.address()).ptr(out.address()).ptr(errorFlag)
                .launch(dev.gpu.function(kernel), gridFor(dev, g), BLOCK, stream);
    }

    static void where(CudaDevice dev, DevArray cond, DevArray a, DevArray b, DevArray out) {
        if (cond.dtype().byteSize() != 1) {
            try (DevArray.Temp t = new DevArray.Temp(dev, DType.BOOL, cond.shape())) {
                copy(dev, cond, t.array);
                where(dev, t.array, a, b, out);
            }
            return;
        }
        if (a.dtype() != out.dtype() || b.dtype() != out.dtype()) {
            throw new IllegalArgumentException("where: a, b and out must share a dtype, got " + a.dtype() + ", " + b.dtype() + ", " + out.dtype());
        }
        Geometry g = Geometry.of("where", out.shape(), out.strides(), cond.strides(), a.strides(), b.strides());
        if (g.numel == 0) return;
        long stream = dev.enter();
        KernelArgs.start().geom(g).ptr(cond.address()).ptr(a.address()).ptr(b.address()).ptr(out.address())
                .launch(dev.gpu.function(WHERE[out.dtype().ordinal()]), dev.grid(g.numel, BLOCK), BLOCK, stream);
    }

    /** dst = cast(src), same shape, any strides. */
    static void copy(CudaDevice dev, DevArray src, DevArray dst) {
        BackendContract.requireSameShape("copy", dst.shape(), src.shape());
        if (src.numel() == 0) return;
        long stream = dev.enter();
        if (src.dtype() == dst.dtype() && src.isContiguous() && dst.isContiguous()) {
            if (src.address() != dst.address()) CudaDriver.cuMemcpyDtoDAsync(dst.address(), src.address(), src.bytes(), stream);
            return;
        }
        Geometry g = Geometry.of("copy", dst.shape(), dst.strides(), src.strides());
        String kernel = src.dtype() == dst.dtype() ? BITS[src.dtype().ordinal()] : CAST[src.dtype().ordinal()][dst.dtype().ordinal()];
        KernelArgs.start().geom(g).ptr(src.address()).ptr(dst.address())
                .launch(dev.gpu.function(kernel), gridFor(dev, g), BLOCK, stream);
    }

    static void fill(CudaDevice dev, DevArray dst, double value) {
        Geometry g = Geometry.of("fill", dst.shape(), dst.strides());
        if (g.numel == 0) return;
        long stream = dev.enter();
        KernelArgs.start().geom(g).ptr(dst.address()).bits(dst.dtype().byteSize(), bitsOf(dst.dtype(), value))
                .launch(dev.gpu.function(FILL[dst.dtype().ordinal()]), dev.grid(g.numel, BLOCK), BLOCK, stream);
    }

    /** value in dtype's storage bits (little-endian), as a cast on the device would give it. */
    static long bitsOf(DType t, double v) {
        return switch (t) {
            case BOOL -> v != 0 || Double.isNaN(v) ? 1 : 0;
            case U8 -> (long) v & 0xFF;
            case I32 -> (int) (long) v & 0xFFFFFFFFL;
            case I64 -> (long) v;
            case F16 -> Float.floatToFloat16((float) v) & 0xFFFFL;
            case BF16 -> bf16Bits((float) v);
            case F32 -> Float.floatToRawIntBits((float) v) & 0xFFFFFFFFL;
            case F64 -> Double.doubleToRawLongBits(v);
        };
    }

    /** Round-to-nearest-even float to bfloat16, NaN kept quiet. */
    static long bf16Bits(float f) {
        int bits = Float.floatToRawIntBits(f);
        if (Float.isNaN(f)) return 0x7FC0;
        int rounded = bits + 0x7FFF + ((bits >>> 16) & 1);
        return (rounded >>> 16) & 0xFFFF;
    }
}
