package io.jtensor.autograd;

import static io.jtensor.autograd.Inputs.*;
import static org.junit.jupiter.api.Assertions.*;

import io.jtensor.DType;
import org.junit.jupiter.api.Test;

class ReductionGradTest {

    @Test void sumAll() { gradcheck(in -> in.get(0).sum(), randn(1, 3, 4)); }
    @Test void sumOneDim() { gradcheck(in -> in.get(0).sum(1, false), randn(2, 3, 4, 2)); }
    @Test void sumDimsKeepDim() { gradcheck(in -> in.get(0).sum(new int[] {0, 2}, true), randn(3, 3, 4, 2)); }
    @Test void sumNegativeDim() { gradcheck(in -> in.get(0).sum(-1, false), randn(4, 3, 4)); }
    @Test void sumOfTransposed() { gradcheck(in -> in.get(0).t().sum(0, false), randn(5, 3, 4)); }
    @Test void meanAll() { gradcheck(in -> in.get(0).mean(), randn(6, 3, 4)); }
    @Test void meanDim() { gradcheck(in -> in.get(0).mean(0, true), randn(7, 3, 4)); }
    @Test void meanDims() { gradcheck(in -> in.get(0).mean(new int[] {1, 2}, false), randn(8, 2, 3, 4)); }

    @Test void amaxOverDims() { gradcheck(in -> in.get(0).amax(new int[] {1}, false), randn(10, 3, 5)); }
    @Test void aminKeepDim() { gradcheck(in -> in.get(0).amin(new int[] {0, 2}, true), randn(11, 3, 4, 2)); }
    @Test void maxOfAll() { gradcheck(in -> in.get(0).max(), randn(12, 3, 5)); }
    @Test void maxAlongDim() { gradcheck(in -> in.get(0).max(1, false).values(), randn(13, 3, 5)); }
    @Test void minAlongDimKeepDim() { gradcheck(in -> in.get(0).min(0, true).values(), randn(14, 3, 5)); }

    @Test void maxReturnsValuesAndIndices() {
        Tensor x = Tensor.of(new double[] {1, 5, 2, 7, 0, 3}, 2, 3).requiresGrad(true);
        ValuesIndices m = x.max(1, false);
        assertArrayEquals(new double[] {5, 7}, m.values().toDoubleArray());
        assertArrayEquals(new long[] {1, 0}, m.indices().toLongArray());
        assertEquals(DType.I64, m.indices().dtype());
        assertFalse(m.indices().requiresGrad());
        m.values().sum().backward();
        assertArrayEquals(new double[] {0, 1, 0, 1, 0, 0}, x.grad().toDoubleArray());
    }

    @Test void amaxSharesTheGradientBetweenTies() {
        Tensor x = Tensor.of(new double[] {1, 3, 3}, 3).requiresGrad(true);
        x.amax(new int[] {0}, false).backward();
        assertArrayEquals(new double[] {0, 0.5, 0.5}, x.grad().toDoubleArray());
    }

    @Test void varUnbiased() { gradcheck(in -> in.get(0).var(new int[] {1}, false, 1), randn(20, 3, 5)); }
    @Test void varPopulationKeepDim() { gradcheck(in -> in.get(0).var(new int[] {0, 2}, true, 0), randn(21, 3, 4, 2)); }
    @Test void varAll() { gradcheck(in -> in.get(0).var(), randn(22, 3, 4)); }
    @Test void stdUnbiased() { gradcheck(in -> in.get(0).std(new int[] {0}, false, 1), randn(23, 4, 3)); }
    @Test void stdAll() { gradcheck(in -> in.get(0).std(), randn(24, 3, 4)); }

    @Test void varMatchesTheDefinition() {
        double[] v = {1, 2, 4, 7};
        Tensor x = Tensor.of(v, 4);
        // mean 3.5; squared deviations 6.25 2.25 0.25 12.25 sum 21
        assertEquals(21.0 / 3, x.var().item(), 1e-12);
        assertEquals(Math.sqrt(21.0 / 4), x.std(new int[] {0}, false, 0).item(), 1e-12);
    }

    @Test void logsumexpDim() { gradcheck(in -> in.get(0).logsumexp(1, false), randn(30, 3, 5)); }
    @Test void logsumexpDimsKeepDim() { gradcheck(in -> in.get(0).logsumexp(new int[] {0, 1}, true), randn(31, 3, 5)); }

    @Test void normEuclidean() { gradcheck(in -> in.get(0).norm(), randn(40, 3, 4)); }
    @Test void normOneOverDim() { gradcheck(in -> in.get(0).norm(1, new int[] {1}, false), randn(41, 3, 4)); }
    @Test void normThreeKeepDim() { gradcheck(in -> in.get(0).norm(3, new int[] {0}, true), randn(42, 3, 4)); }
    @Test void normInfinity() { gradcheck(in -> in.get(0).norm(Double.POSITIVE_INFINITY, new int[] {1}, false), randn(43, 3, 4)); }

    @Test void normValue() {
        assertEquals(5.0, Tensor.of(new double[] {3, -4}, 2).norm().item(), 1e-12);
        assertEquals(7.0, Tensor.of(new double[] {3, -4}, 2).norm(1, new int[] {0}, false).item(), 1e-12);
    }
}
