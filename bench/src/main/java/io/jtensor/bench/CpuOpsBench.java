package io.jtensor.bench;

import io.jtensor.DType;
import io.jtensor.Device;
import io.jtensor.Generator;
import io.jtensor.NDArray;
import io.jtensor.backend.ConvParams;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.*;

/**
 * The CPU kernels the foundation issue sets targets for, at the sizes bench/pytorch_cpu.py measures PyTorch at.
 * Each op allocates its result, as PyTorch's out-of-place ops do, and closes it.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED", "--add-modules", "jdk.incubator.vector"})
public class CpuOpsBench {

    @State(Scope.Thread)
    public static class Matmul {
        @Param({"256", "512", "1024", "2048"})
        public int n;
        NDArray a, b;

        @Setup public void setup() {
            Generator g = new Generator(1);
            a = NDArray.randn(g, DType.F32, Device.cpu(), n, n);
            b = NDArray.randn(g, DType.F32, Device.cpu(), n, n);
        }

        @TearDown public void tearDown() { a.close(); b.close(); }
    }

    @Benchmark public void matmulF32(Matmul s) {
        try (NDArray c = s.a.matmul(s.b)) { /* timed */ }
    }

    @State(Scope.Thread)
    public static class Large {
        static final int N = 16 * 1024 * 1024;
        NDArray a, b, logits;

        @Setup public void setup() {
            Generator g = new Generator(2);
            a = NDArray.randn(g, DType.F32, Device.cpu(), N);
            b = NDArray.randn(g, DType.F32, Device.cpu(), N);
            logits = NDArray.randn(g, DType.F32, Device.cpu(), 4096, 4096);
        }

        @TearDown public void tearDown() { a.close(); b.close(); logits.close(); }
    }

    @Benchmark public void add16M(Large s) {
        try (NDArray c = s.a.add(s.b)) { /* timed */ }
    }

    @Benchmark public void softmax4096x4096(Large s) {
        try (NDArray c = s.logits.softmax(1)) { /* timed */ }
    }

    @State(Scope.Thread)
    public static class LeNetConv {
        NDArray x, w;

        @Setup public void setup() {
            Generator g = new Generator(3);
            // LeNet-5's second convolution at batch 64: 6 -> 16 channels, 5x5, on 14x14 maps.
            x = NDArray.randn(g, DType.F32, Device.cpu(), 64, 6, 14, 14);
            w = NDArray.randn(g, DType.F32, Device.cpu(), 16, 6, 5, 5);
        }

        @TearDown public void tearDown() { x.close(); w.close(); }
    }

    @Benchmark public void conv2dLeNet(LeNetConv s) {
        try (NDArray c = NDArray.conv2d(s.x, s.w, null, ConvParams.of(1, 0))) { /* timed */ }
    }

    @State(Scope.Thread)
    public static class Tiny {
        NDArray a, b;

        @Setup public void setup() {
            a = NDArray.of(new float[] {1, 2, 3, 4}, 4);
            b = NDArray.of(new float[] {5, 6, 7, 8}, 4);
        }

        @TearDown public void tearDown() { a.close(); b.close(); }
    }

    @Benchmark @OutputTimeUnit(TimeUnit.NANOSECONDS)
    public void tinyAdd(Tiny s) {
        try (NDArray c = s.a.add(s.b)) { /* timed */ }
    }

    /** A one-input op on 4 elements: the path where the op itself holds its input's storage while the kernel runs. */
    @Benchmark @OutputTimeUnit(TimeUnit.NANOSECONDS)
    public void tinyExp(Tiny s) {
        try (NDArray c = s.a.exp()) { /* timed */ }
    }
}
