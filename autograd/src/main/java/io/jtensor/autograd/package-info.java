/**
 * Define-by-run automatic differentiation over the engine's arrays.
 *
 * <ul>
 *   <li>{@link io.jtensor.autograd.Tensor}: the user-facing type; each op computes its result at once and, when
 *       {@link io.jtensor.autograd.GradMode} is on and an input requires grad, records a node through
 *       {@link io.jtensor.autograd.Recorder}.</li>
 *   <li>The derivative rules, one per op, live in the op-family classes: {@code Pointwise}, {@code Reductions},
 *       {@code Views}, {@code Linalg}, {@code Convolution}, {@code Indexing}, {@code Losses}. Composite ops (mean,
 *       var, std, norm, stack, split, embedding, the losses, dropout) are built from those ops and get their
 *       gradients from the same rules.</li>
 *   <li>{@code BackwardEngine} runs a pass in reverse topological order, undoes broadcasting, casts gradients back
 *       to each input's dtype and device, accumulates into leaves, fires hooks, and releases the graph.</li>
 *   <li>{@link io.jtensor.autograd.GradCheck}: finite-difference checking in F64.</li>
 * </ul>
 */
package io.jtensor.autograd;
