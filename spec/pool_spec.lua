-- spec/pool_spec.lua - lunet's thread pool (runtime/parallel.c): jobs back
-- to back, after gaps shorter and longer than the workers' spin (so they
-- are taken spinning, and woken from sleep), beside OpenBLAS's own threads
-- (which park the pool), give the one-thread numbers, and no wake-up is
-- lost (a lost one would hang: the child runs under a time limit).
local S = require("support")
local lunet = require("lunet")

local child = [[
local lunet = require("lunet")
lunet.manual_seed(5)
local x = lunet.randn({ 100000 })
local a, b = lunet.randn(300, 400), lunet.randn(400, 300)
lunet.set_num_threads(1)
local ref, refm = x:selu(), a:matmul(b)
lunet.set_num_threads(2)
local bad, jobs = 0, 0
for i = 1, 1500 do
  local gap = (i % 3) * 0.00015 -- 0, 0.15 and 0.3 ms (the spin is 0.2 ms)
  local t0 = lunet.clock()
  while lunet.clock() - t0 < gap do end
  if not lunet.equal(x:selu(), ref) then bad = bad + 1 end
  jobs = jobs + 1
  if i % 50 == 0 then
    lunet.set_deterministic(i % 100 ~= 0) -- every other time OpenBLAS threads it
    local m = a:matmul(b)
    if not (lunet.is_deterministic() and lunet.equal(m, refm) or lunet.allclose(m, refm, 1e-5, 1e-4)) then
      bad = bad + 1
    end
    jobs = jobs + 1
  end
end
io.write(jobs, " ", bad)
]]

describe("the thread pool", function()
  local dir
  before_each(function() dir = S.tmpdir() end)
  after_each(function() S.remove_tmpdir(dir) end)

  for _, spin in ipairs({ "", "LUNET_SPIN_US=0 ", "LUNET_SPIN_US=5000 " }) do
    it("runs 1530 jobs with the one-thread results, none lost (" .. (spin == "" and "default spin" or spin) .. ")",
      function()
        if lunet.config().cpus < 2 then return end
        local script = dir .. "/pool.lua"
        S.write_file(script, child)
        local out, code = S.run(spin .. "timeout 60 " .. S.lunet_bin .. " " .. script, true)
        assert.are.same({ "1530 0", 0 }, { out, code })
      end)
  end
end)
