-- spec/profile_spec.lua - the runtime's kernel profile (core.profile,
-- core.profile_read), which scripts/bench/mlp_epoch.lua --profile prints:
-- exclusive time per category, counted on the calling thread only.
local lunet = require("lunet")
local core = lunet.core

describe("core.profile", function()
  after_each(function() core.profile(false) end)

  it("counts each kernel once, in its own category, and only while on", function()
    local a, b = lunet.randn(64, 32), lunet.randn(32, 16)
    core.profile(true)
    local c = a:matmul(b)
    local d = c + c
    local r = core.profile_read()
    assert.are.equal(1, r.calls.gemm)
    assert.are.equal(1, r.calls.elementwise)
    assert.are.equal(2, r.calls.alloc) -- the two results
    assert.are.equal(0, r.calls.optimizer + r.calls.loss + r.calls.conv + r.calls.pool)
    assert.is_true(r.gemm > 0 and r.elementwise > 0 and r.alloc > 0)
    core.profile(false)
    local _ = d * d
    assert.are.same(r.calls, core.profile_read().calls)
    -- turning it on again starts from zero
    core.profile(true)
    assert.are.equal(0, core.profile_read().calls.gemm)
  end)

  it("charges a convolution's GEMMs to the convolution, on one thread or two, and sums to at most the wall time",
    function()
    local x, k = lunet.randn(16, 12, 12, 4), lunet.randn(3, 3, 4, 8)
    local threads = lunet.get_num_threads()
    for _, nt in ipairs({ 1, math.min(2, lunet.config().cpus) }) do
      lunet.set_num_threads(nt)
      core.profile(true)
      local t0 = core.clock()
      for _ = 1, 5 do core.conv2d(x, k, nil, "relu", 1, 1, 1, 1, "same", false, nil) end
      local wall = core.clock() - t0
      local r = core.profile_read()
      assert.are.equal(5, r.calls.conv)
      assert.are.equal(0, r.calls.gemm + r.calls.elementwise)
      local sum = r.gemm + r.elementwise + r.loss + r.optimizer + r.conv + r.pool + r.alloc
      assert.is_true(r.conv > 0 and sum <= wall, string.format("%g > %g", sum, wall))
    end
    lunet.set_num_threads(threads)
  end)

  it("sees a training step's GEMMs, optimizer and loss", function()
    local m = lunet.nn.Sequential({ lunet.nn.Dense(8, { activation = "relu", input_shape = { 4 } }),
      lunet.nn.Dense(3) })
    m:compile({ optimizer = "rmsprop", loss = lunet.losses.SparseCategoricalCrossentropy({ from_logits = true }) })
    local x, y = lunet.randn(32, 4), lunet.uniform({ 32 }, 0, 3):int()
    core.profile(true)
    m:fit(x, y, { batch_size = 32, epochs = 1, verbose = 0 })
    local r = core.profile_read()
    -- one step: 2 forward GEMMs, 2 dW and 1 dX; one RMSprop update per weight; the fused loss both ways
    assert.are.equal(5, r.calls.gemm)
    assert.are.equal(4, r.calls.optimizer)
    assert.are.equal(2, r.calls.loss)
  end)
end)
