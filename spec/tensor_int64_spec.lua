-- The int64 dtype: labels from numpy and safetensors files.  Lua integers
-- are 64-bit, so every int64 value goes in and comes out exactly, beyond
-- 2^53 too (where a double would round it).
local lunet = require("lunet")
local ST = require("lunet.safetensors")

local BIG = (1 << 62) + 1 -- 4611686018427387905: a double rounds it to 2^62

describe("lunet tensors: int64", function()
  describe("creation and element access", function()
    it("np.array([2**62 + 1, -(2**62 + 1), 3], np.int64) round-trips exactly", function()
      local t = lunet.tensor({ BIG, -BIG, 3 }, "int64")
      assert.are.equal("int64", t:dtype())
      assert.are.equal(BIG, t[1])
      assert.are.equal("integer", math.type(t[1]))
      assert.are.equal(-BIG, t:get(2))
      assert.are.same({ BIG, -BIG, 3 }, t:totable())
      assert.are.equal(BIG, t:narrow(1, 1, 1):item())
      assert.are_not.equal(BIG, BIG + 0.0) -- the test means something: a double loses it
    end)

    it("set, fill, t[i] = v and full store integers exactly", function()
      local t = lunet.zeros(3, "int64")
      t:set(1, BIG)
      t[2] = BIG + 1
      assert.are.same({ BIG, BIG + 1, 0 }, t:totable())
      t:fill(math.maxinteger)
      assert.are.same({ math.maxinteger, math.maxinteger, math.maxinteger }, t:totable())
      assert.are.same({ math.mininteger, math.mininteger }, lunet.full({ 2 }, math.mininteger, "int64"):totable())
      local m = lunet.zeros(2, 2, "int64")
      m[1] = BIG
      assert.are.same({ { BIG, BIG }, { 0, 0 } }, m:totable())
    end)

    it("zeros, ones, empty and eye take int64", function()
      assert.are.same({ 0, 0 }, lunet.zeros(2, "int64"):totable())
      assert.are.same({ 1, 1 }, lunet.ones({ 2 }, "int64"):totable())
      assert.are.equal("int64", lunet.empty(2, "int64"):dtype())
      assert.are.same({ { 1, 0 }, { 0, 1 } }, lunet.eye(2, "int64"):totable())
    end)

    it("np.arange(2**62, 2**62 + 3, dtype=np.int64) counts in integers", function()
      assert.are.same({ 1 << 62, BIG, BIG + 1 }, lunet.arange(1 << 62, (1 << 62) + 3, "int64"):totable())
      assert.are.same({ 0, 3, 6, 9 }, lunet.arange(0, 10, 3, "int64"):totable())
      assert.are.same({ 10, 7, 4, 1 }, lunet.arange(10, 0, -3, "int64"):totable())
      assert.are.same({ 0 }, lunet.arange(3, 1, "int64"):shape())
      assert.are.same({ 0, 1, 2 }, lunet.arange(0, 2.5, "int64"):totable())
      assert.are.same({ math.maxinteger - 1 }, lunet.arange(math.maxinteger - 1, math.maxinteger, "int64"):totable())
      -- a span of 2^64 - 1 does not overflow the count
      assert.are.same({ math.mininteger, -(1 << 62), 0, 1 << 62 },
        lunet.arange(math.mininteger, math.maxinteger, 1 << 62, "int64"):totable())
      assert.has_error(function() lunet.arange(0, 300, "uint8") end, "arange: value 299 does not fit in uint8")
      assert.has_error(function() lunet.arange(0, 5, 0, "int64") end, "arange: step must be nonzero")
    end)

    it("refuses values that do not fit, naming them", function()
      assert.has_error(function() lunet.tensor({ 2 ^ 63 }, "int64") end,
        "tensor: value 9.2233720368548e+18 does not fit in int64")
      assert.has_error(function() lunet.tensor({ 1.5 }, "int64") end, "tensor: value 1.5 does not fit in int64")
      assert.has_error(function() lunet.tensor({ 0 / 0 }, "int64") end, "tensor: value nan does not fit in int64")
      assert.has_error(function() lunet.tensor({ 1 << 31 }, "int32") end,
        "tensor: value 2147483648 does not fit in int32")
      assert.has_error(function() lunet.zeros(1, "uint8"):fill(256) end, "fill: value 256 does not fit in uint8")
      assert.are.same({ -(2 ^ 63) }, lunet.tensor({ -(2 ^ 63) }, "int64"):double():totable())
    end)

    it("prints every digit", function()
      assert.are.equal("tensor([4611686018427387905,                  -7], shape=(2,), dtype=int64)",
        tostring(lunet.tensor({ BIG, -7 }, "int64")))
      assert.are.equal("tensor(3, shape=(), dtype=int64)", tostring(lunet.tensor(3, "int64")))
    end)
  end)

  describe("conversion", function()
    it("t:long() and astype('int64'); float -> int64 truncates toward zero (np.int64(-2.7) == -2)", function()
      local t = lunet.tensor({ -2.7, -0.5, 0.5, 2.9 })
      assert.are.same({ -2, 0, 0, 2 }, t:long():totable())
      assert.are.equal("int64", t:astype("int64"):dtype())
      local i = lunet.tensor({ 5 }, "int64")
      assert.are.equal(i, i:long())
      assert.are.same({ 1, 255 }, lunet.tensor({ 1, 255 }, "uint8"):long():totable())
      assert.are.same({ -7 }, lunet.tensor({ -7 }, "int32"):long():totable())
      assert.are.same({ -7 }, lunet.tensor({ -7 }, "int64"):int():totable())
    end)

    it("np.float64(np.int64(2**53 + 1)) == 2**53 (rounds to nearest)", function()
      assert.are.equal(2 ^ 53, lunet.tensor({ (1 << 53) + 1 }, "int64"):double()[1])
      assert.are.equal(2 ^ 62, lunet.tensor({ BIG }, "int64"):float()[1])
    end)

    it("refuses values outside the target range, and NaN", function()
      assert.has_error(function() lunet.tensor({ 2 ^ 63 }, "float64"):long() end,
        "long: value 9.2233720368548e+18 does not fit in int64")
      assert.has_error(function() lunet.tensor({ 0 / 0 }):long() end, "long: value nan does not fit in int64")
      assert.has_error(function() lunet.tensor({ 1 << 31 }, "int64"):int() end,
        "int: value 2147483648 does not fit in int32")
      assert.has_error(function() lunet.tensor({ -1 }, "int64"):byte() end, "byte: value -1 does not fit in uint8")
    end)
  end)

  describe("comparisons", function()
    it("compare integers exactly: np.array([2**62+1]) == 2**62 is False", function()
      local t = lunet.tensor({ BIG, 1 << 62 }, "int64")
      assert.are.same({ 0, 1 }, t:eq(1 << 62):totable())
      assert.are.same({ 1, 0 }, t:gt(1 << 62):totable())
      assert.are.same({ 1, 0 }, t:eq(lunet.tensor({ BIG, BIG }, "int64")):totable())
    end)

    it("compare across integer dtypes by value (int64 labels against int32 predictions)", function()
      local labels = lunet.tensor({ 0, 3, 7, -1 }, "int64")
      local pred = lunet.tensor({ 0, 3, 6, -1 }, "int32")
      assert.are.same({ 1, 1, 0, 1 }, labels:eq(pred):totable())
      assert.are.same({ 1, 1, 0, 0 }, labels:eq(lunet.tensor({ 0, 3, 6, 255 }, "uint8")):totable())
      assert.are.same({ 0, 0, 1, 0 }, labels:gt(lunet.tensor({ 0.5, 3.5, 6.5, 0 })):totable())
      assert.are.equal(3, labels:eq(pred):sum():item())
    end)
  end)

  describe("reductions", function()
    local t = lunet.tensor({ { BIG, -BIG, 3 }, { 1, 2, -5 } }, "int64")

    it("np.sum of int64 is int64 and exact; np.sum(np.uint8([200, 100])) does not wrap at 256", function()
      assert.are.equal("int64", t:sum():dtype())
      assert.are.equal(1, t:sum():item())
      assert.are.same({ BIG + 1, -BIG + 2, -2 }, t:sum(1):totable())
      assert.are.same({ 3, -2 }, t:sum(2):totable())
      assert.are.same({ { 3 }, { -2 } }, t:t():sum(1, true):t():totable())
      assert.are.equal(300, lunet.tensor({ 200, 100 }, "uint8"):sum():item())
      assert.are.equal("int64", lunet.tensor({ 1, 2 }, "int32"):sum(1):dtype())
      assert.are.equal(math.mininteger, lunet.tensor({ math.maxinteger, 1 }, "int64"):sum():item()) -- wraps
    end)

    it("max, min, argmax, argmin are exact", function()
      assert.are.equal(BIG, t:max():item())
      assert.are.equal(-BIG, t:min():item())
      assert.are.same({ BIG, 2, 3 }, t:max(1):totable())
      assert.are.same({ -BIG, -5 }, t:min(2):totable())
      assert.are.same({ 1, 2 }, t:argmax(2):totable())
      assert.are.same({ BIG - 1, BIG }, lunet.tensor({ BIG - 1, BIG }, "int64"):t():totable())
      assert.are.equal(2, lunet.tensor({ BIG - 1, BIG }, "int64"):argmax())
      assert.are.equal("int64", t:max():dtype())
    end)

    it("mean, var, std of int64 are float64", function()
      local u = lunet.tensor({ 1, 2, 3, 6 }, "int64")
      assert.are.equal("float64", u:mean():dtype())
      assert.are.equal(3, u:mean():item())
      assert.are.equal(3.5, u:var():item())
    end)
  end)

  describe("indexing and combining", function()
    it("index_select takes int64 indices (np.take with int64 labels)", function()
      local x = lunet.tensor({ { 1, 2 }, { 3, 4 }, { 5, 6 } })
      assert.are.same({ { 5, 6 }, { 1, 2 } }, x:index_select(1, lunet.tensor({ 3, 1 }, "int64")):totable())
      assert.are.same({ { 2 }, { 4 }, { 6 } }, x:index_select(2, lunet.tensor({ -1 }, "int64")):totable())
      assert.has_error(function() x:index_select(1, lunet.tensor({ 4 }, "int64")) end,
        "index_select: index 4 out of range for dim 1 of size 3")
      assert.has_error(function() x:index_select(1, lunet.tensor({ 1 })) end,
        "index_select: indices must be a 1-d integer tensor or a Lua array, got a 1-d float32 tensor")
    end)

    it("cat, stack, copy and views keep int64 exact", function()
      local a = lunet.tensor({ BIG }, "int64")
      assert.are.same({ BIG, BIG }, lunet.cat({ a, a }):totable())
      assert.are.same({ { BIG }, { BIG } }, lunet.stack({ a, a }):totable())
      local b = lunet.zeros(2, 2, "int64")
      b:select(2, 1):copy(lunet.tensor({ BIG, -BIG }, "int64"))
      assert.are.same({ { BIG, 0 }, { -BIG, 0 } }, b:totable())
      assert.are.same({ { BIG, -BIG }, { 0, 0 } }, b:t():contiguous():totable())
    end)
  end)

  describe("safetensors", function()
    it("saves and loads I64 tensors exactly", function()
      local path = os.tmpname()
      local t = lunet.tensor({ { BIG, -1 }, { 0, math.mininteger } }, "int64")
      local parts = ST.encode({ { name = "labels", tensor = t } })
      local f = assert(io.open(path, "wb"))
      for _, p in ipairs(parts) do f:write(p) end
      f:close()
      local st = ST.parse(path)
      assert.are.equal("int64", st.entries.labels.dtype)
      assert.is_truthy(table.concat(parts):find('"dtype":"I64"', 1, true))
      local back = ST.read(path).labels
      os.remove(path)
      assert.are.equal("int64", back:dtype())
      assert.are.same(t:totable(), back:totable())
    end)

    it("reads an I64 file written by another writer (little-endian bytes)", function()
      local path = os.tmpname()
      local header = '{"y":{"dtype":"I64","shape":[2],"data_offsets":[0,16]}}'
      local f = assert(io.open(path, "wb"))
      f:write(string.pack("<I8", #header), header, string.pack("<i8<i8", BIG, -3))
      f:close()
      local y = ST.read(path).y
      os.remove(path)
      assert.are.same({ BIG, -3 }, y:totable())
    end)
  end)
end)
