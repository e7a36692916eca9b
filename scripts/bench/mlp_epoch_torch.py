"""PyTorch peer of scripts/bench/mlp_epoch.lua (run by it, in the same run).

The SNN MLP (784-512-512-10, SELU + LeCun normal, AlphaDropout 0.1,
softmax cross-entropy, RMSprop with Keras' defaults, batch 128 unless given) for one
epoch on n x 784 synthetic float32 data, shuffled each epoch; prints the
best epoch time.  Best configuration measured here: one intra-op thread
(its GEMMs still use OpenBLAS's threads), OMP_WAIT_POLICY=passive.
usage: mlp_epoch_torch.py n epochs [batch]
"""
import sys
import time

import torch
import torch.nn as tnn

n, epochs = int(sys.argv[1]), int(sys.argv[2])
bs = int(sys.argv[3]) if len(sys.argv) > 3 else 128
torch.set_num_threads(1)
torch.manual_seed(0)
x = torch.randn(n, 784)
y = torch.randint(0, 10, (n,))


def dense(i, o):
    layer = tnn.Linear(i, o)
    tnn.init.normal_(layer.weight, 0, (1.0 / i) ** 0.5)
    tnn.init.zeros_(layer.bias)
    return layer


model = tnn.Sequential(dense(784, 512), tnn.SELU(), tnn.AlphaDropout(0.1),
                       dense(512, 512), tnn.SELU(), tnn.AlphaDropout(0.1), dense(512, 10))
opt = torch.optim.RMSprop(model.parameters(), lr=0.001, alpha=0.9, eps=1e-7)
loss_fn = tnn.CrossEntropyLoss()
best = float("inf")
for _ in range(epochs):
    t0 = time.perf_counter()
    perm = torch.randperm(n)
    model.train()
    for i in range(0, n, bs):
        idx = perm[i:i + bs]
        opt.zero_grad()
        loss = loss_fn(model(x[idx]), y[idx])
        loss.backward()
        opt.step()
    best = min(best, time.perf_counter() - t0)
print("epoch_seconds", best)
