package io.jtensor.nn.parallel;

import static org.junit.jupiter.api.Assertions.*;

import io.jtensor.DType;
import io.jtensor.Device;
import io.jtensor.NDArray;
import io.jtensor.autograd.Tensor;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * Each collective's forward and backward against its definition, written out with loops over plain double arrays:
 * broadcast's backward is the sum of the copies' gradients, scatter's the concatenation of the chunks', gather's
 * the slices of its gradient, reduce-add's its gradient on every device.
 */
class CommTest {
    private static final Device D0 = Device.cpu(0), D1 = Device.cpu(1), D2 = Device.cpu(2), D3 = Device.cpu(3);
    private static final List<Device> FOUR = List.of(D0, D1, D2, D3);

    private static double[] values(long seed, int n) {
        Random r = new Random(seed);
        double[] v = new double[n];
        for (int i = 0; i < n; i++) v[i] = r.nextDouble() * 2 - 1;
        return v;
    }

    private static Tensor leaf(long seed, Device d, long... shape) {
        int n = 1;
        for (long s : shape) n *= (int) s;
        try (NDArray a = NDArray.of(values(seed, n), shape)) {
            return Tensor.wrap(a.to(d)).requiresGrad(true);
        }
    }

    /** sum(t * w) for fixed weights w of t's shape (on t's device): its gradient with respect to t is w. */
    private static Tensor weighted(Tensor t, double[] w) {
        try (NDArray wa = NDArray.of(w, t.shape()); NDArray onDevice = wa.to(t.device())) {
            return t.mul(Tensor.wrap(onDevice.share())).sum();
        }
    }

    @Test void broadcastCopiesEverywhereSharesTheSourceAndSumsGradientsOntoIt() {
        Tensor x = leaf(1, D1, 3, 4);
        double[] xv = x.toDoubleArray();
        List<Device> targets = List.of(D2, D1, D0);
        List<Tensor> copies = Comm.broadcast(x, targets);
        assertEquals(3, copies.size());
        double[] expectedGrad = new double[12];
        Tensor total = null;
        for (int i = 0; i < 3; i++) {
            Tensor c = copies.get(i);
            assertEquals(targets.get(i), c.device(), "copy " + i);
            assertArrayEquals(xv, c.toDoubleArray(), "copy " + i + " holds x");
            assertEquals("broadcast", c.gradFnName());
            double[] w = values(10 + i, 12);
            for (int k = 0; k < 12; k++) expectedGrad[k] += w[k];
            Tensor li = weighted(c, w).to(D0);
            total = total == null ? li : total.add(li);
        }
        assertSame(x.data().storage(), copies.get(1).data().storage(), "the copy on the source device is a view of x");
        assertNotSame(x.data().storage(), copies.get(0).data().storage(), "copies elsewhere have storage of their own");
        total.backward();
        assertEquals(D1, x.grad().device(), "the gradient lands on the source");
        assertArrayEquals(expectedGrad, x.grad().toDoubleArray(), 1e-12, "reduce-add of the copies' gradients");
    }

    @Test void scatterCutsUnevenBatchesAsTorchChunkAndGathersGradientsBack() {
        Tensor x = leaf(2, D0, 33, 2);
        double[] xv = x.toDoubleArray();
        List<Tensor> chunks = Comm.scatter(x, FOUR);
        long[] expectSizes = {9, 9, 9, 6};
        assertEquals(4, chunks.size());
        double[] expectedGrad = new double[66];
        Tensor total = null;
        int row = 0;
        for (int i = 0; i < 4; i++) {
            Tensor c = chunks.get(i);
            assertEquals(FOUR.get(i), c.device());
            assertArrayEquals(new long[] {expectSizes[i], 2}, c.shape());
            double[] cv = c.toDoubleArray();
            double[] w = values(20 + i, cv.length);
            for (int k = 0; k < cv.length; k++) {
                assertEquals(xv[row * 2 + k], cv[k], "chunk " + i + " element " + k);
                expectedGrad[row * 2 + k] = w[k];
            }
            row += (int) expectSizes[i];
            Tensor li = weighted(c, w).to(D0);
            total = total == null ? li : total.add(li);
        }
        total.backward();
        assertArrayEquals(expectedGrad, x.grad().toDoubleArray(), 1e-12, "gather of the chunks' gradients");
    }

    @Test void scatterTakesChunkSizesAlongAnyDim() {
        Tensor x = leaf(3, D2, 2, 5);
        double[] xv = x.toDoubleArray();
        List<Tensor> chunks = Comm.scatter(x, List.of(D3, D0), new long[] {1, 4}, 1);
        assertArrayEquals(new long[] {2, 1}, chunks.get(0).shape());
        assertArrayEquals(new long[] {2, 4}, chunks.get(1).shape());
        assertArrayEquals(new double[] {xv[0], xv[5]}, chunks.get(0).toDoubleArray());
        assertArrayEquals(new double[] {xv[1], xv[2], xv[3], xv[4], xv[6], xv[7], xv[8], xv[9]}, chunks.get(1).toDoubleArray());
        double[] w0 = {1, 2}, w1 = values(31, 8);
        weighted(chunks.get(0), w0).to(D2).add(weighted(chunks.get(1), w1).to(D2)).backward();
        double[] expected = {w0[0], w1[0], w1[1], w1[2], w1[3], w0[1], w1[4], w1[5], w1[6], w1[7]};
        assertArrayEquals(expected, x.grad().toDoubleArray(), 1e-12);
    }

