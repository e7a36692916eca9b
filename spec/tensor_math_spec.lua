local lunet = require("lunet")
local S = require("support")

local nan, inf = 0 / 0, math.huge

describe("lunet tensors: elementwise math", function()
  describe("arithmetic operators", function()
    local a = lunet.tensor({{1, 2, 3}, {4, 5, 6}})

    it("work elementwise with tensors and numbers on either side", function()
      assert.are.same({{2, 4, 6}, {8, 10, 12}}, (a + a):totable())
      assert.are.same({{0, 1, 2}, {3, 4, 5}}, (a - 1):totable())
      assert.are.same({{9, 8, 7}, {6, 5, 4}}, (10 - a):totable())
      assert.are.same({{2, 4, 6}, {8, 10, 12}}, (2 * a):totable())
      assert.are.same({{0.5, 1, 1.5}, {2, 2.5, 3}}, (a / 2):totable())
      assert.are.same({{60, 30, 20}, {15, 12, 10}}, (60 / a):totable())
      assert.are.same({{1, 4, 9}, {16, 25, 36}}, (a ^ 2):totable())
      assert.are.same({{2, 4, 8}, {16, 32, 64}}, (2 ^ a):totable())
      assert.are.same({{-1, -2, -3}, {-4, -5, -6}}, (-a):totable())
    end)

    it("have method forms", function()
      assert.are.same((a + a):totable(), a:add(a):totable())
      assert.are.same((a - 2):totable(), a:sub(2):totable())
      assert.are.same((a * a):totable(), a:mul(a):totable())
      assert.are.same((a / a):totable(), a:div(a):totable())
      assert.are.same((a ^ 0.5):totable(), a:pow(0.5):totable())
      assert.are.same((a + 1):totable(), lunet.add(a, 1):totable())
    end)

    it("do not modify their operands", function()
      local b = a:clone()
      local _ = a + b, a * 3, -a
      assert.are.same({{1, 2, 3}, {4, 5, 6}}, a:totable())
    end)

    it("promote float32 with float64 to float64; numbers keep the tensor's dtype", function()
      local x32, x64 = lunet.ones(2), lunet.ones(2, "float64")
      assert.are.equal("float64", (x32 + x64):dtype())
      assert.are.equal("float64", (x64 * x32):dtype())
      assert.are.equal("float32", (x32 + 2 ^ -40):dtype())
      assert.are.equal(1, (x32 + 2 ^ -40)[1])
      assert.are.equal(1 + 2 ^ -40, (x64 + 2 ^ -40)[1])
    end)
  end)

  describe("broadcasting", function()
    it("follows numpy's rules", function()
      local col = lunet.tensor({{1}, {2}, {3}})    -- (3, 1)
      local row = lunet.tensor({10, 20})           -- (2,)
      local s = col + row                          -- (3, 2)
      assert.are.same({{11, 21}, {12, 22}, {13, 23}}, s:totable())
      assert.are.same({2, 3, 4}, (lunet.ones(2, 1, 4) + lunet.ones(3, 1)):shape())
      assert.are.same({3}, (lunet.ones(3) + lunet.tensor(2)):shape())
      assert.are.same({}, (lunet.tensor(1) + lunet.tensor(2)):shape())
      assert.are.same({0, 3}, (lunet.ones(0, 1) + lunet.ones(3)):shape())
      assert.are.same({1, 1}, (lunet.ones(1, 1) * lunet.ones(1)):shape())
    end)

    it("works with strided operands (transposed, narrowed, selected)", function()
      local a = lunet.arange(12):reshape(3, 4)
      local at = a:t()                          -- (4, 3), strides (1, 4)
      local r = at + lunet.tensor({100, 200, 300})
      assert.are.same({{100, 204, 308}, {101, 205, 309}, {102, 206, 310}, {103, 207, 311}},
                      r:totable())
      local sel = a:select(2, 2)                 -- 1, 5, 9 with stride 4
      assert.are.same({2, 10, 18}, (sel + sel):totable())
      assert.are.same({{0, 2}, {8, 10}}, (a:narrow(1, 1, 2):narrow(2, 1, 2)
        + lunet.tensor({{0}, {4}}) + lunet.tensor({0, 1})):totable())
    end)

    it("reports shapes that do not broadcast", function()
      assert.has_error(function() return lunet.ones(2, 3) + lunet.ones(4) end,
                       "add: shapes (2, 3) and (4,) cannot be broadcast")
      assert.has_error(function() return lunet.ones(2, 3) * lunet.ones(3, 2) end,
                       "mul: shapes (2, 3) and (3, 2) cannot be broadcast")
      assert.has_error(function() return lunet.ones(2, 3):sub(lunet.ones(2, 2)) end,
                       "sub: shapes (2, 3) and (2, 2) cannot be broadcast")
    end)
  end)

  describe("in-place ops", function()
    it("modify and return the tensor", function()
      local t = lunet.tensor({1, 2, 3})
      assert.are.equal(t, t:add_(1))
      assert.are.same({2, 3, 4}, t:totable())
      t:mul_(lunet.tensor({1, 0, -1}))
      assert.are.same({2, 0, -4}, t:totable())
      t:sub_(2):div_(2):pow_(2)
      assert.are.same({0, 1, 9}, t:totable())
    end)

    it("broadcast the other operand but keep the tensor's shape", function()
      local t = lunet.zeros(2, 3)
      t:add_(lunet.tensor({1, 2, 3}))
      assert.are.same({{1, 2, 3}, {1, 2, 3}}, t:totable())
      assert.has_error(function() lunet.zeros(3):add_(lunet.zeros(2, 3)) end,
                       "add_: in-place result would have shape (2, 3), not the tensor's (3,)")
    end)

    it("write through views", function()
      local t = lunet.zeros(3, 3)
      t:select(2, 2):add_(5)
      t:t():narrow(1, 3, 1):add_(1)
      assert.are.same({{0, 5, 1}, {0, 5, 1}, {0, 5, 1}}, t:totable())
    end)

    it("are correct when the operand overlaps the tensor", function()
      local t = lunet.tensor({{1, 2}, {3, 4}})
      t:add_(t:t())
      assert.are.same({{2, 5}, {5, 8}}, t:totable())
      local u = lunet.tensor({1, 2, 3, 4})
      u:narrow(1, 2, 3):add_(u:narrow(1, 1, 3))
      assert.are.same({1, 3, 5, 7}, u:totable())
    end)
  end)

  describe("unary math", function()
    it("exp, log, sqrt, abs, neg, sign, square", function()
      local x = lunet.tensor({-2, -0.5, 0, 0.5, 2}, "float64")
      for i, v in ipairs(x:exp():totable()) do assert.near(math.exp(x[i]), v, 1e-15) end
      local p = lunet.tensor({0.5, 1, 4}, "float64")
      assert.are.same({math.log(0.5), 0, math.log(4)}, p:log():totable())
      assert.are.same({math.sqrt(0.5), 1, 2}, p:sqrt():totable())
      assert.are.same({2, 0.5, 0, 0.5, 2}, x:abs():totable())
      assert.are.same({2, 0.5, 0, -0.5, -2}, x:neg():totable())
      assert.are.same({-1, -1, 0, 1, 1}, x:sign():totable())
      assert.are.same({4, 0.25, 0, 0.25, 4}, x:square():totable())
    end)

    it("clamp with either bound optional", function()
      local x = lunet.tensor({-2, 0, 3})
      assert.are.same({-1, 0, 1}, x:clamp(-1, 1):totable())
      assert.are.same({0, 0, 3}, x:clamp(0):totable())
      assert.are.same({-2, 0, 1}, x:clamp(nil, 1):totable())
    end)

    it("propagate NaN and handle infinities", function()
      local x = lunet.tensor({nan, inf, -inf})
      local e = x:exp()
      assert.is_true(e[1] ~= e[1])
      assert.are.equal(inf, e[2])
      assert.are.equal(0, e[3])
      assert.is_true(x:clamp(-1, 1)[1] ~= x:clamp(-1, 1)[1])
      assert.is_true(x:sign()[1] ~= x:sign()[1])
      assert.is_true(x:abs()[1] ~= x:abs()[1])
      assert.are.equal(-inf, lunet.tensor({0}):log()[1])
    end)

    it("refuse integer tensors", function()
      assert.has_error(function() lunet.tensor({1}, "int32"):exp() end,
                       "exp: expected a float32 or float64 tensor, got int32 (convert with :float())")
    end)
  end)

  describe("maximum and minimum", function()
    it("broadcast and propagate NaN like numpy", function()
      local a = lunet.tensor({1, 5, nan})
      local m = lunet.maximum(a, 3)
      assert.are.equal(3, m[1])
      assert.are.equal(5, m[2])
      assert.is_true(m[3] ~= m[3])
      local n = lunet.minimum(lunet.tensor({{1}, {4}}), lunet.tensor({2, 3}))
      assert.are.same({{1, 1}, {2, 3}}, n:totable())
      local z = lunet.maximum(lunet.tensor({2}), lunet.tensor({nan}))
      assert.is_true(z[1] ~= z[1])
    end)
  end)

  describe("comparisons", function()
    it("return uint8 masks and broadcast", function()
      local a = lunet.tensor({1, 2, 3})
      local m = a:gt(2)
      assert.are.equal("uint8", m:dtype())
      assert.are.same({0, 0, 1}, m:totable())
      assert.are.same({1, 0, 0}, a:lt(2):totable())
      assert.are.same({1, 1, 0}, a:le(2):totable())
      assert.are.same({0, 1, 1}, a:ge(2):totable())
      assert.are.same({0, 1, 0}, a:eq(2):totable())
      assert.are.same({1, 0, 1}, a:ne(2):totable())
      assert.are.same({{1, 0, 0}, {1, 1, 0}}, a:le(lunet.tensor({{1}, {2}})):totable())
    end)

    it("compare across dtypes by value", function()
      local labels = lunet.tensor({0, 3, 7}, "int32")
      local pred = lunet.tensor({0, 3, 6}, "uint8")
      assert.are.same({1, 1, 0}, labels:eq(pred):totable())
      assert.are.same({1, 0, 0}, lunet.tensor({0.5}):lt(lunet.tensor({1, 0, 0}, "int32")):totable())
      assert.are.equal(2, labels:eq(pred):sum():item())
    end)

    it("treat NaN as unequal to everything", function()
      local x = lunet.tensor({nan})
      assert.are.same({0}, x:eq(x):totable())
      assert.are.same({1}, x:ne(x):totable())
    end)
  end)

  describe("where", function()
    it("selects with a broadcast mask; numbers on either side", function()
      local x = lunet.tensor({{-1, 2}, {3, -4}})
      assert.are.same({{0, 2}, {3, 0}}, lunet.where(x:gt(0), x, 0):totable())
      assert.are.same({{-1, 9}, {9, -4}}, lunet.where(x:gt(0), 9, x):totable())
      assert.are.same({{1}, {-1}}, lunet.where(lunet.tensor({{1}, {0}}, "uint8"), 1, -1):totable())
      local i = lunet.where(lunet.tensor({1, 0}), lunet.tensor({5, 6}, "int32"), 0)
      assert.are.equal("int32", i:dtype())
      assert.are.same({5, 0}, i:totable())
    end)
  end)

  describe("random shapes against a per-element reference", function()
    -- element of t at output index idx under numpy broadcasting
    local function bget(t, idx)
      local nd, td = #idx, t:dim()
      local args = {}
      for j = 1, td do
        local i = idx[nd - td + j]
        args[j] = t:size(j) == 1 and 1 or i
      end
      return t:get(table.unpack(args))
    end

    local function each_index(shape, fn)
      local idx = {}
      local function rec(d)
        if d > #shape then return fn(idx) end
        for i = 1, shape[d] do
          idx[d] = i
          rec(d + 1)
        end
      end
      rec(1)
    end

    it("agree for every binary op under broadcasting", function()
      S.seed(11)
      local shapes = {{{4, 1, 3}, {5, 1}}, {{1, 6}, {3, 1}}, {{2, 3}, {3}}, {{7}, {1}}}
      local ops = {
        add = function(x, y) return x + y end, sub = function(x, y) return x - y end,
        mul = function(x, y) return x * y end, div = function(x, y) return x / y end,
        pow = function(x, y) return x ^ y end,
      }
      for _, sh in ipairs(shapes) do
        local a = lunet.rand(sh[1], "float64") + 0.5
        local b = lunet.randn(sh[2], "float64")
        for name, f in pairs(ops) do
          local r = a[name](a, b)
          local n = 0
          each_index(r:shape(), function(idx)
            n = n + 1
            assert.are.equal(f(bget(a, idx), bget(b, idx)), r:get(table.unpack(idx)))
          end)
          assert.are.equal(r:numel(), n)
        end
      end
    end)
  end)
end)
