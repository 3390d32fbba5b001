package io.jtensor.autograd;

import static org.junit.jupiter.api.Assertions.*;

import io.jtensor.DType;
import io.jtensor.Device;
import io.jtensor.Generator;
import io.jtensor.backend.Backends;
import io.jtensor.memory.MemoryScope;
import io.jtensor.memory.MemoryStats;
import java.util.List;
import org.junit.jupiter.api.Test;

class MemoryTest {
    /** A logical device of this class's own, so that the collector freeing other tests' garbage can't move the counts. */
    private static final Device OWN = Device.cpu(5);

    private static MemoryStats cpu() { return Backends.cpu().allocator().stats(OWN); }

    @Test void backwardReleasesWhatTheGraphSaved() {
        Tensor x = Tensor.randn(new Generator(1), DType.F32, OWN, 64).requiresGrad(true);
        long before = cpu().allocated();
        Tensor y = x.exp();
        Tensor s = y.sum();
        s.backward();
        y.close();
        s.close();
        x.zeroGrad();
        assertEquals(before, cpu().allocated(), "nothing the graph saved outlives backward");
        x.close();
    }

    @Test void retainedGraphKeepsItsArraysUntilTheLastBackward() {
        Tensor x = Tensor.randn(new Generator(2), DType.F32, OWN, 64).requiresGrad(true);
        long before = cpu().allocated();
        Tensor y = x.exp();
        Tensor s = y.sum();
        s.backward(true);
        y.close();
        x.zeroGrad();
        assertTrue(cpu().allocated() > before, "exp's saved output is still held by the retained graph");
        s.backward();
        s.close();
        x.zeroGrad();
        assertEquals(before, cpu().allocated());
        x.close();
    }

    /** Keeps a tensor made inside a setup scope alive after it. */
    private static Tensor kept(MemoryScope scope, Tensor t) {
        scope.keep(t.data());
        return t;
    }

    /**
     * A 4-16-3 MLP trained by hand-written SGD, one MemoryScope per step: memory must not grow, the loss must fall.
     * Everything the test makes is closed explicitly, so that no collector-freed garbage can move the counters.
     */
    @Test void trainingStepsInAScopeStayFlat() {
        Generator gen = new Generator(7);
        Tensor w1, b1, w2, b2, x, labels;
        try (MemoryScope setup = MemoryScope.open()) {
            w1 = kept(setup, Tensor.randn(gen, DType.F32, OWN, 4, 16).mul(0.5)).requiresGrad(true);
            b1 = kept(setup, Tensor.zeros(DType.F32, OWN, 16)).requiresGrad(true);
            w2 = kept(setup, Tensor.randn(gen, DType.F32, OWN, 16, 3).mul(0.5)).requiresGrad(true);
            b2 = kept(setup, Tensor.zeros(DType.F32, OWN, 3)).requiresGrad(true);
            // 3 classes decided by a fixed linear rule of the inputs, so that the data can be fitted
            x = kept(setup, Tensor.randn(gen, DType.F32, OWN, 32, 4));
            Tensor rule = Tensor.of(new float[] {1, -1, 0, 0, 1, -1, -1, 0, 1, 0.5f, 0.5f, -0.5f}, 4, 3).to(OWN);
            labels = kept(setup, x.matmul(rule).argmax(1, false));
        }
        List<Tensor> params = List.of(w1, b1, w2, b2);

        int steps = 200;
        long[] allocated = new long[steps];
        long[] live = new long[steps];
        double first = 0, last = 0;
        for (int step = 0; step < steps; step++) {
            try (MemoryScope scope = MemoryScope.open()) {
                for (Tensor p : params) p.zeroGrad();
                Tensor h = x.matmul(w1).add(b1).relu();
                Tensor loss = h.matmul(w2).add(b2).crossEntropy(labels);
                loss.backward();
                double l = loss.item();
                if (step == 0) first = l;
                last = l;
                try (var g = GradMode.noGrad()) {
                    for (Tensor p : params) p.data().addInPlace(p.grad().data(), -0.5);
                }
            }
            allocated[step] = cpu().allocated();
            live[step] = cpu().count();
        }
        for (int step = 1; step < steps; step++) {
            assertEquals(allocated[0], allocated[step], "allocated bytes after step " + step);
            assertEquals(live[0], live[step], "live allocations after step " + step);
        }
        assertTrue(last < 0.5 * first, "loss fell from " + first + " to " + last);
        for (Tensor t : List.of(w1, b1, w2, b2, x, labels)) t.close();
    }
}
