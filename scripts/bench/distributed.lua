-- scripts/bench/distributed.lua - data-parallel scaling of the SNN MLP
-- (784-512-512-10, SELU, AlphaDropout 0.1, RMSprop, batch 128 per rank) on
-- 60000x784 synthetic float32 data: one epoch on 1 rank (1 thread) against
-- 2 ranks (1 thread each) under mpirun, as samples per second and scaling
-- efficiency, and the time the gradients' allreduce takes per step with
-- fused buckets (one allreduce for all six tensors) and with one allreduce
-- per tensor.  Then the ring-allreduce cost model for several machines.
-- Run: build/lunet scripts/bench/distributed.lua [samples]   (it starts mpirun itself)
local lunet = require("lunet")

local here = (debug.getinfo(1, "S").source:match("^@(.*)$"))
local launcher = arg[-1] or "build/lunet"

if arg[1] ~= "--worker" then
  local n = tonumber(arg[1]) or 60000
  -- shared memory with the kernel's cross-memory attach (one copy) where
  -- the container allows it, else through the shared buffers (two copies)
  local transports = { { "single copy (CMA)", "--mca btl self,vader" },
    { "two copies", "--mca btl self,vader --mca btl_vader_single_copy_mechanism none" } }
  local transport = 1
  local function run(np, fusion, overlap)
    local cmd = string.format("OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 mpirun -np %d " ..
      "--oversubscribe %s %s %s --worker %d %d %d 2>&1", np, transports[transport][2], launcher, here, n, fusion,
      overlap and 1 or 0)
    local f = assert(io.popen(cmd))
    local out = f:read("a")
    f:close()
    local s, ar, calls, steps = out:match("epoch ([%d.]+) allreduce ([%d.]+) calls (%d+) steps (%d+)")
    if not s and transport == 1 then
      transport = 2
      return run(np, fusion, overlap)
    end
    if not s then error("the run failed:\n" .. out) end
    return tonumber(s), tonumber(ar), tonumber(calls), tonumber(steps)
  end
  if os.execute("command -v mpirun >/dev/null 2>&1") ~= true then
    print("distributed: mpirun not found (make setup-mpi)")
    return
  end
  local s1 = run(1, 64 * 1024 * 1024)
  local s2, ar2, calls2, steps2 = run(2, 64 * 1024 * 1024)
  local s2u, ar2u, calls2u, steps2u = run(2, 0)
  local s2o, ar2o, _, steps2o = run(2, 0, true)
  print(string.format("SNN MLP 784-512-512-10, batch 128 per rank, %d samples, 1 thread per rank, OpenBLAS %s, " ..
    "shared memory with %s", n, lunet.config().blas_core, transports[transport][1]))
  print(string.format("  1 rank : %.2f s/epoch, %7.0f samples/s", s1, n / s1))
  print(string.format("  2 ranks: %.2f s/epoch, %7.0f samples/s  (%.2fx one rank; efficiency %.0f%%)", s2,
    n / s2, s1 / s2, 100 * s1 / s2 / 2))
  print(string.format("  allreduce per step, 2 ranks: fused %.3f ms (%d call a step), per tensor %.3f ms " ..
    "(%d calls a step; epoch %.2f s)", ar2 / steps2 * 1e3, calls2 // steps2, ar2u / steps2u * 1e3,
    calls2u // steps2u, s2u))
  print(string.format("  overlapped (started during the backward, one per tensor): %.3f ms a step waiting or " ..
    "starting; epoch %.2f s (%.2fx one rank)", ar2o / steps2o * 1e3, s2o, s1 / s2o))
  -- the ring model: each rank sends and receives 2(N-1)/N of the gradients per step
  local grad_mb = (784 * 512 + 512 + 512 * 512 + 512 + 512 * 10 + 10) * 4 / 1e6
  local step = s2 / steps2
  print(string.format("  ring allreduce moves 2(N-1)/N x %.2f MB a step; at %.1f ms of compute a step it hides at:", grad_mb,
    step * 1e3))
  for _, N in ipairs({ 2, 4, 8, 16 }) do
    local mb = 2 * (N - 1) / N * grad_mb
    print(string.format("    N = %2d: %.2f MB a step, %.2f GB/s", N, mb, mb / 1e3 / step))
  end
  return
end

-- a worker rank
local dist = require("lunet.distributed")
local n, fusion, overlap = tonumber(arg[2]), tonumber(arg[3]), arg[4] == "1"
dist.init()
lunet.set_num_threads(1)
lunet.manual_seed(1)
local x = lunet.randn(n, 784)
local y = lunet.losses.one_hot("bench", lunet.uniform({ n }, 0, 10):int(), 10)
local model = dofile((here:match("^(.*)/[^/]*$") or ".") .. "/peer.lua").snn_mlp()
model:compile({ optimizer = dist.DistributedOptimizer("rmsprop", { fusion_bytes = fusion, overlap = overlap }),
  loss = "categorical_crossentropy", metrics = { "accuracy" } })
-- the time inside allreduce, from the module the optimizer calls
local mpi = package.loaded["lunet.mpi"]
local spent, calls = 0, 0
for _, name in ipairs({ "allreduce", "allreduce_fused", "iallreduce", "wait" }) do
  local raw = mpi[name]
  mpi[name] = function(...)
    local t0 = lunet.clock()
    local r = raw(...)
    spent = spent + lunet.clock() - t0
    if name ~= "wait" then calls = calls + 1 end
    return r
  end
end
local opts = { batch_size = 128, epochs = 1, verbose = 0, distributed = true,
  callbacks = { dist.callbacks.BroadcastGlobalVariables(0) } }
model:fit(x, y, opts) -- warm up
spent, calls = 0, 0
dist.barrier()
local t0 = lunet.clock()
local h = model:fit(x, y, opts)
local s = lunet.clock() - t0
if dist.rank() == 0 then
  print(string.format("epoch %.4f allreduce %.6f calls %d steps %d", s, spent, calls, h.params.steps))
end
