package io.jtensor.backend.cuda;

/**
 * How a GEMM with a small output and a long K is cut along K so that it fills the GPU: {@code slices} products over
 * consecutive runs of {@code sliceK} (the last one shorter when K is not a multiple), computed as one batched GEMM
 * into {@code slices} partial outputs that a reduction then sums.
 *
 * <p>Why: a convolution's weight gradient is such a product. ResNet's 64->64 3x3 layer at batch 32 has a 64 x 576
 * output and K = 32 * 56 * 56 = 100352: three to five output tiles, so three to five of 132 SMs work (run 6 measured
 * 3% of cuDNN's speed). Cut into ~50 slices it keeps every SM busy; the partial outputs cost 50 x 147 KB of writes
 * and one read each, against 2 x 64 x 576 x 100352 flops.
 *
 * @param slices how many partial products (1: no split)
 * @param sliceK the K of each but the last; a multiple of {@link #ALIGN}, so that every slice's operands keep the
 *               16-byte alignment and stride multiples the tensor-core kernels need
 */
record SplitK(int slices, long sliceK) {
    /** Output tile edge assumed for counting tiles (our kernels use 128 x 128 or 128 x 256; cuBLAS similar). */
    static final int TILE = 128;
    /** Slices no shorter than this: per slice, the K loop must dwarf the partial output's write and read. */
    static final long MIN_SLICE_K = 1024;
    static final long ALIGN = 64;
    /** Blocks wanted per SM: two waves, so that a slow slice does not leave SMs idle for long. */
    static final int BLOCKS_PER_SM = 2;

    /**
     * The split for an M x N output per group (groups products side by side) over K, on a GPU with sms SMs, the
     * partial outputs (each outBytes) taking at most budgetBytes.
     */
    static SplitK plan(long M, long N, long K, int groups, int sms, long outBytes, long budgetBytes) {
        long tiles = ceilDiv(M, TILE) * ceilDiv(N, TILE) * Math.max(1, groups);
        long wanted = ceilDiv((long) sms * BLOCKS_PER_SM, Math.max(1, tiles));
        long byLength = K / MIN_SLICE_K;
        long byMemory = budgetBytes / Math.max(1, outBytes);
        long slices = Math.min(wanted, Math.min(byLength, byMemory));
        if (slices <= 1) return new SplitK(1, K);
        long sliceK = ceilDiv(ceilDiv(K, slices), ALIGN) * ALIGN;
        return new SplitK((int) ceilDiv(K, sliceK), sliceK);
    }

    /** Slices of the full length sliceK. */
    long fullSlices(long K) { return K / sliceK; }

    /** The length of the last, shorter slice; 0 when K is a multiple of sliceK. */
    long rest(long K) { return K - fullSlices(K) * sliceK; }

    private static long ceilDiv(long a, long b) { return (a + b - 1) / b; }
}
