package io.jtensor.badinput;

import static io.jtensor.badinput.BadInput.stats;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.jtensor.DType;
import io.jtensor.Device;
import io.jtensor.NDArray;
import io.jtensor.backend.ConvParams;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;

/**
 * Calls random ops with random, often invalid, shapes, dims, indices, dtypes, devices and closed arrays. For each call
 * an oracle written here from PyTorch's rules (independently of the engine) predicts the result shape, or that the
 * call must fail. Then:
 * <ul>
 * <li>a predicted failure must be an IllegalArgumentException, IndexOutOfBoundsException or IllegalStateException
 *     whose message names the op (never another exception, never an Error, never a crash);</li>
 * <li>a predicted success must succeed with exactly the predicted shape, on the input's device;</li>
 * <li>after every call, failed or not, no memory is left allocated on the devices the inputs live on.</li>
 * </ul>
 * Where jtensor knowingly accepts more than PyTorch (mixed-dtype matmul promotes; softmax of integers computes in
 * F32), the oracle follows jtensor and says so. {@link ApiFuzzEdgesTest} fuzzes what this generator does not make:
 * closes racing ops on another thread, huge and overflowing shapes, integer draws over the whole long range, saved
 * statistics in strided layouts, and memory scopes closed out of order.
 */
class ApiFuzzTest {
    /** Fixed so that a failure reproduces; -Djtensor.fuzz.seed and -Djtensor.fuzz.calls explore further. */
    private static final long SEED = Long.getLong("jtensor.fuzz.seed", 0x5EED_BAD1L);
    private static final int CALLS = Integer.getInteger("jtensor.fuzz.calls", 4000);
    /** Devices of their own, so that their counters show exactly what this test leaves behind. */
    private static final Device HOME = Device.cpu(5), AWAY = Device.cpu(6);
    private static final DType[] DTYPES = {DType.F32, DType.F32, DType.F64, DType.I64, DType.I32, DType.BOOL};

    /** One generated input and what the oracle knows of it without asking the engine. */
    private record Arg(NDArray array, long[] shape, DType dtype, Device device, boolean closed, double[] values) {
        int rank() { return shape.length; }
        long numel() { return numelOf(shape); }
        boolean integral() { return dtype != DType.BOOL && !dtype.isFloating(); }
    }

    /** A prediction: the shape of a success, or null for a failure. */
    private static final long[] FAILS = null;

    private Random rnd;
    private final List<NDArray> made = new ArrayList<>();

    @Test
    void randomCallsFailCleanlyOrGivePyTorchShapes() {
        rnd = new Random(SEED);
        long home0 = stats(HOME).count(), away0 = stats(AWAY).count();
        int failures = 0, successes = 0;
        for (int call = 0; call < CALLS; call++) {
            int op = rnd.nextInt(26);
            String[] name = new String[1];
            long[][] expected = new long[1][];
            Supplier<Object> run = build(op, name, expected);
            boolean ok = check(call, name[0], expected[0], run);
            if (ok) successes++;
            else failures++;
            for (NDArray a : made) a.close();
            made.clear();
            int at = call;
            assertEquals(home0, stats(HOME).count(), () -> "call " + fmt(at) + " (" + name[0] + ") left arrays allocated on " + HOME);
            assertEquals(away0, stats(AWAY).count(), () -> "call " + fmt(at) + " (" + name[0] + ") left arrays allocated on " + AWAY);
        }
        // The generator is meant to hit both sides often; if it does not, the test checks little.
        assertTrue(failures > CALLS / 5 && successes > CALLS / 5, "failures " + failures + ", successes " + successes);
    }

    private static String fmt(int call) { return call + " of seed " + Long.toHexString(SEED); }

