package io.jtensor;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import java.util.function.Supplier;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * TensorPrinter against PyTorch 1.13: every expected string below is what {@code str(t)} printed for the same values
 * (Debian's python3-torch 1.13.1, run once; the script built each tensor as the Java beside it does, from
 * {@code ((i * 37) % 101 - 50) / k} computed in float64 and cast to the dtype). The {@code NDArray(} cases are
 * PyTorch's {@code _tensor_str(t, 8)} and {@code _add_suffixes} with that prefix, i.e. how PyTorch prints a tensor
 * type of that name. A wrong width, rounding rule, sci-mode threshold, wrap column, summary or suffix fails one.
 */
class TensorPrinterTest {
    /** The same values as the PyTorch script: ((i * 37) % 101 - 50) / k in float64, cast to dtype. */
    static NDArray vals(int n, double k, DType dtype, long... shape) {
        double[] v = new double[n];
        for (int i = 0; i < n; i++) v[i] = ((i * 37) % 101 - 50) / k;
        try (NDArray d = NDArray.of(v, shape)) {
            return d.to(dtype);
        }
    }

    static Stream<Arguments> pytorchCases() {
        return Stream.of(
                Arguments.of("fixed2x3", (Supplier<NDArray>) () -> vals(6, 8.0, DType.F32, 2, 3),
                        "tensor([[-6.2500, -1.6250,  3.0000],\n        [-5.0000, -0.3750,  4.2500]])"),
                Arguments.of("intMode2x2", (Supplier<NDArray>) () -> NDArray.of(new float[] {1, 2, 3, 40}, 2, 2),
                        "tensor([[ 1.,  2.],\n        [ 3., 40.]])"),
                Arguments.of("sci", (Supplier<NDArray>) () -> NDArray.of(new double[] {1e-5, 1, 12345.678}, 3).to(DType.F32),
                        "tensor([1.0000e-05, 1.0000e+00, 1.2346e+04])"),
                Arguments.of("intSci", (Supplier<NDArray>) () -> NDArray.of(new float[] {1, 2000}, 2),
                        "tensor([1.0000e+00, 2.0000e+03])"),
                Arguments.of("wrap30", (Supplier<NDArray>) () -> vals(30, 3.0, DType.F32, 30),
                        "tensor([-16.6667,  -4.3333,   8.0000, -13.3333,  -1.0000,  11.3333, -10.0000,\n          2.3333,  14.6667,  -6.6667,   5.6667, -15.6667,  -3.3333,   9.0000,\n        -12.3333,   0.0000,  12.3333,  -9.0000,   3.3333,  15.6667,  -5.6667,\n          6.6667, -14.6667,  -2.3333,  10.0000, -11.3333,   1.0000,  13.3333,\n         -8.0000,   4.3333])"),
                Arguments.of("summ1d", (Supplier<NDArray>) () -> vals(1500, 7.0, DType.F32, 1500),
                        "tensor([-7.1429, -1.8571,  3.4286,  ..., -1.2857,  4.0000, -5.1429])"),
                Arguments.of("summ3d", (Supplier<NDArray>) () -> vals(2000, 9.0, DType.F32, 10, 10, 20),
                        "tensor([[[-5.5556, -1.4444,  2.6667,  ..., -3.0000,  1.1111,  5.2222],\n         [-1.8889,  2.2222, -4.8889,  ...,  0.6667,  4.7778, -2.3333],\n         [ 1.7778, -5.3333, -1.2222,  ...,  4.3333, -2.7778,  1.3333],\n         ...,\n         [-2.3333,  1.7778, -5.3333,  ...,  0.2222,  4.3333, -2.7778],\n         [ 1.3333,  5.4444, -1.6667,  ...,  3.8889, -3.2222,  0.8889],\n         [ 5.0000, -2.1111,  2.0000,  ..., -3.6667,  0.4444,  4.5556]],\n\n        [[-2.5556,  1.5556, -5.5556,  ...,  0.0000,  4.1111, -3.0000],\n         [ 1.1111,  5.2222, -1.8889,  ...,  3.6667, -3.4444,  0.6667],\n         [ 4.7778, -2.3333,  1.7778,  ..., -3.8889,  0.2222,  4.3333],\n         ...,\n         [ 0.6667,  4.7778, -2.3333,  ...,  3.2222, -3.8889,  0.2222],\n         [ 4.3333, -2.7778,  1.3333,  ..., -4.3333, -0.2222,  3.8889],\n         [-3.2222,  0.8889,  5.0000,  ..., -0.6667,  3.4444, -3.6667]],\n\n        [[ 0.4444,  4.5556, -2.5556,  ...,  3.0000, -4.1111,  0.0000],\n         [ 4.1111, -3.0000,  1.1111,  ..., -4.5556, -0.4444,  3.6667],\n         [-3.4444,  0.6667,  4.7778,  ..., -0.8889,  3.2222, -3.8889],\n         ...,\n         [ 3.6667, -3.4444,  0.6667,  ..., -5.0000, -0.8889,  3.2222],\n         [-3.8889,  0.2222,  4.3333,  ..., -1.3333,  2.7778, -4.3333],\n         [-0.2222,  3.8889, -3.2222,  ...,  2.3333, -4.7778, -0.6667]],\n\n        ...,\n\n        [[ 4.2222, -2.8889,  1.2222,  ..., -4.4444, -0.3333,  3.7778],\n         [-3.3333,  0.7778,  4.8889,  ..., -0.7778,  3.3333, -3.7778],\n         [ 0.3333,  4.4444, -2.6667,  ...,  2.8889, -4.2222, -0.1111],\n         ...,\n         [-3.7778,  0.3333,  4.4444,  ..., -1.2222,  2.8889, -4.2222],\n         [-0.1111,  4.0000, -3.1111,  ...,  2.4444, -4.6667, -0.5556],\n         [ 3.5556, -3.5556,  0.5556,  ..., -5.1111, -1.0000,  3.1111]],\n\n        [[-4.0000,  0.1111,  4.2222,  ..., -1.4444,  2.6667, -4.4444],\n         [-0.3333,  3.7778, -3.3333,  ...,  2.2222, -4.8889, -0.7778],\n         [ 3.3333, -3.7778,  0.3333,  ..., -5.3333, -1.2222,  2.8889],\n         ...,\n         [-0.7778,  3.3333, -3.7778,  ...,  1.7778, -5.3333, -1.2222],\n         [ 2.8889, -4.2222, -0.1111,  ...,  5.4444, -1.6667,  2.4444],\n         [-4.6667, -0.5556,  3.5556,  ..., -2.1111,  2.0000, -5.1111]],\n\n        [[-1.0000,  3.1111, -4.0000,  ...,  1.5556, -5.5556, -1.4444],\n         [ 2.6667, -4.4444, -0.3333,  ...,  5.2222, -1.8889,  2.2222],\n         [-4.8889, -0.7778,  3.3333,  ..., -2.3333,  1.7778, -5.3333],\n         ...,\n         [ 2.2222, -4.8889, -0.7778,  ...,  4.7778, -2.3333,  1.7778],\n         [-5.3333, -1.2222,  2.8889,  ..., -2.7778,  1.3333,  5.4444],\n         [-1.6667,  2.4444, -4.6667,  ...,  0.8889,  5.0000, -2.1111]]])"),
                Arguments.of("summ2dWide", (Supplier<NDArray>) () -> vals(1200, 5.0, DType.F32, 4, 300),
                        "tensor([[-10.0000,  -2.6000,   4.8000,  ...,   6.2000,  -6.6000,   0.8000],\n        [  8.2000,  -4.6000,   2.8000,  ...,   4.2000,  -8.6000,  -1.2000],\n        [  6.2000,  -6.6000,   0.8000,  ...,   2.2000,   9.6000,  -3.2000],\n        [  4.2000,  -8.6000,  -1.2000,  ...,   0.2000,   7.6000,  -5.2000]])"),
                Arguments.of("i64", (Supplier<NDArray>) () -> NDArray.of(new long[] {-5, 120, 7, 3}, 2, 2),
                        "tensor([[ -5, 120],\n        [  7,   3]])"),
                Arguments.of("i32", (Supplier<NDArray>) () -> NDArray.of(new int[] {1, -2, 300}, 3),
                        "tensor([  1,  -2, 300], dtype=torch.int32)"),
                Arguments.of("u8", (Supplier<NDArray>) () -> NDArray.of(new long[] {0, 255, 7}, 3).to(DType.U8),
                        "tensor([  0, 255,   7], dtype=torch.uint8)"),
                Arguments.of("bool", (Supplier<NDArray>) () -> NDArray.of(new boolean[] {true, false, false, true}, 2, 2),
                        "tensor([[ True, False],\n        [False,  True]])"),
                Arguments.of("f64", (Supplier<NDArray>) () -> vals(4, 3.0, DType.F64, 2, 2),
                        "tensor([[-16.6667,  -4.3333],\n        [  8.0000, -13.3333]], dtype=torch.float64)"),
                Arguments.of("f16", (Supplier<NDArray>) () -> vals(5, 6.0, DType.F16, 5),
                        "tensor([-8.3359, -2.1660,  4.0000, -6.6680, -0.5000], dtype=torch.float16)"),
                Arguments.of("bf16", (Supplier<NDArray>) () -> vals(5, 6.0, DType.BF16, 5),
                        "tensor([-8.3125, -2.1719,  4.0000, -6.6562, -0.5000], dtype=torch.bfloat16)"),
                Arguments.of("scalar", (Supplier<NDArray>) () -> NDArray.scalar(3.5, DType.F32, Device.cpu()),
                        "tensor(3.5000)"),
                Arguments.of("scalarF64", (Supplier<NDArray>) () -> NDArray.scalar(2.0, DType.F64, Device.cpu()),
                        "tensor(2., dtype=torch.float64)"),
                Arguments.of("empty2d", (Supplier<NDArray>) () -> NDArray.zeros(0, 3),
                        "tensor([], size=(0, 3))"),
                Arguments.of("emptyI64", (Supplier<NDArray>) () -> NDArray.zeros(DType.I64, Device.cpu(), 0),
                        "tensor([], dtype=torch.int64)"),
                Arguments.of("nonfinite", (Supplier<NDArray>) () -> NDArray.of(new float[] {Float.NaN, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, 1.5f}, 4),
                        "tensor([   nan,    inf,   -inf, 1.5000])"),
                Arguments.of("intModeInf", (Supplier<NDArray>) () -> NDArray.of(new float[] {1, Float.POSITIVE_INFINITY, -0.0f}, 3),
                        "tensor([1., inf, -0.])"),
                Arguments.of("zeros", (Supplier<NDArray>) () -> NDArray.zeros(2, 2),
                        "tensor([[0., 0.],\n        [0., 0.]])"),
                Arguments.of("negZero", (Supplier<NDArray>) () -> NDArray.of(new float[] {-0.0f, 1}, 2),
                        "tensor([-0., 1.])"),
                Arguments.of("roundHalfEven", (Supplier<NDArray>) () -> NDArray.of(new double[] {0.03125, 0.21875, 2.5}, 3),
                        "tensor([0.0312, 0.2188, 2.5000], dtype=torch.float64)"),
                Arguments.of("sciRounding", (Supplier<NDArray>) () -> NDArray.of(new double[] {1.03125e-6, 1, 2.5}, 3),
                        "tensor([1.0313e-06, 1.0000e+00, 2.5000e+00], dtype=torch.float64)"),
                Arguments.of("f64SuffixWrap", (Supplier<NDArray>) () -> vals(12, 7.0, DType.F64, 12),
                        "tensor([-7.1429, -1.8571,  3.4286, -5.7143, -0.4286,  4.8571, -4.2857,  1.0000,\n         6.2857, -2.8571,  2.4286, -6.7143], dtype=torch.float64)"),
                Arguments.of("summI64", (Supplier<NDArray>) () -> NDArray.arange(1500).reshape(3, 500),
                        "tensor([[   0,    1,    2,  ...,  497,  498,  499],\n        [ 500,  501,  502,  ...,  997,  998,  999],\n        [1000, 1001, 1002,  ..., 1497, 1498, 1499]])"));
    }

    /** The tensor( prefix with PyTorch's own str(t). */
    @ParameterizedTest(name = "{0}")
    @MethodSource("pytorchCases")
    void printsAsPyTorchDoes(String name, Supplier<NDArray> make, String expected) {
        try (NDArray a = make.get()) {
            assertEquals(expected, TensorPrinter.format(a, "tensor(", List.of()), name);
        }
    }

    /** NDArray.toString: the prefix NDArray( moves every later line one column right, and the wrap with it. */
    @Test
    void ndArrayToStringIndentsByItsPrefix() {
        try (NDArray a = vals(6, 8.0, DType.F32, 2, 3)) {
            assertEquals("NDArray([[-6.2500, -1.6250,  3.0000],\n         [-5.0000, -0.3750,  4.2500]])", a.toString(), "fixed2x3");
        }
        try (NDArray a = vals(30, 3.0, DType.F32, 30)) {
            assertEquals("NDArray([-16.6667,  -4.3333,   8.0000, -13.3333,  -1.0000,  11.3333, -10.0000,\n           2.3333,  14.6667,  -6.6667,   5.6667, -15.6667,  -3.3333,   9.0000,\n         -12.3333,   0.0000,  12.3333,  -9.0000,   3.3333,  15.6667,  -5.6667,\n           6.6667, -14.6667,  -2.3333,  10.0000, -11.3333,   1.0000,  13.3333,\n          -8.0000,   4.3333])", a.toString(), "wrap30");
        }
        try (NDArray a = vals(2000, 9.0, DType.F32, 10, 10, 20)) {
            assertEquals("NDArray([[[-5.5556, -1.4444,  2.6667,  ..., -3.0000,  1.1111,  5.2222],\n          [-1.8889,  2.2222, -4.8889,  ...,  0.6667,  4.7778, -2.3333],\n          [ 1.7778, -5.3333, -1.2222,  ...,  4.3333, -2.7778,  1.3333],\n          ...,\n          [-2.3333,  1.7778, -5.3333,  ...,  0.2222,  4.3333, -2.7778],\n          [ 1.3333,  5.4444, -1.6667,  ...,  3.8889, -3.2222,  0.8889],\n          [ 5.0000, -2.1111,  2.0000,  ..., -3.6667,  0.4444,  4.5556]],\n\n         [[-2.5556,  1.5556, -5.5556,  ...,  0.0000,  4.1111, -3.0000],\n          [ 1.1111,  5.2222, -1.8889,  ...,  3.6667, -3.4444,  0.6667],\n          [ 4.7778, -2.3333,  1.7778,  ..., -3.8889,  0.2222,  4.3333],\n          ...,\n          [ 0.6667,  4.7778, -2.3333,  ...,  3.2222, -3.8889,  0.2222],\n          [ 4.3333, -2.7778,  1.3333,  ..., -4.3333, -0.2222,  3.8889],\n          [-3.2222,  0.8889,  5.0000,  ..., -0.6667,  3.4444, -3.6667]],\n\n         [[ 0.4444,  4.5556, -2.5556,  ...,  3.0000, -4.1111,  0.0000],\n          [ 4.1111, -3.0000,  1.1111,  ..., -4.5556, -0.4444,  3.6667],\n          [-3.4444,  0.6667,  4.7778,  ..., -0.8889,  3.2222, -3.8889],\n          ...,\n          [ 3.6667, -3.4444,  0.6667,  ..., -5.0000, -0.8889,  3.2222],\n          [-3.8889,  0.2222,  4.3333,  ..., -1.3333,  2.7778, -4.3333],\n          [-0.2222,  3.8889, -3.2222,  ...,  2.3333, -4.7778, -0.6667]],\n\n         ...,\n\n         [[ 4.2222, -2.8889,  1.2222,  ..., -4.4444, -0.3333,  3.7778],\n          [-3.3333,  0.7778,  4.8889,  ..., -0.7778,  3.3333, -3.7778],\n          [ 0.3333,  4.4444, -2.6667,  ...,  2.8889, -4.2222, -0.1111],\n          ...,\n          [-3.7778,  0.3333,  4.4444,  ..., -1.2222,  2.8889, -4.2222],\n          [-0.1111,  4.0000, -3.1111,  ...,  2.4444, -4.6667, -0.5556],\n          [ 3.5556, -3.5556,  0.5556,  ..., -5.1111, -1.0000,  3.1111]],\n\n         [[-4.0000,  0.1111,  4.2222,  ..., -1.4444,  2.6667, -4.4444],\n          [-0.3333,  3.7778, -3.3333,  ...,  2.2222, -4.8889, -0.7778],\n          [ 3.3333, -3.7778,  0.3333,  ..., -5.3333, -1.2222,  2.8889],\n          ...,\n          [-0.7778,  3.3333, -3.7778,  ...,  1.7778, -5.3333, -1.2222],\n          [ 2.8889, -4.2222, -0.1111,  ...,  5.4444, -1.6667,  2.4444],\n          [-4.6667, -0.5556,  3.5556,  ..., -2.1111,  2.0000, -5.1111]],\n\n         [[-1.0000,  3.1111, -4.0000,  ...,  1.5556, -5.5556, -1.4444],\n          [ 2.6667, -4.4444, -0.3333,  ...,  5.2222, -1.8889,  2.2222],\n          [-4.8889, -0.7778,  3.3333,  ..., -2.3333,  1.7778, -5.3333],\n          ...,\n          [ 2.2222, -4.8889, -0.7778,  ...,  4.7778, -2.3333,  1.7778],\n          [-5.3333, -1.2222,  2.8889,  ..., -2.7778,  1.3333,  5.4444],\n          [-1.6667,  2.4444, -4.6667,  ...,  0.8889,  5.0000, -2.1111]]])", a.toString(), "summ3d");
        }
        try (NDArray a = NDArray.of(new int[] {1, -2, 300}, 3)) {
            assertEquals("NDArray([  1,  -2, 300], dtype=torch.int32)", a.toString(), "i32");
        }
        try (NDArray a = NDArray.scalar(3.5, DType.F32, Device.cpu())) {
            assertEquals("NDArray(3.5000)", a.toString(), "scalar");
        }
        try (NDArray a = NDArray.zeros(0, 3)) {
            assertEquals("NDArray([], size=(0, 3))", a.toString(), "empty2d");
        }
    }

    /** Not a PyTorch case: a device other than cpu:0 is named, as PyTorch names cuda:0 (device='cuda:0'). */
    @Test
    void namesADeviceOtherThanTheDefault() {
        try (NDArray a = NDArray.full(2, DType.F32, Device.cpu(1), 2)) {
            assertEquals("NDArray([2., 2.], device='cpu:1')", a.toString());
        }
    }
}
