-- scripts/bench/peer.lua - what the benchmarks share (loaded with dofile
-- by the scripts beside it; run on its own it does nothing): the least of
-- several timings, the PyTorch peer run in the same process tree, the
-- GEMM-only bound of a step's products timed through cblas, and the SNN MLP.
local lunet = require("lunet")
local core = lunet.core

local P = {}

--- The least of `reps` timings of fn() (seconds; no warm-up).
function P.best_of(reps, fn)
  local best = math.huge
  for _ = 1, reps do
    local t0 = core.clock()
    fn()
    best = math.min(best, core.clock() - t0)
  end
  return best
end

--- A benchmark's command line: its positional arguments, whether
-- --profile and --scaling were given, and the number of --batch=N (or nil).
function P.args(argv)
  local positional, profile, scaling, batch = {}, false, false, nil
  for _, a in ipairs(argv or {}) do
    if a:match("^%-%-batch=") then
      batch = math.tointeger(tonumber(a:match("=(.*)")))
      if not batch or batch < 1 then error("--batch=N: N must be a positive integer, got " .. a, 0) end
    elseif a == "--profile" then
      profile = true
    elseif a == "--scaling" then
      scaling = true
    else
      positional[#positional + 1] = a
    end
  end
  return positional, profile, scaling, batch
end

--- The directory of the calling script.
function P.dir(level)
  local src = debug.getinfo((level or 1) + 1, "S").source
  return (src:match("^@(.*)/[^/]*$")) or "."
end

--- Seconds per epoch of a PyTorch peer script (it prints "epoch_seconds S"),
-- or nil when Debian's python3-torch is not installed (`make bench-deps`).
function P.torch_epoch(script, ...)
  return P.python_seconds("torch", script, ...)
end

--- Seconds from a Python peer script that needs `module` (it prints
-- "seconds S", or "epoch_seconds S"), or nil when Debian's python3 package for it is missing
-- (`make bench-deps`).
function P.python_seconds(module, script, ...)
  local probe = io.popen(string.format("/usr/bin/python3 -c 'import %s' 2>/dev/null && echo ok", module))
  local has = probe and probe:read("a"):find("ok") ~= nil
  if probe then probe:close() end
  if not has then return nil end
  local args = {}
  for i, v in ipairs({ ... }) do args[i] = tostring(v) end
  local p = io.popen(string.format("OMP_WAIT_POLICY=passive /usr/bin/python3 %s %s", script, table.concat(args, " ")))
  local out = p:read("a")
  p:close()
  return tonumber(out:match("seconds ([%d%.e%-]+)")) -- (also matches "epoch_seconds")
end

--- The seconds of one step's products: for each (m, k, n), the best of 5
-- timings of reps sgemm calls (after a warm-up), summed.
function P.gemm_step(shapes, reps)
  local step = 0
  for _, s in ipairs(shapes) do
    local a, b, c = lunet.randn(s[1], s[2]), lunet.randn(s[2], s[3]), lunet.empty(s[1], s[3])
    core.bench.sgemm(a, b, c, math.max(1, reps // 3))
    local t = math.huge
    for _ = 1, 5 do t = math.min(t, core.bench.sgemm(a, b, c, reps)) end
    step = step + t
  end
  return step
end

--- Train one epoch (`fit_epoch()`) with the runtime's kernel profile on and
-- print where a step's time goes: GEMM, elementwise passes, the loss, the
-- optimizer, allocation, the conv and pooling kernels (when any ran) and the rest (Lua,
-- argument checks, the tape), summing to the measured step.
function P.profile_epoch(fit_epoch, steps, bound_step)
  core.profile(true)
  local t0 = core.clock()
  fit_epoch()
  local total = core.clock() - t0
  local r = core.profile_read()
  core.profile(false)
  print(string.format("\nstep-time breakdown (one profiled epoch, %d steps; ms per step)", steps))
  local rest = total
  local rows = { { "gemm", "GEMM" }, { "elementwise", "elementwise" }, { "loss", "loss" },
    { "optimizer", "optimizer" }, { "alloc", "allocation" }, { "conv", "convolution kernels" },
    { "pool", "pooling kernels" } }
  for _, row in ipairs(rows) do
    local sec = r[row[1]]
    rest = rest - sec
    if (row[1] ~= "conv" and row[1] ~= "pool") or sec > 0 then
      print(string.format("  %-26s %7.3f  (%5.1f%%, %d calls per step)", row[2], sec / steps * 1e3,
        100 * sec / total, r.calls[row[1]] // steps))
    end
  end
  print(string.format("  %-26s %7.3f  (%5.1f%%)", "Lua, checks, tape", rest / steps * 1e3, 100 * rest / total))
  print(string.format("  %-26s %7.3f  (the GEMM-only bound: %.3f)", "measured step", total / steps * 1e3,
    bound_step * 1e3))
end

--- The SNN MLP of seed 000 the epoch benchmarks train (784-512-512-10,
-- SELU + lecun_normal, AlphaDropout 0.1, softmax), not compiled.
function P.snn_mlp()
  local nn = lunet.nn
  return nn.Sequential({
    nn.Dense(512, { activation = "selu", kernel_initializer = "lecun_normal", input_shape = { 784 } }),
    nn.AlphaDropout(0.1),
    nn.Dense(512, { activation = "selu", kernel_initializer = "lecun_normal" }),
    nn.AlphaDropout(0.1),
    nn.Dense(10, { activation = "softmax" }),
  })
end

return P