    /** Runs one call and checks it against the prediction; returns whether it succeeded. */
    private boolean check(int call, String op, long[] expected, Supplier<Object> run) {
        Object result;
        try {
            result = run.get();
        } catch (IllegalArgumentException | IndexOutOfBoundsException | IllegalStateException e) {
            if (e.getClass() == ArrayIndexOutOfBoundsException.class || e.getClass() == StringIndexOutOfBoundsException.class) {
                throw new AssertionError("call " + fmt(call) + " (" + op + ") hit an unchecked Java index: " + e, e);
            }
            if (expected != FAILS) {
                throw new AssertionError("call " + fmt(call) + " (" + op + ") should give " + Arrays.toString(expected) + " but failed: " + e, e);
            }
            if (e.getMessage() == null || !e.getMessage().contains(op)) {
                throw new AssertionError("call " + fmt(call) + ": the message of " + e + " does not name " + op, e);
            }
            return false;
        } catch (RuntimeException | Error e) {
            throw new AssertionError("call " + fmt(call) + " (" + op + ") threw " + e, e);
        }
        if (expected == FAILS) fail("call " + fmt(call) + " (" + op + ") should fail but gave " + describe(result));
        long[] got = shapeOf(result);
        if (!Arrays.equals(expected, got)) {
            fail("call " + fmt(call) + " (" + op + ") gave shape " + Arrays.toString(got) + ", PyTorch gives " + Arrays.toString(expected));
        }
        return true;
    }

    private long[] shapeOf(Object result) {
        if (result instanceof NDArray a) {
            made.add(a);
            assertTrue(a.device().equals(HOME) || a.device().equals(AWAY), "result on " + a.device());
            return a.shape();
        }
        if (result instanceof List<?> pieces) { // split: the sizes along the split dim, as a shape
            long[] sizes = new long[pieces.size()];
            for (int i = 0; i < sizes.length; i++) {
                NDArray p = (NDArray) pieces.get(i);
                made.add(p);
                sizes[i] = p.numel();
            }
            return sizes;
        }
        if (result instanceof NDArray.ValuesIndices vi) { // maxPool2d: values and indices of one shape
            made.add(vi.values());
            made.add(vi.indices());
            assertEquals(Arrays.toString(vi.values().shape()), Arrays.toString(vi.indices().shape()));
            return vi.values().shape();
        }
        if (result instanceof Double) return new long[0]; // item()
        throw new AssertionError("unexpected result " + result);
    }

    private static String describe(Object r) {
        return r instanceof NDArray a ? "an array of shape " + Arrays.toString(a.shape()) : String.valueOf(r);
    }

    // ------------------------------------------------------------------ the ops and their oracles

