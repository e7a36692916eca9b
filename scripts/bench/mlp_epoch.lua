-- scripts/bench/mlp_epoch.lua - one training epoch of the SNN MLP
-- (784-512-512-10, SELU + lecun_normal, AlphaDropout 0.1, softmax,
-- RMSprop, batch 128) on 60000x784 synthetic float32 data: lunet's
-- seconds/epoch, PyTorch's (scripts/bench/mlp_epoch_torch.py, Debian's
-- python3-torch via `make bench-deps`, in its best configuration:
-- torch.set_num_threads(1), OMP_WAIT_POLICY=passive) measured in the same
-- run, and the GEMM-only lower bound: the sum of one step's sgemm calls
-- (forward, and backward dX/dW) timed directly through cblas after each
-- lunet epoch, best against best.
-- With --profile it then trains one more epoch with the runtime's kernel
-- profile on and prints where a step's time goes: GEMM, elementwise
-- passes, the loss, the optimizer, allocation, and the rest (Lua, argument
-- checks, the tape), summing to the measured step; then the floor: the
-- same step on one batch again and again, all of it in cache.
-- With --scaling, the epoch at batch 32, 50, 128 and 512 beside its own
-- GEMM bound and PyTorch, then 1 against 2 threads (deterministic mode, the
-- default, and OpenBLAS's own threading).
-- --batch=N sets the batch size of the first epoch and the profile (128).
-- Run: build/lunet scripts/bench/mlp_epoch.lua [samples] [epochs] [--batch=N] [--profile] [--scaling]
local lunet = require("lunet")
local core = lunet.core

local peer = dofile(((debug.getinfo(1, "S").source:match("^@(.*)/[^/]*$")) or ".") .. "/peer.lua")
local positional, profile, scaling, batch = peer.args(arg)
local n = tonumber(positional[1]) or 60000
local epochs = tonumber(positional[2]) or 2
local bs = batch or 128


lunet.manual_seed(1)
local x = lunet.randn(n, 784)
local y = lunet.losses.one_hot("bench", lunet.uniform({ n }, 0, 10):int(), 10)

local function snn()
  local model = peer.snn_mlp()
  model:compile({ optimizer = "rmsprop", loss = "categorical_crossentropy", metrics = { "accuracy" } })
  return model
end

-- GEMM-only bound of one step at batch size b: its products (m, k, n), each timed through cblas
local function gemm_bound(b)
  return peer.gemm_step({
    { b, 784, 512 }, { b, 512, 512 }, { b, 512, 10 },   -- forward
    { 784, b, 512 }, { 512, b, 512 }, { 512, b, 10 },   -- dW = x^T dz
    { b, 10, 512 }, { b, 512, 512 },                     -- dx = dz W^T (layers 3, 2)
  }, 50)
end

-- the best of `count` epochs at batch size b (a fresh model).  With
-- with_bound, each epoch is followed at once by a timing of its GEMM bound,
-- and the best of those is returned too (s/epoch): best against best, each
-- the least of several timings, because this VM's speed drifts by a third
-- from minute to minute and a single timing of either can fall in a slow spell.
local function lunet_epoch(b, count, with_bound)
  local model, best, bound = snn(), math.huge, math.huge
  local steps = (n + b - 1) // b
  for _ = 1, count do
    local t0 = core.clock()
    model:fit(x, y, { batch_size = b, epochs = 1, verbose = 0 })
    best = math.min(best, core.clock() - t0)
    if with_bound then bound = math.min(bound, gemm_bound(b) * steps) end
  end
  return best, model, bound
end

-- lunet first, then PyTorch (one after the other, never sharing the cores)
local best, model, bound = lunet_epoch(bs, epochs, true)
local torch_s = peer.torch_epoch(peer.dir() .. "/mlp_epoch_torch.py", n, epochs, bs)
local steps = (n + bs - 1) // bs
local step = bound / steps

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
print(string.format("GEMM-only bound: %.2f s/epoch (%d steps x %.2f ms, the best of its timings after each epoch); " ..
  "lunet/bound %.2fx", bound, steps, step * 1e3, best / bound))

-- The floor of a step on this machine, measured: one batch trained on
-- again and again, so that its data, activations, weights and optimizer
-- state stay in cache, and that step's optimizer update alone.  Against
-- the epoch's step it shows what the traffic of a new batch and of the
-- update between the passes costs; against the bound, what the passes
-- outside the GEMMs cost at best.
local function step_floor()
  local xb, yb = x:narrow(1, 1, bs), y:narrow(1, 1, bs)
  local params = model:parameters()
  local function best_of(f) -- per call, after a warm-up
    for _ = 1, 5 do f() end
    return peer.best_of(7, function() for _ = 1, 20 do f() end end) / 20
  end
  local hot = best_of(function() model:train_on_batch(xb, yb) end)
  local opt = best_of(function() model.optimizer:step(params) end)
  print(string.format("  %-26s %7.3f  (%.2fx the bound; its optimizer step alone %.3f)",
    "one batch again (in cache)", hot * 1e3, hot / step, opt * 1e3))
end

if profile then
  peer.profile_epoch(function() model:fit(x, y, { batch_size = bs, epochs = 1, verbose = 0 }) end, steps, step)
  step_floor()
end

if scaling then
  print("\nbatch size (s/epoch; best of " .. epochs .. ", the bound timed after each epoch):")
  print(string.format("  %6s %8s %8s %8s %12s %10s", "batch", "lunet", "bound", "/bound", "PyTorch", "PT/lunet"))
  for _, b in ipairs({ 32, 50, 128, 512 }) do
    local t, _, tb = lunet_epoch(b, epochs, true)
    local tt = peer.torch_epoch(peer.dir() .. "/mlp_epoch_torch.py", n, epochs, b)
    print(string.format("  %6d %8.2f %8.2f %7.2fx %12s %10s", b, t, tb, t / tb,
      tt and string.format("%.2f", tt) or "-", tt and string.format("%.2fx", tt / t) or "-"))
  end
  print("threads (batch " .. bs .. ", s/epoch):")
  local threads = lunet.get_num_threads()
  for _, det in ipairs({ false, true }) do
    lunet.set_deterministic(det)
    local row = {}
    for t = 1, math.min(2, cfg.cpus) do
      lunet.set_num_threads(t)
      row[#row + 1] = string.format("%d thread%s %.2f", t, t > 1 and "s" or "", (lunet_epoch(bs, epochs)))
    end
    print(string.format("  %-26s %s", det and "deterministic (default):" or "OpenBLAS's threading:",
      table.concat(row, ", ")))
  end
  lunet.set_deterministic(true)
  lunet.set_num_threads(threads)
end
