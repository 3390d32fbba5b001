package io.jtensor.nn.optim;

import io.jtensor.NDArray;
import io.jtensor.autograd.GradMode;
import io.jtensor.autograd.Tensor;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.DoubleSupplier;

/**
 * Limited-memory BFGS for full-batch problems, following PyTorch's {@code torch.optim.LBFGS}: each
 * {@link #step(DoubleSupplier)} runs up to max_iter iterations of the two-loop recursion over the last history_size
 * curvature pairs, with a fixed step {@code lr} or a strong-Wolfe line search (cubic interpolation, Nocedal and
 * Wright, Algorithm 3.5/3.6). The closure must zero the gradients, compute the loss, call backward and return it.
 *
 * <p>The direction algebra runs in double on the host over the parameters flattened in order: L-BFGS is for
 * problems where the closure, not the update, is the cost. Parameters are written back in place.
 * One parameter group only.
 */
public final class LBFGS extends Optimizer {
    public static final String MAX_ITER = "max_iter", MAX_EVAL = "max_eval", TOLERANCE_GRAD = "tolerance_grad",
            TOLERANCE_CHANGE = "tolerance_change", HISTORY_SIZE = "history_size", STRONG_WOLFE = "strong_wolfe";

    /** lr 1, 20 iterations per step, 25 evaluations, tolerances 1e-7 (gradient) and 1e-9 (change), history 100. */
    public LBFGS(Iterable<Tensor> params, boolean strongWolfe) { this(params, 1, 20, 25, 1e-7, 1e-9, 100, strongWolfe); }

    public LBFGS(Iterable<Tensor> params, double lr, int maxIter, int maxEval, double toleranceGrad, double toleranceChange,
                 int historySize, boolean strongWolfe) {
        super(single(params), Map.of(ParamGroup.LR, lr, MAX_ITER, (double) maxIter, MAX_EVAL, (double) maxEval,
                TOLERANCE_GRAD, toleranceGrad, TOLERANCE_CHANGE, toleranceChange, HISTORY_SIZE, (double) historySize,
                STRONG_WOLFE, strongWolfe ? 1.0 : 0.0));
    }

    @Override protected void validate(ParamGroup g) {
        super.validate(g);
        requireAtLeast(g, MAX_ITER, 1);
        requireAtLeast(g, MAX_EVAL, 1);
        requireAtLeast(g, HISTORY_SIZE, 1);
    }

    // ------------------------------------------------------------------ state carried between steps (as PyTorch)

    private double[] dir;            // last search direction d
    private double stepLen;          // last step length t
    private final List<double[]> oldDirs = new ArrayList<>();   // y_k = g_{k+1} - g_k
    private final List<double[]> oldSteps = new ArrayList<>();  // s_k = t d
    private final List<Double> rho = new ArrayList<>();         // 1 / (y_k . s_k)
    private double hDiag = 1;        // initial Hessian scale
    private double[] prevFlatGrad;
    private double prevLoss;
    private long nIter;              // iterations over all steps
    private long funcEvals;          // closure evaluations over all steps

    /** Total closure evaluations so far. */
    public long funcEvals() { return funcEvals; }

    /** Total iterations so far. */
    public long iterations() { return nIter; }

    @Override public void step() {
        throw new UnsupportedOperationException("LBFGS.step: L-BFGS re-evaluates the loss; call step(closure)");
    }

    @Override protected void update(ParamGroup group, NDArray data, NDArray grad, ParamState st) {
        throw new UnsupportedOperationException("LBFGS.update: not used");
    }