    private Supplier<Object> build(int op, String[] name, long[][] expected) {
        // Half the time the arguments are a near fit for the op, so that single faults (one wrong device, dtype, size
        // or index) are common rather than drowned among several.
        boolean fit = rnd.nextBoolean();
        Arg a = fit && op == 21 ? make(new long[] {rnd.nextInt(4), rnd.nextInt(4)}, rnd.nextInt(5) == 0 ? DType.I64 : DType.F32) : arg();
        Arg b = !fit ? arg() : switch (op) {
            case 14 -> index(near(a.shape));
            case 15 -> index(new long[] {rnd.nextInt(4)});
            case 21 -> index(rnd.nextInt(6) == 0 ? new long[] {rnd.nextInt(4)} : new long[] {a.shape[0]});
            default -> make(near(a.shape), rnd.nextInt(3) == 0 ? a.dtype : DTYPES[rnd.nextInt(DTYPES.length)]);
        };
        int d = rnd.nextInt(11) - 5, d2 = rnd.nextInt(11) - 5;
        switch (op) {
            case 0, 1, 2, 3 -> {
                String[] names = {"add", "mul", "maximum", "lt"};
                name[0] = names[op];
                expected[0] = bothUsable(a, b) ? broadcast(a.shape, b.shape) : FAILS;
                return () -> switch (op) {
                    case 0 -> a.array.add(b.array);
                    case 1 -> a.array.mul(b.array);
                    case 2 -> a.array.maximum(b.array);
                    default -> a.array.lt(b.array);
                };
            }
            case 4 -> {
                name[0] = "matmul";
                expected[0] = bothUsable(a, b) ? matmulShape(a, b) : FAILS;
                return () -> a.array.matmul(b.array);
            }
            case 5 -> {
                name[0] = "sum";
                boolean keep = rnd.nextBoolean();
                expected[0] = usable(a) ? reducedShape(a.shape, d, keep) : FAILS;
                return () -> a.array.sum(d, keep);
            }
            case 6 -> {
                name[0] = "reshape";
                long[] target = randomTarget();
                expected[0] = usable(a) ? inferred(target, a.numel()) : FAILS;
                return () -> a.array.reshape(target);
            }
            case 7 -> {
                name[0] = "transpose";
                expected[0] = usable(a) ? transposed(a.shape, d, d2) : FAILS;
                return () -> a.array.transpose(d, d2);
            }
            case 8 -> {
                name[0] = "unsqueeze";
                Integer dd = normalize(d, a.rank() + 1);
                expected[0] = usable(a) && dd != null ? insert(a.shape, dd, 1) : FAILS;
                return () -> a.array.unsqueeze(d);
            }
            case 9 -> {
                name[0] = "squeeze";
                Integer dd = normalize(d, a.rank());
                expected[0] = !usable(a) || dd == null ? FAILS : a.rank() > 0 && a.shape[dd] == 1 ? remove(a.shape, dd) : a.shape;
                return () -> a.array.squeeze(d);
            }
            case 10 -> {
                name[0] = "narrow";
                long start = rnd.nextInt(9) - 4, length = rnd.nextInt(6) - 1;
                expected[0] = usable(a) ? narrowed(a.shape, d, start, length) : FAILS;
                return () -> a.array.narrow(d, start, length);
            }
            case 11 -> {
                name[0] = "select";
                long i = rnd.nextInt(9) - 4;
                expected[0] = usable(a) ? selected(a.shape, d, i) : FAILS;
                return () -> a.array.select(d, i);
            }
            case 12 -> {
                name[0] = "cat";
                expected[0] = bothUsable(a, b) ? catShape(a.shape, b.shape, d) : FAILS;
                return () -> NDArray.cat(List.of(a.array, b.array), d);
            }
            case 13 -> {
                name[0] = "stack";
                Integer dd = normalize(d, a.rank() + 1);
                expected[0] = bothUsable(a, b) && dd != null && Arrays.equals(a.shape, b.shape) ? insert(a.shape, dd, 2) : FAILS;
                return () -> NDArray.stack(List.of(a.array, b.array), d);
            }
            case 14 -> {
                name[0] = "gather";
                expected[0] = bothUsable(a, b) ? gathered(a, d, b) : FAILS;
                return () -> a.array.gather(d, b.array);
            }
            case 15 -> {
                name[0] = "indexSelect";
                expected[0] = bothUsable(a, b) ? indexSelected(a, d, b) : FAILS;
                return () -> a.array.indexSelect(d, b.array);
            }
            case 16 -> {
                name[0] = "softmax";
                expected[0] = usable(a) && normalize(d, a.rank()) != null ? a.shape : FAILS; // integers computed in F32
                return () -> a.array.softmax(d);
            }
            case 17 -> {
                name[0] = "expand";
                long[] target = randomTarget();
                expected[0] = usable(a) ? expanded(a.shape, target) : FAILS;
                return () -> a.array.expand(target);
            }
            case 18 -> {
                name[0] = "permute";
                int[] dims = new int[rnd.nextInt(5)];
                for (int i = 0; i < dims.length; i++) dims[i] = rnd.nextInt(9) - 4;
                expected[0] = usable(a) ? permuted(a.shape, dims) : FAILS;
                return () -> a.array.permute(dims);
            }
            case 19 -> {
                name[0] = "flatten";
                expected[0] = usable(a) ? flattened(a.shape, d, d2) : FAILS;
                return () -> a.array.flatten(d, d2);
            }
            case 20 -> {
                name[0] = "oneHot";
                long classes = rnd.nextInt(6) - 1;
                expected[0] = usable(a) && a.integral() && classes >= 0 && allIn(a.values, 0, classes) ? insert(a.shape, a.rank(), classes) : FAILS;
                return () -> a.array.oneHot(classes);
            }
            case 21 -> {
                name[0] = "crossEntropy";
                expected[0] = bothUsable(a, b) ? crossEntropyShape(a, b) : FAILS;
                return () -> a.array.crossEntropy(b.array);
            }
            case 22 -> {
                name[0] = rnd.nextBoolean() ? "item" : "mean";
                boolean item = name[0].equals("item");
                expected[0] = !usable(a) ? FAILS : item ? (a.numel() == 1 ? new long[0] : FAILS) : (a.dtype.isFloating() ? new long[0] : FAILS);
                return () -> item ? (Object) a.array.item() : a.array.mean();
            }
            case 23 -> {
                name[0] = "split";
                long size = rnd.nextInt(4) - 1;
                expected[0] = usable(a) ? splitSizes(a.shape, size, d) : FAILS;
                return () -> a.array.split(size, d);
            }
            case 24 -> {
                int k = rnd.nextInt(4), stride = 1 + rnd.nextInt(2), pad = rnd.nextInt(2);
                boolean conv = rnd.nextBoolean();
                name[0] = conv ? "conv2d" : "maxPool2d";
                if (conv) {
                    Arg x = image();
                    Arg w = fit && x.rank() == 4
                            ? make(new long[] {rnd.nextInt(3), x.shape[1], rnd.nextInt(4), rnd.nextInt(4)}, rnd.nextInt(4) == 0 ? DType.F64 : x.dtype)
                            : image();
                    expected[0] = bothUsable(x, w) ? convShape(x, w, stride, pad) : FAILS;
                    return () -> NDArray.conv2d(x.array, w.array, null, ConvParams.of(stride, pad));
                }
                Arg x = image();
                expected[0] = usable(x) ? poolShape(x, k, stride, pad) : FAILS;
                return () -> x.array.maxPool2d(k, k, ConvParams.of(stride, pad));
            }
            default -> {
                boolean where = rnd.nextBoolean();
                name[0] = where ? "where" : "copyFrom";
                if (where) {
                    Arg c = arg();
                    long[] sh = broadcast(a.shape, b.shape);
                    expected[0] = usable(c) && bothUsable(a, b) && c.device.equals(a.device) && sh != null ? broadcast(c.shape, sh) : FAILS;
                    return () -> NDArray.where(c.array, a.array, b.array);
                }
                long[] sh = broadcast(b.shape, a.shape);
                expected[0] = bothUsable(a, b) && Arrays.equals(sh, a.shape) ? a.shape : FAILS;
                NDArray dst = a.closed ? a.array : a.array.copy(); // a fresh array to write into, or the closed one
                made.add(dst);
                return () -> dst.copyFrom(b.array);
            }
        }
    }

