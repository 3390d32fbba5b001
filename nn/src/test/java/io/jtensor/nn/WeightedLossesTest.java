package io.jtensor.nn;

import io.jtensor.NDArray;
import io.jtensor.autograd.Tensor;
import java.util.Map;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Cross-entropy with a class weight and with probability targets, and weighted NLL, against PyTorch 1.13
 * (Debian's python3-torch 1.13.1, run once, float64): F.cross_entropy / F.nll_loss on logits
 * ((i * 37) % 101 - 50) / 17 [4, 3] and / 13 [2, 3, 2], targets with an ignored position, weight [0.2, 1, 2.5],
 * probabilities softmax(((i * 37) % 101 - 50) / 9), smoothing 0 and 0.1, every reduction, and two gradients. Catches
 * the weighted mean's denominator (PyTorch divides by the targets' summed weights for indices, by N for
 * probabilities), smoothing's weighting, the ignored positions, and the spatial layout.
 */
class WeightedLossesTest {
    static final Map<String, double[]> PYTORCH = Map.ofEntries(
        Map.entry("ce_w_mean_0.0", new double[] {0.35670269640541535}),
        Map.entry("ce3_w_mean_0.0", new double[] {0.3671081477580477}),
        Map.entry("ce_p_mean_0.0", new double[] {0.1579237174139783}),
        Map.entry("ce_pw_mean_0.0", new double[] {0.28258222539207073}),
        Map.entry("ce_w_mean_0.1", new double[] {0.476844926184284}),
        Map.entry("ce3_w_mean_0.1", new double[] {0.5113261404893763}),
        Map.entry("ce_p_mean_0.1", new double[] {0.3669988390178967}),
        Map.entry("ce_pw_mean_0.1", new double[] {0.427510251181368}),
        Map.entry("nll_w_mean", new double[] {0.35670269640541535}),
        Map.entry("ce_w_sum_0.0", new double[] {1.3197999767000368}),
        Map.entry("ce3_w_sum_0.0", new double[] {1.3583001467047764}),
        Map.entry("ce_p_sum_0.0", new double[] {0.6316948696559131}),
        Map.entry("ce_pw_sum_0.0", new double[] {1.130328901568283}),
        Map.entry("ce_w_sum_0.1", new double[] {1.764326226881851}),
        Map.entry("ce3_w_sum_0.1", new double[] {1.891906719810692}),
        Map.entry("ce_p_sum_0.1", new double[] {1.4679953560715868}),
        Map.entry("ce_pw_sum_0.1", new double[] {1.710041004725472}),
        Map.entry("nll_w_sum", new double[] {1.3197999767000368}),
        Map.entry("ce_w_none_0.0", new double[] {0.29736725698417316, 0.0, 0.8943776158528517, 0.12805510386301192}),
        Map.entry("ce3_w_none_0.0", new double[] {0.12105501709970332, 0.07457258772359407, 1.162672541881479, 0.0}),
        Map.entry("ce_p_none_0.0", new double[] {0.1551839182241119, 0.1551839182241121, 0.15518391822411187, 0.16614311498357742}),
        Map.entry("ce_pw_none_0.0", new double[] {0.3297355791309786, 0.32973557913097906, 0.3297355791309786, 0.14112216417534665}),
        Map.entry("ce_w_none_0.1", new double[] {0.38386927674795546, 0.0, 0.9211785997297661, 0.45927835040412923}),
        Map.entry("ce3_w_none_0.1", new double[] {0.3349052751910041, 0.2846403971250858, 1.2723610474946023, 0.0}),
        Map.entry("ce_p_none_0.1", new double[] {0.3692072755045971, 0.36920727550459725, 0.369207275504597, 0.36037352955779534}),
        Map.entry("ce_pw_none_0.1", new double[] {0.41300076668008034, 0.4130007666800808, 0.41300076668008034, 0.4710387046852305}),
        Map.entry("nll_w_none", new double[] {0.29736725698417316, 0.0, 0.8943776158528517, 0.12805510386301192}),
        Map.entry("grad_ce_w", new double[] {0.005527130301775473, 0.05559654645971258, -0.061123676761487986, 0.0, 0.0, 0.0, -0.0495137470495719, -0.0007518382960122901, 0.05026558534558419, 0.025802235474838668, -0.008918825740334688, -0.016883409734503967}),
        Map.entry("grad_ce_pw", new double[] {0.0050369780146171, 0.04723780951197422, -0.052274787526591246, 0.0050369780146171, 0.047237809511974246, -0.05227478752659137, 0.005036978014617101, 0.047237809511974226, -0.052274787526591246, 0.0228795744268019, -0.006757578469091, -0.01612199595771085}));

