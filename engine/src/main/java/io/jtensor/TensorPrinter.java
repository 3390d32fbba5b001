package io.jtensor;

import java.math.BigDecimal;
import java.math.MathContext;
import java.math.RoundingMode;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;

/**
 * Prints arrays as PyTorch 1.13 prints tensors ({@code torch/_tensor_str.py}), character for character, so that a
 * printout can be diffed against PyTorch's: nested brackets by dimension; one width for every element; floats with
 * {@code precision} decimals, or in scientific notation when the non-zero finite magnitudes span more than 1000x,
 * exceed 1e8 or go below 1e-4; floats that are all integers as {@code 3.}; arrays of more than {@code threshold}
 * elements summarised to their first and last {@code edgeItems} along each longer dimension; lines wrapped at
 * {@code lineWidth}. Suffixes use PyTorch's words: {@code device='cuda:0'} unless the device is {@code cpu:0},
 * {@code dtype=torch.float64} unless the dtype is F32, I64 or BOOL (PyTorch's defaults; BF16 is
 * {@code torch.bfloat16}, U8 {@code torch.uint8}, I32 {@code torch.int32}), {@code size=(0, 3)} for an empty
 * array that is not one-dimensional. Callers add their own suffixes (the autograd's {@code requires_grad=True},
 * {@code grad_fn=<AddBackward0>}).
 *
 * <p>Only the printed elements are copied to the host: a summarised array is narrowed on its device first.
 */
public final class TensorPrinter {
    private TensorPrinter() {}

    /** PyTorch's {@code torch.set_printoptions}; {@code sciMode} null lets the values decide. */
    public record Options(int precision, long threshold, int edgeItems, int lineWidth, Boolean sciMode) {
        /** PyTorch's defaults: precision 4, threshold 1000, 3 edge items, 80 columns. */
        public static final Options DEFAULT = new Options(4, 1000, 3, 80, null);

        public Options {
            if (precision < 0 || threshold < 0 || edgeItems < 1 || lineWidth < 1) {
                throw new IllegalArgumentException("TensorPrinter.Options: expected precision >= 0, threshold >= 0, edgeItems >= 1 and"
                        + " lineWidth >= 1, got " + precision + ", " + threshold + ", " + edgeItems + ", " + lineWidth);
            }
        }
    }

    private static volatile Options options = Options.DEFAULT;

    public static Options options() { return options; }

    /** Sets the options every later toString uses (process-wide, as torch.set_printoptions). */
    public static void setOptions(Options o) { options = Objects.requireNonNull(o, "TensorPrinter.setOptions: options"); }

    /** PyTorch's name of a dtype, as its {@code dtype=} suffix prints it. */
    public static String torchName(DType t) {
        return switch (t) {
            case BOOL -> "torch.bool";
            case U8 -> "torch.uint8";
            case I32 -> "torch.int32";
            case I64 -> "torch.int64";
            case F16 -> "torch.float16";
            case BF16 -> "torch.bfloat16";
            case F32 -> "torch.float32";
            case F64 -> "torch.float64";
        };
    }

    /**
     * {@code prefix + body + suffixes + ")"}: prefix is the opening, e.g. {@code "tensor("} (its length is the
     * indent of later lines); extraSuffixes follow the device and dtype ones.
     */
    public static String format(NDArray a, String prefix, List<String> extraSuffixes) {
        Options o = options;
        if (a.isClosed()) return prefix + "closed, " + Arrays.toString(a.shape()) + ", " + a.dtype() + ")";
        int indent = prefix.length();
        List<String> suffixes = new ArrayList<>();
        if (!a.device().equals(Device.cpu())) suffixes.add("device='" + a.device() + "'");
        String body;
        if (a.numel() == 0) {
            if (a.dim() != 1) suffixes.add("size=" + pythonTuple(a.shape()));
            if (a.dtype() != DType.F32) suffixes.add("dtype=" + torchName(a.dtype()));
            body = "[]";
        } else {
            if (a.dtype() != DType.F32 && a.dtype() != DType.I64 && a.dtype() != DType.BOOL) suffixes.add("dtype=" + torchName(a.dtype()));
            body = body(a, indent, o);
        }
        suffixes.addAll(extraSuffixes);
        return addSuffixes(prefix + body, suffixes, indent, o.lineWidth());
    }