    // ------------------------------------------------------------------ inputs

    /** A random array: rank 0-4, sizes 0-3, any dtype, sometimes transposed, on another device, or closed. */
    private Arg arg() {
        long[] shape = new long[rnd.nextInt(5)];
        for (int i = 0; i < shape.length; i++) shape[i] = rnd.nextInt(10) == 0 ? 0 : 1 + rnd.nextInt(3);
        return make(shape);
    }

    /** A random image-like array: rank 4 most of the time, small spatial sizes. */
    private Arg image() {
        if (rnd.nextInt(8) == 0) return arg();
        long[] shape = {rnd.nextInt(3), rnd.nextInt(3), rnd.nextInt(5), rnd.nextInt(5)};
        return make(shape);
    }

    private Arg make(long[] shape) { return make(shape, DTYPES[rnd.nextInt(DTYPES.length)]); }

    /** An integer index array most of the time, else any dtype (so that the dtype check is exercised too). */
    private Arg index(long[] shape) {
        return make(shape, rnd.nextInt(6) == 0 ? DTYPES[rnd.nextInt(DTYPES.length)] : rnd.nextBoolean() ? DType.I64 : DType.I32);
    }

    /** A shape like the given one, each size sometimes changed by one. */
    private long[] near(long[] shape) {
        long[] s = shape.clone();
        for (int i = 0; i < s.length; i++) if (rnd.nextInt(4) == 0) s[i] = Math.max(0, s[i] + rnd.nextInt(3) - 1);
        if (rnd.nextInt(10) == 0) s = rnd.nextBoolean() && s.length > 0 ? remove(s, 0) : insert(s, 0, 1);
        return s;
    }

