local lunet = require("lunet")
local S = require("support")

local function moments(t)
  local d = t:double()
  return d:mean():item(), d:std():item()
end

describe("lunet random numbers", function()
  it("same seed, same numbers, bit for bit", function()
    for _, f in ipairs({"rand", "randn"}) do
      for _, dt in ipairs({"float32", "float64"}) do
        lunet.manual_seed(1234)
        local a = lunet[f](1000, dt)
        local a2 = lunet[f](10, dt)
        lunet.manual_seed(1234)
        local b = lunet[f](1000, dt)
        local b2 = lunet[f](10, dt)
        assert.is_true(lunet.equal(a, b))
        assert.is_true(lunet.equal(a2, b2))
        assert.is_false(lunet.equal(a:narrow(1, 1, 10), a2))
      end
    end
    lunet.manual_seed(7)
    local u = lunet.uniform({100}, -3, 5)
    local p = lunet.randperm(50)
    lunet.manual_seed(7)
    assert.is_true(lunet.equal(u, lunet.uniform({100}, -3, 5)))
    assert.is_true(lunet.equal(p, lunet.randperm(50)))
  end)

  it("different seeds give different numbers", function()
    lunet.manual_seed(1)
    local a = lunet.rand(100)
    lunet.manual_seed(2)
    assert.is_false(lunet.equal(a, lunet.rand(100)))
  end)

  it("float32 randn is the rounded float64 sequence", function()
    lunet.manual_seed(99)
    local a = lunet.randn(257, "float64")
    lunet.manual_seed(99)
    local b = lunet.randn(257)
    assert.is_true(lunet.equal(a:float(), b))
  end)

  it("rand is uniform on [0, 1)", function()
    S.seed(3)
    local x = lunet.rand(200000)
    local m, s = moments(x)
    assert.near(0.5, m, 0.005)
    assert.near(math.sqrt(1 / 12), s, 0.003)
    assert.is_true(x:min():item() >= 0)
    assert.is_true(x:max():item() < 1)
    -- each tenth of the interval gets about a tenth of the draws
    for k = 0, 9 do
      local frac = x:ge(k / 10):mean():item() - x:ge((k + 1) / 10):mean():item()
      assert.near(0.1, frac, 0.004)
    end
  end)

  it("randn has mean 0, std 1 and normal tails", function()
    S.seed(4)
    local x = lunet.randn(200000, "float64")
    local m, s = moments(x)
    assert.near(0, m, 0.01)
    assert.near(1, s, 0.01)
    assert.near(0.3173, x:abs():gt(1):mean():item(), 0.005)   -- P(|z| > 1)
    assert.near(0.0455, x:abs():gt(2):mean():item(), 0.002)   -- P(|z| > 2)
    local c = x - m
    assert.near(3, (c ^ 4):mean():item() / s ^ 4, 0.08)        -- kurtosis
  end)

  it("uniform and normal take their parameters", function()
    S.seed(5)
    local u = lunet.uniform({100000}, -2, 6, "float64")
    assert.are.equal("float64", u:dtype())
    assert.is_true(u:min():item() >= -2 and u:max():item() < 6)
    assert.near(2, u:mean():item(), 0.05)
    local n = lunet.normal({2, 50000}, 3, 0.5)
    assert.are.same({2, 50000}, n:shape())
    local m, s = moments(n)
    assert.near(3, m, 0.01)
    assert.near(0.5, s, 0.01)
  end)

  it("truncate_normal_ redraws in place what drawing each round into a tensor and selecting would", function()
    local core = lunet.core
    -- the algorithm it replaces in the truncated-normal initializers
    local function by_tensors(shape)
      local z = core.randn(shape, "float64")
      while true do
        local bad = z:abs():gt(2)
        if bad:sum():item() == 0 then break end
        z = core.where(bad, core.randn(shape, "float64"), z)
      end
      return z
    end
    for _, shape in ipairs({ { 300, 70 }, { 3, 3, 1, 5 }, { 7 }, { 1 } }) do
      lunet.manual_seed(61)
      local a = by_tensors(shape)
      local after_a = lunet.rand(1):item()
      lunet.manual_seed(61)
      local b = core.truncate_normal_(core.randn(shape, "float64"), 2)
      assert.is_true(lunet.equal(a, b))
      assert.are.equal(after_a, lunet.rand(1):item()) -- the generator advanced alike
      assert.is_true(b:abs():max():item() <= 2)
    end
    assert.has_error(function() core.truncate_normal_(lunet.zeros(3), 2) end,
      "truncate_normal_: expected a contiguous float64 tensor, got float32")
    assert.has_error(function() core.truncate_normal_(lunet.zeros(3, "float64"), 0) end,
      "truncate_normal_: bound must be positive, got 0")
  end)

  it("randperm is a permutation of 1..n", function()
    S.seed(6)
    local p = lunet.randperm(1000)
    assert.are.equal("int32", p:dtype())
    local seen = {}
    for _, v in ipairs(p:totable()) do
      assert.is_nil(seen[v])
      seen[v] = true
    end
    for i = 1, 1000 do assert.is_true(seen[i]) end
  end)

  it("saves and restores the generator state", function()
    local st = lunet.get_rng_state()
    local a = lunet.rand(5)
    lunet.set_rng_state(st)
    assert.is_true(lunet.equal(a, lunet.rand(5)))
    assert.has_error(function() lunet.set_rng_state("xx") end,
                     "set_rng_state: expected a state string from get_rng_state")
  end)

  it("refuses bad arguments", function()
    assert.has_error(function() lunet.manual_seed(1.5) end,
                     "manual_seed: seed must be an integer, got 1.5")
    assert.has_error(function() lunet.rand(3, "int32") end, "rand: dtype must be float32 or float64")
    assert.has_error(function() lunet.uniform({3}, 2, 1) end, "uniform: low must not exceed high")
    assert.has_error(function() lunet.normal({3}, 0, -1) end, "normal: std must be non-negative")
    assert.has_error(function() lunet.normal({3}, 0) end, "normal: std must be a number, got no value")
  end)
end)
