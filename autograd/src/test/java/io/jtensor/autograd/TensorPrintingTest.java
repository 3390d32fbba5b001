package io.jtensor.autograd;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

/**
 * Tensor.toString against PyTorch 1.13's str(t) for the same tensors (Debian's python3-torch 1.13.1, run once):
 * {@code a = torch.tensor([1.5, -2.0], requires_grad=True)}; {@code str(a)}, {@code str(a + 1)}, {@code str(a * a)}.
 * Catches a missing or misnamed requires_grad / grad_fn suffix, or one shown on a tensor outside the graph.
 */
class TensorPrintingTest {
    @Test
    void showsRequiresGradOnALeafAndTheGradFnOfAResult() {
        Tensor a = Tensor.of(new float[] {1.5f, -2f}, 2).requiresGrad(true);
        assertEquals("tensor([ 1.5000, -2.0000], requires_grad=True)", a.toString());
        assertEquals("tensor([ 2.5000, -1.0000], grad_fn=<AddBackward0>)", a.add(1).toString());
        assertEquals("tensor([2.2500, 4.0000], grad_fn=<MulBackward0>)", a.mul(a).toString());
        assertEquals("tensor([ 1.5000, -2.0000])", a.detach().toString());
        try (var off = GradMode.noGrad()) {
            assertEquals("tensor([ 2.5000, -1.0000])", a.add(1).toString());
        }
    }
}
