package io.jtensor.backend.cuda;

import io.jtensor.DType;
import io.jtensor.NDArray;
import io.jtensor.backend.Backends;
import io.jtensor.bindings.cuda.CudaDriver;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.List;

/**
 * Fused multi-tensor steps for training on a GPU (kernels/cu/optim.cu, amp.cu): one launch updates every parameter
 * of a list, where composing NDArray ops would take several launches and passes per tensor. All tensors of one
 * call are contiguous, on one device; parameters and gradients share a dtype (F16, BF16 or F32); optimizer state is
 * F32. Semantics follow torch.optim.SGD / Adam / AdamW and torch.cuda.amp's unscale.
 */
public final class CudaFused {
    private static final int MAX_TENSORS_PER_LAUNCH = 65535;

    private CudaFused() {}

    private static void check(String op, List<NDArray> a, DType dtype, String what) {
        for (NDArray x : a) {
            if (x == null) continue;
            if (!x.isContiguous()) throw new IllegalArgumentException(op + ": " + what + " must be contiguous, got strides " + java.util.Arrays.toString(x.strides()));
            if (x.dtype() != dtype) throw new IllegalArgumentException(op + ": " + what + " must be " + dtype + ", got " + x.dtype());
        }
    }

    private static String suffix(String op, DType t) {
        if (t != DType.F16 && t != DType.BF16 && t != DType.F32) throw new IllegalArgumentException(op + ": expected F16, BF16 or F32 parameters, got " + t);
        return KernelCodes.suffix(t);
    }

    /**
     * SGD with momentum, dampening, weight decay and Nesterov: {@code momentumBuffers} (F32, one per parameter) is
     * ignored when momentum is 0; {@code first} initialises the buffers with the gradient, as PyTorch's first step.
     */
    public static void sgd(List<NDArray> params, List<NDArray> grads, List<NDArray> momentumBuffers, double lr, double momentum,
                           double dampening, double weightDecay, boolean nesterov, boolean first) {
        if (params.isEmpty()) return;
        DType t = params.get(0).dtype();
        String sfx = suffix("sgd", t);
        check("sgd", params, t, "parameters");
        check("sgd", grads, t, "gradients");
        if (momentum != 0) check("sgd", momentumBuffers, DType.F32, "momentum buffers");
        CudaDevice dev = Backends.cuda().device(params.get(0).device());
        launchList(dev, "optim_sgd_" + sfx, params, grads, momentum != 0 ? momentumBuffers : null, null, args -> {
            MemorySegment s = args.struct(24);
            s.set(ValueLayout.JAVA_FLOAT, 0, (float) lr);
            s.set(ValueLayout.JAVA_FLOAT, 4, (float) momentum);
            s.set(ValueLayout.JAVA_FLOAT, 8, (float) dampening);
            s.set(ValueLayout.JAVA_FLOAT, 12, (float) weightDecay);
            s.set(ValueLayout.JAVA_INT, 16, nesterov ? 1 : 0);
            s.set(ValueLayout.JAVA_INT, 20, first ? 1 : 0);
        });
    }

    /**
     * One Adam (decoupled = false: L2 penalty added to the gradient) or AdamW (decoupled = true) step; {@code step}
     * counts from 1 and sets the bias corrections 1 - beta^step.
     */
    public static void adam(List<NDArray> params, List<NDArray> grads, List<NDArray> expAvg, List<NDArray> expAvgSq, double lr,
                            double beta1, double beta2, double eps, double weightDecay, boolean decoupled, long step) {
        if (params.isEmpty()) return;
        if (step < 1) throw new IllegalArgumentException("adam: step counts from 1, got " + step);
        DType t = params.get(0).dtype();
        String sfx = suffix("adam", t);
        check("adam", params, t, "parameters");
        check("adam", grads, t, "gradients");
        check("adam", expAvg, DType.F32, "first moments");
        check("adam", expAvgSq, DType.F32, "second moments");
        CudaDevice dev = Backends.cuda().device(params.get(0).device());
        double bc1 = 1 - Math.pow(beta1, step), bc2 = 1 - Math.pow(beta2, step);
        launchList(dev, "optim_adam_" + sfx, params, grads, expAvg, expAvgSq, args -> {
            MemorySegment s = args.struct(32);
            float[] v = {(float) lr, (float) beta1, (float) beta2, (float) eps, (float) weightDecay, (float) bc1, (float) bc2};
            for (int i = 0; i < v.length; i++) s.set(ValueLayout.JAVA_FLOAT, 4L * i, v[i]);
            s.set(ValueLayout.JAVA_INT, 28, decoupled ? 1 : 0);
        });
    }

