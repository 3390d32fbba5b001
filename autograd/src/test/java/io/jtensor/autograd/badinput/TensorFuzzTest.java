package io.jtensor.autograd.badinput;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jtensor.DType;
import io.jtensor.Device;
import io.jtensor.autograd.Tensor;
import io.jtensor.backend.Backends;
import io.jtensor.memory.MemoryScope;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;

/**
 * Builds random graphs from random (often ill-fitting) ops on tensors that require grad, with misuse mixed in:
 * backward twice, backward of a non-scalar, ops on a closed tensor. Every failure must be an
 * IllegalArgumentException, IndexOutOfBoundsException or IllegalStateException naming the op, a failed op must leave
 * the graph usable, backward must give every leaf a gradient of its own shape, dtype and device, and after each graph
 * nothing may remain allocated on the device it used.
 */
class TensorFuzzTest {
    private static final long SEED = Long.getLong("jtensor.fuzz.seed", 0xA7_06_12L);
    private static final int GRAPHS = Integer.getInteger("jtensor.fuzz.graphs", 300);
    private static final Device HOME = Device.cpu(5);

    private Random rnd;
    private int failures, successes;

    @Test
    void randomGraphsFailCleanlyAndBackpropagateIntoEveryLeaf() {
        rnd = new Random(SEED);
        long baseline = Backends.of(HOME).allocator().stats(HOME).count();
        int withGrads = 0;
        for (int g = 0; g < GRAPHS; g++) {
            List<Tensor> leaves = new ArrayList<>();
            try (MemoryScope scope = MemoryScope.open()) {
                if (runGraph(g, leaves)) withGrads++;
            }
            for (Tensor leaf : leaves) leaf.close();
            int at = g;
            assertEquals(baseline, Backends.of(HOME).allocator().stats(HOME).count(), () -> "graph " + at + " left arrays allocated");
        }
        assertTrue(withGrads > GRAPHS / 3, "only " + withGrads + " graphs reached backward");
        assertTrue(failures > 100 && successes > 100, "failures " + failures + ", successes " + successes);
    }

    /** Builds and differentiates one graph; returns whether a backward pass ran. */
    private boolean runGraph(int graph, List<Tensor> leaves) {
        DType dt = rnd.nextBoolean() ? DType.F32 : DType.F64;
        int nLeaves = 1 + rnd.nextInt(3);
        for (int i = 0; i < nLeaves; i++) {
            Tensor leaf = Tensor.rand(new io.jtensor.Generator(rnd.nextLong()), dt, HOME, randomShape()).add(0.5);
            leaf.requiresGrad(true);
            leaf.data().keep(); // the leaf outlives the scope; closed by the caller
            leaves.add(leaf);
        }
        List<Tensor> pool = new ArrayList<>(leaves);
        for (int step = 0; step < 6; step++) {
            Tensor a = pool.get(rnd.nextInt(pool.size())), b = pool.get(rnd.nextInt(pool.size()));
            String[] op = new String[1];
            Supplier<Tensor> call = pick(a, b, op);
            Tensor r = attempt(graph, op[0], call);
            if (r != null) pool.add(r);
        }
        Tensor last = pool.get(pool.size() - 1);
        if (!last.requiresGrad() || !last.dtype().isFloating()) return false;
        if (last.numel() != 1 && rnd.nextInt(4) == 0) {
            attempt(graph, "backward", () -> { last.backward(); return null; }); // must fail: not a scalar
        }
        Tensor loss = last.sum();
        loss.backward(rnd.nextInt(5) == 0);
        if (rnd.nextInt(3) == 0) attempt(graph, "backward", () -> { loss.backward(); return null; }); // freed unless retained
        for (Tensor leaf : leaves) {
            if (leaf.grad() == null) continue;
            assertArrayEquals(leaf.shape(), leaf.grad().shape(), "graph " + graph);
            assertEquals(leaf.dtype(), leaf.grad().dtype());
            assertEquals(leaf.device(), leaf.grad().device());
        }
        return true;
    }

