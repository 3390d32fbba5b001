package io.jtensor.nn;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jtensor.DType;
import io.jtensor.NDArray;
import io.jtensor.autograd.Tensor;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The layout of MultiheadAttention and TransformerEncoderLayer against PyTorch 1.13 (Debian's python3-torch 1.13.1,
 * run once, float64): the short constructors read [L, B, E] as PyTorch's defaults do, and a batch-first module given
 * sequence-first input says so instead of reading it wrongly. Weights and inputs are ((i * 37) % 101 - 50) / k, the
 * same formula in the PyTorch script; the expected values are its outputs.
 */
class PytorchLayoutTest {
    static NDArray vals(int n, double k, long... shape) {
        double[] v = new double[n];
        for (int i = 0; i < n; i++) v[i] = ((i * 37) % 101 - 50) / k;
        return NDArray.of(v, shape);
    }

    /** torch.nn.MultiheadAttention(4, 2) with those weights, query [3, 2, 4], key = value [2, 2, 4], key_padding_mask. */
    static final double[] SEQ_FIRST_OUT = {-0.22828499999999996, 0.09037277777777779, -0.13645361111111112, 0.0020594444444444193, -0.042996057316766687, -0.07694209136717588, 0.17092988262794812, -0.11739743393529216, -0.22828499999999996, 0.09037277777777779, -0.13645361111111112, 0.0020594444444444193, -0.04299846782476842, -0.07694267163822127, 0.17093403565478849, -0.11739808920570115, -0.22828499999999996, 0.09037277777777779, -0.13645361111111112, 0.0020594444444444193, -0.0430008784634526, -0.07694325194377735, 0.17093818882114425, -0.11739874452489528};
    static final double[] SEQ_FIRST_WEIGHTS = {1.0, 0.0, 1.0, 0.0, 1.0, 0.0, 0.4966903416533865, 0.5033096583466135, 0.4972687369939667, 0.5027312630060332, 0.4978471542981764, 0.5021528457018236};
    /** torch.nn.TransformerEncoderLayer(4, 2, dim_feedforward=6, dropout=0.0) on x [3, 2, 4]. */
    static final double[] LAYER_OUT = {-0.1552400156062087, -0.11000498191571174, 0.6150653748221943, -0.05068370050662215, -0.237383594431654, -0.11718488078782358, 0.6050424953257204, 0.02041835992251922, 0.23340247098451802, -0.1332444288663573, 0.5388053453000969, -0.41719174836532796, -0.23745248271100128, -0.11717494148975979, 0.6050425291175264, 0.020442944410092784, -0.0015538853346213975, -0.2008870374679738, 0.5369123380899812, -0.02425057193728661, -0.2375215724073391, -0.11716497571496211, 0.6050425585615281, 0.020467601318045012};
    /** The same MultiheadAttention with a float attn_mask [B * heads, L, S] = vals / 25 and the key padding mask. */
    static final double[] MASK3D_OUT = {-0.22828499999999996, 0.09037277777777779, -0.13645361111111112, 0.0020594444444444193, -0.043591855214263606, -0.07723374653904634, 0.16779728794048115, -0.11820342453195071, -0.22828499999999996, 0.09037277777777779, -0.13645361111111112, 0.0020594444444444193, -0.043593285515597185, -0.07723409026336472, 0.1677997686226763, -0.11820381079838926, -0.22828499999999996, 0.09037277777777779, -0.13645361111111112, 0.0020594444444444193, -0.04581309663564666, -0.07782050327282425, 0.17016389182672387, -0.1190333765385856};
    static final double[] MASK3D_WEIGHTS = {1.0, 0.0, 1.0, 0.0, 1.0, 0.0, 0.1834425982867487, 0.8165574017132513, 0.1837875985987666, 0.8162124014012335, 0.556240123821094, 0.443759876178906};
    /** The same TransformerEncoderLayer with a float src_mask [L, L] = vals / 15. */
    static final double[] LAYER_SRCMASK_OUT = {-0.10344943750201123, -0.11236739194505732, 0.6147372395413392, -0.08539410118829045, -0.23409241333304415, -0.11794751890377181, 0.6048403066200914, 0.019795012685885564, 0.21485769425935838, -0.13024273190295316, 0.5491969543368709, -0.3942725692472052, -0.23410094223851954, -0.11794627415367703, 0.6048403374789454, 0.019798057241396938, 0.025416395486931566, -0.1866967320478093, 0.5528646677001603, -0.06290205879345483, -0.23410968421698822, -0.11794500043519793, 0.6048403676029644, 0.01980118189708916};
    /** torch.nn.MultiheadAttention(4, 2, kdim=3, vdim=5), parameters vals / (90 + numel), key [2, 2, 3], value [2, 2, 5]. */
    static final double[] KDIM_OUT = {-0.4254246802256465, -0.42227206936330886, 1.1244698252151637, -0.7282590892012804, -0.47438028344445377, -0.17174299934448828, 0.2967845219204453, -0.4621760976470355, -0.3853062298070141, -0.41175318642368897, 1.0941589872707307, -0.7207752374723375, -0.4795701973004489, -0.1592546683724444, 0.28450397720057863, -0.4512914051150078, -0.38004565342569424, -0.38093633764518636, 1.0525077667236524, -0.6880581423304131, -0.4847447978185672, -0.1467358775425871, 0.27220836734815906, -0.44038340716678404};