    @Override public double step(DoubleSupplier closure) {
        ParamGroup g = paramGroups().get(0);
        double lr = g.lr();
        int maxIter = (int) g.get(MAX_ITER), maxEval = (int) g.get(MAX_EVAL), history = (int) g.get(HISTORY_SIZE);
        double tolGrad = g.get(TOLERANCE_GRAD), tolChange = g.get(TOLERANCE_CHANGE);
        boolean wolfe = g.get(STRONG_WOLFE) != 0;

        double origLoss = evaluate(closure);
        double loss = origLoss;
        int currentEvals = 1;
        funcEvals++;
        double[] flatGrad = gatherFlatGrad();
        if (maxAbs(flatGrad) <= tolGrad) return origLoss;

        int iter = 0;
        while (iter < maxIter) {
            iter++;
            nIter++;
            if (nIter == 1) {
                dir = scaled(flatGrad, -1);
                oldDirs.clear();
                oldSteps.clear();
                rho.clear();
                hDiag = 1;
            } else {
                double[] y = sub(flatGrad, prevFlatGrad);
                double[] s = scaled(dir, stepLen);
                double ys = dot(y, s);
                if (ys > 1e-10) { // only curvature pairs that keep the inverse Hessian positive definite
                    if (oldDirs.size() == history) {
                        oldDirs.remove(0);
                        oldSteps.remove(0);
                        rho.remove(0);
                    }
                    oldDirs.add(y);
                    oldSteps.add(s);
                    rho.add(1.0 / ys);
                    hDiag = ys / dot(y, y);
                }
                dir = twoLoop(flatGrad);
            }
            prevFlatGrad = flatGrad.clone();
            prevLoss = loss;

            double t = nIter == 1 ? Math.min(1.0, 1.0 / sumAbs(flatGrad)) * lr : lr;
            double gtd = dot(flatGrad, dir);
            if (gtd > -tolChange) break; // not a descent direction any more

            int lsEvals;
            boolean optimal;
            if (wolfe) {
                double[] x0 = gatherFlatParams();
                WolfeResult r = strongWolfe(closure, x0, t, dir, loss, flatGrad, gtd, tolChange, 25);
                loss = r.loss;
                flatGrad = r.grad;
                t = r.t;
                lsEvals = r.evals;
                setFlatParams(axpy(x0, t, dir));
                optimal = maxAbs(flatGrad) <= tolGrad;
            } else {
                addToParams(t, dir);
                lsEvals = 0;
                optimal = false;
                if (iter != maxIter) {
                    loss = evaluate(closure);
                    flatGrad = gatherFlatGrad();
                    optimal = maxAbs(flatGrad) <= tolGrad;
                    lsEvals = 1;
                }
            }
            stepLen = t;
            currentEvals += lsEvals;
            funcEvals += lsEvals;

            if (iter == maxIter || currentEvals >= maxEval || optimal) break;
            if (maxAbs(dir) * Math.abs(t) <= tolChange) break;
            if (Math.abs(loss - prevLoss) < tolChange) break;
        }
        return origLoss;
    }

    /** H_k times minus the gradient, by the two-loop recursion over the stored pairs. */
    private double[] twoLoop(double[] grad) {
        int n = oldDirs.size();
        double[] alpha = new double[n];
        double[] q = scaled(grad, -1);
        for (int i = n - 1; i >= 0; i--) {
            alpha[i] = dot(oldSteps.get(i), q) * rho.get(i);
            addScaled(q, -alpha[i], oldDirs.get(i));
        }
        double[] r = scaled(q, hDiag);
        for (int i = 0; i < n; i++) {
            double beta = dot(oldDirs.get(i), r) * rho.get(i);
            addScaled(r, alpha[i] - beta, oldSteps.get(i));
        }
        return r;
    }

    // ------------------------------------------------------------------ strong-Wolfe line search

    private record WolfeResult(double loss, double[] grad, double t, int evals) {}

    private record Probe(double loss, double[] grad, double gtd) {}

    /** Loss and gradient at x + t*d; the parameters are put back to x afterwards. */
    private Probe probe(DoubleSupplier closure, double[] x, double t, double[] d) {
        setFlatParams(axpy(x, t, d));
        double f = evaluate(closure);
        double[] gr = gatherFlatGrad();
        setFlatParams(x);
        return new Probe(f, gr, dot(gr, d));
    }

