-- scripts/bench/cnn_epoch.lua - one training epoch of seed 003's CNN
-- (Conv2D 32/64/64 3x3 relu, MaxPooling 2x2 after the first two, Flatten,
-- Dense 64 relu, Dense 10 softmax, RMSprop, batch 128) on n x 28 x 28 x 1
-- synthetic float32 data: lunet's seconds/epoch, PyTorch's
-- (scripts/bench/cnn_epoch_torch.py, Debian's python3-torch via `make
-- bench-deps`, its best of 1 and all intra-op threads) measured in the same
-- run, and the GEMM-only bound: one step's im2col products (forward, dW
-- and dX of each convolution and Dense) timed directly through cblas.
-- With --profile, one more epoch with the kernel profile on: where a
-- step's time goes (as mlp_epoch.lua --profile).
-- Run: build/lunet scripts/bench/cnn_epoch.lua [samples] [epochs] [--profile]
local lunet = require("lunet")
local nn = lunet.nn
local core = lunet.core

local peer = dofile(((debug.getinfo(1, "S").source:match("^@(.*)/[^/]*$")) or ".") .. "/peer.lua")
local positional, profile = peer.args(arg)
local n = tonumber(positional[1]) or 60000
local epochs = tonumber(positional[2]) or 1
local bs = 128


lunet.manual_seed(1)
local x = lunet.randn(n, 28, 28, 1)
local y = lunet.uniform({ n }, 0, 10):int()
local model = nn.Sequential()
model:add(nn.Conv2D(32, { 3, 3 }, { activation = "relu", input_shape = { 28, 28, 1 } }))
model:add(nn.MaxPooling2D({ 2, 2 }))
model:add(nn.Conv2D(64, { 3, 3 }, { activation = "relu" }))
model:add(nn.MaxPooling2D({ 2, 2 }))
model:add(nn.Conv2D(64, { 3, 3 }, { activation = "relu" }))
model:add(nn.Flatten())
model:add(nn.Dense(64, { activation = "relu" }))
model:add(nn.Dense(10, { activation = "softmax" }))
model:compile({ optimizer = "rmsprop", loss = "sparse_categorical_crossentropy" })
local best = math.huge
for _ = 1, epochs do
  local t0 = core.clock()
  model:fit(x, y, { batch_size = bs, epochs = 1, verbose = 0 })
  best = math.min(best, core.clock() - t0)
end

-- then PyTorch (one after the other, so the two never share the cores;
-- lunet first: run right after PyTorch's process it measured 3-5% slower)
local torch_s = peer.torch_epoch(peer.dir() .. "/cnn_epoch_torch.py", n, epochs)

-- GEMM-only bound: (m, k, n) of each product of one step
local shapes = {
  { bs * 26 * 26, 9, 32 }, { bs * 11 * 11, 288, 64 }, { bs * 3 * 3, 576, 64 },   -- conv forward
  { bs, 576, 64 }, { bs, 64, 10 },                                                -- dense forward
  { 9, bs * 26 * 26, 32 }, { 288, bs * 11 * 11, 64 }, { 576, bs * 9, 64 },        -- conv dW = col^T dz
  { 576, bs, 64 }, { 64, bs, 10 },                                                -- dense dW
  { bs * 11 * 11, 64, 288 }, { bs * 9, 64, 576 },                                 -- conv dcol = dz W^T (2, 3)
  { bs, 64, 576 }, { bs, 10, 64 },                                                -- dense dx
}
local step = peer.gemm_step(shapes, 10)
local steps = (n + bs - 1) // bs
local bound = step * steps

local cfg = lunet.config()
print(string.format("seed 003 CNN (Conv2D 32/64/64, MaxPooling, Dense 64/10), batch %d, %d samples, OpenBLAS %s, %d threads",
  bs, n, cfg.blas_core, cfg.threads))
print(string.format("lunet:   %.2f s/epoch (best of %d)", best, epochs))
if torch_s then
  print(string.format("PyTorch: %.2f s/epoch (best of %d, best thread setting)", torch_s, epochs))
  print(string.format("ratio PyTorch/lunet: %.2fx", torch_s / best))
else
  print("PyTorch: not installed (make bench-deps)")
end
print(string.format("GEMM-only bound: %.2f s/epoch (%d steps x %.2f ms); lunet/bound %.2fx", bound, steps,
  step * 1e3, best / bound))
if profile then peer.profile_epoch(function() model:fit(x, y, { batch_size = bs, epochs = 1, verbose = 0 }) end, steps, step) end
