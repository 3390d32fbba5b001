package io.jtensor.backend.cpu;

/**
 * How a batch of GEMMs is cut into jobs for the threads: each batch entry into mParts x nParts tiles of C. Tiles
 * are whole multiples of the micro-tile so that only the last one in a row or column has a ragged edge.
 *
 * <p>Every tile packs its own copy of the operand it shares with its neighbours, so tiles are kept large: about
 * two per thread, which also leaves room to balance a core that other work slows down.
 */
record CpuGemmSplit(int batches, int m, int n, int mParts, int nParts, int mStep, int nStep) {
    /** Below this many flops a GEMM runs on the calling thread: a hand-off costs more than it saves. */
    static final double PARALLEL_FLOPS = 1 << 21;
    /** Tiles are not cut smaller than this many flops. */
    static final double MIN_JOB_FLOPS = 1 << 20;

    static CpuGemmSplit plan(int batches, int m, int n, int k, int mAlign, int nAlign, boolean parallel) {
        double flops = 2.0 * batches * m * n * Math.max(k, 1);
        int threads = parallel && Parallel.available() ? Parallel.THREADS : 1;
        int mParts = 1, nParts = 1;
        if (threads > 1 && flops >= PARALLEL_FLOPS && batches < 2 * threads) {
            int want = (int) Math.min(2L * threads, (long) (flops / MIN_JOB_FLOPS));
            int perBatch = (want + batches - 1) / batches;
            if (n >= m) nParts = Math.min(perBatch, (n + nAlign - 1) / nAlign);
            else mParts = Math.min(perBatch, (m + mAlign - 1) / mAlign);
        }
        int mStep = roundUp((m + mParts - 1) / mParts, mAlign), nStep = roundUp((n + nParts - 1) / nParts, nAlign);
        // Rounding up the step can leave the last part empty; recount.
        mParts = Math.max(1, (m + mStep - 1) / mStep);
        nParts = Math.max(1, (n + nStep - 1) / nStep);
        return new CpuGemmSplit(batches, m, n, mParts, nParts, Math.max(mStep, 1), Math.max(nStep, 1));
    }

    int jobs() { return batches * mParts * nParts; }

    /** The job's tile: runs body(batch, m0, m1, n0, n1). */
    void run(int job, Tile body) {
        int per = mParts * nParts;
        int batch = job / per, t = job % per;
        int m0 = (t / nParts) * mStep, n0 = (t % nParts) * nStep;
        body.run(batch, m0, Math.min(m, m0 + mStep), n0, Math.min(n, n0 + nStep));
    }

    @FunctionalInterface
    interface Tile {
        void run(int batch, int m0, int m1, int n0, int n1);
    }

    private static int roundUp(int x, int to) { return Math.max(to, (x + to - 1) / to * to); }
}
