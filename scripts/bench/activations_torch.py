"""PyTorch peer of scripts/bench/activations.lua (run by it, same run).

Prints one line per activation: name, forward seconds, backward seconds,
and the same two with preallocated outputs (out=: PyTorch's best case, no
fresh 64 MiB output to page in), best of `reps`, for float32 tensors of n
elements, with the thread count given.  Backward calls the ATen backward
kernels autograd would.
usage: activations_torch.py n threads reps
"""
import sys
import time

import torch

n, threads, reps = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
torch.set_num_threads(threads)
torch.manual_seed(0)
x = torch.randn(n)
g = torch.randn(n)
aten = torch.ops.aten
SELU_ALPHA, SELU_SCALE = 1.6732632423543772848170429916717, 1.0507009873554804934193349852946

cases = {
    "relu": (lambda: torch.relu(x), lambda y: aten.threshold_backward(g, y, 0)),
    "selu": (lambda: torch.selu(x),
             lambda y: aten.elu_backward(g, SELU_ALPHA, SELU_SCALE, 1.0, False, x)),
    "elu": (lambda: torch.nn.functional.elu(x), lambda y: aten.elu_backward(g, 1.0, 1.0, 1.0, False, x)),
    "sigmoid": (lambda: torch.sigmoid(x), lambda y: aten.sigmoid_backward(g, y)),
    "gelu": (lambda: torch.nn.functional.gelu(x), lambda y: aten.gelu_backward(g, x)),
}


def best(fn):
    fn()
    b = float("inf")
    for _ in range(reps):
        t0 = time.perf_counter()
        fn()
        b = min(b, time.perf_counter() - t0)
    return b


out, dx = torch.empty(n), torch.empty(n)
cases_out = {
    "relu": (lambda: aten.threshold.out(x, 0, 0, out=out),
             lambda y: aten.threshold_backward.grad_input(g, y, 0, grad_input=dx)),
    "selu": (lambda: aten.elu.out(x, SELU_ALPHA, SELU_SCALE, 1.0, out=out),
             lambda y: aten.elu_backward.grad_input(g, SELU_ALPHA, SELU_SCALE, 1.0, False, x,
                                                    grad_input=dx)),
    "elu": (lambda: aten.elu.out(x, 1.0, 1.0, 1.0, out=out),
            lambda y: aten.elu_backward.grad_input(g, 1.0, 1.0, 1.0, False, x, grad_input=dx)),
    "sigmoid": (lambda: aten.sigmoid.out(x, out=out),
                lambda y: aten.sigmoid_backward.grad_input(g, y, grad_input=dx)),
    "gelu": (lambda: aten.gelu.out(x, out=out),
             lambda y: aten.gelu_backward.grad_input(g, x, grad_input=dx)),
}

for name in sys.argv[4:] or cases:
    fwd, bwd = cases[name]
    y = fwd()
    fo, bo = cases_out[name]
    print(name, best(fwd), best(lambda: bwd(y)), best(fo), best(lambda: bo(y)), flush=True)
