package io.jtensor;

import static io.jtensor.Checks.*;
import static org.junit.jupiter.api.Assertions.*;

import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

class RandomTest {

    @Test
    void philoxKnownAnswer() {
        // Random123's kat_vectors for philox4x32-10 with counter 0 and key 0
        int[] out = new int[4];
        Philox.block(0, 0, out);
        assertArrayEquals(new int[] {0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8}, out);
    }

    private static double[] draw(Device d, DType dt, long seed, boolean normal, double a, double b, long n) {
        Generator g = new Generator(seed);
        try (NDArray x = normal ? NDArray.normal(g, a, b, dt, d, n) : NDArray.uniform(g, a, b, dt, d, n)) {
            assertEquals(dt, x.dtype());
            return x.toDoubleArray();
        }
    }

    @ParameterizedTest
    @MethodSource("io.jtensor.TestDevices#all")
    void followsTheDocumentedStream(Device d) {
        long seed = 0x1234_5678_9ABCL;
        Generator g = new Generator(seed);
        int[] block = new int[4];
        try (NDArray first = NDArray.rand(g, DType.F64, d, 6); NDArray second = NDArray.randn(g, DType.F64, d, 5)) {
            double[] u = first.toDoubleArray(), z = second.toDoubleArray();
            for (int i = 0; i < 6; i++) {
                Philox.block(i / 4, seed, block);
                assertEquals(((block[i % 4] >>> 8) * 0x1p-24), u[i], 0, "uniform " + i);
            }
            // the first draw of 6 used counters 0 and 1; the second starts at counter 2
            for (int i = 0; i < 5; i++) {
                Philox.block(2 + i / 4, seed, block);
                int pair = (i % 4) & 2;
                double u1 = ((block[pair] >>> 8) + 1) * 0x1p-24, u2 = (block[pair + 1] >>> 8) * 0x1p-24;
                double r = Math.sqrt(-2 * Math.log(u1)), th = 2 * Math.PI * u2;
                assertEquals(i % 2 == 0 ? r * Math.cos(th) : r * Math.sin(th), z[i], 1e-15, "normal " + i);
            }
            assertEquals(2 + 2, g.offset());
        }
    }

    @ParameterizedTest
    @MethodSource("io.jtensor.TestDevices#all")
    void statisticsOf100kSamples(Device d) {
        int n = 100_000;
        for (DType dt : List.of(DType.F32, DType.F64, DType.BF16)) {
            double[] u = draw(d, dt, 42, false, 0, 1, n), z = draw(d, dt, 43, true, 0, 1, n);
            assertEquals(0.5, mean(u), 0.005, "uniform mean " + dt);
            assertEquals(Math.sqrt(1.0 / 12), std(u), 0.005, "uniform std " + dt);
            assertEquals(0, mean(z), 0.02, "normal mean " + dt);
            assertEquals(1, std(z), 0.02, "normal std " + dt);
            for (double v : u) if (!(v >= 0 && v < 1)) fail("uniform in [0, 1) " + dt + ": " + v);
        }
        double[] u = draw(d, DType.F32, 7, false, -3, 5, n), z = draw(d, DType.F32, 8, true, 10, 0.5, n);
        assertEquals(1, mean(u), 0.05);
        for (double v : u) assertTrue(v >= -3 && v < 5);
        assertEquals(10, mean(z), 0.01);
        assertEquals(0.5, std(z), 0.01);
    }

    @ParameterizedTest
    @MethodSource("io.jtensor.TestDevices#all")
    void sameSeedSameNumbers(Device d) {
        double[] a = draw(d, DType.F32, 99, true, 0, 1, 1001), b = draw(d, DType.F32, 99, true, 0, 1, 1001), c = draw(d, DType.F32, 100, true, 0, 1, 1001);
        assertArrayEquals(a, b);
        assertFalse(java.util.Arrays.equals(a, c));
        // a large draw split across cores gives the same numbers as the stream element by element
        double[] big = draw(d, DType.F64, 5, false, 0, 1, 200_003);
        int[] block = new int[4];
        for (int i : new int[] {0, 1, 100_000, 100_001, 150_002, 200_002}) {
            Philox.block(i / 4, 5, block);
            assertEquals((block[i % 4] >>> 8) * 0x1p-24, big[i], 0, "element " + i);
        }
        // normals from the SIMD lanes (whole groups of counters) against the scalar definition
        double[] normals = draw(d, DType.F64, 6, true, 0.5, 2, 1000);
        for (int i = 0; i < 1000; i++) {
            Philox.block(i / 4, 6, block);
            assertEquals(0.5 + 2 * Philox.normal(block, i % 4), normals[i], 1e-13, "normal element " + i);
        }
        Generator.manualSeed(1);
        try (NDArray x = NDArray.rand(3)) {
            Generator.manualSeed(1);
            try (NDArray y = NDArray.rand(3)) {
                org.junit.jupiter.api.Assertions.assertArrayEquals(x.toFloatArray(), y.toFloatArray());
            }
        }
    }

    @ParameterizedTest
    @MethodSource("io.jtensor.TestDevices#all")
    void derivedDraws(Device d) {
        Generator g = new Generator(3);
        try (NDArray r = NDArray.randint(g, -2, 3, d, 10_000); NDArray b = NDArray.bernoulli(g, 0.25, DType.F32, d, 10_000);
             NDArray m = NDArray.dropoutMask(g, 0.5, DType.F32, d, 1000)) {
            assertEquals(DType.I64, r.dtype());
            int[] counts = new int[5];
            for (long v : r.toLongArray()) {
                assertTrue(v >= -2 && v < 3, "randint in range: " + v);
                counts[(int) v + 2]++;
            }
            for (int c : counts) assertEquals(2000, c, 200);
            assertEquals(0.25, mean(b.toDoubleArray()), 0.02);
            for (double v : m.toDoubleArray()) assertTrue(v == 0 || v == 2, "dropout mask holds 0 or 1/(1-p): " + v);
        }
        assertThrows(IllegalArgumentException.class, () -> NDArray.rand(new Generator(1), DType.I32, d, 3));
    }

    static double mean(double[] v) {
        double s = 0;
        for (double x : v) s += x;
        return s / v.length;
    }

    static double std(double[] v) {
        double m = mean(v), s = 0;
        for (double x : v) s += (x - m) * (x - m);
        return Math.sqrt(s / (v.length - 1));
    }
}