    private Arg make(long[] shape, DType dtype) {
        int n = (int) numelOf(shape);
        double[] values = new double[n];
        for (int i = 0; i < n; i++) values[i] = dtype == DType.BOOL ? rnd.nextInt(2) : rnd.nextInt(5) - 1; // -1..3: mostly valid indices
        Device device = rnd.nextInt(12) == 0 ? AWAY : HOME;
        boolean transposed = shape.length >= 2 && rnd.nextInt(4) == 0;
        NDArray array;
        if (transposed) {
            long[] stored = shape.clone();
            int r = shape.length;
            stored[r - 1] = shape[r - 2];
            stored[r - 2] = shape[r - 1];
            array = viewOf(fromValues(transposeLastTwo(values, shape), stored, dtype, device), a -> a.transpose(-1, -2));
        } else {
            array = fromValues(values, shape, dtype, device);
        }
        boolean closed = rnd.nextInt(25) == 0;
        if (closed) array.close();
        made.add(array);
        return new Arg(array, shape, dtype, device, closed, values);
    }

    private static NDArray fromValues(double[] values, long[] shape, DType dtype, Device device) {
        try (NDArray f = NDArray.of(values, shape); NDArray c = f.to(dtype)) {
            return c.to(device);
        }
    }

    private static NDArray viewOf(NDArray base, java.util.function.UnaryOperator<NDArray> view) {
        try (base) {
            return view.apply(base);
        }
    }

    /** The row-major values of the array whose last two dims are swapped. */
    private static double[] transposeLastTwo(double[] values, long[] shape) {
        int r = shape.length;
        int rows = (int) shape[r - 2], cols = (int) shape[r - 1], plane = rows * cols;
        double[] out = new double[values.length];
        for (int p = 0; p + plane <= values.length && plane > 0; p += plane) {
            for (int i = 0; i < rows; i++) for (int j = 0; j < cols; j++) out[p + j * rows + i] = values[p + i * cols + j];
        }
        return out;
    }

    /** A requested shape: mostly small sizes, sometimes -1, rarely another negative. */
    private long[] randomTarget() {
        long[] t = new long[rnd.nextInt(5)];
        for (int i = 0; i < t.length; i++) {
            int c = rnd.nextInt(12);
            t[i] = c == 0 ? -1 : c == 1 ? -2 - rnd.nextInt(3) : c == 2 ? 0 : 1 + rnd.nextInt(4);
        }
        return t;
    }

    // ------------------------------------------------------------------ PyTorch's rules

    private static boolean usable(Arg a) { return !a.closed; }

    private static boolean bothUsable(Arg a, Arg b) { return !a.closed && !b.closed && a.device.equals(b.device); }

    private static long numelOf(long[] shape) {
        long n = 1;
        for (long s : shape) n *= s;
        return n;
    }

    /** dim into [0, rank) with a zero-dimensional array taking -1 and 0, or null when out of range. */
    private static Integer normalize(int dim, int rank) {
        int r = Math.max(rank, 1);
        if (dim < -r || dim >= r) return null;
        return dim < 0 ? dim + r : dim;
    }

    private static long[] broadcast(long[] a, long[] b) {
        int n = Math.max(a.length, b.length);
        long[] out = new long[n];
        for (int i = 0; i < n; i++) {
            long x = i < n - a.length ? 1 : a[i - n + a.length], y = i < n - b.length ? 1 : b[i - n + b.length];
            if (x != y && x != 1 && y != 1) return FAILS;
            out[i] = x == 1 ? y : x;
        }
        return out;
    }

    private static long[] matmulShape(Arg a, Arg b) {
        if (a.rank() == 0 || b.rank() == 0) return FAILS;
        if (!DType.promote(a.dtype, b.dtype).isFloating()) return FAILS; // jtensor promotes; PyTorch wants one dtype
        long[] as = a.rank() == 1 ? new long[] {1, a.shape[0]} : a.shape, bs = b.rank() == 1 ? new long[] {b.shape[0], 1} : b.shape;
        if (as[as.length - 1] != bs[bs.length - 2]) return FAILS;
        long[] batch = broadcast(Arrays.copyOf(as, as.length - 2), Arrays.copyOf(bs, bs.length - 2));
        if (batch == null) return FAILS;
        long[] out = batch;
        if (a.rank() > 1) out = insert(out, out.length, as[as.length - 2]);
        if (b.rank() > 1) out = insert(out, out.length, bs[bs.length - 1]);
        return out;
    }

