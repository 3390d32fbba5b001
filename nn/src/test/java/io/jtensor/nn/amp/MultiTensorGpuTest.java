package io.jtensor.nn.amp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.jtensor.DType;
import io.jtensor.Device;
import io.jtensor.NDArray;
import io.jtensor.autograd.Tensor;
import io.jtensor.backend.Backends;
import io.jtensor.memory.MemoryScope;
import io.jtensor.nn.models.LeNet5;
import io.jtensor.nn.optim.Optimizer;
import io.jtensor.nn.optim.SGD;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.api.Test;

/** On cuda:0 (skipped elsewhere, saying why): the fused CUDA paths against their CPU twins, and AMP on the GPU. */
class MultiTensorGpuTest {
    private static Device gpu() {
        assumeTrue(Backends.cudaAvailable(), () -> "no CUDA GPU: " + Backends.cudaUnavailableReason());
        return Device.cuda(0);
    }

    private static void assertClose(String what, NDArray cpu, NDArray gpu, double tol) {
        double[] a = cpu.toDoubleArray(), b = gpu.toDoubleArray();
        assertEquals(a.length, b.length, what);
        for (int i = 0; i < a.length; i++) assertEquals(a[i], b[i], tol * (1 + Math.abs(a[i])), what + " element " + i);
    }

    @ParameterizedTest
    @EnumSource(names = {"F16", "BF16"})
    void unscaleAndMasterStepsMatchTheCpuTwins(DType t) {
        Device g = gpu();
        int[] sizes = MultiTensorTest.SIZES;
        try (var scope = MemoryScope.open()) {
            List<NDArray> inC = new ArrayList<>(), inG = new ArrayList<>(), outC = new ArrayList<>(), outG = new ArrayList<>();
            for (int k = 0; k < sizes.length; k++) {
                inC.add(MultiTensorTest.half(MultiTensorTest.values(k, sizes[k], 100), t, Device.cpu()));
                inG.add(inC.get(k).to(g));
                outC.add(NDArray.zeros(DType.F32, Device.cpu(), sizes[k]));
                outG.add(NDArray.zeros(DType.F32, g, sizes[k]));
            }
            NDArray fc = NDArray.zeros(DType.I32, Device.cpu(), 1), fg = NDArray.zeros(DType.I32, g, 1);
            MultiTensor.unscale(inC, outC, 1.0 / 64, fc);
            MultiTensor.unscale(inG, outG, 1.0 / 64, fg);
            assertEquals(fc.item(), fg.item());
            for (int k = 0; k < sizes.length; k++) assertClose("unscale " + k, outC.get(k), outG.get(k), 1e-7);

            List<NDArray> pC = new ArrayList<>(), pG = new ArrayList<>(), mC = new ArrayList<>(), mG = new ArrayList<>(), vC = new ArrayList<>(),
                    vG = new ArrayList<>(), cC = new ArrayList<>(), cG = new ArrayList<>();
            for (int k = 0; k < sizes.length; k++) {
                pC.add(NDArray.of(MultiTensorTest.values(50 + k, sizes[k], 1), sizes[k]));
                pG.add(pC.get(k).to(g));
                for (List<NDArray> l : List.of(mC, vC)) l.add(NDArray.zeros(DType.F32, Device.cpu(), sizes[k]));
                for (List<NDArray> l : List.of(mG, vG)) l.add(NDArray.zeros(DType.F32, g, sizes[k]));
                cC.add(NDArray.zeros(t, Device.cpu(), sizes[k]));
                cG.add(NDArray.zeros(t, g, sizes[k]));
            }
            for (int step = 1; step <= 3; step++) {
                MultiTensor.adam(pC, inC, mC, vC, cC, 1.0 / 64, 1e-2, 0.9, 0.999, 1e-8, 0.01, true, step);
                MultiTensor.adam(pG, inG, mG, vG, cG, 1.0 / 64, 1e-2, 0.9, 0.999, 1e-8, 0.01, true, step);
            }
            for (int k = 0; k < sizes.length; k++) {
                assertClose("adam master " + k, pC.get(k), pG.get(k), 1e-5);
                assertClose("adam half copy " + k, cC.get(k), cG.get(k), t == DType.F16 ? 1e-3 : 8e-3);
            }
            MultiTensor.sgd(pC, inC, mC, cC, 1.0 / 64, 0.1, 0.9, 0, 0.01, true, true);
            MultiTensor.sgd(pG, inG, mG, cG, 1.0 / 64, 0.1, 0.9, 0, 0.01, true, true);
            for (int k = 0; k < sizes.length; k++) assertClose("sgd master " + k, pC.get(k), pG.get(k), 1e-5);
        }
    }

    @Test
    void o2StepOnTheGpuSkipsOnInfAndOtherwiseMatchesTheCpu() {
        Device g = gpu();
        LeNet5 cpuModel = new LeNet5(1, 16, 16, 10, true), gpuModel = new LeNet5(1, 16, 16, 10, true);
        gpuModel.loadStateDict(cpuModel.stateDict());
        gpuModel.to(g);
        Optimizer oc = new SGD(cpuModel.parameters(), 0.05, 0.9), og = new SGD(gpuModel.parameters(), 0.05, 0.9);
        Amp ac = Amp.initialize(cpuModel, oc, OptLevel.O2), ag = Amp.initialize(gpuModel, og, OptLevel.O2);
        NDArray x = NDArray.randn(new io.jtensor.Generator(1), DType.F32, Device.cpu(), 8, 1, 16, 16).keep();
        NDArray y = NDArray.of(new long[] {0, 1, 2, 3, 4, 5, 6, 7}, 8).keep();
        for (int step = 0; step < 3; step++) {
            for (Amp amp : List.of(ac, ag)) {
                try (var scope = MemoryScope.open()) {
                    Device d = amp == ac ? Device.cpu() : g;
                    Tensor loss = amp.castOutput(amp.model().forward(amp.castInput(Tensor.wrap(x.to(d))))).crossEntropy(Tensor.wrap(y.to(d)));
                    amp.optimizer().zeroGrad();
                    amp.scaler().scale(loss).backward();
                    assertTrue(amp.scaler().step(amp.optimizer()));
                    amp.scaler().update();
                }
            }
        }
        for (int k = 0; k < ac.masterParameters().size(); k++) {
            try (NDArray back = ag.masterParameters().get(k).data().to(Device.cpu())) {
                assertClose("master " + k, ac.masterParameters().get(k).data(), back, 2e-2);
            }
        }
        // an inf gradient on the GPU skips the step
        Tensor p = ag.halfParameters().get(0);
        float[] before = ag.masterParameters().get(0).toFloatArray();
        float[] bad = new float[(int) p.numel()];
        bad[0] = Float.POSITIVE_INFINITY;
        for (Tensor h : ag.halfParameters()) h.setGrad(Tensor.zeros(h.dtype(), g, h.shape()));
        p.setGrad(Tensor.of(bad, p.shape()).to(g).to(p.dtype()));
        assertFalse(ag.scaler().step(og));
        ag.scaler().update();
        assertEquals(32768.0, ag.scaler().getScale());
        org.junit.jupiter.api.Assertions.assertArrayEquals(before, ag.masterParameters().get(0).toFloatArray());
    }
}