    /**
     * Finds a step t satisfying the strong Wolfe conditions {@code f(x+td) <= f + c1 t gtd} and
     * {@code |g(x+td).d| <= -c2 gtd}: first brackets an interval by extrapolating with cubic steps, then zooms in.
     */
    private WolfeResult strongWolfe(DoubleSupplier closure, double[] x, double t, double[] d, double f, double[] gr, double gtd,
                                    double tolChange, int maxLs) {
        final double c1 = 1e-4, c2 = 0.9;
        double dNorm = maxAbs(d);
        Probe cur = probe(closure, x, t, d);
        int evals = 1;
        double tPrev = 0;
        Probe prev = new Probe(f, gr, gtd);
        boolean done = false;
        int lsIter = 0;
        double[] bT = null;
        Probe[] bP = null;
        while (lsIter < maxLs) {
            if (cur.loss > f + c1 * t * gtd || (lsIter > 1 && cur.loss >= prev.loss)) {
                bT = new double[] {tPrev, t};
                bP = new Probe[] {prev, cur};
                break;
            }
            if (Math.abs(cur.gtd) <= -c2 * gtd) {
                bT = new double[] {t};
                bP = new Probe[] {cur};
                done = true;
                break;
            }
            if (cur.gtd >= 0) {
                bT = new double[] {tPrev, t};
                bP = new Probe[] {prev, cur};
                break;
            }
            double minStep = t + 0.01 * (t - tPrev), maxStep = t * 10;
            double next = cubicMin(tPrev, prev.loss, prev.gtd, t, cur.loss, cur.gtd, minStep, maxStep);
            tPrev = t;
            prev = cur;
            t = next;
            cur = probe(closure, x, t, d);
            evals++;
            lsIter++;
        }
        if (lsIter == maxLs) {
            bT = new double[] {0, t};
            bP = new Probe[] {new Probe(f, gr, gtd), cur};
        }

        // Zoom: shrink the bracket until a point meets both conditions.
        boolean insufficientProgress = false;
        int low = bP[0].loss <= bP[bP.length - 1].loss ? 0 : 1, high = 1 - low;
        while (!done && lsIter < maxLs) {
            if (Math.abs(bT[1] - bT[0]) * dNorm < tolChange) break;
            double lo = Math.min(bT[0], bT[1]), hi = Math.max(bT[0], bT[1]);
            t = cubicMin(bT[0], bP[0].loss, bP[0].gtd, bT[1], bP[1].loss, bP[1].gtd, lo, hi);
            // Keep away from the bracket's ends, where interpolation makes little progress.
            double eps = 0.1 * (hi - lo);
            if (Math.min(hi - t, t - lo) < eps) {
                if (insufficientProgress || t >= hi || t <= lo) {
                    t = Math.abs(t - hi) < Math.abs(t - lo) ? hi - eps : lo + eps;
                    insufficientProgress = false;
                } else {
                    insufficientProgress = true;
                }
            } else {
                insufficientProgress = false;
            }
            Probe p = probe(closure, x, t, d);
            evals++;
            lsIter++;
            if (p.loss > f + c1 * t * gtd || p.loss >= bP[low].loss) {
                bT[high] = t;
                bP[high] = p;
                low = bP[0].loss <= bP[1].loss ? 0 : 1;
                high = 1 - low;
            } else {
                if (Math.abs(p.gtd) <= -c2 * gtd) {
                    done = true;
                } else if (p.gtd * (bT[high] - bT[low]) >= 0) {
                    bT[high] = bT[low];
                    bP[high] = bP[low];
                }
                bT[low] = t;
                bP[low] = p;
            }
        }
        int pick = bT.length == 1 ? 0 : low;
        return new WolfeResult(bP[pick].loss, bP[pick].grad, bT[pick], evals);
    }

    /**
     * The minimiser of the cubic through (x1, f1) and (x2, f2) with slopes g1 and g2, clamped to [lo, hi]; the
     * midpoint when the cubic has no minimum.
     */
    static double cubicMin(double x1, double f1, double g1, double x2, double f2, double g2, double lo, double hi) {
        double d1 = g1 + g2 - 3 * (f1 - f2) / (x1 - x2);
        double d2sq = d1 * d1 - g1 * g2;
        if (d2sq >= 0) {
            double d2 = Math.sqrt(d2sq);
            double m = x1 <= x2
                    ? x2 - (x2 - x1) * ((g2 + d2 - d1) / (g2 - g1 + 2 * d2))
                    : x1 - (x1 - x2) * ((g1 + d2 - d1) / (g1 - g2 + 2 * d2));
            return Math.min(Math.max(m, lo), hi);
        }
        return (lo + hi) / 2;
    }

    // ------------------------------------------------------------------ parameters as one flat vector

    private double evaluate(DoubleSupplier closure) {
        try (var g = GradMode.enableGrad()) {
            return closure.getAsDouble();
        }
    }

    private double[] gatherFlatGrad() {
        List<Tensor> ps = params();
        double[] flat = new double[Math.toIntExact(totalSize(ps))];
        int at = 0;
        for (Tensor p : ps) {
            int n = Math.toIntExact(Params.data(p).numel());
            NDArray gr = Params.grad(p);
            if (gr != null) System.arraycopy(gr.toDoubleArray(), 0, flat, at, n);
            at += n;
        }
        return flat;
    }

    private double[] gatherFlatParams() {
        List<Tensor> ps = params();
        double[] flat = new double[Math.toIntExact(totalSize(ps))];
        int at = 0;
        for (Tensor p : ps) {
            double[] v = Params.data(p).toDoubleArray();
            System.arraycopy(v, 0, flat, at, v.length);
            at += v.length;
        }
        return flat;
    }