    @Test
    void shortConstructorReadsSequenceFirstAsPyTorchDoes() {
        MultiheadAttention m = new MultiheadAttention(4, 2);
        m.to(DType.F64);
        m.loadStateDict(Map.of("in_proj_weight", vals(48, 200, 12, 4), "in_proj_bias", vals(12, 300, 12),
                "out_proj.weight", vals(16, 150, 4, 4), "out_proj.bias", vals(4, 400, 4)));
        Tensor q = Tensor.wrap(vals(24, 30, 3, 2, 4)), kv = Tensor.wrap(vals(16, 40, 2, 2, 4));
        Tensor pad = Tensor.of(new boolean[] {false, true, false, false}, 2, 2);
        MultiheadAttention.Output out = m.forward(q, kv, kv, pad, true, false);
        assertEquals(false, m.batchFirst());
        NnTesting.assertClose(SEQ_FIRST_OUT, out.output(), 1e-12, "output [L, B, E]");
        NnTesting.assertClose(SEQ_FIRST_WEIGHTS, out.weights(), 1e-12, "head-averaged weights [B, L, S]");
    }

    @Test
    void perHeadFloatMaskIsAddedAsPyTorchAddsIt() {
        MultiheadAttention m = new MultiheadAttention(4, 2);
        m.to(DType.F64);
        m.loadStateDict(Map.of("in_proj_weight", vals(48, 200, 12, 4), "in_proj_bias", vals(12, 300, 12),
                "out_proj.weight", vals(16, 150, 4, 4), "out_proj.bias", vals(4, 400, 4)));
        Tensor q = Tensor.wrap(vals(24, 30, 3, 2, 4)), kv = Tensor.wrap(vals(16, 40, 2, 2, 4));
        Tensor pad = Tensor.of(new boolean[] {false, true, false, false}, 2, 2);
        MultiheadAttention.Output out = m.forward(q, kv, kv, pad, true, Tensor.wrap(vals(24, 25, 4, 3, 2)), false);
        NnTesting.assertClose(MASK3D_OUT, out.output(), 1e-12, "output with a [B * heads, L, S] float mask");
        NnTesting.assertClose(MASK3D_WEIGHTS, out.weights(), 1e-12, "weights with a [B * heads, L, S] float mask");
        var e = assertThrows(IllegalArgumentException.class, () -> m.forward(q, kv, kv, null, false, Tensor.wrap(vals(6, 25, 3, 2, 1)), false));
        assertTrue(e.getMessage().contains("expected an attnMask [3, 2] or [4, 3, 2]"), e.getMessage());
    }