    /** PyTorch's _add_suffixes, including its line-length arithmetic. */
    private static String addSuffixes(String text, List<String> suffixes, int indent, int lineWidth) {
        StringBuilder sb = new StringBuilder(text);
        // As PyTorch computes it: len - rfind('\n') + 1, which is len + 2 for a single line.
        int lastLineLength = text.length() - text.lastIndexOf('\n') + 1;
        for (String s : suffixes) {
            if (lastLineLength + s.length() + 2 > lineWidth) {
                sb.append(",\n").append(" ".repeat(indent)).append(s);
                lastLineLength = indent + s.length();
            } else {
                sb.append(", ").append(s);
                lastLineLength += s.length() + 2;
            }
        }
        return sb.append(')').toString();
    }

    private static String pythonTuple(long[] shape) {
        StringBuilder sb = new StringBuilder("(");
        for (int i = 0; i < shape.length; i++) sb.append(i == 0 ? "" : ", ").append(shape[i]);
        return sb.append(shape.length == 1 ? ",)" : ")").toString();
    }

    /** The bracketed elements of a non-empty array. */
    private static String body(NDArray a, int indent, Options o) {
        boolean summarize = a.numel() > o.threshold();
        int e = o.edgeItems();
        long[] shape = a.shape();
        boolean[] elided = new boolean[shape.length];
        NDArray shown = a;
        List<NDArray> temporaries = new ArrayList<>();
        try {
            // PyTorch's get_summarized_data: keep the first and last e along every dim longer than 2e.
            for (int d = 0; summarize && d < shape.length; d++) {
                if (shape[d] <= 2L * e) continue;
                elided[d] = true;
                NDArray head = shown.narrow(d, 0, e), tail = shown.narrow(d, shape[d] - e, e);
                temporaries.add(head);
                temporaries.add(tail);
                shown = NDArray.cat(List.of(head, tail), d);
                temporaries.add(shown);
            }
            Elements el = Elements.read(shown, o);
            var printer = new Printer(el, shown.shape(), elided, e, o.lineWidth());
            return printer.print(0, 0, indent);
        } finally {
            for (NDArray t : temporaries) t.close();
        }
    }

    /** The printed values on the host and their one formatter (PyTorch's _Formatter). */
    private static final class Elements {
        final double[] floats;   // floating dtypes
        final long[] integers;   // integer dtypes
        final boolean bool;
        final int precision;
        boolean intMode = true;
        boolean sciMode = false;
        int width = 1;

        private Elements(double[] floats, long[] integers, boolean bool, int precision) {
            this.floats = floats;
            this.integers = integers;
            this.bool = bool;
            this.precision = precision;
        }

        static Elements read(NDArray a, Options o) {
            Elements el = a.dtype().isFloating()
                    ? new Elements(a.toDoubleArray(), null, false, o.precision())
                    : new Elements(null, a.toLongArray(), a.dtype() == DType.BOOL, o.precision());
            el.chooseFormat(o.sciMode());
            return el;
        }

        private void chooseFormat(Boolean forcedSci) {
            if (floats == null) {
                for (long v : integers) width = Math.max(width, integerText(v).length());
                return;
            }
            double min = Double.POSITIVE_INFINITY, max = 0;
            boolean any = false;
            for (double v : floats) {
                if (v == 0 || !Double.isFinite(v)) continue;
                any = true;
                min = Math.min(min, Math.abs(v));
                max = Math.max(max, Math.abs(v));
                if (v != Math.ceil(v)) intMode = false;
            }
            if (any) {
                if (intMode) {
                    sciMode = max / min > 1000.0 || max > 1.0e8;
                } else {
                    sciMode = max / min > 1000.0 || max > 1.0e8 || min < 1.0e-4;
                }
                for (double v : floats) {
                    if (v == 0 || !Double.isFinite(v)) continue;
                    int len = sciMode ? scientific(v, precision).length()
                            : intMode ? fixed(v, 0).length() + 1 : fixed(v, precision).length();
                    width = Math.max(width, len);
                }
            }
            if (forcedSci != null) sciMode = forcedSci;
        }

