-- Integer arithmetic, floor division and remainder, and the promotion
-- table of the README ("Promotion"), row by row.  Each test names the
-- numpy line it mirrors; numpy 2's rules (NEP 50) for Python scalars.
local lunet = require("lunet")
local S = require("support")

local T = lunet.tensor
local inf, nan = math.huge, 0 / 0

local function is_nan(v) return v ~= v end
local function is_neg_zero(v) return v == 0 and 1 / v < 0 end

describe("lunet tensors: integer arithmetic and promotion", function()
  describe("the promotion table (README), tensor with tensor", function()
    -- {a, b, result}: one line per row of the README's table, written out,
    -- not computed (np.result_type(a, b))
    local rows = {
      { "float32", "float32", "float32" }, { "float64", "float64", "float64" },
      { "int32", "int32", "int32" }, { "int64", "int64", "int64" }, { "uint8", "uint8", "uint8" },
      { "float32", "float64", "float64" },
      { "uint8", "int32", "int32" }, { "uint8", "int64", "int64" }, { "int32", "int64", "int64" },
      { "uint8", "float32", "float32" }, { "int32", "float32", "float64" }, { "int64", "float32", "float64" },
      { "uint8", "float64", "float64" }, { "int32", "float64", "float64" }, { "int64", "float64", "float64" },
    }
    for _, r in ipairs(rows) do
      it(string.format("np.result_type(np.%s, np.%s) == %s, either order, every op", r[1], r[2], r[3]), function()
        local a, b = T({ 6, 2 }, r[1]), T({ 3, 1 }, r[2])
        for _, op in ipairs({ "add", "sub", "mul", "floor_divide", "remainder" }) do
          assert.are.equal(r[3], a[op](a, b):dtype(), op)
          assert.are.equal(r[3], b[op](b, a):dtype(), op)
        end
        assert.are.equal(r[3], lunet.maximum(a, b):dtype())
        assert.are.same({ 9, 3 }, (a + b):totable())
        assert.are.same({ 18, 2 }, (a * b):totable())
        assert.are.same({ 2, 2 }, (a // b):totable())
      end)
    end

    it("np.uint8([255]) + np.int32([1]) == [256]: computed in the promoted dtype, no wrap at 256", function()
      assert.are.same({ 256 }, (T({ 255 }, "uint8") + T({ 1 }, "int32")):totable())
      assert.are.same({ (1 << 31) }, (T({ (1 << 31) - 1 }, "int32") + T({ 1 }, "int64")):totable())
      assert.are.same({ 16777217 }, (T({ 16777217 }, "int32") + T({ 0 }, "float32")):totable()) -- float64 holds it
    end)
  end)

  describe("the promotion table, tensor with a Lua number (the number does not upcast)", function()
    it("np.array([1, 2], np.int32) - 1 keeps int32 (the case refused before int arithmetic)", function()
      local r = T({ 1, 2 }, "int32") - 1
      assert.are.equal("int32", r:dtype())
      assert.are.same({ 0, 1 }, r:totable())
      assert.are.equal("integer", math.type(r[1]))
      assert.are.equal("uint8", (T({ 1 }, "uint8") + 1):dtype())
      assert.are.equal("int64", (2 * T({ 1 }, "int64")):dtype())
      assert.are.same({ 9 }, (10 - T({ 1 }, "uint8")):totable())
    end)

    it("np.array([1, 2], np.int32) + 1.5 == [2.5, 3.5] (float64): a Lua float makes float64", function()
      local r = T({ 1, 2 }, "int32") + 1.5
      assert.are.equal("float64", r:dtype())
      assert.are.same({ 2.5, 3.5 }, r:totable())
      assert.are.equal("float64", (T({ 1 }, "uint8") * 2.0):dtype()) -- 2.0 is a float in Lua, as in Python
    end)

    it("np.float32 array + a Python number stays float32", function()
      assert.are.equal("float32", (T({ 1 }) + 1):dtype())
      assert.are.equal("float32", (T({ 1 }) + 0.1):dtype())
      assert.are.equal("float64", (T({ 1 }, "float64") * 3):dtype())
    end)

    it("np.uint8 array + 300 raises (numpy 2): the number must fit an integer dtype", function()
      assert.has_error(function() return T({ 1 }, "uint8") + 300 end, "add: value 300 does not fit in uint8")
      assert.has_error(function() return T({ 1 }, "uint8") - -1 end, "sub: value -1 does not fit in uint8")
      assert.has_error(function() return T({ 1 }, "int32") * (1 << 31) end,
        "mul: value 2147483648 does not fit in int32")
      assert.are.same({ 1.5 }, (T({ 1 }, "uint8") + 0.5):totable()) -- float64: fits
      assert.are.same({ 0.5 }, (T({ 1 }, "uint8") / 2):totable())
    end)

    it("comparisons give uint8 masks from every dtype, numbers by value", function()
      assert.are.equal("uint8", T({ 1 }, "int64"):gt(T({ 0.5 })):dtype())
      assert.are.same({ 0, 0 }, T({ 1, 255 }, "uint8"):eq(300):totable())
      assert.are.same({ 1, 1 }, T({ 1, 255 }, "uint8"):lt(300):totable())
    end)
  end)

  describe("integer arithmetic", function()
    it("np.int32(2**31 - 1) + 1 wraps to -2**31; int64 and uint8 wrap too", function()
      assert.are.same({ -(1 << 31) }, (T({ (1 << 31) - 1 }, "int32") + 1):totable())
      assert.are.same({ math.mininteger }, (T({ math.maxinteger }, "int64") + 1):totable())
      assert.are.same({ 255 }, (T({ 0 }, "uint8") - 1):totable())
      assert.are.same({ 44 }, (T({ 200 }, "uint8") + 100):totable())
      assert.are.same({ 0 }, (T({ 16 }, "uint8") * 16):totable())
      assert.are.same({ 0 }, (T({ 1 << 32 }, "int64") * (1 << 32)):totable())
      assert.are.same({ 0 }, (T({ 65536 }, "int32") * 65536):totable())
    end)

    it("np.array([1, 2, 7], np.int32) / 2 == [0.5, 1.0, 3.5]: true division gives float64", function()
      local r = T({ 1, 2, 7 }, "int32") / 2
      assert.are.equal("float64", r:dtype())
      assert.are.same({ 0.5, 1, 3.5 }, r:totable())
      assert.are.equal("float64", (T({ 1 }, "uint8") / T({ 2 }, "uint8")):dtype())
      assert.are.same({ 2.0 ^ 61 }, (T({ 1 << 62 }, "int64") / 2):totable())
      assert.are.same({ inf, -inf }, (T({ 1, -1 }, "int32") / 0):totable())
      assert.is_true(is_nan((T({ 0 }, "int64") / 0)[1]))
    end)

    it("np.floor_divide([-7, 7, -7, 7], [2, 2, -2, -2]) == [-4, 3, 3, -4]; np.remainder == [1, 1, -1, -1]", function()
      for _, dt in ipairs({ "int32", "int64" }) do
        local a, b = T({ -7, 7, -7, 7 }, dt), T({ 2, 2, -2, -2 }, dt)
        assert.are.same({ -4, 3, 3, -4 }, (a // b):totable())
        assert.are.same({ 1, 1, -1, -1 }, (a % b):totable())
        assert.are.same({ -4, 3, 3, -4 }, lunet.floor_divide(a, b):totable())
        assert.are.same({ 1, 1, -1, -1 }, a:remainder(b):totable())
        assert.are.equal(dt, (a % 3):dtype())
      end
      assert.are.same({ 3, 0 }, (T({ 7, 200 }, "uint8") // T({ 2, 201 }, "uint8")):totable())
      assert.are.same({ 1, 200 }, (T({ 7, 200 }, "uint8") % T({ 2, 201 }, "uint8")):totable())
      assert.are.same({ 3, 1 }, (7 // T({ 2, 4 }, "int32")):totable())
      assert.are.same({ 1, 3 }, (7 % T({ 2, 4 }, "int32")):totable())
    end)

    it("np.floor_divide([5, -5, 0], 0) == [0, 0, 0] and np.remainder too: integer division by zero gives 0", function()
      for _, dt in ipairs({ "int32", "int64", "uint8" }) do
        local a = T(dt == "uint8" and { 5, 250, 0 } or { 5, -5, 0 }, dt)
        assert.are.same({ 0, 0, 0 }, (a // 0):totable(), dt)
        assert.are.same({ 0, 0, 0 }, (a % 0):totable(), dt)
        assert.are.same({ 0, 0, 0 }, (a // lunet.zeros(3, dt)):totable(), dt)
        assert.are.same({ 0, 0, 0 }, (a % lunet.zeros(3, dt)):totable(), dt)
      end
    end)

    it("np.int32(-2**31) // -1 == -2**31 (wraps; no SIGFPE), and % -1 == 0", function()
      assert.are.same({ -(1 << 31), 5 }, (T({ -(1 << 31), -5 }, "int32") // -1):totable())
      assert.are.same({ 0, 0 }, (T({ -(1 << 31), -5 }, "int32") % -1):totable())
      assert.are.same({ math.mininteger }, (T({ math.mininteger }, "int64") // -1):totable())
      assert.are.same({ 0 }, (T({ math.mininteger }, "int64") % -1):totable())
    end)

    it("np.array([2, -3], np.int32) ** 3 == [8, -27]; int64 powers are exact; 0 ** 0 == 1", function()
      assert.are.same({ 8, -27 }, (T({ 2, -3 }, "int32") ^ 3):totable())
      assert.are.equal("int32", (T({ 2 }, "int32") ^ 3):dtype())
      assert.are.same({ (1 << 62) }, (T({ 2 }, "int64") ^ 62):totable())
      assert.are.same({ 3486784401 }, (T({ 3 }, "int64") ^ T({ 20 }, "int64")):totable())
      assert.are.same({ 0 }, (T({ 2 }, "int64") ^ 64):totable()) -- wraps
      assert.are.same({ 1, 1 }, (T({ 0, 5 }, "int32") ^ 0):totable())
      assert.are.same({ 1, 4, 27 }, (T({ 1, 2, 3 }, "uint8") ^ T({ 1, 2, 3 }, "uint8")):totable())
      assert.are.same({ 1.5 ^ 2 }, (T({ 1.5 }) ^ T({ 2 }, "int32")):totable())
      assert.are.same({ 2 ^ 0.5 }, (T({ 2 }, "int32") ^ 0.5):totable()) -- float64
    end)

    it("np.array([2], np.int32) ** -1 raises: integers to negative integer powers are not allowed", function()
      local msg = "pow: integers to negative integer powers are not allowed (convert with :double())"
      assert.has_error(function() return T({ 2 }, "int32") ^ -1 end, msg)
      assert.has_error(function() return T({ 2, 2 }, "int64") ^ T({ 1, -1 }, "int64") end, msg)
      assert.has_error(function() return 2 ^ T({ -1 }, "int32") end, msg)
      assert.are.same({ 0.5 }, (T({ 2 }, "int32") ^ -1.0):totable())
    end)

    it("unary: -x, abs, sign, square on integers; np.abs(np.int32(-2**31)) == -2**31", function()
      local i = T({ -3, 0, 5, -(1 << 31) }, "int32")
      assert.are.same({ 3, 0, -5, -(1 << 31) }, (-i):totable())
      assert.are.same({ 3, 0, 5, -(1 << 31) }, i:abs():totable())
      assert.are.same({ -1, 0, 1, -1 }, i:sign():totable())
      assert.are.same({ 9, 0, 25, 0 }, i:square():totable())
      assert.are.equal("int32", i:sign():dtype())
      local u = T({ 0, 1, 255 }, "uint8")
      assert.are.same({ 0, 255, 1 }, (-u):totable())
      assert.are.same({ 0, 1, 1 }, u:sign():totable())
      assert.are.same({ math.mininteger, -5 }, (-T({ math.mininteger, 5 }, "int64")):totable())
      assert.has_error(function() T({ 1 }, "int64"):exp() end,
        "exp: expected a float32 or float64 tensor, got int64 (convert with :float())")
    end)

    it("maximum and minimum on integers", function()
      assert.are.same({ 3, 7 }, lunet.maximum(T({ 1, 7 }, "int32"), 3):totable())
      assert.are.same({ -(1 << 40), 2 }, lunet.minimum(T({ -(1 << 40), 5 }, "int64"), T({ 0, 2 }, "uint8")):totable())
    end)

    it("broadcast and strided integer operands", function()
      local a = lunet.arange(6, "int32"):reshape(2, 3)
      assert.are.same({ { 0, 4 }, { 1, 5 }, { 2, 6 } }, (a:t() + T({ 0, 1 }, "int64")):totable())
      assert.are.same({ { 0, 1, 2 }, { 0, 1, 2 } }, (a % 3):totable())
    end)
  end)

  describe("float floor division and remainder (numpy's, Python's // and %)", function()
    for _, dt in ipairs({ "float32", "float64" }) do
      it("np.floor_divide([-7., 7., -0.5, 0.5], [2., -2., 1., 1.]) == [-4., -4., -1., 0.] in " .. dt, function()
        local a, b = T({ -7, 7, -0.5, 0.5 }, dt), T({ 2, -2, 1, 1 }, dt)
        assert.are.same({ -4, -4, -1, 0 }, (a // b):totable())
        assert.are.same({ 1, -1, 0.5, 0.5 }, (a % b):totable())
        assert.are.equal(dt, (a // b):dtype())
      end)

      it("np.floor_divide(1., 0.1) == 9. (not floor(1 / 0.1) == 10) in " .. dt, function()
        assert.are.equal(9, (T({ 1 }, dt) // 0.1)[1])
        if dt == "float64" then
          assert.are.equal(0.09999999999999995, (T({ 1 }, dt) % 0.1)[1]) -- Python's 1.0 % 0.1
        else
          assert.near(0.099999986, (T({ 1 }, dt) % 0.1)[1], 1e-8) -- np.float32(1) % np.float32(.1)
        end
      end)

      it("np.floor_divide([1., -1., 0.], 0.) == [inf, -inf, nan]; np.remainder(x, 0.) is nan in " .. dt, function()
        local q = (T({ 1, -1, 0 }, dt) // 0):totable()
        assert.are.equal(inf, q[1])
        assert.are.equal(-inf, q[2])
        assert.is_true(is_nan(q[3]))
        assert.is_true(is_nan((T({ 1 }, dt) % 0)[1]))
      end)

      it("np.remainder(-1., inf) == inf, np.floor_divide(-1., inf) == -1., signed zeros, NaN in " .. dt, function()
        assert.are.equal(inf, (T({ -1 }, dt) % inf)[1])
        assert.are.equal(1, (T({ 1 }, dt) % inf)[1])
        assert.are.equal(-1, (T({ -1 }, dt) // inf)[1])
        assert.is_true(is_neg_zero((T({ -0.0 }, dt) // 1)[1]))  -- np.floor_divide(-0., 1.) == -0.
        assert.is_true(is_neg_zero((T({ 2 }, dt) % -1)[1]))     -- np.remainder(2., -1.) == -0.
        assert.is_true(is_nan((T({ nan }, dt) // 1)[1]))
        assert.is_true(is_nan((T({ inf }, dt) % 2)[1]))
      end)
    end

    it("int // Lua float is float64 (np.array([7], np.int32) // 2.0 == [3.])", function()
      local r = T({ 7 }, "int32") // 2.0
      assert.are.equal("float64", r:dtype())
      assert.are.same({ 3 }, r:totable())
    end)
  end)

  describe("in-place ops on integer tensors (numpy's same-kind casting)", function()
    it("a = np.int32([1, 2]); a += 1 stays int32", function()
      local a = T({ 1, 2 }, "int32")
      assert.are.equal(a, a:add_(1))
      assert.are.same({ 2, 3 }, a:totable())
      a:mul_(T({ 3, -1 }, "int32")):sub_(1)
      assert.are.same({ 5, -4 }, a:totable())
    end)

    it("a = np.uint8([250]); a += np.int32([10]) wraps to [4]; a **= np.int32([8, 256]) gives [0, 0]", function()
      local a = T({ 250 }, "uint8")
      a:add_(T({ 10 }, "int32"))
      assert.are.same({ 4 }, a:totable())
      -- computed in int32, then the low bits: 2^256 is 0, not 2^(256 mod 256) = 1
      local p = T({ 2, 2 }, "uint8")
      p:pow_(T({ 8, 256 }, "int32"))
      assert.are.same({ 0, 0 }, p:totable())
      local w = T({ 5 }, "int32")
      w:add_(T({ (1 << 32) + 1 }, "int64"))
      assert.are.same({ 6 }, w:totable())
    end)

    it("a = np.int32([1]); a += 1.5 and a /= 2 raise: a float result does not fit in place", function()
      assert.has_error(function() T({ 1 }, "int32"):add_(1.5) end,
        "add_: the result is float64, which the int32 tensor cannot hold in place")
      assert.has_error(function() T({ 1 }, "uint8"):div_(T({ 1 }, "uint8")) end,
        "div_: the result is float64, which the uint8 tensor cannot hold in place")
      assert.has_error(function() T({ 1 }, "int64"):mul_(T({ 1 })) end,
        "mul_: the result is float64, which the int64 tensor cannot hold in place")
      local f = T({ 1 })
      f:add_(T({ 2 }, "int32")) -- a float tensor takes an integer operand
      assert.are.same({ 3 }, f:totable())
    end)
  end)

  describe("autograd", function()
    it("remainder has gradient 1 in x and -(x // y) in y (gradcheck, float64, away from the jumps)", function()
      S.seed(21)
      -- x = (k + f) * y with k integer and f in (0.2, 0.8): x / y stays away from the jumps
      local k = lunet.arange(-6, 6, "float64"):reshape(3, 4)
      local f = lunet.uniform({ 3, 4 }, 0.2, 0.8, "float64")
      local y = lunet.uniform({ 4 }, 1.5, 2.5, "float64")
      local ok, report = lunet.autograd.gradcheck(function(a, b) return a % b end, { (k + f) * y, y })
      assert.is_true(ok, tostring(report))
      ok, report = lunet.autograd.gradcheck(function(a) return a:remainder(-1.75) end, { (k + f) * -1.75 })
      assert.is_true(ok, tostring(report))
      local x = ((k + f) * y):requires_grad()
      local yy = y:clone():requires_grad()
      ;(x % yy):sum():backward()
      assert.are.same(lunet.ones(3, 4, "float64"):totable(), x:grad():totable())
      assert.are.same((-k):sum(1):totable(), yy:grad():totable()) -- -(x // y) = -k
    end)

    it("floor_divide is not recorded (gradient 0, as torch's)", function()
      local x = T({ 1.5, -2.5 }, "float64"):requires_grad()
      assert.is_false((x // 2):is_grad_tracked())
      local g = lunet.autograd.grad(function(v) return (v * (v // 1)):sum() end, x)
      assert.are.same({ 1, -3 }, g:totable())
    end)
  end)
end)
