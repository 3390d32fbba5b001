package io.jtensor.backend.cpu;

import io.jtensor.backend.ConvParams;
import java.util.Arrays;

/**
 * The sizes of one convolution, checked once: input [n, c, h, w], weight [o, c/groups, kh, kw], output
 * [n, o, oh, ow]. Per group the GEMM sees cg = c/groups input channels, og = o/groups output channels, an inner
 * dimension ckk = cg*kh*kw and ohw = oh*ow output positions.
 */
record CpuConvGeometry(int n, int c, int h, int w, int o, int kh, int kw, int oh, int ow, ConvParams p) {

    static CpuConvGeometry of(String op, long[] x, long[] wt, long[] out, ConvParams p) {
        if (x.length != 4 || wt.length != 4 || out.length != 4) {
            throw new IllegalArgumentException(op + ": expected input [N,C,H,W], weight [O,C/groups,KH,KW], output [N,O,OH,OW], got "
                    + Arrays.toString(x) + ", " + Arrays.toString(wt) + ", " + Arrays.toString(out));
        }
        int g = p.groups();
        if (x[1] % g != 0 || wt[0] % g != 0 || wt[1] * g != x[1]) {
            throw new IllegalArgumentException(op + ": input " + Arrays.toString(x) + " and weight " + Arrays.toString(wt)
                    + " do not fit groups=" + g + " (expected C = weight[1] * groups and O divisible by groups)");
        }
        long oh = ConvParams.outSize(x[2], (int) wt[2], p.strideH(), p.padH(), p.dilationH());
        long ow = ConvParams.outSize(x[3], (int) wt[3], p.strideW(), p.padW(), p.dilationW());
        if (out[0] != x[0] || out[1] != wt[0] || out[2] != oh || out[3] != ow || oh <= 0 || ow <= 0) {
            throw new IllegalArgumentException(op + ": output should be [" + x[0] + ", " + wt[0] + ", " + oh + ", " + ow
                    + "] for input " + Arrays.toString(x) + ", weight " + Arrays.toString(wt) + " and " + p + ", got " + Arrays.toString(out));
        }
        long cols = (long) (x[1] / g) * wt[2] * wt[3] * oh * ow;
        if (cols > Integer.MAX_VALUE || x[2] * x[3] > Integer.MAX_VALUE) {
            throw new IllegalArgumentException(op + ": one image's unfolded input has " + cols + " elements, more than 2^31-1");
        }
        return new CpuConvGeometry((int) x[0], (int) x[1], (int) x[2], (int) x[3], (int) wt[0], (int) wt[2], (int) wt[3],
                (int) oh, (int) ow, p);
    }

    int groups() { return p.groups(); }
    int cg() { return c / p.groups(); }
    int og() { return o / p.groups(); }
    int ckk() { return cg() * kh * kw; }
    int ohw() { return oh * ow; }
    int hw() { return h * w; }

    /** A 1x1 kernel with stride 1 and no padding: the unfolded input is the input itself. */
    boolean pointwise() {
        return kh == 1 && kw == 1 && p.strideH() == 1 && p.strideW() == 1 && p.padH() == 0 && p.padW() == 0;
    }
}
