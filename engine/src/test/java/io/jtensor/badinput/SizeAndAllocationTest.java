package io.jtensor.badinput;

import static io.jtensor.badinput.BadInput.assertValues;
import static io.jtensor.badinput.BadInput.fails;
import static io.jtensor.badinput.BadInput.iota;
import static io.jtensor.badinput.BadInput.shape;
import static io.jtensor.badinput.BadInput.stats;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.jtensor.DType;
import io.jtensor.Device;
import io.jtensor.Generator;
import io.jtensor.NDArray;
import io.jtensor.backend.ConvParams;
import io.jtensor.memory.MemoryScope;
import io.jtensor.memory.MemoryStats;
import java.lang.foreign.MemorySegment;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Negative, overflowing and impossible sizes. The overflow cases once produced arrays whose element count had wrapped
 * to a few bytes of storage, which matmul then read far beyond (a SIGSEGV): they must fail where the size is made.
 */
class SizeAndAllocationTest {
    private static final long TWO_32 = 1L << 32;
    private MemoryScope scope;

    @BeforeEach void open() { scope = MemoryScope.open(); }
    @AfterEach void close() { scope.close(); }

    @Test
    void negativeSizesAreRejectedByEveryConstructor() {
        fails(IllegalArgumentException.class, () -> NDArray.zeros(-1, 3), "zeros", "-1", shape(-1, 3));
        fails(IllegalArgumentException.class, () -> NDArray.ones(2, -3), "ones", "-3", shape(2, -3));
        fails(IllegalArgumentException.class, () -> NDArray.empty(DType.F32, -5), "empty", "-5");
        fails(IllegalArgumentException.class, () -> NDArray.full(1, DType.F32, Device.cpu(), 4, -2), "full", shape(4, -2));
        fails(IllegalArgumentException.class, () -> NDArray.rand(-2), "rand:", shape(-2));
        // Two negative sizes whose product matches the data must not slip through.
        fails(IllegalArgumentException.class, () -> NDArray.of(new float[] {1, 2}, -1, -2), "of", shape(-1, -2));
        fails(IllegalArgumentException.class, () -> NDArray.eye(-2, DType.F32, Device.cpu()), "eye", "-2");
        fails(IllegalArgumentException.class, () -> iota(2, 3).reshape(-2, -3), "reshape", "-2");
        fails(IllegalArgumentException.class, () -> iota(1, 3).expand(-2, 3), "expand", "-2", shape(-2, 3));
        fails(IllegalArgumentException.class, () -> iota(1, 3).expand(2, -3), "expand", "-3");
        fails(IllegalArgumentException.class, () -> NDArray.conv2dBackwardInput(iota(1, 1, 3, 3), iota(1, 1, 2, 2), new long[] {1, 1, -4, 4}, ConvParams.of(1, 0)),
                "conv2dBackwardInput", shape(1, 1, -4, 4));
    }

    @Test
    void elementCountsThatOverflowALongAreRejected() {
        fails(IllegalArgumentException.class, () -> NDArray.empty(DType.F32, TWO_32, TWO_32), "empty", shape(TWO_32, TWO_32), "2^63-1 elements");
        fails(IllegalArgumentException.class, () -> NDArray.zeros(1L << 31, 1L << 31, 4), "zeros", "2^63-1");
        fails(IllegalArgumentException.class, () -> NDArray.empty(DType.F64, Long.MAX_VALUE / 4), "empty", "F64", "2^63-1 bytes");
        // A -1 beside sizes whose product overflows.
        fails(IllegalArgumentException.class, () -> iota(4).reshape(-1, TWO_32, TWO_32), "reshape", "4 elements");
        // Zero elements times a huge size is still zero; the product must not wrap to "equal" either.
        fails(IllegalArgumentException.class, () -> NDArray.zeros(0).reshape(TWO_32, TWO_32), "reshape", "0 elements");
        assertArrayEquals(new long[] {TWO_32, TWO_32, 0}, NDArray.empty(DType.F32, TWO_32, TWO_32, 0).shape());
        assertArrayEquals(new long[] {0, TWO_32, TWO_32}, NDArray.zeros(0).reshape(0, TWO_32, TWO_32).shape());
    }

    @Test
    void theFormerCrashNowFailsWhereTheSizeIsMade() {
        // Before the fix: a [2^32, 2^32] array got 1 byte of storage, and matmul of a 2x2 corner read 16 GB past it.
        fails(IllegalArgumentException.class, () -> {
            NDArray x = NDArray.empty(DType.F32, TWO_32, TWO_32);
            try (NDArray corner = x.narrow(0, 0, 2).narrow(1, 0, 2)) {
                corner.matmul(NDArray.ones(2, 2)).close();
            }
        }, "empty", shape(TWO_32, TWO_32));
    }

