-- floor, ceil, round (half to even, as numpy), trunc, sign and clip, in
-- both float dtypes and the integer ones; clip's gradient.  Each test names
-- the numpy line it mirrors.
local lunet = require("lunet")
local S = require("support")

local T = lunet.tensor
local inf, nan = math.huge, 0 / 0

local function is_neg_zero(v) return v == 0 and 1 / v < 0 end
local function is_pos_zero(v) return v == 0 and 1 / v > 0 end

local FLOATS = { "float32", "float64" }
local INTS = { "int32", "int64", "uint8" }

describe("lunet tensors: rounding, sign and clip", function()
  describe("round: half to even", function()
    for _, dt in ipairs(FLOATS) do
      it("np.round([0.5, 1.5, 2.5]) == [0, 2, 2] in " .. dt, function()
        local r = T({ 0.5, 1.5, 2.5 }, dt):round()
        assert.are.equal(dt, r:dtype())
        assert.are.same({ 0, 2, 2 }, r:totable())
      end)

      it("np.round([-0.5, -1.5, -2.5, 3.5, -3.5]) == [-0., -2, -2, 4, -4] in " .. dt, function()
        local r = T({ -0.5, -1.5, -2.5, 3.5, -3.5 }, dt):round():totable()
        assert.are.same({ 0, -2, -2, 4, -4 }, r)
        assert.is_true(is_neg_zero(r[1]), "round(-0.5) is -0")
      end)

      it("np.round([0.49, 0.51, -0.51, 2.7, 1e30]) == [0, 1, -1, 3, 1e30] in " .. dt, function()
        local x = T({ 0.49, 0.51, -0.51, 2.7, 1e30 }, dt)
        assert.are.same({ 0, 1, -1, 3, x[5] }, x:round():totable())
      end)

      it("np.round keeps NaN and infinities in " .. dt, function()
        local r = T({ nan, inf, -inf }, dt):round()
        assert.is_true(r[1] ~= r[1])
        assert.are.equal(inf, r[2])
        assert.are.equal(-inf, r[3])
      end)
    end

    it("np.round(0.49999999999999994) == 0 and np.round(2**52 + 0.5) == 2**52 (no floor(x + 0.5))", function()
      assert.are.same({ 0, 2 ^ 52 }, T({ 0.49999999999999994, 2 ^ 52 + 0.5 }, "float64"):round():totable())
      assert.are.same({ 2 ^ 52 + 2 }, T({ 2 ^ 52 + 1.5 }, "float64"):round():totable())
    end)
  end)

  describe("floor, ceil, trunc", function()
    for _, dt in ipairs(FLOATS) do
      it("np.floor([-1.5, -0.5, 0.5, 1.5]) == [-2, -1, 0, 1] in " .. dt, function()
        local x = T({ -1.5, -0.5, 0.5, 1.5 }, dt)
        assert.are.same({ -2, -1, 0, 1 }, x:floor():totable())
        assert.are.equal(dt, x:floor():dtype())
      end)

      it("np.ceil([-1.5, -0.5, 0.5, 1.5]) == [-1, -0., 1, 2] in " .. dt, function()
        local r = T({ -1.5, -0.5, 0.5, 1.5 }, dt):ceil():totable()
        assert.are.same({ -1, 0, 1, 2 }, r)
        assert.is_true(is_neg_zero(r[2]), "ceil(-0.5) is -0")
      end)

      it("np.trunc([-1.7, -0.5, 0.5, 1.7]) == [-1, -0., 0, 1] in " .. dt, function()
        local r = T({ -1.7, -0.5, 0.5, 1.7 }, dt):trunc():totable()
        assert.are.same({ -1, 0, 0, 1 }, r)
        assert.is_true(is_neg_zero(r[2]), "trunc(-0.5) is -0")
        assert.is_true(is_pos_zero(r[3]))
      end)

      it("np.floor/ceil/trunc keep NaN and infinities, and work on strided views, in " .. dt, function()
        for _, op in ipairs({ "floor", "ceil", "trunc", "round" }) do
          local r = T({ nan, inf, -inf }, dt)[op](T({ nan, inf, -inf }, dt))
          assert.is_true(r[1] ~= r[1], op)
          assert.are.equal(inf, r[2], op)
          assert.are.equal(-inf, r[3], op)
        end
        local m = T({ { 1.5, -1.5 }, { 2.5, -2.5 } }, dt):t()
        assert.are.same({ { 1, 2 }, { -2, -3 } }, m:floor():totable())
        assert.are.same({ { 2, 2 }, { -2, -2 } }, m:round():totable())
      end)
    end

    for _, dt in ipairs(INTS) do
      it("np.floor/ceil/round/trunc of " .. dt .. " keep the values and the dtype (new tensors)", function()
        local x = T(dt == "uint8" and { 0, 7, 255 } or { -7, 0, 7 }, dt)
        for _, op in ipairs({ "floor", "ceil", "round", "trunc" }) do
          local r = x[op](x)
          assert.are.equal(dt, r:dtype(), op)
          assert.are.same(x:totable(), r:totable(), op)
          assert.are_not.equal(x, r)
          r[1] = 1
          assert.are_not.equal(1, x[1])
        end
      end)
    end

    it("int64 beyond 2^53 goes through exactly", function()
      local big = (1 << 62) + 1
      assert.are.same({ big }, T({ big }, "int64"):round():totable())
    end)
  end)

  describe("sign", function()
    for _, dt in ipairs(FLOATS) do
      it("np.sign([-2., -0., 0., 3., nan]) == [-1, 0, 0, 1, nan] in " .. dt, function()
        local r = T({ -2, -0.0, 0, 3, nan }, dt):sign()
        assert.are.same({ -1, 0, 0, 1 }, { r[1], r[2], r[3], r[4] })
        assert.is_true(r[5] ~= r[5])
      end)
    end

    it("np.sign of int32, int64, uint8 keeps the dtype", function()
      assert.are.same({ -1, 0, 1 }, T({ -5, 0, 9 }, "int32"):sign():totable())
      assert.are.same({ -1, 1 }, T({ math.mininteger, math.maxinteger }, "int64"):sign():totable())
      assert.are.same({ 0, 1 }, T({ 0, 200 }, "uint8"):sign():totable())
      assert.are.equal("uint8", T({ 0 }, "uint8"):sign():dtype())
    end)
  end)

  describe("clip", function()
    for _, dt in ipairs(FLOATS) do
      it("np.clip([-2, 0, 3], -1, 1) == [-1, 0, 1], and an open side for nil, in " .. dt, function()
        local x = T({ -2, 0, 3 }, dt)
        assert.are.same({ -1, 0, 1 }, x:clip(-1, 1):totable())
        assert.are.same({ 0, 0, 3 }, x:clip(0):totable())          -- np.clip(x, 0, None)
        assert.are.same({ -2, 0, 1 }, x:clip(nil, 1):totable())    -- np.clip(x, None, 1)
        assert.are.same({ -2, 0, 3 }, x:clip():totable())
        assert.are.equal(dt, x:clip(-1, 1):dtype())
        assert.are.same(x:clamp(-1, 1):totable(), x:clip(-1, 1):totable())
        local n = T({ nan }, dt):clip(-1, 1)
        assert.is_true(n[1] ~= n[1])
      end)
    end

    it("np.clip(np.int32([-5, 0, 3, 300]), 0, 10) == [0, 0, 3, 10] and stays int32", function()
      local x = T({ -5, 0, 3, 300 }, "int32")
      local r = x:clip(0, 10)
      assert.are.equal("int32", r:dtype())
      assert.are.same({ 0, 0, 3, 10 }, r:totable())
      assert.are.same({ -5, 0, 2, 2 }, x:clip(nil, 2):totable())
      assert.are.same({ -5, 0, 3, 300 }, x:clip(-(1 << 40), 1 << 40):totable()) -- beyond int32: open
      assert.are.same({ 0, 0, 3, 300 }, x:clamp(0):totable())
    end)

    it("np.clip(np.int32([-5, 0, 3]), 0.5, 2.5) == [0.5, 0.5, 2.5] (float64: a float bound promotes)", function()
      local r = T({ -5, 0, 3 }, "int32"):clip(0.5, 2.5)
      assert.are.equal("float64", r:dtype())
      assert.are.same({ 0.5, 0.5, 2.5 }, r:totable())
      assert.are.equal("float64", T({ 1 }, "uint8"):clip(0, math.huge):dtype())
    end)

    it("np.clip(np.uint8([0, 100, 255]), 10, 1000) == [10, 100, 255]; a bound no uint8 can reach is an error", function()
      local u = T({ 0, 100, 255 }, "uint8")
      assert.are.same({ 10, 100, 255 }, u:clip(10, 1000):totable())
      assert.are.same({ 0, 100, 255 }, u:clip(-5):totable())
      assert.has_error(function() u:clip(300, 400) end, "clip: value 300 does not fit in uint8")
      assert.has_error(function() u:clip(nil, -1) end, "clip: value -1 does not fit in uint8")
    end)

    it("clips int64 exactly beyond 2^53", function()
      local big = (1 << 62) + 1
      local x = T({ big - 1, big, big + 5 }, "int64")
      assert.are.same({ big, big, big + 2 }, x:clip(big, big + 2):totable())
      assert.has_error(function() x:clip(big + 1, big) end, "clip: lo must not exceed hi")
    end)

    it("refuses lo above hi and non-number bounds, naming clip", function()
      assert.has_error(function() T({ 1 }):clip(2, 1) end, "clip: lo must not exceed hi")
      assert.has_error(function() T({ 1 }):clip("a") end, "clip: lo must be a number or nil, got string")
      assert.has_error(function() lunet.Tensor.clip(3) end, "clip: expected a tensor for argument 1, got number")
    end)
  end)

  describe("autograd", function()
    it("clip's gradient is 1 inside [lo, hi] and 0 outside (gradcheck, float64)", function()
      S.seed(31)
      -- values at least 0.05 away from the bounds -1 and 0.75
      local x = T({ { -2, -1.3, -0.9, -0.2 }, { 0.3, 0.7, 0.8, 2 } }, "float64")
        + lunet.uniform({ 2, 4 }, -0.04, 0.04, "float64")
      local ok, report = lunet.autograd.gradcheck(function(v) return v:clip(-1, 0.75) end, { x })
      assert.is_true(ok, tostring(report))
      ok, report = lunet.autograd.gradcheck(function(v) return v:clip(nil, 0.75) end, { x })
      assert.is_true(ok, tostring(report))
      ok, report = lunet.autograd.gradcheck(function(v) return v:clip(-1) end, { x })
      assert.is_true(ok, tostring(report))
    end)

    it("clip's gradient at the bounds themselves is 1 (torch's convention, as clamp's)", function()
      local x = T({ -2, -1, 0, 1, 2 }, "float64"):requires_grad()
      x:clip(-1, 1):sum():backward()
      assert.are.same({ 0, 1, 1, 1, 0 }, x:grad():totable())
    end)

    it("floor, ceil, round, trunc and sign are not recorded (gradient 0)", function()
      local x = T({ 1.4, -2.6 }, "float64"):requires_grad()
      for _, op in ipairs({ "floor", "ceil", "round", "trunc", "sign" }) do
        assert.is_false(x[op](x):is_grad_tracked(), op)
      end
      local g = lunet.autograd.grad(function(v) return (v * v:round()):sum() end, x)
      assert.are.same({ 1, -3 }, g:totable())
    end)
  end)
end)
