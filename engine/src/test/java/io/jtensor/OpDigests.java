package io.jtensor;

import java.security.MessageDigest;

/**
 * SHA-256 digests of the CPU results of the ops whose fast paths use transcendental functions (exp, log, tanh,
 * sigmoid, GELU, softmax and log-softmax along rows and columns, their gradients, normal draws), F32 and F64, on fixed
 * inputs whose lengths leave vector tails. Run as a main in a C1-only JVM by JitIndependenceTest.
 */
public final class OpDigests {
    private OpDigests() {}

    public static String digest() throws Exception {
        MessageDigest md = MessageDigest.getInstance("SHA-256");
        for (DType t : new DType[] {DType.F32, DType.F64}) {
            try (NDArray x = NDArray.randn(new Generator(7), t, Device.cpu(), 37, 203); NDArray pos = x.abs(); NDArray g = x.mul(0.5)) {
                NDArray[] results = {x.exp(), pos.log(), x.tanh(), x.sigmoid(), x.gelu(), x.softmax(1), x.logSoftmax(1), x.softmax(0),
                    x.logSoftmax(0), NDArray.randn(new Generator(9), t, Device.cpu(), 1001)};
                try {
                    for (NDArray r : results) md.update(r.toBytes());
                    for (boolean log : new boolean[] {false, true}) {
                        try (NDArray y = log ? x.logSoftmax(1) : x.softmax(1); NDArray gx = NDArray.softmaxBackward(y, g, 1, log)) {
                            md.update(gx.toBytes());
                        }
                    }
                } finally {
                    for (NDArray r : results) r.close();
                }
            }
        }
        return java.util.HexFormat.of().formatHex(md.digest());
    }

    public static void main(String[] args) throws Exception {
        System.out.println(digest());
    }
}
