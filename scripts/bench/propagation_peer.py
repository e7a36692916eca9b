"""NumPy and PyTorch peers of scripts/bench/propagation.lua (run by it, in the same run).

The propagation demo's forward as seed 001's notebook writes it: a 500 x 100
input through 100 layers of 100 x 100 weights (drawn beforehand, outside the
timing), Z = selu(Z @ W), then each sample's mean and std, every layer.
NumPy runs the notebook's own code in float64 (its dtype); PyTorch runs the same
loop in float32, on the threads it is given.  Prints the best of `reps` runs.
usage: propagation_peer.py numpy|torch layers reps
"""
import sys
import time

mode, layers, reps = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
SCALE, ALPHA = 1.0507009873554804934193349852946, 1.6732632423543772848170429916717

if mode == "numpy":
    import numpy as np

    def elu(z, alpha=1):
        return np.where(z < 0, alpha * (np.exp(z) - 1), z)

    def selu(z, scale=SCALE, alpha=ALPHA):
        return scale * elu(z, alpha)

    rng = np.random.default_rng(0)
    z0 = rng.normal(size=(500, 100))
    ws = [rng.normal(size=(100, 100), scale=np.sqrt(1 / 100)) for _ in range(layers)]

    def forward():
        z = z0
        for w in ws:
            z = selu(np.dot(z, w))
            np.mean(z, axis=1)
            np.std(z, axis=1)
else:
    import torch

    torch.manual_seed(0)
    z0 = torch.randn(500, 100)
    ws = [torch.randn(100, 100) * (1 / 100) ** 0.5 for _ in range(layers)]

    def forward():
        z = z0
        for w in ws:
            z = torch.selu(z @ w)
            z.mean(1)
            z.std(1, unbiased=False)

best = float("inf")
for _ in range(reps):
    t0 = time.perf_counter()
    forward()
    best = min(best, time.perf_counter() - t0)
print("seconds", best)