    @Test
    void keyAndValueOfTheirOwnWidths() {
        MultiheadAttention m = new MultiheadAttention(4, 2, 0, true, 3, 5, false, null);
        m.to(DType.F64);
        assertEquals(List.of("q_proj_weight", "k_proj_weight", "v_proj_weight", "in_proj_bias", "out_proj.weight", "out_proj.bias"),
                new ArrayList<>(m.stateDict().keySet()));
        Map<String, NDArray> sd = new LinkedHashMap<>();
        for (var e : m.stateDict().entrySet()) {
            int n = Math.toIntExact(e.getValue().numel());
            sd.put(e.getKey(), vals(n, 90.0 + n, e.getValue().shape()));
        }
        m.loadStateDict(sd);
        Tensor q = Tensor.wrap(vals(24, 30, 3, 2, 4)), k = Tensor.wrap(vals(12, 35, 2, 2, 3)), v = Tensor.wrap(vals(20, 45, 2, 2, 5));
        NnTesting.assertClose(KDIM_OUT, m.forward(q, k, v, null, false, false).output(), 1e-12, "kdim=3, vdim=5");
        var e = assertThrows(IllegalArgumentException.class, () -> m.forward(q, q, q, null, false, false));
        assertTrue(e.getMessage().contains("expected key [L, B, 3]"), e.getMessage());
    }

    private static TransformerEncoderLayer pytorchLayer() {
        TransformerEncoderLayer layer = new TransformerEncoderLayer(4, 2, 6, 0.0, TransformerEncoderLayer.Activation.RELU, 1e-5,
                false, false, null);
        layer.to(DType.F64);
        Map<String, NDArray> sd = new LinkedHashMap<>();
        for (var e : layer.stateDict().entrySet()) {
            int n = Math.toIntExact(e.getValue().numel());
            sd.put(e.getKey(), vals(n, 100.0 + n, e.getValue().shape()));
        }
        layer.loadStateDict(sd);
        layer.eval();
        return layer;
    }

    @Test
    void encoderLayerTakesAnArbitrarySrcMask() {
        TransformerEncoderLayer layer = pytorchLayer();
        NnTesting.assertClose(LAYER_SRCMASK_OUT, layer.forward(Tensor.wrap(vals(24, 20, 3, 2, 4)), Tensor.wrap(vals(9, 15, 3, 3)), null, false),
                1e-12, "encoder layer with a float src_mask");
    }

    @Test
    void encoderLayerDefaultsToSequenceFirstAsPyTorchDoes() {
        TransformerEncoderLayer layer = new TransformerEncoderLayer(4, 2, 6, 0.0, TransformerEncoderLayer.Activation.RELU, 1e-5,
                false, false, null);
        layer.to(DType.F64);
        Map<String, NDArray> sd = new LinkedHashMap<>();
        for (var e : layer.stateDict().entrySet()) {
            int n = Math.toIntExact(e.getValue().numel());
            sd.put(e.getKey(), vals(n, 100.0 + n, e.getValue().shape()));
        }
        layer.loadStateDict(sd);
        layer.eval();
        NnTesting.assertClose(LAYER_OUT, layer.forward(Tensor.wrap(vals(24, 20, 3, 2, 4))), 1e-12, "encoder layer [L, B, E]");
        assertEquals(false, new TransformerEncoderLayer(4, 2).selfAttn().batchFirst());
        assertEquals(true, new TransformerEncoderLayer(4, 2, true).selfAttn().batchFirst());
    }

    @Test
    void batchFirstModuleRefusesSequenceFirstInputSayingSo() {
        MultiheadAttention m = new MultiheadAttention(4, 2, true);
        Tensor q = Tensor.wrap(vals(24, 30, 3, 2, 4)), kv = Tensor.wrap(vals(16, 40, 2, 2, 4)); // [L=3, B=2], [S=2, B=2]
        var e = assertThrows(IllegalArgumentException.class, () -> m.forward(q, kv, kv, null, false, false));
        assertTrue(e.getMessage().contains("they fit the sequence-first [L, B, E] layout, and this module was built with batchFirst=true"),
                e.getMessage());
        // Self-attention on [L, B, E] cannot be told from [B, L, E]; a key padding mask [B, S] can tell them apart.
        Tensor x = Tensor.wrap(vals(24, 30, 3, 2, 4));
        Tensor pad = Tensor.of(new boolean[] {false, false, false, false, false, true}, 2, 3);
        var e2 = assertThrows(IllegalArgumentException.class, () -> m.forward(x, x, x, pad, false, false));
        assertTrue(e2.getMessage().contains("expected a keyPaddingMask [3, 2]") && e2.getMessage().contains("sequence-first"), e2.getMessage());
    }
}
