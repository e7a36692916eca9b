-- scripts/bench/propagation.lua - the propagation demo's forward (seed
-- 001, scripts/propagation.lua): a 500 x 100 input through 100 layers of
-- 100 x 100 weights drawn beforehand, z = selu(z @ W), then each sample's
-- mean and std, every layer.  lunet in float32 and float64, against its
-- GEMM floor (the 100 products alone, through cblas; and the one-thread
-- kernel's time over the threads, the stricter floor) and, in the same run,
-- NumPy running the notebook's code (float64, python3-numpy) and a PyTorch
-- loop (float32, python3-torch; both from `make bench-deps`).
-- Run: build/lunet scripts/bench/propagation.lua [layers] [reps]
local lunet = require("lunet")
local core = lunet.core

local peer = dofile(((debug.getinfo(1, "S").source:match("^@(.*)/[^/]*$")) or ".") .. "/peer.lua")
local positional = peer.args(arg)
local layers = tonumber(positional[1]) or 100
local reps = tonumber(positional[2]) or 20

-- the best of reps runs of the forward, in dtype dt
local function lunet_forward(dt)
  lunet.manual_seed(0)
  local z0 = lunet.randn({ 500, 100 }, dt)
  local ws = {}
  for i = 1, layers do ws[i] = lunet.randn({ 100, 100 }, dt) * math.sqrt(1 / 100) end
  local best = math.huge
  for _ = 1, reps do
    local t0 = core.clock()
    local z = z0
    for i = 1, layers do
      z = z:matmul(ws[i]):selu()
      local _, _ = z:mean(2), z:std(2)
    end
    best = math.min(best, core.clock() - t0)
  end
  return best
end

local f32, f64 = lunet_forward("float32"), lunet_forward("float64")
local script = peer.dir() .. "/propagation_peer.py"
local np = peer.python_seconds("numpy", script, "numpy", layers, reps)
local pt = peer.python_seconds("torch", script, "torch", layers, reps)
local floor = peer.gemm_step({ { 500, 100, 100 } }, 200) * layers
-- the stricter floor: OpenBLAS's one-thread kernel scaled perfectly over the
-- threads (lunet splits these products over its own threads and beats
-- OpenBLAS's threading, so the floor above is not a bound for it)
local threads = lunet.get_num_threads()
lunet.set_num_threads(1)
local ideal = peer.gemm_step({ { 500, 100, 100 } }, 200) * layers / threads
lunet.set_num_threads(threads)

local cfg = lunet.config()
print(string.format("propagation demo forward: 500x100 through %d layers of 100x100 (selu, mean, std), " ..
  "OpenBLAS %s, %d threads, best of %d", layers, cfg.blas_core, cfg.threads, reps))
print(string.format("  lunet float32   %7.2f ms   (%.2fx its GEMM floor)", f32 * 1e3, f32 / floor))
print(string.format("  lunet float64   %7.2f ms", f64 * 1e3))
print(string.format("  GEMM floor      %7.2f ms   (%d sgemm 500x100x100 through cblas)", floor * 1e3, layers))
print(string.format("  ideal floor     %7.2f ms   (one-thread sgemm / %d threads; lunet float32 %.2fx)", ideal * 1e3,
  threads, f32 / ideal))
print(np and string.format("  NumPy float64   %7.2f ms   (lunet float64 %.2fx faster, float32 %.2fx)", np * 1e3, np / f64,
  np / f32) or "  NumPy: not installed (make bench-deps)")
print(pt and string.format("  PyTorch float32 %7.2f ms   (lunet float32 %.2fx faster)", pt * 1e3, pt / f32)
  or "  PyTorch: not installed (make bench-deps)")