    private void setFlatParams(double[] flat) {
        int at = 0;
        for (Tensor p : params()) {
            NDArray data = Params.data(p);
            int n = Math.toIntExact(data.numel());
            double[] part = new double[n];
            System.arraycopy(flat, at, part, 0, n);
            try (NDArray host = NDArray.of(part, data.shape()); NDArray cast = host.to(data.dtype()); NDArray moved = cast.to(data.device())) {
                data.copyFrom(moved);
            }
            at += n;
        }
    }

    private void addToParams(double t, double[] d) { setFlatParams(axpy(gatherFlatParams(), t, d)); }

    private static long totalSize(List<Tensor> ps) {
        long n = 0;
        for (Tensor p : ps) n += Params.data(p).numel();
        return n;
    }

    // ------------------------------------------------------------------ small vector algebra in double

    private static double dot(double[] a, double[] b) {
        double s = 0;
        for (int i = 0; i < a.length; i++) s += a[i] * b[i];
        return s;
    }

    private static double maxAbs(double[] a) {
        double m = 0;
        for (double v : a) m = Math.max(m, Math.abs(v));
        return m;
    }

    private static double sumAbs(double[] a) {
        double s = 0;
        for (double v : a) s += Math.abs(v);
        return s;
    }

    private static double[] scaled(double[] a, double s) {
        double[] r = new double[a.length];
        for (int i = 0; i < a.length; i++) r[i] = a[i] * s;
        return r;
    }

    private static double[] sub(double[] a, double[] b) {
        double[] r = new double[a.length];
        for (int i = 0; i < a.length; i++) r[i] = a[i] - b[i];
        return r;
    }

    /** x + t*d as a new array. */
    private static double[] axpy(double[] x, double t, double[] d) {
        double[] r = new double[x.length];
        for (int i = 0; i < x.length; i++) r[i] = x[i] + t * d[i];
        return r;
    }

    private static void addScaled(double[] y, double a, double[] x) {
        for (int i = 0; i < y.length; i++) y[i] += a * x[i];
    }

    // ------------------------------------------------------------------ state dict

    @Override protected void extraState(Map<String, NDArray> out) {
        out.put("lbfgs.n_iter", scalar(nIter));
        out.put("lbfgs.func_evals", scalar(funcEvals));
        if (nIter == 0) return;
        out.put("lbfgs.d", vector(dir));
        out.put("lbfgs.t", scalar(stepLen));
        out.put("lbfgs.H_diag", scalar(hDiag));
        out.put("lbfgs.prev_flat_grad", vector(prevFlatGrad));
        out.put("lbfgs.prev_loss", scalar(prevLoss));
        out.put("lbfgs.history", scalar(oldDirs.size()));
        for (int i = 0; i < oldDirs.size(); i++) {
            out.put("lbfgs.old_dirs." + i, vector(oldDirs.get(i)));
            out.put("lbfgs.old_stps." + i, vector(oldSteps.get(i)));
            out.put("lbfgs.ro." + i, scalar(rho.get(i)));
        }
    }

    @Override protected void loadExtraState(Map<String, NDArray> in) {
        nIter = (long) get(in, "lbfgs.n_iter").item();
        funcEvals = (long) get(in, "lbfgs.func_evals").item();
        oldDirs.clear();
        oldSteps.clear();
        rho.clear();
        if (nIter == 0) {
            dir = null;
            prevFlatGrad = null;
            return;
        }
        dir = get(in, "lbfgs.d").toDoubleArray();
        stepLen = get(in, "lbfgs.t").item();
        hDiag = get(in, "lbfgs.H_diag").item();
        prevFlatGrad = get(in, "lbfgs.prev_flat_grad").toDoubleArray();
        prevLoss = get(in, "lbfgs.prev_loss").item();
        int h = (int) get(in, "lbfgs.history").item();
        for (int i = 0; i < h; i++) {
            oldDirs.add(get(in, "lbfgs.old_dirs." + i).toDoubleArray());
            oldSteps.add(get(in, "lbfgs.old_stps." + i).toDoubleArray());
            rho.add(get(in, "lbfgs.ro." + i).item());
        }
    }

    private static NDArray get(Map<String, NDArray> in, String key) {
        NDArray a = in.get(key);
        if (a == null) throw new IllegalArgumentException("LBFGS.loadStateDict: missing key '" + key + "'");
        return a;
    }

    private static NDArray vector(double[] v) { return NDArray.of(v, v.length).keep(); }
}