    @Test void chunkSizesFollowTorchChunk() {
        assertArrayEquals(new long[] {9, 9, 9, 6}, Comm.chunkSizes(33, 4));
        assertArrayEquals(new long[] {2, 2, 1}, Comm.chunkSizes(5, 4), "5 over 4 devices uses three, as torch.chunk does");
        assertArrayEquals(new long[] {1, 1}, Comm.chunkSizes(2, 4));
        assertArrayEquals(new long[] {8, 8, 8, 8}, Comm.chunkSizes(32, 4));
    }

    @Test void gatherConcatenatesOntoTheDestinationAndScattersGradientsBack() {
        List<Tensor> parts = List.of(leaf(4, D1, 2, 3), leaf(5, D3, 1, 3), leaf(6, D0, 3, 3));
        List<double[]> pv = new ArrayList<>();
        for (Tensor p : parts) pv.add(p.toDoubleArray());
        Tensor g = Comm.gather(parts, 0, D2);
        assertEquals(D2, g.device());
        assertArrayEquals(new long[] {6, 3}, g.shape());
        double[] gv = g.toDoubleArray();
        int at = 0;
        for (double[] p : pv) for (double v : p) assertEquals(v, gv[at++]);
        double[] w = values(40, 18);
        weighted(g, w).backward();
        at = 0;
        for (int i = 0; i < 3; i++) {
            Tensor p = parts.get(i);
            assertEquals(p.device(), p.grad().device(), "part " + i + "'s gradient on its own device");
            double[] expected = new double[(int) p.numel()];
            for (int k = 0; k < expected.length; k++) expected[k] = w[at++];
            assertArrayEquals(expected, p.grad().toDoubleArray(), 1e-12, "part " + i);
        }
    }

    @Test void gatherAlongDimOne() {
        List<Tensor> parts = List.of(leaf(7, D0, 2, 1), leaf(8, D1, 2, 2));
        double[] a = parts.get(0).toDoubleArray(), b = parts.get(1).toDoubleArray();
        Tensor g = Comm.gather(parts, 1, D0);
        assertArrayEquals(new double[] {a[0], b[0], b[1], a[1], b[2], b[3]}, g.toDoubleArray());
    }

    @Test void reduceAddSumsOntoTheDestinationAndBroadcastsTheGradient() {
        List<Tensor> parts = List.of(leaf(9, D0, 4), leaf(10, D1, 4), leaf(11, D2, 4), leaf(12, D3, 4));
        double[] expected = new double[4];
        for (Tensor p : parts) {
            double[] v = p.toDoubleArray();
            for (int k = 0; k < 4; k++) expected[k] += v[k];
        }
        Tensor sum = Comm.reduceAdd(parts, D1);
        assertEquals(D1, sum.device());
        assertArrayEquals(expected, sum.toDoubleArray(), 1e-12);
        double[] w = {1, -2, 3, 0.5};
        weighted(sum, w).backward();
        for (Tensor p : parts) {
            assertEquals(p.device(), p.grad().device());
            assertArrayEquals(w, p.grad().toDoubleArray(), 1e-12, "every part gets the whole gradient");
        }
    }

    @Test void reduceAddOnTheDestinationDoesNotWriteIntoItsInput() {
        Tensor a = leaf(13, D0, 3), b = leaf(14, D1, 3);
        double[] av = a.toDoubleArray();
        Comm.reduceAdd(List.of(a, b), D0);
        assertArrayEquals(av, a.toDoubleArray());
    }

    @Test void badInputNamesTheOpAndWhatCame() {
        Tensor x = leaf(15, D0, 4, 2);
        assertThrowsMessage(() -> Comm.broadcast(x, List.of()), "Comm.broadcast", "at least one device");
        assertThrowsMessage(() -> Comm.scatter(x, List.of(D0, D0)), "Comm.scatter", "cpu:0 twice");
        assertThrowsMessage(() -> Comm.scatter(x, List.of(D0, new Device(Device.Type.CUDA, 0))), "one kind", "cuda:0");
        assertThrowsMessage(() -> Comm.scatter(x, List.of(D0, D1), new long[] {1, 2}, 0), "add to 3", "size 4");
        assertThrowsMessage(() -> Comm.scatter(x, List.of(D0, D1), new long[] {4, 0}, 0), "positive chunk sizes");
        assertThrowsMessage(() -> Comm.gather(List.of(x, leaf(16, D1, 4, 3)), 0, D0), "Comm.gather", "[4, 3]");
        assertThrowsMessage(() -> Comm.gather(List.of(x, Tensor.wrap(NDArray.zeros(DType.F32, D1, 4, 2))), 0, D0), "one dtype");
        assertThrowsMessage(() -> Comm.reduceAdd(List.of(x, leaf(17, D1, 2, 4)), D0), "Comm.reduceAdd", "[2, 4]");
        Tensor closed = leaf(18, D1, 4, 2);
        closed.close();
        assertThrowsMessage(() -> Comm.reduceAdd(List.of(x, closed), D0), "part 1", "closed");
    }

    static void assertThrowsMessage(org.junit.jupiter.api.function.Executable e, String... parts) {
        IllegalArgumentException ex = assertThrows(IllegalArgumentException.class, e);
        for (String p : parts) assertTrue(ex.getMessage().contains(p), "message '" + ex.getMessage() + "' should contain '" + p + "'");
    }
}
