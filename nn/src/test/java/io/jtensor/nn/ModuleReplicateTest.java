package io.jtensor.nn;

import static org.junit.jupiter.api.Assertions.*;

import io.jtensor.DType;
import io.jtensor.Device;
import io.jtensor.NDArray;
import io.jtensor.autograd.Tensor;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Module.replicate, the copy data parallelism runs on each device: every module copied, every reference to a
 * parameter, buffer or submodule swapped for its replica in the tables and in the subclasses' fields (plain, in
 * arrays, in lists), tied weights still tied, everything else shared, and the original untouched.
 */
class ModuleReplicateTest {
    /** A head whose weight is the embedding's (tied), with an unregistered constant and a training flag. */
    static final class Tied extends Module {
        final Embedding embedding = registerModule("embedding", new Embedding(5, 3));
        final Linear[] heads = {registerModule("h0", new Linear(3, 2)), registerModule("h1", new Linear(3, 2))};
        final List<Module> layers = List.of(embedding, heads[0]);
        final Tensor tied = embedding.weight();
        final Tensor constant = Tensor.ones(2);
        final double scale = 0.5;

        Tied() {
            registerBuffer("counter", NDArray.zeros(DType.I64, Device.cpu()));
        }
    }

    @Test void everyReferenceIsSwappedAndTiedWeightsStayTied() {
        Tied m = new Tied();
        m.eval();
        Map<Tensor, Tensor> madeFor = new IdentityHashMap<>();
        Map<NDArray, NDArray> bufferFor = new IdentityHashMap<>();
        Tied r = (Tied) m.replicate(p -> {
            Tensor copy = Tensor.wrap(p.data().copy());
            assertNull(madeFor.put(p, copy), "each parameter is replicated once");
            return copy;
        }, b -> {
            NDArray copy = b.copy();
            bufferFor.put(b, copy);
            return copy;
        });
        assertNotSame(m, r);
        assertEquals(m.parameters().size(), madeFor.size());
        assertFalse(r.isTraining(), "the replica keeps the training mode");
        assertNotSame(m.embedding, r.embedding, "submodule fields point at replicas");
        assertSame(madeFor.get(m.embedding.weight()), r.embedding.weight(), "a submodule's own field is swapped");
        assertSame(r.embedding.weight(), r.tied, "a field holding a parameter of another module is swapped too: still tied");
        assertNotSame(m.heads, r.heads, "arrays are copied");
        assertSame(m.heads[0], m.namedChildren().get("h0"), "the original's array is untouched");
        assertSame(r.namedChildren().get("h1"), r.heads[1]);
        assertSame(r.embedding, r.layers.get(0), "lists are rebuilt with the replicas");
        assertSame(r.heads[0], r.layers.get(1));
        assertSame(m.constant, r.constant, "a tensor that is not a parameter is shared");
        assertEquals(0.5, r.scale);
        assertSame(bufferFor.get(m.namedBuffers().get("counter")), r.namedBuffers().get("counter"));
        assertEquals(List.of("embedding.weight", "h0.weight", "h0.bias", "h1.weight", "h1.bias"), List.copyOf(r.namedParameters().keySet()));
        for (var e : m.namedParameters().entrySet()) assertSame(madeFor.get(e.getValue()), r.namedParameters().get(e.getKey()), e.getKey());
        assertSame(m.embedding.weight(), m.tied, "the original is unchanged");
    }
}