    private static long[] reducedShape(long[] shape, int dim, boolean keep) {
        Integer d = normalize(dim, shape.length);
        if (d == null) return FAILS;
        if (shape.length == 0) return shape;
        if (keep) {
            long[] k = shape.clone();
            k[d] = 1;
            return k;
        }
        return remove(shape, d);
    }

    private static long[] inferred(long[] target, long numel) {
        int infer = -1;
        long known = 1;
        for (int i = 0; i < target.length; i++) {
            if (target[i] == -1) {
                if (infer >= 0) return FAILS;
                infer = i;
            } else if (target[i] < 0) {
                return FAILS;
            } else {
                known *= target[i];
            }
        }
        long[] out = target.clone();
        if (infer >= 0) {
            if (known == 0 || numel % known != 0) return FAILS;
            out[infer] = numel / known;
            return out;
        }
        return known == numel ? out : FAILS;
    }

    private static long[] transposed(long[] shape, int a, int b) {
        Integer x = normalize(a, shape.length), y = normalize(b, shape.length);
        if (x == null || y == null) return FAILS;
        if (shape.length == 0) return shape;
        long[] t = shape.clone();
        t[x] = shape[y];
        t[y] = shape[x];
        return t;
    }

    private static long[] narrowed(long[] shape, int dim, long start, long length) {
        Integer d = normalize(dim, shape.length);
        if (d == null || shape.length == 0) return FAILS;
        long n = shape[d], s = start < 0 ? start + n : start;
        if (s < 0 || s > n || length < 0 || s + length > n) return FAILS;
        long[] out = shape.clone();
        out[d] = length;
        return out;
    }

    private static long[] selected(long[] shape, int dim, long i) {
        Integer d = normalize(dim, shape.length);
        if (d == null || shape.length == 0) return FAILS;
        long idx = i < 0 ? i + shape[d] : i;
        return idx < 0 || idx >= shape[d] ? FAILS : remove(shape, d);
    }

    private static long[] catShape(long[] a, long[] b, int dim) {
        if (a.length == 0 || b.length == 0 || a.length != b.length) return FAILS;
        Integer d = normalize(dim, a.length);
        if (d == null) return FAILS;
        for (int i = 0; i < a.length; i++) if (i != d && a[i] != b[i]) return FAILS;
        long[] out = a.clone();
        out[d] = a[d] + b[d];
        return out;
    }

    private static long[] gathered(Arg x, int dim, Arg index) {
        Integer d = normalize(dim, x.rank());
        if (d == null || !index.integral() || index.rank() != x.rank()) return FAILS;
        for (int i = 0; i < x.rank(); i++) if (i != d && index.shape[i] > x.shape[i]) return FAILS;
        long size = x.rank() == 0 ? 1 : x.shape[d];
        return allIn(index.values, 0, size) ? index.shape : FAILS;
    }

    private static long[] indexSelected(Arg x, int dim, Arg index) {
        Integer d = normalize(dim, x.rank());
        if (d == null || x.rank() == 0 || !index.integral() || index.rank() != 1) return FAILS; // jtensor: no 0-dim input
        if (!allIn(index.values, 0, x.shape[d])) return FAILS;
        long[] out = x.shape.clone();
        out[d] = index.shape[0];
        return out;
    }

    private static long[] expanded(long[] shape, long[] target) {
        if (target.length < shape.length) return FAILS;
        int lead = target.length - shape.length;
        long[] out = new long[target.length];
        for (int i = 0; i < target.length; i++) {
            if (i < lead) {
                if (target[i] < 0) return FAILS;
                out[i] = target[i];
                continue;
            }
            long cur = shape[i - lead], want = target[i] == -1 ? cur : target[i];
            if (want < 0 || (cur != want && cur != 1)) return FAILS;
            out[i] = want;
        }
        return out;
    }

