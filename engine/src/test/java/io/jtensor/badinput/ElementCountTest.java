package io.jtensor.badinput;

import static io.jtensor.badinput.BadInput.fails;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import io.jtensor.DType;
import io.jtensor.NDArray;
import io.jtensor.backend.ConvParams;
import io.jtensor.memory.MemoryScope;
import java.time.Duration;
import java.util.List;
import java.util.function.Function;
import org.junit.jupiter.api.Test;

/**
 * Element counts at the edges of a long. A shape whose element count overflows is rejected by every path that makes
 * shapes, as PyTorch's "numel: integer multiplication overflow" is; a shape with a zero size holds no elements
 * whatever its other sizes, and every op on it is allowed and takes O(1) time, as in PyTorch.
 */
class ElementCountTest {
    private static final long HUGE = 1L << 40, G62 = 1L << 62;

    @Test
    void everyShapeMakingPathRejectsAnOverflowingElementCount() {
        try (MemoryScope s = MemoryScope.open()) {
            NDArray one = NDArray.ones(1, 1), row = NDArray.ones(1, 3);
            fails(IllegalArgumentException.class, () -> one.expand(HUGE, HUGE), "expand", "2^63-1");
            fails(IllegalArgumentException.class, () -> row.expand(G62, 3), "expand", "2^63-1");
            fails(IllegalArgumentException.class, () -> one.expand(HUGE, HUGE, 1).reshape(-1), "expand");
            fails(IllegalArgumentException.class, () -> NDArray.ones(1, 1, 1).expand(HUGE, 1, 1).expand(HUGE, HUGE, 1), "expand", "2^63-1");
            fails(IllegalArgumentException.class, () -> one.broadcastTo(3, G62), "expand", "2^63-1");
            try (NDArray a = NDArray.ones(1, 1).expand(HUGE, 1); NDArray b = NDArray.ones(1, 1).expand(1, HUGE)) {
                fails(IllegalArgumentException.class, () -> a.add(b), "add", "2^63-1");
                fails(IllegalArgumentException.class, () -> NDArray.where(NDArray.ones(1).gt(0), a, b), "where");
            }
            fails(IllegalArgumentException.class, () -> NDArray.zeros(3, G62), "zeros", "2^63-1");
            fails(IllegalArgumentException.class, () -> NDArray.empty(DType.F64, HUGE, HUGE), "empty", "2^63-1");
            fails(IllegalArgumentException.class, () -> one.view(-1, G62, 4), "view");
            fails(IllegalArgumentException.class, () -> one.reshape(G62, 4, 0, -1), "reshape");
            try (NDArray tall = NDArray.ones(1).expand(Long.MAX_VALUE / 2 + 1).unsqueeze(1)) {
                fails(IllegalArgumentException.class, () -> NDArray.cat(List.of(tall, tall), 0), "cat", "2^63-1");
                fails(IllegalArgumentException.class, () -> NDArray.stack(List.of(tall, tall), 0), "stack");
            }
            try (NDArray x = NDArray.ones(1, 1, 1, 1).expand(1L << 30, 1, 1, 1); NDArray w = NDArray.ones(1, 1, 1, 1).expand(HUGE, 1, 1, 1)) {
                fails(IllegalArgumentException.class, () -> NDArray.conv2d(x, w, null, ConvParams.of(1, 0)), "conv2d", "2^63-1");
                fails(IllegalArgumentException.class, () -> x.expand(1L << 30, HUGE, 1, 1).avgPool2d(1, 1, ConvParams.of(1, 0), true), "expand");
            }
        }
    }

    @Test
    void numelNeverWrapsForAcceptedShapes() {
        try (NDArray e = NDArray.ones(1, 1).expand(3, 1L << 61); NDArray z = NDArray.zeros(4, 3, 0, G62)) {
            assertEquals(3L << 61, e.numel());
            assertEquals(0, z.numel());
            try (NDArray wide = NDArray.zeros(0, G62, 4); NDArray f = wide.flatten(0, 1)) {
                assertArrayEquals(new long[] {0, 4}, f.shape());
                fails(IllegalArgumentException.class, () -> wide.flatten(1, 2), "flatten", "2^63-1");
            }
        }
    }

