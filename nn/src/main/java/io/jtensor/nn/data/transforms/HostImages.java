package io.jtensor.nn.data.transforms;

import io.jtensor.NDArray;
import java.util.Arrays;
import java.util.function.UnaryOperator;

/**
 * Runs a per-image function over an image [C,H,W] or each image of a batch [N,C,H,W], in order, on the host.
 * Pixels are read once as doubles (exact for every dtype a picture uses), and the result is cast back to the
 * input's dtype and moved back to its device, so augmentation works on any array at the cost of one round trip.
 */
final class HostImages {
    private HostImages() {}

    static NDArray map(String op, NDArray x, UnaryOperator<Image> f) {
        long[] s = checkImageShape(op, x);
        boolean batched = s.length == 4;
        int n = batched ? Math.toIntExact(s[0]) : 1;
        int c = Math.toIntExact(s[s.length - 3]), h = Math.toIntExact(s[s.length - 2]), w = Math.toIntExact(s[s.length - 1]);
        int per = c * h * w;
        double[] all = x.toDoubleArray();
        double[] out = null;
        int oc = 0, oh = 0, ow = 0;
        for (int i = 0; i < n; i++) {
            Image r = f.apply(new Image(Arrays.copyOfRange(all, i * per, (i + 1) * per), c, h, w));
            if (out == null) {
                oc = r.channels;
                oh = r.height;
                ow = r.width;
                out = new double[n * oc * oh * ow];
            } else if (r.channels != oc || r.height != oh || r.width != ow) {
                throw new IllegalStateException(op + ": images of one batch came out in different sizes");
            }
            System.arraycopy(r.data, 0, out, i * r.data.length, r.data.length);
        }
        if (out == null) out = new double[0];
        long[] shape = batched ? new long[] {n, oc, oh, ow} : new long[] {oc, oh, ow};
        if (n == 0) shape = new long[] {0, c, h, w};
        try (NDArray d = NDArray.of(out, shape); NDArray cast = d.to(x.dtype())) {
            return cast.to(x.device());
        }
    }

    /** The shape of x after checking that it is [C,H,W] or [N,C,H,W]. */
    static long[] checkImageShape(String op, NDArray x) {
        if (x.dim() != 3 && x.dim() != 4) {
            throw new IllegalArgumentException(op + ": expected an image [C,H,W] or a batch [N,C,H,W], got " + Arrays.toString(x.shape()));
        }
        return x.shape();
    }
}