    private Tensor attempt(int graph, String op, Supplier<Tensor> call) {
        try {
            Tensor r = call.get();
            successes++;
            return r;
        } catch (IllegalArgumentException | IndexOutOfBoundsException | IllegalStateException e) {
            if (e instanceof ArrayIndexOutOfBoundsException) throw new AssertionError("graph " + graph + ", " + op + ": " + e, e);
            String m = e.getMessage();
            if (m == null || !m.contains(op)) throw new AssertionError("graph " + graph + ": message of " + e + " does not name " + op, e);
            failures++;
            return null;
        } catch (RuntimeException | Error e) {
            throw new AssertionError("graph " + graph + ", " + op + " threw " + e, e);
        }
    }

    private long[] randomShape() {
        long[] s = new long[1 + rnd.nextInt(3)];
        for (int i = 0; i < s.length; i++) s[i] = 1 + rnd.nextInt(3);
        return s;
    }

    private Supplier<Tensor> pick(Tensor a, Tensor b, String[] op) {
        int d = rnd.nextInt(7) - 3, d2 = rnd.nextInt(7) - 3;
        switch (rnd.nextInt(20)) {
            case 0 -> { op[0] = "add"; return () -> a.add(b); }
            case 1 -> { op[0] = "mul"; return () -> a.mul(b); }
            case 2 -> { op[0] = "div"; return () -> a.div(b); }
            case 3 -> { op[0] = "matmul"; return () -> a.matmul(b); }
            case 4 -> { op[0] = "sum"; boolean k = rnd.nextBoolean(); return () -> a.sum(d, k); }
            case 5 -> { op[0] = "mean"; return () -> a.mean(d, true); }
            case 6 -> { op[0] = "transpose"; return () -> a.transpose(d, d2); }
            case 7 -> { op[0] = "reshape"; long[] t = randomShape(); return () -> rnd.nextBoolean() ? a.reshape(-1) : a.reshape(t); }
            case 8 -> { op[0] = "softmax"; return () -> a.softmax(d); }
            case 9 -> { op[0] = "logSoftmax"; return () -> a.logSoftmax(d); }
            case 10 -> { op[0] = "narrow"; long s = rnd.nextInt(4) - 1, l = rnd.nextInt(3); return () -> a.narrow(d, s, l); }
            case 11 -> { op[0] = "select"; long i = rnd.nextInt(5) - 2; return () -> a.select(d, i); }
            case 12 -> { op[0] = "unsqueeze"; return () -> a.unsqueeze(d); }
            case 13 -> { op[0] = "cat"; return () -> Tensor.cat(List.of(a, b), d); }
            case 14 -> { op[0] = "expand"; long[] t = randomShape(); return () -> a.expand(t); }
            case 15 -> {
                op[0] = "gather";
                long[] shape = a.shape();
                long[] ix = new long[(int) a.numel()];
                for (int i = 0; i < ix.length; i++) ix[i] = rnd.nextInt(5) - 1;
                return () -> a.gather(d, Tensor.of(ix, shape).to(a.device()));
            }
            case 16 -> {
                op[0] = "crossEntropy";
                long n = a.dim() == 2 ? a.shape()[0] : 1;
                long[] t = new long[(int) n];
                for (int i = 0; i < t.length; i++) t[i] = rnd.nextInt(4) - 1;
                return () -> a.crossEntropy(Tensor.of(t, n).to(a.device()));
            }
            case 17 -> {
                op[0] = "add"; // on a tensor closed mid-graph: saved references keep backward working
                return () -> {
                    Tensor c = a.mul(1.0);
                    c.close();
                    return b.add(c);
                };
            }
            case 18 -> { op[0] = "pow"; return () -> a.pow(2.0).tanh(); }
            default -> { op[0] = "permute"; int[] p = {d, d2, 0}; return () -> a.permute(java.util.Arrays.copyOf(p, a.dim())); }
        }
    }
}