    private static long[] permuted(long[] shape, int[] dims) {
        if (dims.length != shape.length) return FAILS;
        boolean[] seen = new boolean[Math.max(shape.length, 1)];
        long[] out = new long[dims.length];
        for (int i = 0; i < dims.length; i++) {
            Integer d = normalize(dims[i], shape.length);
            if (d == null || seen[d]) return FAILS;
            seen[d] = true;
            out[i] = shape[d];
        }
        return out;
    }

    private static long[] flattened(long[] shape, int start, int end) {
        Integer s = normalize(start, shape.length), e = normalize(end, shape.length);
        if (s == null || e == null) return FAILS;
        if (shape.length == 0) return new long[] {1};
        if (s > e) return FAILS;
        long m = 1;
        for (int i = s; i <= e; i++) m *= shape[i];
        long[] out = new long[shape.length - (e - s)];
        int j = 0;
        for (int i = 0; i < s; i++) out[j++] = shape[i];
        out[j++] = m;
        for (int i = e + 1; i < shape.length; i++) out[j++] = shape[i];
        return out;
    }

    private static long[] crossEntropyShape(Arg logits, Arg targets) {
        if (logits.rank() != 2 || !logits.dtype.isFloating()) return FAILS;
        if (targets.rank() != 1 || targets.shape[0] != logits.shape[0] || !targets.integral()) return FAILS;
        return allIn(targets.values, 0, logits.shape[1]) ? new long[0] : FAILS;
    }

    /** The sizes of the pieces, as split returns them; PyTorch gives one empty piece for an empty dim. */
    private static long[] splitSizes(long[] shape, long size, int dim) {
        Integer d = normalize(dim, shape.length);
        if (d == null || shape.length == 0 || size <= 0) return FAILS;
        long n = shape[d], pieces = n == 0 ? 1 : (n + size - 1) / size;
        long[] sizes = new long[(int) pieces];
        long rest = numelOf(shape) / Math.max(n, 1);
        for (int i = 0; i < pieces; i++) sizes[i] = Math.min(size, n - i * size) * rest;
        if (n == 0) sizes[0] = 0;
        return sizes;
    }

    private static long[] convShape(Arg x, Arg w, int stride, int pad) {
        if (x.rank() != 4 || w.rank() != 4 || x.dtype != w.dtype || !x.dtype.isFloating() || x.shape[1] != w.shape[1]) return FAILS;
        long oh = (x.shape[2] + 2L * pad - w.shape[2]) / stride + 1, ow = (x.shape[3] + 2L * pad - w.shape[3]) / stride + 1;
        if (x.shape[2] + 2L * pad - w.shape[2] < 0 || x.shape[3] + 2L * pad - w.shape[3] < 0 || oh <= 0 || ow <= 0) return FAILS;
        return new long[] {x.shape[0], w.shape[0], oh, ow};
    }

    private static long[] poolShape(Arg x, int k, int stride, int pad) {
        if (x.rank() != 4 || !x.dtype.isFloating() || k < 1 || 2 * pad > k) return FAILS;
        if (x.shape[1] == 0 || x.shape[2] == 0 || x.shape[3] == 0) return FAILS; // only the batch may be empty
        long oh = Math.floorDiv(x.shape[2] + 2L * pad - k, stride) + 1, ow = Math.floorDiv(x.shape[3] + 2L * pad - k, stride) + 1;
        return oh <= 0 || ow <= 0 ? FAILS : new long[] {x.shape[0], x.shape[1], oh, ow};
    }

    private static boolean allIn(double[] values, long lo, long hi) {
        for (double v : values) if (v < lo || v >= hi) return false;
        return true;
    }

    private static long[] insert(long[] a, int at, long v) {
        long[] r = new long[a.length + 1];
        System.arraycopy(a, 0, r, 0, at);
        r[at] = v;
        System.arraycopy(a, at, r, at + 1, a.length - at);
        return r;
    }

    private static long[] remove(long[] a, int at) {
        long[] r = new long[a.length - 1];
        System.arraycopy(a, 0, r, 0, at);
        System.arraycopy(a, at + 1, r, at, a.length - at - 1);
        return r;
    }
}
