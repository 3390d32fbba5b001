package io.jtensor.autograd;

import io.jtensor.NDArray;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.PriorityQueue;

/**
 * Runs one backward pass: finds the nodes reachable from the root, counts how many gradients each node and leaf
 * will receive, then runs the rules in reverse topological order (a node runs once all its gradients are in).
 * A leaf's pass gradient is added to its {@code grad} as soon as its last contribution arrives, and its hooks fire
 * then, while the rest of the pass continues. Callbacks queued during the pass ({@link BackwardCallbacks}) run
 * after it, on the same thread.
 */
final class BackwardEngine {
    private BackwardEngine() {}

    /** Propagates {@code seed} (owned: closed here) from {@code root}, then runs the pass's {@link BackwardCallbacks}. */
    static void run(Tensor root, NDArray seed, boolean retainGraph) {
        BackwardCallbacks.around(() -> runPass(root, seed, retainGraph));
    }

    private static void runPass(Tensor root, NDArray seed, boolean retainGraph) {
        Node rootNode = root.gradFnNode();
        if (rootNode == null) {
            try (seed) {
                finishLeaf(root, seed);
            }
            return;
        }
        Map<Node, Integer> pendingNodes = new IdentityHashMap<>();
        Map<Tensor, Integer> pendingLeaves = new IdentityHashMap<>();
        List<Node> nodes;
        try {
            nodes = discover(rootNode, pendingNodes, pendingLeaves);
        } catch (RuntimeException e) {
            seed.close();
            throw e;
        }

        Map<Node, NDArray> nodeGrads = new IdentityHashMap<>();
        Map<Tensor, NDArray> leafGrads = new IdentityHashMap<>();
        PriorityQueue<Node> ready = new PriorityQueue<>(Comparator.comparingLong((Node n) -> n.sequence).reversed());
        nodeGrads.put(rootNode, seed);
        ready.add(rootNode);
        try {
            while (!ready.isEmpty()) {
                Node node = ready.poll();
                NDArray[] inputGrads;
                try (NDArray g = onNodeGradient(node, nodeGrads.remove(node))) {
                    inputGrads = node.apply(g);
                }
                try {
                    for (int i = 0; i < node.edges.length; i++) {
                        Node.Edge edge = node.edges[i];
                        NDArray raw = inputGrads[i];
                        inputGrads[i] = null;
                        if (edge == null) {
                            if (raw != null) raw.close();
                            continue;
                        }
                        NDArray gi = fit(node, i, edge, raw);
                        if (edge.node() != null) {
                            accumulate(nodeGrads, edge.node(), gi);
                            if (pendingNodes.merge(edge.node(), -1, Integer::sum) == 0) ready.add(edge.node());
                        } else {
                            accumulate(leafGrads, edge.leaf(), gi);
                            if (pendingLeaves.merge(edge.leaf(), -1, Integer::sum) == 0) {
                                try (NDArray lg = leafGrads.remove(edge.leaf())) {
                                    finishLeaf(edge.leaf(), lg);
                                }
                            }
                        }
                    }
                } finally {
                    for (NDArray left : inputGrads) if (left != null) left.close();
                }
            }
        } finally {
            nodeGrads.values().forEach(NDArray::close);
            leafGrads.values().forEach(NDArray::close);
            if (!retainGraph) nodes.forEach(Node::release);
        }
    }

    /** Every node reachable from root, with the number of edges that lead into each node and leaf. */
    private static List<Node> discover(Node root, Map<Node, Integer> pendingNodes, Map<Tensor, Integer> pendingLeaves) {
        List<Node> all = new ArrayList<>();
        ArrayDeque<Node> stack = new ArrayDeque<>();
        pendingNodes.put(root, 0);
        stack.push(root);
        while (!stack.isEmpty()) {
            Node n = stack.pop();
            if (n.isFreed()) throw new IllegalStateException(Node.FREED_MESSAGE + " (node " + n.op + ")");
            all.add(n);
            for (Node.Edge e : n.edges) {
                if (e == null) continue;
                if (e.node() != null) {
                    Integer c = pendingNodes.get(e.node());
                    if (c == null) stack.push(e.node());
                    pendingNodes.put(e.node(), c == null ? 1 : c + 1);
                } else {
                    pendingLeaves.merge(e.leaf(), 1, Integer::sum);
                }
            }
        }
        return all;
    }

    /** The complete gradient of a node's output: its hooks run and, if asked, a copy is retained. */
    private static NDArray onNodeGradient(Node node, NDArray g) {
        Tensor out = node.output;
        if (out == null) return g;
        NDArray h = out.runGradHooks(g);
        if (out.retainsGrad()) out.accumulateGrad(h);
        return h;
    }

    /** The pass gradient of a leaf is complete: hooks transform it, it is added to grad, then ready-hooks fire. */
    private static void finishLeaf(Tensor leaf, NDArray g) {
        try (NDArray h = leaf.runGradHooks(g.share())) {
            leaf.accumulateGrad(h);
        }
        leaf.runReadyHooks();
    }

    /** Makes gradient i of node fit its input: zeros if the rule gave none, broadcast undone, dtype and device restored. */
    private static NDArray fit(Node node, int i, Node.Edge edge, NDArray g) {
        if (g == null) return NDArray.zeros(edge.dtype(), edge.device(), edge.shape());
        NDArray cur = g;
        try {
            if (!cur.device().equals(edge.device())) cur = replace(cur, cur.to(edge.device()));
            cur = replace(cur, Broadcast.sumTo(node.op + " (input " + i + ")", cur, edge.shape()));
            if (cur.dtype() != edge.dtype()) cur = replace(cur, cur.to(edge.dtype()));
            return cur;
        } catch (RuntimeException e) {
            cur.close();
            throw e;
        }
    }

    private static NDArray replace(NDArray old, NDArray fresh) {
        old.close();
        return fresh;
    }

    private static <K> void accumulate(Map<K, NDArray> grads, K key, NDArray g) {
        NDArray prev = grads.get(key);
        if (prev == null) {
            grads.put(key, g);
            return;
        }
        try (prev; g) {
            grads.put(key, prev.add(g));
        }
    }
}