    /** Ops over zero elements with huge other sizes: allowed, no storage-bounds failure, and quick. */
    @Test
    void zeroElementArraysWithHugeSizesAreUsableAndQuick() {
        assertTimeoutPreemptively(Duration.ofSeconds(20), () -> {
            try (MemoryScope s = MemoryScope.open()) {
                NDArray z = NDArray.zeros(4, 3, 0, G62);
                List<Function<NDArray, NDArray>> ops = List.of(NDArray::exp, NDArray::copy, NDArray::contiguous, NDArray::neg,
                        x -> x.add(x), x -> x.mul(2.0), x -> x.div(2.0), x -> x.to(DType.F64), x -> x.permute(3, 2, 1, 0).contiguous(),
                        x -> x.transpose(0, 3).copy(), x -> x.softmax(3), x -> x.logSoftmax(0), x -> x.sum(3, false), x -> x.sum(0, true),
                        x -> x.reshape(0, 3, 7), x -> x.flatten(), x -> x.relu(), x -> x.gt(0));
                for (Function<NDArray, NDArray> op : ops) assertEquals(0, op.apply(z).numel());
                assertEquals(0.0, z.sum().item());
                assertEquals(0.0, z.abs().sum().item());
                assertEquals(0, z.toFloatArray().length);
                // an empty batch of 2^36 images: batch norm is O(1), not a loop over the images
                NDArray[] bn = NDArray.zeros(1L << 36, 2, 0).batchNorm(null, null, 1e-5);
                assertArrayEquals(new long[] {1L << 36, 2, 0}, bn[0].shape());
                assertEquals(2, bn[1].numel());
                NDArray[] back = NDArray.batchNormBackward(bn[0], NDArray.zeros(1L << 36, 2, 0), bn[1], bn[2], null, 1e-5, true, true, true);
                assertEquals(0, back[0].numel());
                NDArray[] ln = NDArray.zeros(1L << 40, 0, 4).layerNorm(4, null, null, 1e-5);
                assertEquals(0, ln[1].numel());
                NDArray logits = NDArray.zeros(1L << 36, 0, 0);
                assertEquals(0, logits.logSoftmax(1).numel());
                assertEquals(0, NDArray.zeros(1L << 40, 0).matmul(NDArray.zeros(0, 0)).numel());
                // outer loops over a huge dim whose inner extent is zero
                NDArray tall = NDArray.zeros(1L << 40, 0);
                assertEquals(0.0, tall.sum().item());
                assertEquals(0, tall.softmax(1).numel());
                assertEquals(0, tall.softmax(0).numel());
                assertEquals(0, tall.logsumexp(0, false).numel());
                assertEquals(0, NDArray.softmaxBackward(tall, tall, 0, true).numel());
                assertEquals(0, tall.argmax(0, false).numel());
                assertEquals(0, tall.unsqueeze(1).expand(1L << 40, 1L << 40, 0).sum(1, false).numel());
                assertEquals(0, tall.transpose(0, 1).contiguous().numel());
                assertEquals(0, tall.indexSelect(0, NDArray.of(new long[] {0, 1}, 2)).numel());
                assertEquals(0, tall.gather(0, NDArray.zeros(DType.I64, io.jtensor.Device.cpu(), 3, 0)).numel());
                assertEquals(0, NDArray.zeros(0, 1L << 40).sum(1, false).numel());
                assertEquals(0, NDArray.cat(List.of(tall, tall), 1).numel());
            }
        });
    }

    @Test
    void hostArraysOfMoreElementsThanJavaHoldsFailFirstNamingTheOp() {
        try (NDArray flags = NDArray.of(new boolean[] {true}).expand(1L << 31); NDArray f = NDArray.ones(1).expand(1L << 31)) {
            fails(IllegalStateException.class, flags::toBooleanArray, "toBooleanArray", "2147483648 elements", "do not fit a Java array");
            fails(IllegalStateException.class, f::toFloatArray, "toFloatArray", "do not fit");
            fails(IllegalStateException.class, f::toDoubleArray, "toDoubleArray", "do not fit");
            fails(IllegalStateException.class, f::toLongArray, "toLongArray", "do not fit");
            fails(IllegalStateException.class, f::toIntArray, "toIntArray", "do not fit");
            try (NDArray bytes = NDArray.ones(1).expand(1L << 29)) { // 2^29 F32 elements are 2^31 bytes
                fails(IllegalStateException.class, bytes::toBytes, "toBytes", "do not fit");
            }
        }
    }

    @Test
    void extremesOfAZeroDimensionalArrayAreItsValueAtIndexZero() {
        try (NDArray x = NDArray.scalar(-3.5, DType.F32, io.jtensor.Device.cpu())) {
            for (int d : new int[] {0, -1}) {
                for (boolean keep : new boolean[] {false, true}) {
                    try (NDArray.ValuesIndices mx = x.max(d, keep); NDArray.ValuesIndices mn = x.min(d, keep)) {
                        assertEquals(0, mx.values().dim());
                        assertEquals(-3.5, mx.values().item());
                        assertEquals(0.0, mx.indices().item());
                        assertEquals(-3.5, mn.values().item());
                        assertEquals(0.0, mn.indices().item());
                    }
                }
            }
            fails(IndexOutOfBoundsException.class, () -> x.max(1, false), "max", "dim 1");
        }
    }
}
