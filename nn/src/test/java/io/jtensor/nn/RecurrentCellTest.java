package io.jtensor.nn;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.jtensor.DType;
import io.jtensor.NDArray;
import io.jtensor.autograd.Tensor;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * RNNCell, LSTMCell and GRUCell against PyTorch 1.13's cells (Debian's python3-torch 1.13.1, run once, float64):
 * input 3, hidden 2, batch 2, every parameter ((i * 37) % 101 - 50) / (60 + numel), x = vals / 10, h = vals / 15,
 * c = vals / 12. Catches a wrong gate order, a missing bias, relu vs tanh, the unbatched form, and state-dict keys.
 */
class RecurrentCellTest {
    static NDArray vals(int n, double k, long... shape) {
        double[] v = new double[n];
        for (int i = 0; i < n; i++) v[i] = ((i * 37) % 101 - 50) / k;
        return NDArray.of(v, shape);
    }

    static <M extends RecurrentCell> M load(M m) {
        m.to(DType.F64);
        Map<String, NDArray> sd = new LinkedHashMap<>();
        for (var e : m.stateDict().entrySet()) {
            int n = Math.toIntExact(e.getValue().numel());
            sd.put(e.getKey(), vals(n, 60.0 + n, e.getValue().shape()));
        }
        m.loadStateDict(sd);
        return m;
    }

    static final Tensor X = Tensor.wrap(vals(6, 10, 2, 3)), H = Tensor.wrap(vals(4, 15, 2, 2)), C = Tensor.wrap(vals(4, 12, 2, 2));

    @Test
    void cellsMatchPyTorch() {
        NnTesting.assertClose(new double[] {0.9999896114005741, 0.9966695845486094, 0.964345605385625, 0.9999885814355146},
                load(new RNNCell(3, 2)).forward(X, H), 1e-12, "RNNCell tanh");
        NnTesting.assertClose(new double[] {6.083971774193549, 3.198069403714565, 2.004521016617791, 6.036705767350929},
                load(new RNNCell(3, 2, true, true, null)).forward(X, H), 1e-12, "RNNCell relu");
        Tensor[] hc = load(new LSTMCell(3, 2)).forward(X, H, C);
        NnTesting.assertClose(new double[] {-0.07175221062896889, -0.5430511477903449, 0.03233487389397839, 0.10580841910398042}, hc[0], 1e-12, "LSTMCell h");
        NnTesting.assertClose(new double[] {-5.011853858369318, -0.9084462717036288, 2.1814084882980804, 0.788666674776936}, hc[1], 1e-12, "LSTMCell c");
        GRUCell gru = load(new GRUCell(3, 2));
        NnTesting.assertClose(new double[] {-3.2721179937062868, -0.696439943314094, 1.5176924128574876, 0.8102809928409368}, gru.forward(X, H), 1e-12, "GRUCell");
        Tensor unbatched = gru.forward(X.select(0, 0));
        assertEquals(1, unbatched.dim());
        NnTesting.assertClose(new double[] {-0.015586162909601797, -0.3447882754098095}, unbatched, 1e-12, "GRUCell, [I] input and zero state");
        assertEquals(List.of("weight_ih", "weight_hh", "bias_ih", "bias_hh"), new ArrayList<>(new LSTMCell(3, 2).stateDict().keySet()));
    }

    @Test
    void badShapesNameTheCell() {
        var e = assertThrows(IllegalArgumentException.class, () -> new GRUCell(3, 2).forward(Tensor.zeros(2, 4)));
        assertEquals("GRUCell: expected input [B, 3] or [3], got [2, 4]", e.getMessage());
        var e2 = assertThrows(IllegalArgumentException.class, () -> new LSTMCell(3, 2).forward(Tensor.zeros(2, 3), Tensor.zeros(2, 2), null));
        assertEquals("LSTMCell: give both h and c, or neither", e2.getMessage());
    }
}
