package io.jtensor.backend.cpu;

import io.jtensor.NDArray;

/** Batched matrix product on the CPU (see Backend.matmul for the contract). */
final class CpuGemm {
    private CpuGemm() {}

    static void matmul(NDArray a, NDArray b, NDArray out) {
        throw new UnsupportedOperationException("CpuGemm.matmul not implemented yet");
    }
}
