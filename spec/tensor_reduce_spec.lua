local lunet = require("lunet")
local S = require("support")

local nan = 0 / 0

describe("lunet tensors: reductions", function()
  local a = lunet.tensor({{1, 2, 3}, {4, 5, 6}})

  describe("over all elements", function()
    it("return 0-d tensors", function()
      local s = a:sum()
      assert.are.equal(0, s:dim())
      assert.are.equal(21, s:item())
      assert.are.equal(3.5, a:mean():item())
      assert.are.equal(6, a:max():item())
      assert.are.equal(1, a:min():item())
      assert.near(35 / 12, a:var():item(), 1e-6)      -- population variance
      assert.near(math.sqrt(35 / 12), a:std():item(), 1e-6)
    end)

    it("argmax/argmin give the flat 1-based position", function()
      assert.are.equal(6, a:argmax())
      assert.are.equal(1, a:argmin())
      assert.are.equal(2, lunet.tensor({3, 9, 9}):argmax()) -- first of ties
    end)

    it("work on strided views", function()
      local t = lunet.arange(12, "float64"):reshape(3, 4):t() -- non-contiguous
      assert.are.equal(66, t:sum():item())
      assert.are.equal(11, t:max():item())
      assert.are.equal(12, t:argmax())   -- row-major position in the view: (4, 3)
      assert.near(143 / 12, t:var():item(), 1e-12)
    end)
  end)

  describe("over one dim", function()
    it("drop the dim, or keep it with keepdim", function()
      assert.are.same({5, 7, 9}, a:sum(1):totable())
      assert.are.same({6, 15}, a:sum(2):totable())
      assert.are.same({{6}, {15}}, a:sum(2, true):totable())
      assert.are.same({{2.5, 3.5, 4.5}}, a:mean(1, true):totable())
      assert.are.same({3, 6}, a:max(-1):totable())
      assert.are.same({1, 2, 3}, a:min(1):totable())
      assert.are.same({2.25, 2.25, 2.25}, a:var(1):totable())
      assert.are.same({1.5, 1.5, 1.5}, a:std(1):totable())
    end)

    it("argmax/argmin return 1-based int32 positions", function()
      local x = lunet.tensor({{0.1, 0.7, 0.2}, {0.9, 0.05, 0.05}})
      local am = x:argmax(2)
      assert.are.equal("int32", am:dtype())
      assert.are.same({2, 1}, am:totable())
      assert.are.same({1, 2}, x:argmin(2):totable()) -- first of ties
      assert.are.same({2, 1, 1}, x:argmax(1):totable())
    end)

    it("np.argmax(pred, axis=1) ports as pred:argmax(2, {base = 0}): 0-based class ids", function()
      local x = lunet.tensor({{0.1, 0.7, 0.2}, {0.9, 0.05, 0.05}})
      local ids = x:argmax(2, {base = 0})
      assert.are.equal("int32", ids:dtype())
      assert.are.same({1, 0}, ids:totable())
      assert.are.same({0, 1}, x:argmin(2, {base = 0}):totable())
      assert.are.same({{1}, {0}}, x:argmax(2, {base = 0, keepdim = true}):totable())
      assert.are.same({{2}, {1}}, x:argmax(2, {keepdim = true}):totable())
      assert.are.same({2, 1}, x:argmax(2, {base = 1}):totable())
      -- no dim: the flat position, 0-based as np.argmax(pred)
      assert.are.equal(3, x:argmax(nil, {base = 0}))
      assert.are.equal(4, x:argmax())
      -- ids compare with 0-based labels
      local y = lunet.tensor({1, 0}, "int32")
      assert.are.same({1, 1}, x:argmax(2, {base = 0}):eq(y):totable())
      assert.has_error(function() x:argmax(2, {base = 2}) end, "argmax: base must be 0 or 1, got 2")
      assert.has_error(function() x:argmax(2, {bse = 0}) end, "argmax: unknown option 'bse' (known: base, keepdim)")
      assert.has_error(function() x:argmax(2, {keepdim = 1}) end, "argmax: keepdim must be a boolean, got number")
    end)

    it("agree with a per-column loop on a large (N, D) tensor", function()
      S.seed(5)
      local x = lunet.randn(1000, 300, "float64")
      local s, m, v, mx = x:sum(1), x:mean(1), x:var(1), x:max(1)
      local am = x:argmax(1)
      for j = 1, 300, 37 do
        local col = x:select(2, j):totable()
        local sum, best, bi = 0, -math.huge, 0
        for i, c in ipairs(col) do
          sum = sum + c
          if c > best then best, bi = c, i end
        end
        local mean = sum / #col
        local ss = 0
        for _, c in ipairs(col) do ss = ss + (c - mean) ^ 2 end
        assert.near(sum, s[j], 1e-9)
        assert.near(mean, m[j], 1e-12)
        assert.near(ss / #col, v[j], 1e-12)
        assert.are.equal(best, mx[j])
        assert.are.equal(bi, am[j])
      end
    end)

    -- seed 001: mean = np.mean(x, axis=1); std = np.std(x, axis=1), every layer
    it("along contiguous rows give each row's own whole-tensor reduction, to the bit", function()
      S.seed(11)
      for _, dt in ipairs({ "float32", "float64" }) do
        for _, shape in ipairs({ { 500, 100 }, { 7, 13 }, { 3, 8 }, { 9, 1 }, { 5, 0 }, { 1, 300000 } }) do
          local x = lunet.randn(shape[1], shape[2], dt) * 3 + 0.5
          if shape[2] > 1 then x = x:narrow(2, 2, shape[2] - 1) end -- rows 1 element short: strided
          local r = {}
          for _, op in ipairs({ "sum", "mean", "var", "std" }) do r[op] = x[op](x, 2) end
          for i = 1, shape[1], math.max(1, shape[1] // 37) do
            local row = x[i]:contiguous()
            for op, got in pairs(r) do
              local want = row[op](row)
              if want:item() ~= want:item() then
                assert.is_true(got[i] ~= got[i], op)
              else
                assert.are.equal(want:item(), got[i], string.format("%s %s row %d of %dx%d", dt, op, i, shape[1], shape[2]))
              end
            end
          end
        end
      end
      -- NaN and Inf in one row leave the others alone
      local x = lunet.ones(6, 20)
      x[3][5], x[4][1] = 0 / 0, math.huge
      local m, sd = x:mean(2), x:std(2)
      assert.is_true(m[3] ~= m[3] and sd[3] ~= sd[3])
      assert.are.equal(math.huge, m[4])
      assert.are.same({ 1, 1 }, { m[2], m[5] })
      assert.are.same({ 0, 0 }, { sd[2], sd[5] })
    end)

    it("reduce the middle dim of a 3-d tensor", function()
      local x = lunet.arange(24):reshape(2, 3, 4)
      local s = x:sum(2)
      assert.are.same({2, 4}, s:shape())
      assert.are.same({12, 15, 18, 21}, s[1]:totable())
      assert.are.same({{0, 1, 2, 3}}, x[1]:min(1, true):totable())
    end)
  end)

  describe("precision and special values", function()
    it("sums float32 in double precision", function()
      -- accumulating 1e7 float32 0.1s in float32 would drift to about 1.09e6
      local x = lunet.full(1e7, 0.1)
      assert.near(1e6, x:sum():item(), 0.1)
      assert.near(0.1, x:mean():item(), 1e-8)
    end)

    it("keeps float64 exact enough for 1 + 2^-40", function()
      local x = lunet.tensor({1 + 2 ^ -40, 1 - 2 ^ -40}, "float64")
      assert.are.equal(2, x:sum():item())
      assert.are.equal(1 + 2 ^ -40, x:max():item())
    end)

    it("propagate NaN through max/min and point argmax at it", function()
      local x = lunet.tensor({1, nan, 3})
      assert.is_true(x:max():item() ~= x:max():item())
      assert.is_true(x:min():item() ~= x:min():item())
      assert.are.equal(2, x:argmax())
      assert.are.equal(2, x:argmin())
      local y = lunet.tensor({{1, 5}, {nan, 2}})
      assert.are.same({2, 1}, y:argmax(1):totable())
      local m = y:max(1)
      assert.is_true(m[1] ~= m[1])
      assert.are.equal(5, m[2])
    end)

    it("sum integer tensors as int64 and mean them as float64 (counting masks), as numpy", function()
      local mask = lunet.tensor({1, 2, 3}):gt(1)
      assert.are.equal("int64", mask:sum():dtype())
      assert.are.equal(2, mask:sum():item())
      assert.are.equal("integer", math.type(mask:sum():item()))
      assert.are.equal("float64", mask:mean():dtype())
      assert.near(2 / 3, mask:mean():item(), 1e-15)
      assert.are.equal("uint8", mask:max():dtype())
    end)

    it("handle empty tensors", function()
      assert.are.equal(0, lunet.zeros(0):sum():item())
      assert.are.same({0, 0, 0}, lunet.zeros(0, 3):sum(1):totable())
      assert.has_error(function() lunet.zeros(0):max() end, "max: empty tensor")
      assert.has_error(function() lunet.zeros(0, 3):argmax(1) end,
                       "argmax: cannot reduce over dim 1 of size 0")
    end)
  end)
end)
