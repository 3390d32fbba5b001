package io.jtensor.nn.amp;

import io.jtensor.DType;
import io.jtensor.Device;
import io.jtensor.NDArray;
import io.jtensor.backend.cuda.CudaFused;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Fused passes over many tensors at once, for mixed-precision training: the unscale with its inf/NaN check, and
 * optimizer steps that read (half) gradients and update fp32 masters and their half copies. On the CPU each is one
 * pass per tensor ({@link CpuMultiTensor}); on CUDA they launch the multi-tensor kernels of kernels/cu/amp.cu and
 * optim.cu through {@link CudaFused}, one launch per list (up to 65535 tensors, each walked by a grid-stride loop:
 * Apex's multi-tensor apply with one tensor per block row).
 *
 * <p>Contract: every array of a call is contiguous and on one device; gradients, masters, state and copies are
 * floating (masters and state F32); lists are index-aligned. {@code foundInf} is a one-element I32 array on that
 * device, set to 1 (never reset) when an input held an inf or NaN; nothing here waits for the device.
 *
 * <p>The CUDA kernels take parameters and gradients of one dtype and unscale in place; where a call mixes them
 * (half gradients for fp32 masters) the CUDA path first casts the gradients to F32 (one extra pass per tensor),
 * and copies the masters into their half copies after the step. A kernel reading the half gradients directly is the
 * next step for optim.cu (noted in kernels/cu/NOTES.md).
 */
public final class MultiTensor {
    private MultiTensor() {}

    /** out[k] = in[k] * invScale (out may be in itself, or an F32 array of its shape) and the inf/NaN check. */
    public static void unscale(List<NDArray> in, List<NDArray> out, double invScale, NDArray foundInf) {
        checkLists("unscale", in, out);
        if (in.isEmpty()) return;
        Device d = in.get(0).device();
        check("unscale", in, d, null, "gradients");
        check("unscale", out, d, null, "outputs");
        if (foundInf.dtype() != DType.I32 || foundInf.numel() != 1 || !foundInf.device().equals(d)) {
            throw new IllegalArgumentException("MultiTensor.unscale: expected foundInf a one-element I32 array on " + d + ", got "
                    + foundInf.dtype() + " " + Arrays.toString(foundInf.shape()) + " on " + foundInf.device());
        }
        if (!d.isCuda()) {
            CpuMultiTensor.unscale(in, out, (float) invScale, foundInf);
            return;
        }
        // The kernel unscales in place, one dtype per launch: copy into the outputs first where they differ.
        Map<DType, List<NDArray>> byType = new LinkedHashMap<>();
        for (int k = 0; k < in.size(); k++) {
            NDArray o = out.get(k);
            if (o != in.get(k)) o.copyFrom(in.get(k));
            byType.computeIfAbsent(o.dtype(), t -> new ArrayList<>()).add(o);
        }
        byType.values().forEach(list -> CudaFused.ampUnscale(list, invScale, foundInf));
    }

    /** One SGD step of each master from its gradient times invScale; copies (or null) receive the new masters. */
    public static void sgd(List<NDArray> masters, List<NDArray> grads, List<NDArray> buffers, List<NDArray> copies, double invScale,
                           double lr, double momentum, double dampening, double weightDecay, boolean nesterov, boolean first) {
        checkStep("sgd", masters, grads, copies);
        if (momentum != 0) {
            checkLists("sgd", masters, buffers);
            check("sgd", buffers, masters.get(0).device(), DType.F32, "momentum buffers");
        }
        if (masters.isEmpty()) return;
        if (!masters.get(0).device().isCuda()) {
            CpuMultiTensor.sgd(masters, grads, buffers, copies, (float) invScale, (float) lr, (float) momentum, (float) dampening,
                    (float) weightDecay, nesterov, first);
            return;
        }
        List<NDArray> g32 = fp32Gradients(grads, invScale);
        try {
            CudaFused.sgd(masters, g32, buffers, lr, momentum, dampening, weightDecay, nesterov, first);
        } finally {
            closeTemps(g32, grads);
        }
        copyBack(masters, copies);
    }

    /** One Adam/AdamW step (step counts from 1) of each master from its gradient times invScale; copies receive them. */
    public static void adam(List<NDArray> masters, List<NDArray> grads, List<NDArray> expAvg, List<NDArray> expAvgSq, List<NDArray> copies,
                            double invScale, double lr, double beta1, double beta2, double eps, double weightDecay, boolean decoupled,
                            long step) {
        checkStep("adam", masters, grads, copies);
        checkLists("adam", masters, expAvg);
        checkLists("adam", masters, expAvgSq);
        if (masters.isEmpty()) return;
        if (step < 1) throw new IllegalArgumentException("MultiTensor.adam: step counts from 1, got " + step);
        Device d = masters.get(0).device();
        check("adam", expAvg, d, DType.F32, "first moments");
        check("adam", expAvgSq, d, DType.F32, "second moments");
        double bc1 = 1 - Math.pow(beta1, step), bc2 = 1 - Math.pow(beta2, step);
        if (!d.isCuda()) {
            CpuMultiTensor.adam(masters, grads, expAvg, expAvgSq, copies, (float) invScale, (float) lr, (float) beta1, (float) beta2,
                    (float) eps, (float) weightDecay, decoupled, (float) bc1, (float) bc2);
            return;
        }
        List<NDArray> g32 = fp32Gradients(grads, invScale);
        try {
            CudaFused.adam(masters, g32, expAvg, expAvgSq, lr, beta1, beta2, eps, weightDecay, decoupled, step);
        } finally {
            closeTemps(g32, grads);
        }
        copyBack(masters, copies);
    }

    // ------------------------------------------------------------------ CUDA composition

    /** F32 gradients times invScale: the gradients themselves when already F32 and unscaled. */
    private static List<NDArray> fp32Gradients(List<NDArray> grads, double invScale) {
        List<NDArray> out = new ArrayList<>(grads.size());
        boolean allF32 = grads.stream().allMatch(g -> g.dtype() == DType.F32);
        if (allF32 && invScale == 1) return grads;
        for (NDArray g : grads) out.add(g.dtype() == DType.F32 ? g.copy() : g.to(DType.F32));
        try (NDArray ignored = NDArray.zeros(DType.I32, grads.get(0).device(), 1)) {
            CudaFused.ampUnscale(out, invScale, ignored);
        }
        return out;
    }

    private static void closeTemps(List<NDArray> temps, List<NDArray> originals) {
        if (temps != originals) temps.forEach(NDArray::close);
    }

    private static void copyBack(List<NDArray> masters, List<NDArray> copies) {
        if (copies == null) return;
        for (int k = 0; k < masters.size(); k++) copies.get(k).copyFrom(masters.get(k));
    }

    // ------------------------------------------------------------------ checks

    private static void checkStep(String op, List<NDArray> masters, List<NDArray> grads, List<NDArray> copies) {
        checkLists(op, masters, grads);
        if (copies != null) checkLists(op, masters, copies);
        if (masters.isEmpty()) return;
        Device d = masters.get(0).device();
        check(op, masters, d, DType.F32, "masters");
        check(op, grads, d, null, "gradients");
        if (copies != null) check(op, copies, d, null, "half copies");
        for (int k = 0; k < masters.size(); k++) {
            if (grads.get(k).numel() != masters.get(k).numel()) {
                throw new IllegalArgumentException("MultiTensor." + op + ": gradient " + k + " has " + grads.get(k).numel()
                        + " elements, its master " + masters.get(k).numel());
            }
        }
    }

    private static void checkLists(String op, List<NDArray> a, List<NDArray> b) {
        if (b == null || a.size() != b.size()) {
            throw new IllegalArgumentException("MultiTensor." + op + ": expected index-aligned lists of " + a.size() + " arrays, got "
                    + (b == null ? "none" : b.size()));
        }
    }

    private static void check(String op, List<NDArray> list, Device d, DType want, String what) {
        for (int k = 0; k < list.size(); k++) {
            NDArray a = list.get(k);
            if (!a.isContiguous()) throw new IllegalArgumentException("MultiTensor." + op + ": " + what + " " + k + " must be contiguous");
            if (!a.device().equals(d)) throw new IllegalArgumentException("MultiTensor." + op + ": " + what + " " + k + " is on " + a.device() + ", expected " + d);
            DType t = a.dtype();
            if (want != null ? t != want : t != DType.F32 && t != DType.F16 && t != DType.BF16) {
                throw new IllegalArgumentException("MultiTensor." + op + ": expected " + what + " of dtype "
                        + (want != null ? want : "F32, F16 or BF16") + ", got " + t + " at " + k);
            }
        }
    }
}
