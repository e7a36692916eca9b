"""PyTorch peer of scripts/bench/cnn_epoch.lua (run by it, in the same run).

Seed 003's CNN: Conv2D 32/64/64 3x3 relu with 2x2 max pooling after the
first two, Flatten, Dense 64 relu, Dense 10 softmax cross-entropy, RMSprop
with Keras' defaults, batch 128, on n x 28 x 28 x 1 synthetic float32 data
(NCHW, the layout PyTorch's kernels take; the model is the same).  Prints
the best epoch time over its thread settings (1 and all intra-op threads).
usage: cnn_epoch_torch.py n epochs
"""
import os
import sys
import time

import torch
import torch.nn as tnn

n, epochs = int(sys.argv[1]), int(sys.argv[2])
torch.manual_seed(0)
x = torch.randn(n, 1, 28, 28)
y = torch.randint(0, 10, (n,))


def model_and_opt():
    m = tnn.Sequential(
        tnn.Conv2d(1, 32, 3), tnn.ReLU(), tnn.MaxPool2d(2),
        tnn.Conv2d(32, 64, 3), tnn.ReLU(), tnn.MaxPool2d(2),
        tnn.Conv2d(64, 64, 3), tnn.ReLU(),
        tnn.Flatten(), tnn.Linear(576, 64), tnn.ReLU(), tnn.Linear(64, 10))
    return m, torch.optim.RMSprop(m.parameters(), lr=0.001, alpha=0.9, eps=1e-7)


loss_fn = tnn.CrossEntropyLoss()
best = float("inf")
for threads in sorted({1, os.cpu_count() or 1}):
    torch.set_num_threads(threads)
    model, opt = model_and_opt()
    for _ in range(epochs):
        t0 = time.perf_counter()
        perm = torch.randperm(n)
        for i in range(0, n, 128):
            idx = perm[i:i + 128]
            opt.zero_grad()
            loss = loss_fn(model(x[idx]), y[idx])
            loss.backward()
            opt.step()
        best = min(best, time.perf_counter() - t0)
print("epoch_seconds", best)
