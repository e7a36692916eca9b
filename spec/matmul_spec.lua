local lunet = require("lunet")
local S = require("support")

describe("lunet.matmul", function()
  it("multiplies 2-d tensors like the naive product", function()
    S.seed(21)
    for _ = 1, 12 do
      local m, k, n = math.random(1, 40), math.random(1, 40), math.random(1, 40)
      local a, b = lunet.randn(m, k, "float64"), lunet.randn(k, n, "float64")
      local c = lunet.matmul(a, b)
      assert.are.same({m, n}, c:shape())
      assert.is_true(S.max_abs_diff(c, S.naive_matmul(a, b)) < 1e-12)
    end
  end)

  it("takes transposed and strided views without changing the result", function()
    S.seed(22)
    for _ = 1, 10 do
      local m, k, n = math.random(1, 30), math.random(1, 30), math.random(1, 30)
      local at = lunet.randn(k, m, "float64"):t()          -- (m, k), column-major
      local bt = lunet.randn(n, k, "float64"):t()          -- (k, n), column-major
      local an = lunet.randn(m, k + 3, "float64"):narrow(2, 2, k)  -- row stride > k
      local bs = lunet.randn(k, 2 * n, "float64"):narrow(2, 1, n)
      local bstep = lunet.randn(k, n, 2, "float64"):select(3, 1)   -- unit stride 2: copied
      for _, pair in ipairs({{at, bt}, {an, bs}, {at, bs}, {an, bt}, {at, bstep}}) do
        local c = pair[1]:matmul(pair[2])
        assert.is_true(S.max_abs_diff(c, S.naive_matmul(pair[1], pair[2])) < 1e-12)
      end
    end
  end)

  it("computes float32 in float32 within rounding of the float64 product", function()
    S.seed(23)
    local a, b = lunet.randn(64, 100), lunet.randn(100, 48)
    local c32 = lunet.matmul(a, b)
    assert.are.equal("float32", c32:dtype())
    local c64 = lunet.matmul(a:double(), b:double())
    assert.is_true(S.max_abs_diff(c32, c64) < 1e-4)
  end)

  it("handles 1-d operands like numpy", function()
    local v = lunet.tensor({1, 2, 3})
    local m = lunet.tensor({{1, 0}, {0, 1}, {1, 1}})
    assert.are.same({}, lunet.matmul(v, v):shape())
    assert.are.equal(14, lunet.matmul(v, v):item())
    assert.are.same({4, 5}, lunet.matmul(v, m):totable())
    assert.are.same({3, 2, 5}, lunet.matmul(m:t():t(), lunet.tensor({3, 2})):totable())
  end)

  it("batches 3-d products and broadcasts a 2-d operand", function()
    S.seed(24)
    local a = lunet.randn(4, 5, 6, "float64")
    local b = lunet.randn(4, 6, 3, "float64")
    local w = lunet.randn(6, 2, "float64")
    local c = lunet.matmul(a, b)
    assert.are.same({4, 5, 3}, c:shape())
    local cw = lunet.matmul(a, w)
    assert.are.same({4, 5, 2}, cw:shape())
    local wa = lunet.matmul(lunet.randn(3, 5, "float64"), a)
    assert.are.same({4, 3, 6}, wa:shape())
    for i = 1, 4 do
      assert.is_true(S.max_abs_diff(c[i], S.naive_matmul(a[i], b[i])) < 1e-12)
      assert.is_true(S.max_abs_diff(cw[i], S.naive_matmul(a[i], w)) < 1e-12)
    end
    local at = a:transpose(2, 3)   -- (4, 6, 5) strided batch slices
    local c2 = lunet.matmul(at, lunet.randn(4, 5, 2, "float64"))
    assert.are.same({4, 6, 2}, c2:shape())
  end)

  it("handles empty dims", function()
    assert.are.same({{0, 0}, {0, 0}}, lunet.matmul(lunet.ones(2, 0), lunet.ones(0, 2)):totable())
    assert.are.same({0, 2}, lunet.matmul(lunet.ones(0, 3), lunet.ones(3, 2)):shape())
  end)

  it("promotes mixed float dtypes and refuses integers", function()
    assert.are.equal("float64", lunet.matmul(lunet.ones(2, 2), lunet.ones(2, 2, "float64")):dtype())
    assert.has_error(function() lunet.matmul(lunet.ones(2, 2, "int32"), lunet.ones(2, 2)) end,
                     "matmul: expected a float32 or float64 tensor, got int32 (convert with :float())")
  end)

  it("reports misaligned shapes with both shapes", function()
    assert.has_error(function() lunet.matmul(lunet.ones(2, 3), lunet.ones(4, 5)) end,
                     "matmul: cannot multiply shapes (2, 3) and (4, 5): inner dims 3 and 4 differ")
    assert.has_error(function() lunet.matmul(lunet.ones(2, 3, 4), lunet.ones(3, 4, 5)) end,
                     "matmul: batch sizes 2 and 3 differ (shapes (2, 3, 4) and (3, 4, 5))")
    assert.has_error(function() lunet.matmul(lunet.ones(2, 2, 2, 2), lunet.ones(2, 2)) end,
                     "matmul: expected 1-d, 2-d or 3-d tensors, got shapes (2, 2, 2, 2) and (2, 2)")
  end)
end)