    static Tensor vals(int n, double k, long... shape) {
        double[] v = new double[n];
        for (int i = 0; i < n; i++) v[i] = ((i * 37) % 101 - 50) / k;
        return Tensor.wrap(NDArray.of(v, shape));
    }

    static final Tensor X = vals(12, 17, 4, 3), X3 = vals(12, 13, 2, 3, 2);
    static final Tensor Y = Tensor.of(new long[] {2, -100, 0, 1}, 4), Y3 = Tensor.of(new long[] {1, 2, 0, -100}, 2, 2);
    static final Tensor W = Tensor.of(new double[] {0.2, 1.0, 2.5}, 3);
    static final Tensor P = vals(12, 9, 4, 3).softmax(1);

    private static void check(String key, Tensor actual) {
        NnTesting.assertClose(PYTORCH.get(key), actual, 1e-12, key);
    }

    @Test
    void matchesPyTorchForEveryReductionAndSmoothing() {
        for (Reduction r : Reduction.values()) {
            String red = r.name().toLowerCase();
            for (double s : new double[] {0.0, 0.1}) {
                check("ce_w_" + red + "_" + s, new CrossEntropyLoss(W, r, -100, s).forward(X, Y));
                check("ce3_w_" + red + "_" + s, new CrossEntropyLoss(W, r, -100, s).forward(X3, Y3));
                check("ce_p_" + red + "_" + s, new CrossEntropyLoss(r, -100, s).forward(X, P));
                check("ce_pw_" + red + "_" + s, new CrossEntropyLoss(W, r, -100, s).forward(X, P));
            }
            check("nll_w_" + red, new NLLLoss(W, r, -100).forward(X.logSoftmax(1), Y));
        }
    }

    @Test
    void gradientsMatchPyTorch() {
        Tensor x = vals(12, 17, 4, 3).requiresGrad(true);
        new CrossEntropyLoss(W, Reduction.MEAN, -100, 0.1).forward(x, Y).backward();
        check("grad_ce_w", x.grad());
        Tensor xp = vals(12, 17, 4, 3).requiresGrad(true);
        new CrossEntropyLoss(W, Reduction.MEAN, -100, 0.1).forward(xp, P).backward();
        check("grad_ce_pw", xp.grad());
    }

    /** F.binary_cross_entropy_with_logits(x, t, weight=w[, pos_weight=pw]) in PyTorch 1.13, x = vals / 11 [2, 3]. */
    @Test
    void bceWeightMatchesPyTorch() {
        Tensor x = vals(6, 11, 2, 3), t = Tensor.of(new double[] {1, 0, 0.5, 0, 1, 0.25}, 2, 3);
        NDArray w = NDArray.of(new double[] {0.5, 2.0, 1.0}, 3), pw = NDArray.of(new double[] {3.0, 1.0, 0.5}, 3);
        NnTesting.assertClose(new double[] {1.3440118822750373}, new BCEWithLogitsLoss(w, Reduction.MEAN, null).forward(x, t), 1e-12, "mean");
        NnTesting.assertClose(new double[] {12.587800073133712}, new BCEWithLogitsLoss(w, Reduction.SUM, pw).forward(x, t), 1e-12, "sum, pos_weight");
        NnTesting.assertClose(new double[] {6.834020917065961, 0.5350412146541479, 1.171093001100036, 0.013003425916565448, 1.6775593300706504,
                2.3570821843263516}, new BCEWithLogitsLoss(w, Reduction.NONE, pw).forward(x, t), 1e-12, "none, pos_weight");
        var e = assertThrows(IllegalArgumentException.class,
                () -> new BCEWithLogitsLoss(NDArray.of(new double[] {1, 2, 3, 4, 5, 6}, 6, 1), Reduction.MEAN, null).forward(x, t));
        assertTrue(e.getMessage().contains("BCEWithLogitsLoss: expected a weight broadcastable to the input [2, 3]"), e.getMessage());
    }

    @Test
    void badWeightsAndTargetsAreRefused() {
        var e = assertThrows(IllegalArgumentException.class, () -> new CrossEntropyLoss(Tensor.of(new double[] {1, 2}, 2)).forward(X, Y));
        assertTrue(e.getMessage().contains("CrossEntropyLoss: expected a floating class weight of 3 elements"), e.getMessage());
        var e2 = assertThrows(IllegalArgumentException.class, () -> new CrossEntropyLoss(Reduction.MEAN, 0, 0).forward(X, P));
        assertTrue(e2.getMessage().contains("ignoreIndex is not supported for probability targets"), e2.getMessage());
        var e3 = assertThrows(IllegalArgumentException.class,
                () -> new CrossEntropyLoss(W).forward(X, Tensor.of(new long[12], 4, 3)));
        assertTrue(e3.getMessage().contains("expected floating class probabilities"), e3.getMessage());
    }
}