    /**
     * Multiplies every gradient by invScale in place and sets {@code foundInf} (a one-element I32 array on the same
     * device, not reset here) to 1 when any gradient held an inf or NaN. Nothing waits for the GPU.
     */
    public static void ampUnscale(List<NDArray> grads, double invScale, NDArray foundInf) {
        if (grads.isEmpty()) return;
        DType t = grads.get(0).dtype();
        String sfx = suffix("ampUnscale", t);
        check("ampUnscale", grads, t, "gradients");
        if (foundInf.dtype() != DType.I32 || foundInf.numel() != 1) {
            throw new IllegalArgumentException("ampUnscale: foundInf must be a one-element I32 array, got " + foundInf.dtype() + " "
                    + java.util.Arrays.toString(foundInf.shape()));
        }
        CudaDevice dev = Backends.cuda().device(grads.get(0).device());
        long stream = dev.enter();
        for (int from = 0; from < grads.size(); from += MAX_TENSORS_PER_LAUNCH) {
            List<NDArray> part = grads.subList(from, Math.min(grads.size(), from + MAX_TENSORS_PER_LAUNCH));
            try (Arena arena = Arena.ofConfined(); CudaDevice.DeviceBuffer list = dev.temp(16L * part.size())) {
                MemorySegment host = arena.allocate(16L * part.size(), 8);
                long maxN = 0;
                for (int i = 0; i < part.size(); i++) {
                    host.set(ValueLayout.JAVA_LONG, 16L * i, part.get(i).dataAddress());
                    host.set(ValueLayout.JAVA_LONG, 16L * i + 8, part.get(i).numel());
                    maxN = Math.max(maxN, part.get(i).numel());
                }
                CudaDriver.cuMemcpyHtoDAsync(list.address, host, host.byteSize(), stream);
                KernelArgs.start().ptr(list.address).f32((float) invScale).ptr(foundInf.dataAddress())
                        .launch(dev.gpu.function("amp_unscale_" + sfx), dev.grid(Math.max(maxN, 1), 256), part.size(), 1, 256, 0, stream);
            }
        }
    }

    private interface Scalars {
        void write(KernelArgs args);
    }

    /** Builds the OptimTensor list {p, g, s1, s2, n} on the device and launches one block row per tensor. */
    private static void launchList(CudaDevice dev, String kernel, List<NDArray> p, List<NDArray> g, List<NDArray> s1, List<NDArray> s2,
                                   Scalars scalars) {
        int n = p.size();
        if (g.size() != n || (s1 != null && s1.size() != n) || (s2 != null && s2.size() != n)) {
            throw new IllegalArgumentException(kernel + ": parameter, gradient and state lists differ in length");
        }
        long stream = dev.enter();
        for (int from = 0; from < n; from += MAX_TENSORS_PER_LAUNCH) {
            int count = Math.min(n - from, MAX_TENSORS_PER_LAUNCH);
            try (Arena arena = Arena.ofConfined(); CudaDevice.DeviceBuffer list = dev.temp(40L * count)) {
                MemorySegment host = arena.allocate(40L * count, 8);
                long maxN = 0;
                for (int i = 0; i < count; i++) {
                    int k = from + i;
                    long numel = p.get(k).numel();
                    if (g.get(k).numel() != numel) throw new IllegalArgumentException(kernel + ": gradient " + k + " has " + g.get(k).numel() + " elements, parameter " + numel);
                    host.set(ValueLayout.JAVA_LONG, 40L * i, p.get(k).dataAddress());
                    host.set(ValueLayout.JAVA_LONG, 40L * i + 8, g.get(k).dataAddress());
                    host.set(ValueLayout.JAVA_LONG, 40L * i + 16, s1 == null ? 0 : s1.get(k).dataAddress());
                    host.set(ValueLayout.JAVA_LONG, 40L * i + 24, s2 == null ? 0 : s2.get(k).dataAddress());
                    host.set(ValueLayout.JAVA_LONG, 40L * i + 32, numel);
                    maxN = Math.max(maxN, numel);
                }
                CudaDriver.cuMemcpyHtoDAsync(list.address, host, host.byteSize(), stream);
                KernelArgs args = KernelArgs.start().ptr(list.address);
                scalars.write(args);
                args.launch(dev.gpu.function(kernel), dev.grid(Math.max(maxN, 1), 256), count, 1, 256, 0, stream);
            }
        }
    }
}
