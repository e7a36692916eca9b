-- The common mistakes and their exact messages.  Every bad call raises a
-- Lua error naming the function; none crashes the interpreter.
local lunet = require("lunet")

describe("lunet tensors: bad input", function()
  local t = lunet.tensor({{1, 2, 3}, {4, 5, 6}})

  it("wrong types", function()
    assert.has_error(function() return t + "a" end,
                     "add: expected a tensor or number for argument 2, got string")
    assert.has_error(function() return {} * t end,
                     "mul: expected a tensor or number for argument 1, got table")
    assert.has_error(function() lunet.Tensor.sum(42) end,
                     "sum: expected a tensor for argument 1, got number")
    assert.has_error(function() lunet.tensor("abc") end,
                     "tensor: expected a number or a nested table, got string")
    assert.has_error(function() lunet.tensor({1, true}) end,
                     "tensor: data[2] is a boolean, expected a number")
    assert.has_error(function() t:fill("x") end, "fill: value must be a number, got string")
    assert.has_error(function() lunet.zeros("2") end,
                     "zeros: expected a shape (table or integers), got string")
  end)

  it("wrong dtypes", function()
    assert.has_error(function() lunet.zeros(2, "float16") end,
                     "zeros: unknown dtype 'float16' (expected float32, float64, int32, int64 or uint8)")
    assert.has_error(function() return lunet.ones(2, "int32"):div_(2) end,
                     "div_: the result is float64, which the int32 tensor cannot hold in place")
    assert.has_error(function() return lunet.ones(2, "uint8") * 256 end,
                     "mul: value 256 does not fit in uint8")
    assert.has_error(function() lunet.tensor({1.5}, "int32") end,
                     "tensor: value 1.5 does not fit in int32")
    assert.has_error(function() lunet.zeros(2, "uint8"):fill(-1) end,
                     "fill: value -1 does not fit in uint8")
  end)

  it("shape mismatches name both shapes", function()
    assert.has_error(function() return t + lunet.ones(3, 2) end,
                     "add: shapes (2, 3) and (3, 2) cannot be broadcast")
    assert.has_error(function() t:copy(lunet.ones(4)) end,
                     "copy: cannot broadcast shape (4,) into (2, 3)")
    assert.has_error(function() lunet.where(lunet.ones(2):gt(0), lunet.ones(3), 0) end,
                     "where: shapes (2,) and (3,) cannot be broadcast")
  end)

  it("out-of-range and non-integer indices", function()
    assert.has_error(function() t:get(3, 1) end, "get: index 3 out of range for dim 1 of size 2")
    assert.has_error(function() t:get(1, 0) end, "get: index 0 out of range for dim 2 of size 3")
    assert.has_error(function() t:get(1, 1.5) end, "get: index must be an integer, got 1.5")
    assert.has_error(function() t:get(1) end, "get: expected 2 indices for a 2-d tensor, got 1")
    assert.has_error(function() return t[3] end, "index: index 3 out of range for dim 1 of size 2")
    assert.has_error(function() return t[1.5] end, "index: index must be an integer, got 1.5")
    assert.has_error(function() t:select(3, 1) end, "select: dim 3 out of range for a 2-d tensor")
    assert.has_error(function() t:select(0, 1) end, "select: dim 0 out of range for a 2-d tensor")
    assert.has_error(function() t:narrow(2, 2, 3) end,
                     "narrow: start 2 and length 3 out of range for dim 2 of size 3")
    assert.has_error(function() t:sum(2.5) end, "sum: dim must be an integer, got 2.5")
    assert.has_error(function() t:transpose(1, 3) end, "transpose: dim 3 out of range for a 2-d tensor")
    assert.has_error(function() t.foo = 1 end, "newindex: cannot set field 'foo' of a tensor")
  end)

  it("negative sizes and overflowing shapes", function()
    assert.has_error(function() lunet.zeros(-1, 2) end, "zeros: negative dimension -1 in shape (-1, 2)")
    assert.has_error(function() lunet.ones({3, -2}) end, "ones: negative dimension -2 in shape (3, -2)")
    assert.has_error(function() lunet.zeros(2 ^ 31, 2 ^ 31, 2 ^ 31) end,
                     "zeros: shape (2147483648, 2147483648, 2147483648) is too large")
    assert.has_error(function() lunet.empty(2 ^ 62, 4) end,
                     "empty: shape (4611686018427387904, 4) is too large")
    assert.has_error(function() lunet.zeros(2.5) end, "zeros: shape entries must be integers, got 2.5")
    assert.has_error(function() lunet.zeros(1, 1, 1, 1, 1, 1, 1, 1, 1) end, "zeros: at most 8 dims")
    assert.has_error(function() lunet.linspace(0, 1, -1) end, "linspace: n must be non-negative, got -1")
  end)

  it("ragged nested tables", function()
    assert.has_error(function() lunet.tensor({{1, 2}, {3}}) end,
                     "tensor: ragged nested table: data[2] has length 1, expected 2")
    assert.has_error(function() lunet.tensor({{1, 2}, 3}) end,
                     "tensor: ragged nested table: data[2] is a number, expected a table of length 2")
    assert.has_error(function() lunet.tensor({1, {2}}) end,
                     "tensor: data[2] is a table (ragged nested table), expected a number")
    assert.has_error(function() lunet.tensor({{{1}, {2}}, {{3}, {4, 5}}}) end,
                     "tensor: ragged nested table: data[2][2] has length 2, expected 1")
  end)

  it("reshape to a different element count", function()
    assert.has_error(function() t:reshape(4, 2) end,
                     "reshape: cannot reshape tensor of shape (2, 3) (6 elements) into shape (4, 2)")
    assert.has_error(function() t:reshape(-1, 4) end,
                     "reshape: cannot reshape tensor of shape (2, 3) (6 elements) into shape (-1, 4)")
    assert.has_error(function() t:reshape(-1, -1) end, "reshape: only one dim may be -1")
    assert.has_error(function() t:view(7) end,
                     "view: cannot reshape tensor of shape (2, 3) (6 elements) into shape (7,)")
  end)

  it("other misuse", function()
    assert.has_error(function() t:item() end, "item: tensor has 6 elements, expected 1")
    assert.has_error(function() return #lunet.tensor(1) end, "len: a 0-d tensor has no length")
    assert.has_error(function() lunet.arange(0, 1, 0) end, "arange: step must be nonzero")
    assert.has_error(function() t:t():t():permute(1, 1) end,
                     "permute: dims must be a permutation of 1..2")
    assert.has_error(function() t:clamp(2, 1) end, "clamp: lo must not exceed hi")
    assert.has_error(function() lunet.set_num_threads(0) end,
                     "set_num_threads: n must be in [1, " .. lunet.config().cpus ..
                     "] (the online CPUs), got 0")
  end)

  it("a failed call leaves its arguments untouched", function()
    local a = lunet.tensor({1, 2, 3})
    pcall(function() a:add_(lunet.ones(2)) end)
    pcall(function() a:copy(lunet.tensor({1, 2, 300}):byte()) end)
    pcall(function() lunet.zeros(3, "int32"):copy(lunet.tensor({1, 0 / 0, 2})) end)
    local i = lunet.tensor({7, 8, 9}, "int32")
    pcall(function() i:copy(lunet.tensor({1, 2, 1e10}, "float64")) end)
    assert.are.same({1, 2, 3}, a:totable())
    assert.are.same({7, 8, 9}, i:totable())
  end)
end)
