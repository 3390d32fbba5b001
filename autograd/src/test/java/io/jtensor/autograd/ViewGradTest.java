package io.jtensor.autograd;

import static io.jtensor.autograd.Inputs.*;
import static org.junit.jupiter.api.Assertions.*;

import io.jtensor.DType;
import java.util.List;
import org.junit.jupiter.api.Test;

class ViewGradTest {

    @Test void reshape() { gradcheck(in -> in.get(0).reshape(4, 3), randn(1, 3, 4)); }
    @Test void reshapeOfTransposedCopies() { gradcheck(in -> in.get(0).t().reshape(12), randn(2, 3, 4)); }
    @Test void view() { gradcheck(in -> in.get(0).view(2, -1), randn(3, 3, 4)); }
    @Test void flattenRange() { gradcheck(in -> in.get(0).flatten(1, 2), randn(4, 2, 3, 4)); }
    @Test void squeezeAndUnsqueeze() { gradcheck(in -> in.get(0).squeeze(1).unsqueeze(0), randn(5, 3, 1, 4)); }
    @Test void permute() { gradcheck(in -> in.get(0).permute(2, 0, 1), randn(6, 2, 3, 4)); }
    @Test void transpose() { gradcheck(in -> in.get(0).transpose(0, 2), randn(7, 2, 3, 4)); }
    @Test void matrixTranspose() { gradcheck(in -> in.get(0).t(), randn(8, 2, 3)); }
    @Test void expand() { gradcheck(in -> in.get(0).expand(2, 3, 4), randn(9, 3, 1)); }
    @Test void narrow() { gradcheck(in -> in.get(0).narrow(1, 1, 2), randn(10, 3, 4)); }
    @Test void sliceWithStep() { gradcheck(in -> in.get(0).slice(0, 1, 6, 2), randn(11, 7, 2)); }
    @Test void sliceNegativeBounds() { gradcheck(in -> in.get(0).slice(1, -3, -1), randn(12, 2, 5)); }
    @Test void select() { gradcheck(in -> in.get(0).select(1, 2), randn(13, 3, 4)); }
    @Test void contiguousOfTransposed() { gradcheck(in -> in.get(0).transpose(0, 1).contiguous(), randn(14, 3, 4)); }
    @Test void cloneCopies() { gradcheck(in -> in.get(0).clone(), randn(15, 3, 4)); }

    @Test void catAlongDim() {
        gradcheck(in -> Tensor.cat(List.of(in.get(0), in.get(1), in.get(2)), 1), randn(20, 2, 1), randn(21, 2, 3), randn(22, 2, 2));
    }

    @Test void catOfNonContiguousParts() {
        gradcheck(in -> Tensor.cat(List.of(in.get(0).t(), in.get(1)), 0), randn(23, 3, 2), randn(24, 1, 3));
    }

    @Test void stackNewDim() { gradcheck(in -> Tensor.stack(List.of(in.get(0), in.get(1)), 1), randn(25, 3, 2), randn(26, 3, 2)); }

    @Test void splitPiecesCombine() {
        gradcheck(in -> {
            List<Tensor> p = in.get(0).split(2, 0);
            return p.get(0).mul(p.get(1)).add(p.get(2).sum());
        }, randn(27, 5, 3));
    }

    @Test void splitBySizes() {
        gradcheck(in -> {
            List<Tensor> p = in.get(0).split(new long[] {1, 3}, 1);
            return p.get(1).mul(p.get(0));
        }, randn(28, 2, 4));
    }

    @Test void chunk() {
        gradcheck(in -> {
            List<Tensor> p = in.get(0).chunk(3, 0);
            assertEquals(3, p.size());
            return p.get(0).exp().add(p.get(2));
        }, randn(29, 6, 2));
    }

    @Test void splitShapes() {
        List<Tensor> p = Tensor.zeros(5, 2).split(2, 0);
        assertEquals(3, p.size());
        assertArrayEquals(new long[] {1, 2}, p.get(2).shape());
    }

    @Test void castGradientReturnsInTheInputsDtype() {
        Tensor x = Tensor.of(new float[] {1, 2}, 2).requiresGrad(true);
        Tensor y = x.to(DType.F64).mul(3.0).sum();
        assertEquals(DType.F64, y.dtype());
        y.backward();
        assertEquals(DType.F32, x.grad().dtype());
        assertArrayEquals(new float[] {3, 3}, x.grad().toFloatArray());
    }

    @Test void deviceCopyGradientReturnsToTheSourceDevice() {
        io.jtensor.Device other = io.jtensor.Device.cpu(1);
        Tensor x = Tensor.of(new double[] {1, 2}, 2).requiresGrad(true);
        Tensor y = x.to(other);
        assertEquals(other, y.device());
        y.mul(y).sum().backward();
        assertEquals(io.jtensor.Device.cpu(), x.grad().device());
        assertArrayEquals(new double[] {2, 4}, x.grad().toDoubleArray());
    }

    @Test void castToIntegerIsNotDifferentiable() {
        Tensor x = Tensor.of(new float[] {1.5f, 2}, 2).requiresGrad(true);
        assertFalse(x.to(DType.I64).requiresGrad());
    }
}
