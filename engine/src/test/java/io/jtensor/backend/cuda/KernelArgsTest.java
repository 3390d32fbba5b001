package io.jtensor.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import org.junit.jupiter.api.Test;

class KernelArgsTest {
    @Test
    void pointersPointAtAlignedValues() {
        KernelArgs a = KernelArgs.start().i32(7).i64(0x1122334455667788L).f32(1.5f).f64(2.25).bits(2, 0x3C00);
        MemorySegment ptrs = a.pointerArray();
        assertEquals(5, a.count());
        long[] p = new long[5];
        for (int i = 0; i < 5; i++) p[i] = ptrs.getAtIndex(ValueLayout.JAVA_LONG, i);
        MemorySegment all = MemorySegment.ofAddress(p[0]).reinterpret(64);
        assertEquals(7, all.get(ValueLayout.JAVA_INT, 0));
        assertEquals(0, (p[1] - p[0]) % 8);
        assertEquals(8, p[1] - p[0], "the long is padded to 8-byte alignment");
        assertEquals(0x1122334455667788L, all.get(ValueLayout.JAVA_LONG, p[1] - p[0]));
        assertEquals(1.5f, all.get(ValueLayout.JAVA_FLOAT, p[2] - p[0]));
        assertEquals(0, (p[3] - p[0]) % 8);
        assertEquals(2.25, all.get(ValueLayout.JAVA_DOUBLE, p[3] - p[0]));
        assertEquals((short) 0x3C00, all.get(ValueLayout.JAVA_SHORT, p[4] - p[0]));
    }

    @Test
    void startResetsTheBuffer() {
        KernelArgs.start().i64(1).i64(2).i64(3);
        KernelArgs a = KernelArgs.start().i32(9);
        assertEquals(1, a.count());
    }

    @Test
    void fillBitsMatchTheDeviceCasts() {
        assertEquals(0x3C00, CudaElementwise.bitsOf(io.jtensor.DType.F16, 1.0));
        assertEquals(0xC000, CudaElementwise.bitsOf(io.jtensor.DType.F16, -2.0));
        assertEquals(0x3F80, CudaElementwise.bitsOf(io.jtensor.DType.BF16, 1.0));
        // 1 + 2^-8 lies halfway between two bfloat16 values: ties go to the even one (1.0)
        assertEquals(0x3F80, CudaElementwise.bitsOf(io.jtensor.DType.BF16, 1.0 + Math.scalb(1.0, -8)));
        // 1 + 3*2^-8 is halfway between 1+2^-7 (odd) and 1+2^-6 (even): rounds up
        assertEquals(0x3F82, CudaElementwise.bitsOf(io.jtensor.DType.BF16, 1.0 + 3 * Math.scalb(1.0, -8)));
        assertEquals(0x7FC0, CudaElementwise.bitsOf(io.jtensor.DType.BF16, Double.NaN));
        assertEquals(1, CudaElementwise.bitsOf(io.jtensor.DType.BOOL, 0.25));
        assertEquals(0, CudaElementwise.bitsOf(io.jtensor.DType.BOOL, 0.0));
        assertEquals(0xFFFFFFFFL, CudaElementwise.bitsOf(io.jtensor.DType.I32, -1));
        assertEquals(-3L, CudaElementwise.bitsOf(io.jtensor.DType.I64, -3.7));
        assertEquals(Double.doubleToRawLongBits(0.1), CudaElementwise.bitsOf(io.jtensor.DType.F64, 0.1));
    }
}
