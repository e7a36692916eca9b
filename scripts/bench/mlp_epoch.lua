-- scripts/bench/mlp_epoch.lua - one training epoch of the SNN MLP
-- (784-512-512-10, SELU + lecun_normal, AlphaDropout 0.1, softmax,
-- RMSprop, batch 128) on 60000x784 synthetic float32 data: lunet's
-- seconds/epoch, PyTorch's (scripts/bench/mlp_epoch_torch.py, Debian's
-- python3-torch via `make bench-deps`, in its best configuration:
-- torch.set_num_threads(1), OMP_WAIT_POLICY=passive) measured in the same
-- run, and the GEMM-only lower bound: the sum of one step's six sgemm
-- calls (forward, and backward dX/dW) timed directly through cblas.
-- With --profile it then trains one more epoch with the runtime's kernel
-- profile on and prints where a step's time goes: GEMM, elementwise
-- passes, the loss, the optimizer, allocation, and the rest (Lua, argument
-- checks, the tape), summing to the measured step.
-- Run: build/lunet scripts/bench/mlp_epoch.lua [samples] [epochs] [--profile]
local lunet = require("lunet")
local nn = lunet.nn
local core = lunet.core

local peer = dofile(((debug.getinfo(1, "S").source:match("^@(.*)/[^/]*$")) or ".") .. "/peer.lua")
local positional, profile = peer.args(arg)
local n = tonumber(positional[1]) or 60000
local epochs = tonumber(positional[2]) or 2
local bs = 128


-- PyTorch first (so the two do not share the cores)
local torch_s = peer.torch_epoch(peer.dir() .. "/mlp_epoch_torch.py", n, epochs)

lunet.manual_seed(1)
local x = lunet.randn(n, 784)
local y = lunet.losses.one_hot("bench", lunet.uniform({ n }, 0, 10):int(), 10)
local model = nn.Sequential({
  nn.Dense(512, { activation = "selu", kernel_initializer = "lecun_normal", input_shape = { 784 } }),
  nn.AlphaDropout(0.1),
  nn.Dense(512, { activation = "selu", kernel_initializer = "lecun_normal" }),
  nn.AlphaDropout(0.1),
  nn.Dense(10, { activation = "softmax" }),
})
model:compile({ optimizer = "rmsprop", loss = "categorical_crossentropy", metrics = { "accuracy" } })
local best = math.huge
for _ = 1, epochs do
  local t0 = core.clock()
  model:fit(x, y, { batch_size = bs, epochs = 1, verbose = 0 })
  best = math.min(best, core.clock() - t0)
end

-- GEMM-only bound: the step's products (m, k, n), each timed through cblas
local shapes = {
  { bs, 784, 512 }, { bs, 512, 512 }, { bs, 512, 10 },   -- forward
  { 784, bs, 512 }, { 512, bs, 512 }, { 512, bs, 10 },   -- dW = x^T dz
  { bs, 10, 512 }, { bs, 512, 512 },                      -- dx = dz W^T (layers 3, 2)
}
local step = peer.gemm_step(shapes, 50)
local steps = (n + bs - 1) // bs
local bound = step * steps

local cfg = lunet.config()
print(string.format("SNN MLP 784-512-512-10, batch %d, %d samples, OpenBLAS %s, %d threads",
  bs, n, cfg.blas_core, cfg.threads))
print(string.format("lunet:   %.2f s/epoch (best of %d)", best, epochs))
if torch_s then
  print(string.format("PyTorch: %.2f s/epoch (best of %d, 1 intra-op thread, OMP_WAIT_POLICY=passive)", torch_s, epochs))
  print(string.format("ratio PyTorch/lunet: %.2fx", torch_s / best))
else
  print("PyTorch: not installed (make bench-deps)")
end
print(string.format("GEMM-only bound: %.2f s/epoch (%d steps x %.2f ms)", bound, steps, step * 1e3))

if profile then peer.profile_epoch(function() model:fit(x, y, { batch_size = bs, epochs = 1, verbose = 0 }) end, steps, step) end