        String text(int i) {
            String s;
            if (floats == null) {
                s = integerText(integers[i]);
            } else {
                double v = floats[i];
                if (sciMode) s = scientific(v, precision);
                else if (intMode) s = Double.isFinite(v) ? fixed(v, 0) + "." : fixed(v, 0);
                else s = fixed(v, precision);
            }
            return s.length() >= width ? s : " ".repeat(width - s.length()) + s;
        }

        private String integerText(long v) {
            return bool ? (v != 0 ? "True" : "False") : Long.toString(v);
        }
    }

    /** Python's {@code '{:.Nf}'.format(v)}: the exact binary value rounded half-even, "-" kept on negative zero. */
    static String fixed(double v, int decimals) {
        if (Double.isNaN(v)) return "nan";
        if (Double.isInfinite(v)) return v > 0 ? "inf" : "-inf";
        String sign = v < 0 || (v == 0 && 1 / v < 0) ? "-" : "";
        return sign + new BigDecimal(Math.abs(v)).setScale(decimals, RoundingMode.HALF_EVEN).toPlainString();
    }

    /** Python's {@code '{:.Ne}'.format(v)}: N decimals of the mantissa, the exponent signed with at least 2 digits. */
    static String scientific(double v, int decimals) {
        if (Double.isNaN(v)) return "nan";
        if (Double.isInfinite(v)) return v > 0 ? "inf" : "-inf";
        String sign = v < 0 || (v == 0 && 1 / v < 0) ? "-" : "";
        BigDecimal r = new BigDecimal(Math.abs(v)).round(new MathContext(decimals + 1, RoundingMode.HALF_EVEN));
        int exponent = v == 0 ? 0 : r.precision() - r.scale() - 1;
        String digits = v == 0 ? "0" : r.unscaledValue().toString();
        digits = digits.length() > decimals + 1 ? digits.substring(0, decimals + 1) : digits + "0".repeat(decimals + 1 - digits.length());
        String mantissa = decimals == 0 ? digits : digits.charAt(0) + "." + digits.substring(1);
        int ax = Math.abs(exponent);
        return sign + mantissa + "e" + (exponent < 0 ? "-" : "+") + (ax < 10 ? "0" : "") + ax;
    }

    /** PyTorch's _tensor_str_with_formatter and _vector_str over the (summarised) row-major elements. */
    private record Printer(Elements el, long[] shape, boolean[] elided, int edge, int lineWidth) {
        String print(int d, int offset, int indent) {
            if (shape.length == 0) return el.text(0);
            int n = (int) shape[d];
            int stride = 1;
            for (int k = d + 1; k < shape.length; k++) stride *= (int) shape[k];
            if (d == shape.length - 1) return vector(offset, n, elided[d], indent);
            List<String> slices = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                if (elided[d] && i == edge) slices.add("...");
                slices.add(print(d + 1, offset + i * stride, indent + 1));
            }
            int rank = shape.length - d;
            return "[" + String.join("," + "\n".repeat(rank - 1) + " ".repeat(indent + 1), slices) + "]";
        }

        private String vector(int offset, int n, boolean elidedHere, int indent) {
            int elementLength = el.width + 2;
            int perLine = Math.max(1, (lineWidth - indent) / elementLength);
            List<String> data = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                if (elidedHere && i == edge) data.add(" ...");
                data.add(el.text(offset + i));
            }
            List<String> lines = new ArrayList<>();
            for (int i = 0; i < data.size(); i += perLine) lines.add(String.join(", ", data.subList(i, Math.min(data.size(), i + perLine))));
            return "[" + String.join(",\n" + " ".repeat(indent + 1), lines) + "]";
        }
    }
}
