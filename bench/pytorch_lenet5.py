"""The jtensor `train` recipe in PyTorch's CPU build, for a side-by-side epoch time and accuracy.

Same model (LeNet-5: conv 6@5x5 pad 2, ReLU, max-pool 2, conv 16@5x5, ReLU, max-pool 2, fc 120, 84, 10; with
--bn, batch norm after each conv and hidden fc), same data (Debian's Fashion-MNIST gz files, pixels in [0,1]),
batch 64, shuffled, SGD lr 0.05 momentum 0.9, cosine schedule stepped per epoch, all cores.

  /usr/bin/python3 bench/pytorch_lenet5.py --epochs 10 [--bn]
"""
import argparse
import gzip
import os
import struct
import time

import numpy as np
import torch
import torch.nn as nn

ap = argparse.ArgumentParser()
ap.add_argument("--epochs", type=int, default=10)
ap.add_argument("--bn", action="store_true")
ap.add_argument("--data", default="/usr/share/datasets/fashion-mnist")
ap.add_argument("--seed", type=int, default=42)
args = ap.parse_args()
torch.set_num_threads(os.cpu_count())
torch.manual_seed(args.seed)


def idx(path):
    with gzip.open(path, "rb") as f:
        raw = f.read()
    magic, = struct.unpack(">I", raw[:4])
    dims = magic & 0xFF
    shape = struct.unpack(">" + "I" * dims, raw[4:4 + 4 * dims])
    return np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * dims).reshape(shape)


def load(split):
    x = torch.from_numpy(idx(f"{args.data}/{split}-images-idx3-ubyte.gz").astype(np.float32) / 255.0).unsqueeze(1)
    y = torch.from_numpy(idx(f"{args.data}/{split}-labels-idx1-ubyte.gz").astype(np.int64))
    return x, y


def block(conv, channels):
    return [conv, nn.BatchNorm2d(channels)] if args.bn else [conv]


def fc(lin, features, last=False):
    return [lin] if last else ([lin, nn.BatchNorm1d(features), nn.ReLU()] if args.bn else [lin, nn.ReLU()])


model = nn.Sequential(
    *block(nn.Conv2d(1, 6, 5, padding=2), 6), nn.ReLU(), nn.MaxPool2d(2),
    *block(nn.Conv2d(6, 16, 5), 16), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
    *fc(nn.Linear(16 * 5 * 5, 120), 120), *fc(nn.Linear(120, 84), 84), nn.Linear(84, 10))
xtr, ytr = load("train")
xte, yte = load("t10k")
opt = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=args.epochs)
loss_fn = nn.CrossEntropyLoss()
print(f"torch {torch.__version__}, threads {torch.get_num_threads()}, lenet5{'-bn' if args.bn else ''}")
for epoch in range(args.epochs):
    model.train()
    perm = torch.randperm(len(xtr))
    start = time.perf_counter()
    for i in range(0, len(xtr), 64):
        b = perm[i:i + 64]
        opt.zero_grad()
        loss = loss_fn(model(xtr[b]), ytr[b])
        loss.backward()
        opt.step()
    sched.step()
    seconds = time.perf_counter() - start
    model.eval()
    with torch.no_grad():
        acc = (model(xte).argmax(1) == yte).float().mean().item()
    print(f"epoch {epoch + 1}: {seconds:.1f} s, loss {loss.item():.4f}, test accuracy {acc:.4f}")
