package io.jtensor.autograd;

import java.util.ArrayDeque;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.Set;

/**
 * The leaves (tensors that require grad and were made by the user, such as parameters) that a backward pass from
 * some outputs would reach: what the distributed Reducer's {@code findUnusedParameters} asks after a forward pass,
 * so that parameters outside this step's graph can be marked ready at once instead of being waited for.
 */
public final class GraphLeaves {
    private GraphLeaves() {}

    /** Every leaf reachable from {@code roots} (a root that is itself a leaf requiring grad counts), by identity. */
    public static Set<Tensor> reachableFrom(Iterable<Tensor> roots) {
        Set<Tensor> leaves = Collections.newSetFromMap(new IdentityHashMap<>());
        Set<Node> seen = Collections.newSetFromMap(new IdentityHashMap<>());
        ArrayDeque<Node> stack = new ArrayDeque<>();
        for (Tensor r : roots) {
            if (r == null || !r.requiresGrad()) continue;
            Node n = r.gradFnNode();
            if (n == null) leaves.add(r);
            else if (seen.add(n)) stack.push(n);
        }
        while (!stack.isEmpty()) {
            Node n = stack.pop();
            for (Node.Edge e : n.edges) {
                if (e == null) continue;
                if (e.node() == null) leaves.add(e.leaf());
                else if (seen.add(e.node())) stack.push(e.node());
            }
        }
        return leaves;
    }
}
