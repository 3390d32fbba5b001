"""PyTorch's CPU build at the sizes CpuOpsBench measures, on all cores; prints microseconds per op.

Run with Debian's python3-torch (and libopenblas0-pthread):  /usr/bin/python3 bench/pytorch_cpu.py
"""
import os
import time

import torch
import torch.nn.functional as F

torch.set_num_threads(os.cpu_count())


def per_call_us(fn, min_seconds=1.0):
    for _ in range(3):
        fn()
    n, start = 0, time.perf_counter()
    while True:
        fn()
        n += 1
        elapsed = time.perf_counter() - start
        if elapsed >= min_seconds:
            return elapsed / n * 1e6


g = torch.Generator().manual_seed(1)
print(f"torch {torch.__version__}, threads {torch.get_num_threads()}, blas: {torch.__config__.show().count('OpenBLAS') > 0 and 'OpenBLAS' or 'other'}")
for n in (256, 512, 1024, 2048):
    a, b = torch.randn(n, n, generator=g), torch.randn(n, n, generator=g)
    us = per_call_us(lambda: a @ b)
    print(f"matmulF32 n={n}: {us:.1f} us  ({2 * n ** 3 / us / 1e3:.1f} GFLOP/s)")
a, b = torch.randn(16 << 20, generator=g), torch.randn(16 << 20, generator=g)
us = per_call_us(lambda: a + b)
print(f"add16M: {us:.1f} us  ({3 * 4 * (16 << 20) / us / 1e3:.1f} GB/s)")
logits = torch.randn(4096, 4096, generator=g)
us = per_call_us(lambda: torch.softmax(logits, 1))
print(f"softmax4096x4096: {us:.1f} us")
x, w = torch.randn(64, 6, 14, 14, generator=g), torch.randn(16, 6, 5, 5, generator=g)
us = per_call_us(lambda: F.conv2d(x, w))
print(f"conv2dLeNet: {us:.1f} us")
ta, tb = torch.tensor([1.0, 2, 3, 4]), torch.tensor([5.0, 6, 7, 8])
us = per_call_us(lambda: ta + tb)
print(f"tinyAdd: {us * 1000:.0f} ns")
