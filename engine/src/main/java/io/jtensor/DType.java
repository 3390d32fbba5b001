package io.jtensor;

/**
 * Element types. Promotion follows PyTorch's {@code torch.promote_types}: within a category the wider type wins,
 * across categories (bool < integer < floating) the higher category wins, and F16 with BF16 gives F32.
 */
public enum DType {
    BOOL(1, Category.BOOL),
    U8(1, Category.INTEGER),
    I32(4, Category.INTEGER),
    I64(8, Category.INTEGER),
    F16(2, Category.FLOATING),
    BF16(2, Category.FLOATING),
    F32(4, Category.FLOATING),
    F64(8, Category.FLOATING);

    /** Kinds of number, ordered so that a higher one absorbs a lower one in promotion. */
    public enum Category { BOOL, INTEGER, FLOATING }

    private final int byteSize;
    private final Category category;

    DType(int byteSize, Category category) {
        this.byteSize = byteSize;
        this.category = category;
    }

    public int byteSize() { return byteSize; }
    public Category category() { return category; }
    public boolean isFloating() { return category == Category.FLOATING; }
    public boolean isIntegral() { return category != Category.FLOATING; }

    /** The default dtype of a category when a Java scalar decides the result: I64 for integers, F32 for floats. */
    public static DType defaultFor(Category c) {
        return switch (c) {
            case BOOL -> BOOL;
            case INTEGER -> I64;
            case FLOATING -> F32;
        };
    }

    /** PyTorch's promote_types. */
    public static DType promote(DType a, DType b) {
        if (a == b) return a;
        if (a.category != b.category) return a.category.compareTo(b.category) > 0 ? a : b;
        if (a.category == Category.FLOATING) {
            if ((a == F16 && b == BF16) || (a == BF16 && b == F16)) return F32;
        }
        return a.byteSize >= b.byteSize ? a : b;
    }

    /**
     * PyTorch's result_type for an op between tensors of dimension > 0 ({@code dimType}, or null when none),
     * zero-dimensional tensors ({@code zeroDimType}, or null) and Java scalars (their category, or null):
     * a lower-priority operand only changes the result when its category is higher.
     */
    public static DType resultType(DType dimType, DType zeroDimType, Category scalarCategory) {
        DType result = dimType;
        if (zeroDimType != null) {
            if (result == null || zeroDimType.category.compareTo(result.category) > 0) result = zeroDimType;
        }
        if (scalarCategory != null) {
            if (result == null) result = defaultFor(scalarCategory);
            else if (scalarCategory.compareTo(result.category) > 0) result = defaultFor(scalarCategory);
        }
        if (result == null) throw new IllegalArgumentException("resultType: no operands");
        return result;
    }
}
