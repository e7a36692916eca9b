-- lunet.where(cond, a, b): numpy's where with broadcasting of all three,
-- the result dtype promoted from a and b (README "dtypes and promotion"),
-- and gradients to a and b.
local lunet = require("lunet")
local S = require("support")

local T = lunet.tensor
local where = lunet.where
local nan = 0 / 0

describe("lunet.where", function()
  it("np.where([True, False, True], [1, 2, 3], [10, 20, 30]) == [1, 20, 3]", function()
    local c = T({ 1, 0, 1 }, "uint8")
    assert.are.same({ 1, 20, 3 }, where(c, T({ 1, 2, 3 }), T({ 10, 20, 30 })):totable())
    assert.are.same({ 1, 20, 3 }, where(T({ 1, 2, 3 }):ne(2), T({ 1, 2, 3 }), T({ 10, 20, 30 })):totable())
  end)

  it("takes any numeric tensor as the condition, nonzero meaning true (np.where([0.5, 0., -1., nan], 1, 0))", function()
    for _, dt in ipairs({ "float32", "float64" }) do
      assert.are.same({ 1, 0, 1, 1 }, where(T({ 0.5, 0, -1, nan }, dt), 1, 0):totable(), dt)
    end
    for _, dt in ipairs({ "int32", "int64", "uint8" }) do
      assert.are.same({ 1, 0, 1 }, where(T({ 3, 0, 255 }, dt), 1, 0):totable(), dt)
    end
    assert.are.same({ 1, 0 }, where(T({ 1 << 40, 0 }, "int64"), 1, 0):totable())
  end)

  it("np.where(c[:, None], a[None, :], 0): broadcasts all three", function()
    local c = T({ { 1 }, { 0 }, { 1 } }, "uint8")   -- (3, 1)
    local a = T({ { 1, 2, 3, 4 } })                  -- (1, 4)
    local r = where(c, a, T({ -1, -2, -3, -4 }))     -- (4,)
    assert.are.same({ 3, 4 }, r:shape())
    assert.are.same({ { 1, 2, 3, 4 }, { -1, -2, -3, -4 }, { 1, 2, 3, 4 } }, r:totable())
    assert.are.same({ 2, 3 }, where(T({ 1, 0, 1 }, "uint8"), 5, lunet.zeros(2, 1)):shape())
    local x = lunet.arange(6):reshape(2, 3)
    assert.are.same({ { 0, 3 }, { 9, 4 }, { 2, 9 } }, where(x:t():ne(1) * x:t():ne(5), x:t(), 9):totable())
  end)

  describe("the promotion of a and b (as a + b)", function()
    local c = T({ 1, 0 }, "uint8")
    local rows = {
      { "float32", "float32", "float32" }, { "float32", "float64", "float64" },
      { "int32", "float32", "float64" }, { "uint8", "float32", "float32" }, { "uint8", "int32", "int32" },
      { "int32", "int64", "int64" }, { "int64", "float64", "float64" }, { "uint8", "uint8", "uint8" },
    }
    for _, r in ipairs(rows) do
      it(string.format("np.where(c, np.%s, np.%s) is %s, either order", r[1], r[2], r[3]), function()
        local a, b = T({ 1, 2 }, r[1]), T({ 3, 4 }, r[2])
        assert.are.equal(r[3], where(c, a, b):dtype())
        assert.are.equal(r[3], where(c, b, a):dtype())
        assert.are.same({ 1, 4 }, where(c, a, b):totable())
      end)
    end

    it("a number keeps the tensor's dtype: np.where(c, np.int32([5, 6]), 0) is int32", function()
      assert.are.equal("int32", where(c, T({ 5, 6 }, "int32"), 0):dtype())
      assert.are.equal("uint8", where(c, 7, T({ 5, 6 }, "uint8")):dtype())
      assert.are.equal("float64", where(c, T({ 5, 6 }, "float64"), 0.5):dtype())
      assert.are.equal("float32", where(c, T({ 5, 6 }), 1):dtype())
    end)

    it("a Lua float with an integer tensor gives float64: np.where(c, np.int32([5, 6]), 0.5)", function()
      local r = where(c, T({ 5, 6 }, "int32"), 0.5)
      assert.are.equal("float64", r:dtype())
      assert.are.same({ 5, 0.5 }, r:totable())
    end)

    it("two numbers give float32, lunet's default dtype", function()
      local r = where(c, 1, -1)
      assert.are.equal("float32", r:dtype())
      assert.are.same({ 1, -1 }, r:totable())
    end)

    it("int64 goes through exactly; a number that does not fit the integer dtype is an error", function()
      local big = (1 << 62) + 1
      assert.are.same({ big, 0 }, where(c, T({ big, big }, "int64"), 0):totable())
      assert.are.same({ 0, big }, where(c, T({ 0, 0 }, "int64"), big):totable())
      assert.has_error(function() where(c, T({ 0, 0 }, "int32"), big) end,
        "where: value 4611686018427387905 does not fit in int32")
      assert.has_error(function() where(c, T({ 1, 2 }, "uint8"), 300) end, "where: value 300 does not fit in uint8")
    end)
  end)

  it("reports bad arguments, naming where", function()
    assert.has_error(function() where(1, 2, 3) end, "where: expected a tensor for argument 1, got number")
    assert.has_error(function() where(T({ 1 }), "a", 3) end,
      "where: expected a tensor or number for argument 2, got string")
    assert.has_error(function() where(T({ 1, 0 }), lunet.ones(3), 0) end,
      "where: shapes (2,) and (3,) cannot be broadcast")
  end)

  describe("autograd", function()
    it("sends the gradient to a where cond holds and to b elsewhere (gradcheck, float64, broadcast)", function()
      S.seed(41)
      local a = lunet.randn({ 3, 4 }, "float64")
      local b = lunet.randn({ 4 }, "float64")
      local c = lunet.randn({ 3, 4 }, "float64"):gt(0)
      local ok, report = lunet.autograd.gradcheck(function(x, y) return where(c, x, y) end, { a, b })
      assert.is_true(ok, tostring(report))
      ok, report = lunet.autograd.gradcheck(function(x) return where(c, x, 0.5) end, { a })
      assert.is_true(ok, tostring(report))
      ok, report = lunet.autograd.gradcheck(function(y) return where(c, -1, y * y) end, { b })
      assert.is_true(ok, tostring(report))
    end)

    it("gives the exact masks: d/da = c, d/db = 1 - c (summed over broadcast dims)", function()
      local a = T({ { 1, 2 }, { 3, 4 } }, "float64"):requires_grad()
      local b = T({ 10, 20 }, "float64"):requires_grad()
      local c = T({ { 1, 0 }, { 1, 1 } }, "uint8")
      where(c, a, b):sum():backward()
      assert.are.same({ { 1, 0 }, { 1, 1 } }, a:grad():totable())
      assert.are.same({ 0, 1 }, b:grad():totable())
    end)

    it("the gradient to a float32 input comes back float32 when b is float64", function()
      local a = T({ 1, 2 }):requires_grad()
      local b = T({ 3, 4 }, "float64")
      local out = where(T({ 1, 0 }, "uint8"), a, b)
      assert.are.equal("float64", out:dtype())
      out:sum():backward()
      assert.are.equal("float32", a:grad():dtype())
      assert.are.same({ 1, 0 }, a:grad():totable())
    end)
  end)
end)
