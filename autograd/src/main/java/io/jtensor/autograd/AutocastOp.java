package io.jtensor.autograd;

/**
 * The autocast table: every op whose precision autocast decides, and the row it falls in. This enum is the only place
 * that says which op runs in which precision (PyTorch's autocast op lists, which Apex's O1 also follows); an op family
 * names its constant once, at its entry, through {@link Autocasting#run}. Ops not listed run in the dtypes their
 * inputs come in.
 *
 * <p>Rows ({@link Precision}): {@code HALF} casts the F32/F16/BF16 inputs to the scope's half type (tensor-core
 * products); {@code FP32} casts F16/BF16 inputs to F32 (ops that need range or accumulate: exponentials, reductions,
 * normalisations, losses); {@code WIDEST} casts the floating inputs to the widest of their dtypes, as PyTorch's
 * promotion does (elementwise binaries, cat, stack, where). F64 inputs are never narrowed, and integer and boolean
 * inputs (indices, masks, targets) are never cast.
 */
public enum AutocastOp {
    // half: the products
    MATMUL(Precision.HALF),
    LINEAR(Precision.HALF),
    CONV2D(Precision.HALF),
    // fp32: range and accumulation
    SOFTMAX(Precision.FP32),
    LOG_SOFTMAX(Precision.FP32),
    CROSS_ENTROPY(Precision.FP32),
    NLL_LOSS(Precision.FP32),
    /** The losses composed in {@code nn.Functional} (MSE, L1, smooth L1, BCE with logits). */
    LOSS(Precision.FP32),
    LAYER_NORM(Precision.FP32),
    BATCH_NORM(Precision.FP32),
    SUM(Precision.FP32),
    MEAN(Precision.FP32),
    NORM(Precision.FP32),
    EXP(Precision.FP32),
    LOG(Precision.FP32),
    POW(Precision.FP32),
    RSQRT(Precision.FP32),
    // widest input type
    ADD(Precision.WIDEST),
    SUB(Precision.WIDEST),
    MUL(Precision.WIDEST),
    DIV(Precision.WIDEST),
    MAXIMUM(Precision.WIDEST),
    MINIMUM(Precision.WIDEST),
    CAT(Precision.WIDEST),
    STACK(Precision.WIDEST),
    WHERE(Precision.WIDEST);

    /** The rows of the table. */
    public enum Precision { HALF, FP32, WIDEST }

    private final Precision precision;

    AutocastOp(Precision precision) { this.precision = precision; }

    public Precision precision() { return precision; }
}
