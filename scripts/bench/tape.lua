-- scripts/bench/tape.lua - the autograd tape's cost per recorded op: n
-- elementwise ops on a 4-element tensor, recorded then backpropagated, for
-- growing n.  The time per op must stay flat (the tape is O(ops); a
-- weak-keyed side table once made it quadratic: 40,000 ops took 10 s).  Also
-- the cost of an untracked op and of a no_grad call, on the main thread and
-- inside a coroutine.
-- Run: build/lunet scripts/bench/tape.lua [max_ops]   (or: make bench)
local lunet = require("lunet")
local clock = lunet.core.clock

local max_ops = tonumber(arg and arg[1]) or 100000

local function tape(n)
  collectgarbage()
  local x = lunet.ones(4):requires_grad()
  local t0 = clock()
  local y = x
  for _ = 1, n do y = y * 1.00001 end
  local t1 = clock()
  y:sum():backward()
  return t1 - t0, clock() - t1
end

print("ops       record s  backward s  us/op")
local n = 12500
while n <= max_ops do
  local rec, back = tape(n)
  print(string.format("%-9d %8.3f  %10.3f  %5.2f", n, rec, back, (rec + back) / n * 1e6))
  n = n * 2
end

collectgarbage() -- the last graph's garbage is not this section's cost
local N = 300000
local x, w = lunet.ones(4), lunet.ones(4):requires_grad()
local t0 = clock()
for _ = 1, N do local _ = x * 1.0001 end
local untracked = (clock() - t0) / N
local f = function() return w * 2 end
t0 = clock()
for _ = 1, N do lunet.no_grad(f) end
local ng_main = (clock() - t0) / N
local ng_co
coroutine.wrap(function()
  local t = clock()
  for _ = 1, N do lunet.no_grad(f) end
  ng_co = (clock() - t) / N
end)()
print(string.format("untracked x * c: %.0f ns; no_grad(f) (f: one op): %.0f ns, in a coroutine %.0f ns",
  untracked * 1e9, ng_main * 1e9, ng_co * 1e9))
