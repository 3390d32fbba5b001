package io.jtensor.autograd;

import static io.jtensor.autograd.Inputs.*;
import static org.junit.jupiter.api.Assertions.*;

import io.jtensor.backend.ConvParams;
import org.junit.jupiter.api.Test;

class LinalgConvGradTest {

    // ------------------------------------------------------------------ matmul

    @Test void matrixProduct() { gradcheck(in -> in.get(0).matmul(in.get(1)), randn(1, 3, 4), randn(2, 4, 5)); }
    @Test void batchedProduct() { gradcheck(in -> in.get(0).matmul(in.get(1)), randn(3, 2, 3, 4), randn(4, 2, 4, 5)); }
    @Test void broadcastBatchProduct() { gradcheck(in -> in.get(0).matmul(in.get(1)), randn(5, 2, 1, 3, 4), randn(6, 3, 4, 2)); }
    @Test void batchTimesWeightMatrix() { gradcheck(in -> in.get(0).matmul(in.get(1)), randn(7, 2, 3, 4), randn(8, 4, 5)); }
    @Test void matrixTimesBatch() { gradcheck(in -> in.get(0).matmul(in.get(1)), randn(9, 3, 4), randn(10, 2, 4, 5)); }
    @Test void vectorTimesMatrix() { gradcheck(in -> in.get(0).matmul(in.get(1)), randn(11, 4), randn(12, 4, 5)); }
    @Test void matrixTimesVector() { gradcheck(in -> in.get(0).matmul(in.get(1)), randn(13, 3, 4), randn(14, 4)); }
    @Test void dotProduct() { gradcheck(in -> in.get(0).matmul(in.get(1)), randn(15, 4), randn(16, 4)); }
    @Test void transposedOperands() { gradcheck(in -> in.get(0).t().matmul(in.get(1).t()), randn(17, 4, 3), randn(18, 5, 4)); }

    @Test void matrixProductGradientsByHand() {
        // y = sum(A @ B): dA[i][k] = sum_j B[k][j], dB[k][j] = sum_i A[i][k]
        Tensor a = Tensor.of(new double[] {1, 2, 3, 4}, 2, 2).requiresGrad(true);
        Tensor b = Tensor.of(new double[] {5, 6, 7, 8}, 2, 2).requiresGrad(true);
        a.matmul(b).sum().backward();
        assertArrayEquals(new double[] {11, 15, 11, 15}, a.grad().toDoubleArray());
        assertArrayEquals(new double[] {4, 4, 6, 6}, b.grad().toDoubleArray());
    }

    // ------------------------------------------------------------------ convolution

    @Test void convWithBiasPadding() {
        gradcheck(in -> Tensor.conv2d(in.get(0), in.get(1), in.get(2), 1, 1), randn(20, 2, 3, 5, 5), randn(21, 4, 3, 3, 3), randn(22, 4));
    }

    @Test void convStrideNoBias() {
        gradcheck(in -> Tensor.conv2d(in.get(0), in.get(1), null, 2, 0), randn(23, 1, 2, 7, 6), randn(24, 3, 2, 3, 2));
    }

    @Test void convGroups() {
        ConvParams p = new ConvParams(1, 1, 1, 1, 1, 1, 2);
        gradcheck(in -> Tensor.conv2d(in.get(0), in.get(1), in.get(2), p), randn(25, 1, 4, 4, 4), randn(26, 6, 2, 3, 3), randn(27, 6));
    }

    @Test void convDilationAndAsymmetricGeometry() {
        ConvParams p = new ConvParams(2, 1, 1, 0, 1, 2, 1);
        gradcheck(in -> Tensor.conv2d(in.get(0), in.get(1), null, p), randn(28, 2, 2, 6, 7), randn(29, 2, 2, 3, 2));
    }

    @Test void depthwiseConvOnNonContiguousInput() {
        ConvParams p = new ConvParams(1, 1, 0, 0, 1, 1, 3);
        gradcheck(in -> Tensor.conv2d(in.get(0).permute(0, 3, 1, 2), in.get(1), null, p), randn(30, 1, 4, 5, 3), randn(31, 3, 1, 2, 2));
    }

    // ------------------------------------------------------------------ pooling

    @Test void maxPool() { gradcheck(in -> Tensor.maxPool2d(in.get(0), 2, 2), randn(40, 2, 2, 6, 6)); }

    @Test void maxPoolOverlappingPadded() {
        ConvParams p = new ConvParams(2, 1, 1, 0, 1, 1, 1);
        gradcheck(in -> Tensor.maxPool2d(in.get(0), 3, 2, p), randn(41, 1, 2, 5, 5));
    }

    @Test void maxPoolGradientGoesToTheMaximum() {
        Tensor x = Tensor.of(new double[] {1, 9, 3, 4, 5, 6, 7, 8, 2, 0, 11, 12, 13, 14, 15, 10}, 1, 1, 4, 4).requiresGrad(true);
        Tensor y = Tensor.maxPool2d(x, 2, 2);
        assertArrayEquals(new double[] {9, 8, 14, 15}, y.toDoubleArray());
        y.sum().backward();
        assertArrayEquals(new double[] {0, 1, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 1, 1, 0}, x.grad().toDoubleArray());
    }

    @Test void avgPool() { gradcheck(in -> Tensor.avgPool2d(in.get(0), 2, 2), randn(42, 2, 2, 4, 6)); }

    @Test void avgPoolPaddedCountIncludePad() {
        ConvParams p = new ConvParams(2, 2, 1, 1, 1, 1, 1);
        gradcheck(in -> Tensor.avgPool2d(in.get(0), 3, 3, p, true), randn(43, 1, 2, 5, 5));
    }

    @Test void avgPoolPaddedCountExcludePad() {
        ConvParams p = new ConvParams(2, 2, 1, 1, 1, 1, 1);
        gradcheck(in -> Tensor.avgPool2d(in.get(0), 3, 3, p, false), randn(44, 1, 2, 5, 5));
    }
}
