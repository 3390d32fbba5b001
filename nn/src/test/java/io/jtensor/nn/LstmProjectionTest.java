package io.jtensor.nn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
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
 * LSTM's proj_size against PyTorch 1.13 (Debian's python3-torch 1.13.1, run once, float64):
 * torch.nn.LSTM(3, 4, num_layers=2, proj_size=2, bidirectional=True), every parameter
 * ((i * 37) % 101 - 50) / (50 + numel), x = vals / 10 [3, 2, 3]. Catches the projection's place (h, not c), the
 * layer-2 input width (2 * proj), the state shapes and the parameter names and order.
 */
class LstmProjectionTest {
    static NDArray vals(int n, double k, long... shape) {
        double[] v = new double[n];
        for (int i = 0; i < n; i++) v[i] = ((i * 37) % 101 - 50) / k;
        return NDArray.of(v, shape);
    }

    @Test
    void matchesPyTorch() {
        LSTM m = new LSTM(RecurrentConfig.of(3, 4).numLayers(2).projSize(2).bidirectional(true));
        m.to(DType.F64);
        assertEquals(List.of("weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0", "weight_hr_l0", "weight_ih_l0_reverse", "weight_hh_l0_reverse", "bias_ih_l0_reverse", "bias_hh_l0_reverse", "weight_hr_l0_reverse", "weight_ih_l1", "weight_hh_l1", "bias_ih_l1", "bias_hh_l1", "weight_hr_l1", "weight_ih_l1_reverse", "weight_hh_l1_reverse", "bias_ih_l1_reverse", "bias_hh_l1_reverse", "weight_hr_l1_reverse"), new ArrayList<>(m.stateDict().keySet()));
        Map<String, NDArray> sd = new LinkedHashMap<>();
        for (var e : m.stateDict().entrySet()) {
            int n = Math.toIntExact(e.getValue().numel());
            sd.put(e.getKey(), vals(n, 50.0 + n, e.getValue().shape()));
        }
        m.loadStateDict(sd);
        RecurrentOutput r = m.forward(Tensor.wrap(vals(18, 10, 3, 2, 3)), null, null);
        assertArrayEquals(new long[] {3, 2, 4}, r.output().shape());
        NnTesting.assertClose(new double[] {0.07613844933566907, -0.14346976836362788, 0.13292423565983094, -0.2804399623011661, 0.07669046177482008, -0.14421728871146436, 0.12399290521141226, -0.26746664079414756, 0.11056693713515743, -0.2272452170472803, 0.10703802971732942, -0.22174259382780398, 0.1145521712304648, -0.2079357460411216, 0.10897874996129914, -0.2012797629743131, 0.14050531605486638, -0.2670678533611247, 0.07974651633091054, -0.13457540293235923, 0.1309358557949712, -0.255878528470307, 0.07873984981198959, -0.13398793336197676}, r.output(), 1e-12, "output");
        assertArrayEquals(new long[] {4, 2, 2}, r.hN().shape());
        NnTesting.assertClose(new double[] {0.3922341970720683, -0.39936554122590306, 0.35984704227006264, -0.3055965503674397, -0.2018293673762404, -0.271643651291364, -0.18785571697020922, -0.2195998869940788, 0.14050531605486638, -0.2670678533611247, 0.1309358557949712, -0.255878528470307, 0.13292423565983094, -0.2804399623011661, 0.12399290521141226, -0.26746664079414756}, r.hN(), 1e-12, "h_n");
        assertArrayEquals(new long[] {4, 2, 4}, r.cN().shape());
        NnTesting.assertClose(new double[] {0.24420623100565497, -1.474764686866627, -0.48111659193107437, -0.7342468242500846, 0.21002171696641803, -1.23503057096108, -0.7852446830659043, -0.7896728049465398, 0.34931824618729135, -1.3504252005720918, -0.841775587562244, 0.11154662567489589, 0.38613086978915523, -1.0977864487011433, -0.6943015472184049, -0.21801983248953, 0.30218272163504617, -0.5293035236883991, 0.5137882772468585, -0.33324113372467484, 0.29827912251710337, -0.48846095643263154, 0.5115123925268918, -0.32112517643833494, 0.29402875139658624, -0.5661568391452229, 0.3946633763005902, -0.3533175129981847, 0.290503777509252, -0.5207987208295912, 0.41492879837663366, -0.33884649105486897}, r.cN(), 1e-12, "c_n");
        assertEquals("LSTM(3, 4, proj_size=2, num_layers=2, bidirectional=True)", m.toString());
        assertThrows(IllegalArgumentException.class, () -> new LSTM(RecurrentConfig.of(3, 4).projSize(4)));
        assertThrows(IllegalArgumentException.class, () -> new GRU(RecurrentConfig.of(3, 4).projSize(2)));
    }
}
