-- scripts/bench/activations.lua - forward and backward of relu, selu, elu,
-- sigmoid and gelu on 16M float32, in GB/s (bytes read + written: forward
-- reads x and writes y, backward reads x or y and g and writes dx), and
-- the ratio to PyTorch measured in the same run with the same thread count
-- when Debian's python3-torch is installed (`make bench-deps`): "torch"
-- calls allocate their output as user code does (torch.selu(x)); "out="
-- is PyTorch's best case with preallocated outputs (lunet still allocates).
-- Targets: relu-class >= 70% of memcpy bandwidth; selu/elu/sigmoid/gelu
-- >= 1.5x PyTorch's throughput.
-- Run: build/lunet scripts/bench/activations.lua [n] [reps]
local lunet = require("lunet")
local core = lunet.core

local n = tonumber(arg and arg[1]) or 16 * 1024 * 1024
local reps = tonumber(arg and arg[2]) or 7
local threads = lunet.get_num_threads()
local names = { "relu", "selu", "elu", "sigmoid", "gelu" }

local peer = dofile(((debug.getinfo(1, "S").source:match("^@(.*)/[^/]*$")) or ".") .. "/peer.lua")
local function best(fn) -- after a warm-up
  fn()
  return peer.best_of(reps, fn)
end

local function script_dir()
  local src = debug.getinfo(1, "S").source
  return src:match("^@(.*)/[^/]*$") or "."
end

-- PyTorch in the same run, when importable
local torch = {}
local py = "/usr/bin/python3"
local probe = io.popen(py .. " -c 'import torch' 2>/dev/null && echo ok")
local has_torch = probe and probe:read("*a"):find("ok") ~= nil
if probe then probe:close() end
if has_torch then
  local cmd = string.format("OMP_WAIT_POLICY=passive %s %s/activations_torch.py %d %d %d %s",
    py, script_dir(), n, threads, reps, table.concat(names, " "))
  local p = io.popen(cmd)
  for line in p:lines() do
    local name, f, b, fo, bo = line:match("^(%S+) (%S+) (%S+) (%S+) (%S+)")
    if name then torch[name] = { tonumber(f), tonumber(b), tonumber(fo), tonumber(bo) } end
  end
  p:close()
end

lunet.manual_seed(0)
local x = lunet.randn(n)
local g = lunet.randn(n)
local dst = lunet.empty(n)
local t_copy = math.huge
for _ = 1, reps do t_copy = math.min(t_copy, core.bench.memcpy(dst, x, 1)) end
local mb = n * 4
local cfg = lunet.config()
print(string.format("lunet %s, OpenBLAS core %s, %d threads, n = %d float32 (%.0f MiB)",
  lunet.version, cfg.blas_core, threads, n, mb / 2 ^ 20))
print(string.format("memcpy: %.2f ms, %.1f GB/s", t_copy * 1e3, 2 * mb / t_copy / 1e9))
print(has_torch and "PyTorch " .. "(python3-torch, same run, same threads)"
  or "PyTorch: not installed (make bench-deps), ratios omitted")
print(string.format("%-8s %7s %8s %7s %7s %8s %7s | %9s %9s | %9s %9s", "", "fwd ms", "fwd GB/s",
  "/memcpy", "bwd ms", "bwd GB/s", "/memcpy", "fwd/torch", "bwd/torch", "fwd/out=", "bwd/out="))

for _, name in ipairs(names) do
  local saves_y = core.activation_info(name).saves_y
  local y = core.activation(name, x)
  local s = saves_y and y or x
  local tf = best(function() core.activation(name, x) end)
  local tb = best(function() core.activation_backward(name, s, g) end)
  local bwf, bwb = 2 * mb / tf / 1e9, 3 * mb / tb / 1e9
  local ref = torch[name]
  local function ratio(k, t) return ref and string.format("%.2fx", ref[k] / t) or "-" end
  print(string.format("%-8s %7.2f %8.1f %7.2f %7.2f %8.1f %7.2f | %9s %9s | %9s %9s", name, tf * 1e3,
    bwf, bwf / (2 * mb / t_copy / 1e9), tb * 1e3, bwb, bwb / (2 * mb / t_copy / 1e9),
    ratio(1, tf), ratio(2, tb), ratio(3, tf), ratio(4, tb)))
end