    @Test
    void viewsCanOnlyReachTheirOwnStorage() {
        NDArray x = iota(2, 3);
        // Every route to a view checks its reach; here through expand's huge sizes, which need no memory.
        NDArray wide = NDArray.ones(1).expand((1L << 62));
        assertEquals((1L << 62), wide.numel());
        assertValues(new double[] {1, 1}, wide.narrow(0, (1L << 62) - 2, 2));
        fails(IndexOutOfBoundsException.class, () -> x.narrow(1, 3, 1), "narrow", "size 3");
    }

    @Test
    void allocationsTheMachineCannotHoldThrowOutOfMemoryWithAMessage() {
        Device d = Device.cpu(4);
        MemoryStats s = stats(d);
        long before = s.allocated(), count = s.count();
        long bytes = Long.MAX_VALUE / 2;
        fails(OutOfMemoryError.class, () -> NDArray.empty(DType.U8, d, bytes), "out of memory", "cpu:4", String.valueOf(bytes));
        fails(OutOfMemoryError.class, () -> NDArray.empty(DType.F32, d, bytes / 4), "cpu:4", String.valueOf(bytes / 4 * 4));
        fails(OutOfMemoryError.class, () -> NDArray.zeros(DType.F32, d, 1L << 30, 1L << 30), "cpu:4");
        assertEquals(before, s.allocated(), "a failed allocation must not be counted");
        assertEquals(count, s.count());
        try (NDArray fine = NDArray.ones(DType.F32, d, 4)) {
            assertValues(new double[] {1, 1, 1, 1}, fine);
        }
    }

    @Test
    void hostDataMustMatchTheShape() {
        fails(IllegalArgumentException.class, () -> NDArray.of(new float[] {1, 2, 3}, 2, 2), "of", shape(2, 2), "4 elements", "3 values");
        fails(IllegalArgumentException.class, () -> NDArray.fromHost(MemorySegment.ofArray(new float[2]), 4, DType.F32, 4), "of", "16 bytes", "8 bytes");
        fails(IllegalArgumentException.class, () -> NDArray.fromHost(MemorySegment.ofArray(new float[2]), 2, DType.F32, 3), "of", shape(3), "2 values");
    }

    @Test
    void rangesThatCannotBeMaterialisedAreRejected() {
        fails(IllegalArgumentException.class, () -> NDArray.arange(1L << 40), "arange", "1099511627776");
        fails(IllegalArgumentException.class, () -> NDArray.arange(0, Double.POSITIVE_INFINITY, 1, DType.F32, Device.cpu()), "arange", "Infinity");
        fails(IllegalArgumentException.class, () -> NDArray.arange(0, 5, Double.NaN, DType.F32, Device.cpu()), "arange", "NaN");
        fails(IllegalArgumentException.class, () -> NDArray.arange(0, 5, 0, DType.F32, Device.cpu()), "arange", "step");
        assertEquals(0, NDArray.arange(-5).numel());
    }

    @Test
    void eyeIsBuiltOnTheDeviceWithoutAHostArrayOfNSquaredElements() {
        // It used to fill a Java double[(int) (n * n)], which overflows for n > 46340.
        try (NDArray e = NDArray.eye(3, DType.I64, Device.cpu(2))) {
            assertEquals(Device.cpu(2), e.device());
            assertValues(new double[] {1, 0, 0, 0, 1, 0, 0, 0, 1}, e);
        }
        assertEquals(0, NDArray.eye(0, DType.F32, Device.cpu()).numel());
        try (NDArray big = NDArray.eye(1000, DType.BOOL, Device.cpu()); NDArray s = big.sum()) {
            assertEquals(1000.0, s.item());
            assertEquals(1.0, big.getDouble(999, 999));
            assertEquals(0.0, big.getDouble(999, 998));
        }
    }

    @Test
    void randomParametersOutsideTheirRangeAreRejected() {
        Generator g = new Generator(1);
        fails(IllegalArgumentException.class, () -> NDArray.randint(g, 5, 5, Device.cpu(), 2), "randint", "5, 5");
        fails(IllegalArgumentException.class, () -> NDArray.bernoulli(g, 1.5, DType.F32, Device.cpu(), 2), "bernoulli", "1.5");
        fails(IllegalArgumentException.class, () -> NDArray.bernoulli(g, Double.NaN, DType.F32, Device.cpu(), 2), "bernoulli", "NaN");
        fails(IllegalArgumentException.class, () -> NDArray.dropoutMask(g, 1, DType.F32, Device.cpu(), 2), "dropout", "1.0");
        fails(IllegalArgumentException.class, () -> Device.cpu(-1), "Device", "-1");
        fails(IllegalArgumentException.class, () -> Device.parse("tpu:0"), "Device.parse", "tpu:0");
    }
}
