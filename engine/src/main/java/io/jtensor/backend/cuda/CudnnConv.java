package io.jtensor.backend.cuda;

import io.jtensor.DType;
import io.jtensor.backend.ConvParams;
import io.jtensor.bindings.cudnn.Cudnn;
import io.jtensor.bindings.cudnn.CudnnException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * 2-D convolution and its two gradients by cuDNN's legacy API, the alternative to {@link CudaConv}'s im2col + GEMM.
 * Arrays are handed over as packed NCHW (contiguous, 16-byte aligned; others are copied first). Per device: one cuDNN
 * handle, bound to the calling thread's current stream for each call, and a {@link Plan} per geometry and direction
 * (descriptors plus the algorithm cuDNN's heuristics rank first among those that fit), made once and kept. The
 * workspace comes from the device's caching allocator on the current stream, so it is reused like any temporary.
 *
 * <p>F32 runs with CUDNN_FMA_MATH: cuDNN's default would let Ampere and later GPUs use TF32 tensor cores, which keep
 * only 10 mantissa bits of each input, and jtensor's F32 means FP32. F16 and BF16 accumulate in FP32 on tensor
 * cores; F64 in FP64.
 */
final class CudnnConv {
    /** Workspace an algorithm may ask for at most; larger ones are passed over for the next in cuDNN's ranking. */
    static final long WORKSPACE_LIMIT = Long.getLong("jtensor.cuda.cudnn.workspaceLimit", 1L << 30);

    enum Direction { FORWARD, BACKWARD_DATA, BACKWARD_FILTER }

    /** What a plan is for: the direction, dtype, x [N,C,H,W], w [O,C/groups,KH,KW], y [N,O,OH,OW] and the window. */
    record Key(Direction direction, DType dtype, long N, long C, long H, long W, long O, long KH, long KW, long OH, long OW, ConvParams p) {
        @Override public String toString() {
            return direction.name().toLowerCase() + " " + dtype + " x[" + N + "," + C + "," + H + "," + W + "] w[" + O + "," + C / p.groups()
                    + "," + KH + "," + KW + "] y[" + N + "," + O + "," + OH + "," + OW + "] stride " + p.strideH() + "x" + p.strideW()
                    + " pad " + p.padH() + "x" + p.padW() + " dilation " + p.dilationH() + "x" + p.dilationW() + " groups " + p.groups();
        }
    }

    /** Descriptors and the chosen algorithm for one key. They live as long as the process, one set per geometry seen. */
    record Plan(long xDesc, long wDesc, long yDesc, long convDesc, int algo, int mathType, long workspaceBytes) {
        @Override public String toString() {
            return "algo " + algo + ", math " + mathName(mathType) + ", workspace " + workspaceBytes + " B";
        }
    }

    /** One device's cuDNN handle and plans; used under the device's lock. */
    private static final class State {
        final long handle;
        final Map<Key, Plan> plans = new ConcurrentHashMap<>();

        State(long handle) { this.handle = handle; }
    }

    private static final Map<CudaDevice, State> STATES = new ConcurrentHashMap<>();

    private CudnnConv() {}

    static String mathName(int mathType) {
        return switch (mathType) {
            case Cudnn.DEFAULT_MATH -> "default";
            case Cudnn.TENSOR_OP_MATH -> "tensor-op";
            case Cudnn.TENSOR_OP_MATH_ALLOW_CONVERSION -> "tensor-op (conversion)";
            case Cudnn.FMA_MATH -> "fma";
            default -> "math " + mathType;
        };
    }

    /** Throws, saying why, when cuDNN cannot be loaded; {@code what} names who asked for it. */
    static void requireAvailable(String what) {
        String why = Cudnn.unavailableReason();
        if (why != null) throw new IllegalStateException(what + ": cuDNN cannot be loaded, so the cuDNN convolution path is unavailable.\n" + why);
    }

    /** Whether cuDNN takes this convolution: every size non-zero (cuDNN rejects empty tensors; our kernels handle them). */
    static boolean takes(long... sizes) {
        for (long s : sizes) if (s <= 0) return false;
        return true;
    }

    static int dataType(DType t) {
        return switch (t) {
            case F32 -> Cudnn.DATA_FLOAT;
            case F64 -> Cudnn.DATA_DOUBLE;
            case F16 -> Cudnn.DATA_HALF;
            case BF16 -> Cudnn.DATA_BFLOAT16;
            default -> throw new IllegalArgumentException("conv2d (cuDNN): expected F32, F64, F16 or BF16, got " + t);
        };
    }

    /** The math type plans start from, before an algorithm is chosen. */
    static int initialMath(DType t) {
        return switch (t) {
            case F32 -> Cudnn.FMA_MATH;
            case F64 -> Cudnn.DEFAULT_MATH;
            default -> Cudnn.TENSOR_OP_MATH;
        };
    }

    /**
     * The math type to run a ranked algorithm with, or -1 to pass it over: F32 keeps FMA math and passes over
     * tensor-op algorithms (TF32); the others take what the algorithm asks for.
     */
    static int mathFor(DType t, int algoMath) {
        if (t != DType.F32) return algoMath;
        return algoMath == Cudnn.TENSOR_OP_MATH || algoMath == Cudnn.TENSOR_OP_MATH_ALLOW_CONVERSION ? -1 : Cudnn.FMA_MATH;
    }

    private static int toInt(Key key, String what, long v) {
        if (v < 0 || v > Integer.MAX_VALUE) throw new IllegalArgumentException("conv2d (cuDNN) " + key + ": " + what + " = " + v + " does not fit in an int");
        return (int) v;
    }

    private static State state(CudaDevice dev) {
        State s = STATES.get(dev);
        if (s == null) {
            dev.gpu.makeCurrent();
            s = new State(Cudnn.create());
            STATES.put(dev, s);
        }
        return s;
    }

    /** The plans made so far on dev (for tests and benchmarks). */
    static Map<Key, Plan> plans(CudaDevice dev) {
        State s = STATES.get(dev);
        return s == null ? Map.of() : Map.copyOf(s.plans);
    }

    private static Plan plan(State s, Key key) {
        Plan p = s.plans.get(key);
        if (p == null) {
            p = makePlan(s.handle, key);
            s.plans.put(key, p);
        }
        return p;
    }

    private static Plan makePlan(long handle, Key k) {
        int dt = dataType(k.dtype());
        int compute = k.dtype() == DType.F64 ? Cudnn.DATA_DOUBLE : Cudnn.DATA_FLOAT;
        ConvParams p = k.p();
        long x = 0, w = 0, y = 0, conv = 0;
        boolean ok = false;
        try {
            x = Cudnn.createTensorDescriptor();
            Cudnn.setTensor4dDescriptor(x, Cudnn.TENSOR_NCHW, dt, toInt(k, "N", k.N()), toInt(k, "C", k.C()), toInt(k, "H", k.H()), toInt(k, "W", k.W()));
            w = Cudnn.createFilterDescriptor();
            Cudnn.setFilter4dDescriptor(w, dt, Cudnn.TENSOR_NCHW, toInt(k, "O", k.O()), toInt(k, "C/groups", k.C() / p.groups()),
                    toInt(k, "KH", k.KH()), toInt(k, "KW", k.KW()));
            y = Cudnn.createTensorDescriptor();
            Cudnn.setTensor4dDescriptor(y, Cudnn.TENSOR_NCHW, dt, toInt(k, "N", k.N()), toInt(k, "O", k.O()), toInt(k, "OH", k.OH()), toInt(k, "OW", k.OW()));
            conv = Cudnn.createConvolutionDescriptor();
            Cudnn.setConvolution2dDescriptor(conv, p.padH(), p.padW(), p.strideH(), p.strideW(), p.dilationH(), p.dilationW(),
                    Cudnn.CROSS_CORRELATION, compute);
            Cudnn.setConvolutionGroupCount(conv, p.groups());
            Cudnn.setConvolutionMathType(conv, initialMath(k.dtype()));
            // The output size cuDNN derives must be the one we were given: a check on the geometry and on the binding.
            int[] dims = Cudnn.convolution2dForwardOutputDim(conv, x, w);
            if (dims[0] != k.N() || dims[1] != k.O() || dims[2] != k.OH() || dims[3] != k.OW()) {
                throw new IllegalArgumentException("conv2d (cuDNN) " + k + ": cuDNN computes an output of [" + dims[0] + "," + dims[1] + ","
                        + dims[2] + "," + dims[3] + "], the arrays say [" + k.N() + "," + k.O() + "," + k.OH() + "," + k.OW() + "]");
            }
            Cudnn.AlgoPerf[] ranked = switch (k.direction()) {
                case FORWARD -> Cudnn.forwardAlgorithms(handle, x, w, conv, y);
                case BACKWARD_DATA -> Cudnn.backwardDataAlgorithms(handle, w, y, conv, x);
                case BACKWARD_FILTER -> Cudnn.backwardFilterAlgorithms(handle, x, y, conv, w);
            };
            List<String> passed = new ArrayList<>();
            for (Cudnn.AlgoPerf a : ranked) {
                if (a.status() != Cudnn.STATUS_SUCCESS) {
                    passed.add("algo " + a.algo() + ": " + Cudnn.statusName(a.status()));
                    continue;
                }
                int math = mathFor(k.dtype(), a.mathType());
                if (math < 0) {
                    passed.add("algo " + a.algo() + ": " + mathName(a.mathType()) + " (TF32 for F32)");
                    continue;
                }
                Cudnn.setConvolutionMathType(conv, math);
                long ws;
                try {
                    ws = switch (k.direction()) {
                        case FORWARD -> Cudnn.forwardWorkspaceSize(handle, x, w, conv, y, a.algo());
                        case BACKWARD_DATA -> Cudnn.backwardDataWorkspaceSize(handle, w, y, conv, x, a.algo());
                        case BACKWARD_FILTER -> Cudnn.backwardFilterWorkspaceSize(handle, x, y, conv, w, a.algo());
                    };
                } catch (CudnnException e) {
                    passed.add("algo " + a.algo() + ": " + e.getMessage());
                    continue;
                }
                if (ws > WORKSPACE_LIMIT) {
                    passed.add("algo " + a.algo() + ": workspace " + ws + " B over the limit of " + WORKSPACE_LIMIT
                            + " (-Djtensor.cuda.cudnn.workspaceLimit)");
                    continue;
                }
                ok = true;
                return new Plan(x, w, y, conv, a.algo(), math, ws);
            }
            throw new IllegalStateException("conv2d (cuDNN) " + k + ": no usable algorithm among the " + ranked.length + " cuDNN ranked: " + passed);
        } catch (CudnnException e) {
            throw new IllegalStateException("conv2d (cuDNN) " + k + ": " + e.getMessage(), e);
        } finally {
            if (!ok) {
                if (x != 0) Cudnn.destroyTensorDescriptor(x);
                if (y != 0) Cudnn.destroyTensorDescriptor(y);
                if (w != 0) Cudnn.destroyFilterDescriptor(w);
                if (conv != 0) Cudnn.destroyConvolutionDescriptor(conv);
            }
        }
    }

    /** A packed, 16-byte aligned array cuDNN can take as it is. */
    static boolean usable(DevArray a) {
        return a.isContiguous() && (a.address() & 15) == 0;
    }

    /** a itself when usable, else a packed copy in holder[0] (the caller closes it). */
    private static DevArray input(CudaDevice dev, DevArray a, DevArray.Temp[] holder, int slot) {
        if (usable(a)) return a;
        holder[slot] = new DevArray.Temp(dev, a.dtype(), a.shape());
        CudaElementwise.copy(dev, a, holder[slot].array);
        return holder[slot].array;
    }

    private interface Call {
        void run(long handle, Plan plan, long workspace, DevArray[] in, long out);
    }

    /**
     * Runs one cuDNN call: inputs made usable, the output written directly when usable or else through a packed
     * temporary, the plan looked up (or made), the handle bound to the current stream, a workspace from the pool.
     */
    private static void run(CudaDevice dev, Key key, DevArray out, Call call, DevArray... inputs) {
        DevArray.Temp[] temps = new DevArray.Temp[inputs.length + 1];
        try {
            DevArray[] in = new DevArray[inputs.length];
            for (int i = 0; i < inputs.length; i++) in[i] = input(dev, inputs[i], temps, i);
            DevArray target = out;
            if (!usable(out)) {
                temps[inputs.length] = new DevArray.Temp(dev, out.dtype(), out.shape());
                target = temps[inputs.length].array;
            }
            long stream = dev.enter();
            synchronized (dev) {
                State s = state(dev);
                Plan plan = plan(s, key);
                try (CudaDevice.DeviceBuffer ws = dev.temp(plan.workspaceBytes())) {
                    Cudnn.setStream(s.handle, stream);
                    call.run(s.handle, plan, plan.workspaceBytes() == 0 ? 0 : ws.address, in, target.address());
                } catch (CudnnException e) {
                    throw new IllegalStateException("conv2d (cuDNN) " + key + " with " + plan + ": " + e.getMessage(), e);
                }
            }
            if (target != out) CudaElementwise.copy(dev, target, out);
        } finally {
            for (DevArray.Temp t : temps) if (t != null) t.close();
        }
    }

    /** The weight must be [O, C/groups, KH, KW] with O a multiple of groups: the filter descriptor is built from x's C. */
    private static void checkWeight(String op, long[] xs, long[] ws, ConvParams p) {
        if (ws[1] * p.groups() != xs[1] || ws[0] % p.groups() != 0) {
            throw new IllegalArgumentException(op + ": weight " + java.util.Arrays.toString(ws) + " does not fit input channels " + xs[1]
                    + " in " + p.groups() + " group(s): expected [O, " + xs[1] / p.groups() + ", KH, KW] with O a multiple of " + p.groups());
        }
    }

    static void forward(CudaDevice dev, DevArray x, DevArray w, DevArray out, ConvParams p) {
        long[] xs = x.shape(), ws = w.shape(), os = out.shape();
        checkWeight("conv2d", xs, ws, p);
        Key key = new Key(Direction.FORWARD, x.dtype(), xs[0], xs[1], xs[2], xs[3], ws[0], ws[2], ws[3], os[2], os[3], p);
        int dt = dataType(x.dtype());
        run(dev, key, out, (h, plan, work, in, y) -> Cudnn.convolutionForward(h, Cudnn.scalars(dt, 1, 0), plan.xDesc(), in[0].address(),
                plan.wDesc(), in[1].address(), plan.convDesc(), plan.algo(), work, plan.workspaceBytes(), plan.yDesc(), y), x, w);
    }

    static void backwardData(CudaDevice dev, DevArray gradOut, DevArray w, DevArray gradIn, ConvParams p) {
        long[] xs = gradIn.shape(), ws = w.shape(), os = gradOut.shape();
        checkWeight("conv2dBackwardInput", xs, ws, p);
        Key key = new Key(Direction.BACKWARD_DATA, gradIn.dtype(), xs[0], xs[1], xs[2], xs[3], ws[0], ws[2], ws[3], os[2], os[3], p);
        int dt = dataType(gradIn.dtype());
        run(dev, key, gradIn, (h, plan, work, in, dx) -> Cudnn.convolutionBackwardData(h, Cudnn.scalars(dt, 1, 0), plan.wDesc(),
                in[1].address(), plan.yDesc(), in[0].address(), plan.convDesc(), plan.algo(), work, plan.workspaceBytes(), plan.xDesc(), dx),
                gradOut, w);
    }

    static void backwardFilter(CudaDevice dev, DevArray x, DevArray gradOut, DevArray gradW, ConvParams p) {
        long[] xs = x.shape(), ws = gradW.shape(), os = gradOut.shape();
        checkWeight("conv2dBackwardWeight", xs, ws, p);
        Key key = new Key(Direction.BACKWARD_FILTER, x.dtype(), xs[0], xs[1], xs[2], xs[3], ws[0], ws[2], ws[3], os[2], os[3], p);
        int dt = dataType(x.dtype());
        run(dev, key, gradW, (h, plan, work, in, dw) -> Cudnn.convolutionBackwardFilter(h, Cudnn.scalars(dt, 1, 0), plan.xDesc(),
                in[0].address(), plan.yDesc(), in[1].address(), plan.convDesc(), plan.algo(), work, plan.workspaceBytes(), plan.wDesc(), dw),
                x, gradOut);
    }
}
