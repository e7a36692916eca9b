-- scripts/bench/tensor.lua - tensor core speed against the references
-- measured in the same run:
--   * matmul 512x512x512 and 128x784x512 float32: lunet.matmul (allocating
--     its output, as user code does) vs a direct cblas_sgemm on the same
--     buffers; target ratio >= 0.95.
--   * a + b on 16M float32 (allocating) and a:add_(b) (in place): bandwidth
--     (bytes read + written) relative to memcpy's; target ratio >= 0.7.
-- Run: build/lunet scripts/bench/tensor.lua   (or: make bench)
local lunet = require("lunet")
local bench = lunet.core.bench
local peer = dofile(((debug.getinfo(1, "S").source:match("^@(.*)/[^/]*$")) or ".") .. "/peer.lua")
local best_of = peer.best_of

local cfg = lunet.config()
print(string.format("lunet %s, %s core %s, %d BLAS threads", lunet.version, cfg.blas,
                    cfg.blas_core, cfg.threads))

lunet.manual_seed(1)
for _, s in ipairs({{512, 512, 512}, {128, 784, 512}}) do
  local m, k, n = s[1], s[2], s[3]
  local a, b = lunet.randn(m, k), lunet.randn(k, n)
  local c = lunet.empty(m, n)
  local flops = 2 * m * k * n
  local inner = math.max(1, math.floor(2e9 / flops))
  for _ = 1, 3 do lunet.matmul(a, b); bench.sgemm(a, b, c, 1) end
  local t_ref = math.huge
  local t_lun = math.huge
  for _ = 1, 7 do -- interleave so both see the same machine state
    t_ref = math.min(t_ref, bench.sgemm(a, b, c, inner))
    t_lun = math.min(t_lun, best_of(1, function()
      for _ = 1, inner do lunet.matmul(a, b) end
    end) / inner)
  end
  print(string.format("matmul %dx%dx%d: lunet %.1f GFLOP/s, cblas_sgemm %.1f GFLOP/s, ratio %.3f",
                      m, k, n, flops / t_lun / 1e9, flops / t_ref / 1e9, t_ref / t_lun))
end

local N = 16 * 1024 * 1024
local a, b = lunet.rand(N), lunet.rand(N)
local dst = lunet.empty(N)
bench.memcpy(dst, a, 2)
local t_copy = math.huge
for _ = 1, 10 do t_copy = math.min(t_copy, bench.memcpy(dst, a, 1)) end
local bw_copy = 2 * N * 4 / t_copy
for _ = 1, 3 do local _ = a + b end
local t_add = best_of(15, function() local _ = a + b end)
local t_add_ = best_of(15, function() a:add_(b) end)
local bw_add, bw_add_ = 3 * N * 4 / t_add, 3 * N * 4 / t_add_
print(string.format("memcpy 64 MiB: %.2f ms, %.1f GB/s", t_copy * 1e3, bw_copy / 1e9))
print(string.format("a + b 16M float32: %.2f ms, %.1f GB/s, ratio to memcpy %.2f",
                    t_add * 1e3, bw_add / 1e9, bw_add / bw_copy))
print(string.format("a:add_(b) 16M float32: %.2f ms, %.1f GB/s, ratio to memcpy %.2f",
                    t_add_ * 1e3, bw_add_ / 1e9, bw_add_ / bw_copy))
