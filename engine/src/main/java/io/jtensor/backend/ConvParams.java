package io.jtensor.backend;

/** Geometry of a 2-D convolution or pooling window. */
public record ConvParams(int strideH, int strideW, int padH, int padW, int dilationH, int dilationW, int groups) {
    public ConvParams {
        if (strideH < 1 || strideW < 1) throw new IllegalArgumentException("ConvParams: stride must be >= 1, got " + strideH + "x" + strideW);
        if (padH < 0 || padW < 0) throw new IllegalArgumentException("ConvParams: padding must be >= 0, got " + padH + "x" + padW);
        if (dilationH < 1 || dilationW < 1) throw new IllegalArgumentException("ConvParams: dilation must be >= 1, got " + dilationH + "x" + dilationW);
        if (groups < 1) throw new IllegalArgumentException("ConvParams: groups must be >= 1, got " + groups);
    }

    public static ConvParams of(int stride, int padding) { return new ConvParams(stride, stride, padding, padding, 1, 1, 1); }

    /**
     * Output length of one spatial dim; zero or less when the (dilated) kernel does not fit the padded input. The
     * division floors: truncating toward zero turned a kernel one larger than the input into an output of 1.
     */
    public static long outSize(long in, int kernel, int stride, int pad, int dilation) {
        long span = (long) dilation * (kernel - 1) + 1; // below 2^62: no overflow
        long padded;
        try {
            padded = Math.addExact(in, 2L * pad);
        } catch (ArithmeticException e) { // an input of nearly 2^63 positions (an expanded view) plus its padding
            throw new IllegalArgumentException("ConvParams: input size " + in + " with padding " + pad + " exceeds 2^63-1");
        }
        return Math.floorDiv(padded - span, stride) + 1;
    }
}
