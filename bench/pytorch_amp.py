"""PyTorch 2's autocast + GradScaler beside jtensor's AmpBench, same models, batch and optimizer.

BERT-style encoder (8 layers, 8 heads, hidden 256, feed-forward 1024, sequence 128, vocabulary 1000, Adam 1e-4,
dropout 0) or ResNet-20 (16/32/64 channels, 3 blocks per stage, 32x32x3 input, SGD 0.05 momentum 0.9). Prints the
median step time and the step's peak memory above what was allocated before it (CUDA only), per configuration:
fp32 ("O0"), autocast F16 and BF16 with GradScaler ("O1"), and the model in half without autocast ("O3"-like; PyTorch
has no built-in O2).

  python3 bench/pytorch_amp.py bert|resnet20 [--device cuda] [--batch N] [--steps N]
"""
import argparse
import statistics
import time

import torch
import torch.nn as nn

ap = argparse.ArgumentParser()
ap.add_argument("model", choices=["bert", "resnet20"])
ap.add_argument("--device", default="cuda")
ap.add_argument("--batch", type=int, default=None)
ap.add_argument("--steps", type=int, default=20)
args = ap.parse_args()
dev = torch.device(args.device)
batch = args.batch or (8 if args.model == "bert" else 64)


class Block(nn.Module):
    def __init__(self, cin, cout, stride):
        super().__init__()
        self.c1, self.b1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False), nn.BatchNorm2d(cout)
        self.c2, self.b2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False), nn.BatchNorm2d(cout)
        self.sc = None if stride == 1 and cin == cout else nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x):
        y = torch.relu(self.b1(self.c1(x)))
        y = self.b2(self.c2(y))
        return torch.relu(y + (x if self.sc is None else self.sc(x)))


def resnet20():
    layers, cin = [nn.Conv2d(3, 16, 3, 1, 1, bias=False), nn.BatchNorm2d(16), nn.ReLU()], 16
    for i, w in enumerate([16, 32, 64]):
        for j in range(3):
            layers.append(Block(cin, w, 2 if i > 0 and j == 0 else 1))
            cin = w
    layers += [nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(64, 10)]
    return nn.Sequential(*layers)


class Bert(nn.Module):
    def __init__(self):
        super().__init__()
        self.tok, self.pos = nn.Embedding(1000, 256), nn.Parameter(torch.zeros(1, 129, 256))
        self.cls = nn.Parameter(torch.zeros(1, 1, 256))
        layer = nn.TransformerEncoderLayer(256, 8, 1024, dropout=0.0, activation="gelu", batch_first=True)
        self.enc = nn.TransformerEncoder(layer, 8)
        self.pool, self.head = nn.Linear(256, 256), nn.Linear(256, 2)

    def forward(self, ids):
        x = torch.cat([self.cls.expand(ids.shape[0], -1, -1), self.tok(ids)], 1) + self.pos
        return self.head(torch.tanh(self.pool(self.enc(x)[:, 0])))


def run(name, dtype, half_model):
    torch.manual_seed(1)
    model = (Bert() if args.model == "bert" else resnet20()).to(dev)
    if half_model:
        model = model.to(dtype)
    opt = torch.optim.Adam(model.parameters(), 1e-4) if args.model == "bert" else torch.optim.SGD(model.parameters(), 0.05, 0.9)
    if args.model == "bert":
        x = torch.randint(0, 1000, (batch, 128), device=dev)
    else:
        x = torch.randn(batch, 3, 32, 32, device=dev, dtype=dtype if half_model else torch.float32)
    y = torch.arange(batch, device=dev) % 2
    use_autocast = dtype != torch.float32 and not half_model
    scaler = torch.amp.GradScaler(dev.type, enabled=use_autocast and dtype == torch.float16)

    def step():
        with torch.autocast(dev.type, dtype=dtype, enabled=use_autocast):
            loss = nn.functional.cross_entropy(model(x).float(), y)
        opt.zero_grad(set_to_none=True)
        scaler.scale(loss).backward()
        scaler.step(opt)
        scaler.update()
        return loss.item()

    for _ in range(3):
        step()
    if dev.type == "cuda":
        torch.cuda.synchronize()
        base = torch.cuda.memory_allocated()
        torch.cuda.reset_peak_memory_stats()
    times = []
    for _ in range(args.steps):
        t0 = time.perf_counter()
        step()
        times.append((time.perf_counter() - t0) * 1e3)
    peak = (torch.cuda.max_memory_allocated() - base) / 2**20 if dev.type == "cuda" else float("nan")
    print(f"{args.model:8s} {name:12s} {dev} batch {batch}: step {statistics.median(times):.1f} ms (median of {args.steps}), step peak {peak:.1f} MiB")


run("fp32", torch.float32, False)
run("autocast-f16", torch.float16, False)
run("autocast-bf16", torch.bfloat16, False)
run("half-model", torch.float16, True)