describe("cat, stack and index_select", function()
  it("cat joins along a dim", function()
    local a, b = lunet.tensor({{1, 2}}), lunet.tensor({{3, 4}, {5, 6}})
    assert.are.same({{1, 2}, {3, 4}, {5, 6}}, lunet.cat({a, b}):totable())
    assert.are.same({{1, 2, 9}}, lunet.cat({a, lunet.tensor({{9}})}, 2):totable())
    assert.are.same({{1, 2, 1, 2}}, lunet.cat({a, a}, -1):totable())
    assert.are.same({{1, 3}, {2, 4}}, lunet.cat({lunet.tensor({{1}, {2}}), a:t() + 2}, 2):totable())
  end)

  it("stack adds a dim", function()
    local a, b = lunet.tensor({1, 2}), lunet.tensor({3, 4})
    assert.are.same({{1, 2}, {3, 4}}, lunet.stack({a, b}):totable())
    assert.are.same({{1, 3}, {2, 4}}, lunet.stack({a, b}, 2):totable())
    assert.are.same({2, 2}, lunet.stack({a, b}, -1):shape())
  end)

  it("index_select gathers with a Lua array or an int32 tensor", function()
    local x = lunet.tensor({{1, 2, 3}, {4, 5, 6}, {7, 8, 9}})
    assert.are.same({{7, 8, 9}, {1, 2, 3}, {7, 8, 9}}, x:index_select(1, {3, 1, 3}):totable())
    assert.are.same({{3, 1}, {6, 4}, {9, 7}},
                    x:index_select(2, lunet.tensor({3, 1}, "int32")):totable())
    assert.are.same({0, 3}, x:index_select(1, {}):shape())
    local y = x:index_select(1, {1})
    y:fill(0)
    assert.are.equal(1, x:get(1, 1)) -- a copy
  end)

  it("index_select along dim 1 copies whole samples, from contiguous and strided tensors alike", function()
    local x = lunet.arange(0, 24):reshape(4, 3, 2)
    local t = lunet.arange(0, 24):reshape(2, 3, 4):transpose(1, 3) -- (4, 3, 2), not contiguous
    for _, src in ipairs({ x, t }) do
      local got = src:index_select(1, { 4, -4, 2 }):totable()
      local all = src:totable()
      assert.are.same({ all[4], all[1], all[2] }, got)
    end
  end)

  it("index_select of a large batch of rows (split over the threads) is the rows themselves", function()
    S.seed(35)
    local x = lunet.randn(600, 784) -- 3 KB rows: a gather of 300 is past the split's 128 KB
    local idx = lunet.randperm(600):narrow(1, 1, 300)
    local threads = lunet.get_num_threads()
    local ok, err = pcall(function()
      local one
      for t = 1, math.min(2, lunet.config().cpus) do
        lunet.set_num_threads(t)
        local got = x:index_select(1, idx)
        -- every row, each to the bit: row i is x's row idx[i]
        for i = 1, 300 do
          assert.is_true(lunet.equal(got:narrow(1, i, 1), x:narrow(1, idx[i], 1)), "row " .. i .. ", threads " .. t)
        end
        if one then assert.is_true(lunet.equal(one, got)) end
        one = got
      end
    end)
    lunet.set_num_threads(threads)
    assert(ok, err)
  end)

  it("shuffles rows with randperm", function()
    S.seed(31)
    local x = lunet.arange(10):reshape(10, 1)
    local p = lunet.randperm(10)
    local s = x:index_select(1, p)
    local seen = {}
    for i = 1, 10 do
      assert.are.equal(p[i] - 1, s:get(i, 1))
      seen[s:get(i, 1)] = true
    end
    for v = 0, 9 do assert.is_true(seen[v]) end
  end)

  it("report bad input", function()
    assert.has_error(function() lunet.cat({lunet.ones(2, 2), lunet.ones(3, 3)}) end,
                     "cat: shapes (2, 2) and (3, 3) differ outside dim 1")
    assert.has_error(function() lunet.cat({lunet.ones(2), lunet.ones(2, "float64")}) end,
                     "cat: dtypes float32 and float64 differ")
    assert.has_error(function() lunet.cat({}) end, "cat: expected a non-empty list of tensors")
    assert.has_error(function() lunet.cat({lunet.ones(2), 3}) end,
                     "cat: element 2 of the list is number, expected a tensor")
    assert.has_error(function() lunet.stack({lunet.ones(2), lunet.ones(3)}) end,
                     "stack: shapes (2,) and (3,) differ")
    assert.has_error(function() lunet.ones(3, 2):index_select(1, {1, 4}) end,
                     "index_select: index 4 out of range for dim 1 of size 3")
    assert.has_error(function() lunet.ones(3, 2):index_select(1, {1.5}) end,
                     "index_select: index must be an integer, got 1.5")
  end)
end)
