-- Reliability of the C core: integer arguments at the ends of their range,
-- empty matmul operands, gzip files with trailing bytes, thread counts and
-- exiting under an address-space limit.
local lunet = require("lunet")
local S = require("support")

local core = lunet.core
local D = lunet.data
local MAX, MIN = math.maxinteger, math.mininteger

local dir
local function path(name) return dir .. "/" .. name end

local function write(name, bytes) return S.write_file(path(name), bytes) end

local function gzip_bytes(bytes)
  local p = write("gz_in.raw", bytes)
  S.run("gzip -c " .. p .. " > " .. p .. ".gz")
  return S.read_file(p .. ".gz")
end

-- IDX file bytes for a uint8 vector
local function idx_u8(values)
  return string.pack(">BBBBI4", 0, 0, 8, 1, #values) .. string.char(table.unpack(values))
end

setup(function()
  dir = S.tmpdir()
end)

teardown(function()
  S.remove_tmpdir(dir)
end)

describe("reliability of the C core", function()
  describe("huge integer arguments", function()
    local z = lunet.zeros(4)

    it("narrow refuses a length whose end overflows (it used to segfault)", function()
      assert.has_error(function() return z:narrow(1, 2, MAX):sum() end,
                       "narrow: start 2 and length 9223372036854775807 out of range for dim 1 of size 4")
      assert.has_error(function() return z:narrow(1, MIN, 1) end,
                       "narrow: start -9223372036854775808 and length 1 out of range for dim 1 of size 4")
      assert.has_error(function() return z:narrow(1, MAX, 0) end,
                       "narrow: start 9223372036854775807 and length 0 out of range for dim 1 of size 4")
      assert.has_error(function() return z:narrow(1, 1, MIN) end,
                       "narrow: length must be non-negative, got -9223372036854775808")
      -- the largest valid length still works
      assert.are.same({ 0, 0, 0 }, z:narrow(1, 2, 3):totable())
      assert.are.same({ 0 }, z:narrow(1, 5, 0):shape())
    end)

    it("select, get, set and t[i] refuse the extreme indices", function()
      assert.has_error(function() return z:select(1, MAX) end,
                       "select: index 9223372036854775807 out of range for dim 1 of size 4")
      assert.has_error(function() return z:get(MIN) end,
                       "get: index -9223372036854775808 out of range for dim 1 of size 4")
      assert.has_error(function() z:set(MAX, 1) end,
                       "set: index 9223372036854775807 out of range for dim 1 of size 4")
      assert.has_error(function() return z[MIN] end,
                       "index: index -9223372036854775808 out of range for dim 1 of size 4")
      assert.has_error(function() z[MAX] = 1 end,
                       "newindex: index 9223372036854775807 out of range for dim 1 of size 4")
    end)

    it("refuses floats that are no integers instead of converting them", function()
      assert.has_error(function() return z:get(1e300) end, "get: index must be an integer, got 1e+300")
      assert.has_error(function() return z:get(0 / 0) end, "get: index must be an integer, got nan")
      assert.has_error(function() return z:select(1, math.huge) end,
                       "select: index must be an integer, got inf")
      assert.has_error(function() return lunet.zeros(1e300) end,
                       "zeros: shape entries must be integers, got 1e+300")
      assert.has_error(function() return lunet.linspace(0, 1, 2 ^ 63) end,
                       "linspace: n must be an integer, got 9.2233720368548e+18")
      assert.has_error(function() return lunet.randperm(-2 ^ 63 * 2) end,
                       "randperm: n must be an integer, got -1.844674407371e+19")
    end)

    it("bounds arange and linspace counts", function()
      assert.has_error(function() return lunet.arange(MAX) end, "arange: too many elements")
      assert.has_error(function() return lunet.arange(MIN, MAX) end, "arange: too many elements")
      assert.has_error(function() return lunet.arange(-1e308, 1e308) end, "arange: too many elements")
      assert.has_error(function() return lunet.arange(0, 1, 1e-300) end, "arange: too many elements")
      assert.are.same({ 0 }, lunet.arange(0, 1, MIN):shape())
      assert.has_error(function() return lunet.linspace(0, 1, MAX) end,
                       "linspace: shape (9223372036854775807,) is too large")
    end)

    it("refuses shapes whose product overflows, empty ones included", function()
      assert.has_error(function() return lunet.zeros(MAX, MAX) end,
                       "zeros: shape (9223372036854775807, 9223372036854775807) is too large")
      assert.has_error(function() return lunet.zeros(MIN) end,
                       "zeros: negative dimension -9223372036854775808 in shape (-9223372036854775808,)")
      -- 2^62 * 2^62 overflows int64 before the 0 is reached
      assert.has_error(function() return lunet.zeros(1 << 62, 1 << 62, 0) end,
                       "zeros: shape (4611686018427387904, 4611686018427387904, 0) is too large")
      assert.has_error(function() return lunet.eye(MAX) end,
                       "eye: shape (9223372036854775807, 9223372036854775807) is too large")
      assert.has_error(function() return lunet.rand(MAX) end,
                       "rand: shape (9223372036854775807,) is too large")
      -- a large empty shape within the bounds is fine
      local e = lunet.zeros(1 << 30, 0)
      assert.are.same({ 1 << 30, 0 }, e:shape())
      assert.are.same({ 1, 0 }, e:narrow(1, (1 << 30), 1):shape())
    end)

    it("reshape and view refuse overflowing targets", function()
      local e = lunet.zeros(0)
      assert.has_error(function() return e:reshape(1 << 62, 1 << 62, 0) end,
                       "reshape: shape (4611686018427387904, 4611686018427387904, 0) is too large")
      assert.has_error(function() return e:reshape(MAX, -1) end,
                       "reshape: shape (9223372036854775807, 0) is too large")
      assert.has_error(function() return z:view(MAX, MAX) end,
                       "view: cannot reshape tensor of shape (4,) (4 elements) into shape " ..
                       "(9223372036854775807, 9223372036854775807)")
      assert.has_error(function() return z:reshape(1 << 32, 1 << 32, -1) end,
                       "reshape: cannot reshape tensor of shape (4,) (4 elements) into shape " ..
                       "(4294967296, 4294967296, -1)")
    end)

    it("cat refuses sizes that add up past int64", function()
      -- 2^21 empty uint8 tensors with 2^42 rows each: the rows sum to 2^63
      local e = lunet.zeros({ 1 << 42, 0 }, "uint8")
      local list = {}
      for i = 1, 1 << 21 do list[i] = e end
      assert.has_error(function() return lunet.cat(list) end,
                       "cat: the sizes along dim 1 add up to more than 9223372036854775807")
      assert.has_error(function() return lunet.cat({ e, e }) end,
                       "cat: shape (8796093022208, 0) is too large")
    end)

    it("index_select and stack refuse the extreme positions", function()
      assert.has_error(function() return z:index_select(1, { MAX }) end,
                       "index_select: index 9223372036854775807 out of range for dim 1 of size 4")
      assert.has_error(function() return z:index_select(1, { MIN }) end,
                       "index_select: index -9223372036854775808 out of range for dim 1 of size 4")
      assert.has_error(function() return lunet.stack({ z, z }, MAX) end,
                       "stack: dim 9223372036854775807 out of range for a 2-d tensor")
      -- positions beyond int32 are kept exactly
      assert.are.same({ 1, 0 }, lunet.zeros(1 << 33, 0):index_select(1, { 1 << 33 }):shape())
    end)

    it("frombytes checks offset + size against the string without overflow", function()
      local s = core.tobytes(lunet.tensor({ 1, 2 }))
      assert.has_error(function() return core.frombytes(s, MAX, "float32", { 1 }) end,
                       "frombytes: 4 bytes at offset 9223372036854775807 exceed the 8 available")
      assert.has_error(function() return core.frombytes(s, MIN, "float32", { 1 }) end,
                       "frombytes: 4 bytes at offset -9223372036854775808 exceed the 8 available")
      assert.has_error(function() return core.frombytes(s, 5, "float32", { 1 }) end,
                       "frombytes: 4 bytes at offset 5 exceed the 8 available")
      assert.has_error(function() return core.frombytes(s, 0, "float32", { MAX }) end,
                       "frombytes: shape (9223372036854775807,) is too large")
      assert.has_error(function() return core.frombytes(s, 0, "float32", { MAX, 0 }) end,
                       "frombytes: shape (9223372036854775807, 0) is too large")
      assert.are.same({ 2 }, core.frombytes(s, 4, "float32", { 1 }):totable())
      assert.are.equal("", core.tobytes(lunet.zeros(1 << 30, 0)))
    end)

    it("randperm, write_idx and set_num_threads report the value they got", function()
      assert.has_error(function() return lunet.randperm(MAX) end,
                       "randperm: n out of range: 9223372036854775807")
      assert.has_error(function() return lunet.randperm(MIN) end,
                       "randperm: n out of range: -9223372036854775808")
      local p = path("level.idx.gz")
      -- the level used to be cast to int first and reported as -1
      assert.has_error(function() core.write_idx(p, z, nil, MAX) end,
                       "write_idx: gzip level must be 0 to 9, got 9223372036854775807")
      assert.has_error(function() lunet.set_num_threads(MIN) end,
                       "set_num_threads: n must be in [1, " .. lunet.config().cpus ..
                       "] (the online CPUs), got -9223372036854775808")
    end)
  end)

  describe("matmul with empty operands", function()
    it("keeps a batch of 0 (numpy's broadcast: 1 with n gives n, n = 0 included)", function()
      local cases = {
        { { 0, 3, 4 }, { 4, 5 } },
        { { 3, 4 }, { 0, 4, 5 } },
        { { 1, 3, 4 }, { 0, 4, 5 } },
        { { 0, 3, 4 }, { 1, 4, 5 } },
        { { 0, 3, 4 }, { 0, 4, 5 } },
      }
      for _, c in ipairs(cases) do
        local r = lunet.zeros(c[1]):matmul(lunet.zeros(c[2]))
        assert.are.same({ 0, 3, 5 }, r:shape())
      end
      assert.are.same({ 0, 3 }, lunet.zeros(0, 3, 4):matmul(lunet.zeros(4)):shape())
      assert.are.same({ 0, 5 }, lunet.zeros(4):matmul(lunet.zeros(0, 4, 5)):shape())
      assert.has_error(function() return lunet.zeros(2, 3, 4):matmul(lunet.zeros(0, 4, 5)) end,
                       "matmul: batch sizes 2 and 0 differ (shapes (2, 3, 4) and (0, 4, 5))")
    end)

    it("gives empty results for m = 0 or n = 0 and zeros for k = 0", function()
      assert.are.same({ 0, 5 }, lunet.ones(0, 4):matmul(lunet.ones(4, 5)):shape())
      assert.are.same({ 3, 0 }, lunet.ones(3, 4):matmul(lunet.ones(4, 0)):shape())
      assert.are.same({ 2, 0, 5 }, lunet.ones(2, 0, 4):matmul(lunet.ones(4, 5)):shape())
      for _, dt in ipairs({ "float32", "float64" }) do
        -- the output is fresh (uninitialized) memory: k = 0 must write zeros
        do
          local r = lunet.ones({ 3, 0 }, dt):matmul(lunet.ones({ 0, 5 }, dt))
          assert.are.same({ 3, 5 }, r:shape())
          assert.are.equal(0, r:abs():sum():item())
          local rb = lunet.ones({ 2, 3, 0 }, dt):matmul(lunet.ones({ 2, 0, 5 }, dt))
          assert.are.same({ 2, 3, 5 }, rb:shape())
          assert.are.equal(0, rb:abs():sum():item())
          local rv = lunet.ones({ 0 }, dt):matmul(lunet.ones({ 0 }, dt))
          assert.are.equal(0, rv:item())
        end
      end
      -- an empty product may have dims beyond BLAS's int
      assert.are.same({ 0, 0 }, lunet.zeros(0, 1 << 33):matmul(lunet.zeros(1 << 33, 0)):shape())
    end)

    it("backward through empty matmuls gives correctly shaped gradients", function()
      local cases = {
        { { 0, 3, 4 }, { 4, 5 } },
        { { 1, 3, 4 }, { 0, 4, 5 } },
        { { 3, 0 }, { 0, 5 } },
        { { 0, 4 }, { 4, 5 } },
      }
      for _, c in ipairs(cases) do
        local a = lunet.ones(c[1], "float64"):requires_grad()
        local b = lunet.ones(c[2], "float64"):requires_grad()
        a:matmul(b):sum():backward()
        assert.are.same(c[1], a:grad():shape())
        assert.are.same(c[2], b:grad():shape())
        assert.are.equal(0, a:grad():abs():sum():item())
        assert.are.equal(0, b:grad():abs():sum():item())
      end
    end)
  end)

  describe("gzip input", function()
    local data = idx_u8({ 3, 1, 4, 1, 5, 9, 2, 6 })

    it("refuses trailing garbage after the last gzip member", function()
      local gz = gzip_bytes(data)
      assert.are.same({ 3, 1, 4, 1, 5, 9, 2, 6 }, D.read_idx(write("ok.idx.gz", gz)):totable())
      for _, tail in ipairs({ "garbage", "\0", "\31", "\0\0\0\0\0\0\0\0" }) do
        local p = write("tail.idx.gz", gz .. tail)
        S.fails("trailing garbage after gzip data", D.read_idx, p)
      end
      local c = gzip_bytes("1,2\n3,4\n")
      S.fails("trailing garbage after gzip data", D.read_csv, write("tail.csv.gz", c .. "xyz"))
    end)

    it("reads concatenated gzip members as one stream (cat a.gz b.gz)", function()
      -- split inside the header and inside the data
      for _, at in ipairs({ 3, 10, #data - 1 }) do
        local two = gzip_bytes(data:sub(1, at)) .. gzip_bytes(data:sub(at + 1))
        local t = D.read_idx(write("two.idx.gz", two))
        assert.are.same({ 3, 1, 4, 1, 5, 9, 2, 6 }, t:totable())
      end
      -- an empty member in between is fine too
      local three = gzip_bytes(data:sub(1, 9)) .. gzip_bytes("") .. gzip_bytes(data:sub(10))
      assert.are.same({ 3, 1, 4, 1, 5, 9, 2, 6 }, D.read_idx(write("three.idx.gz", three)):totable())
      local csv = gzip_bytes("1,2\n3,") .. gzip_bytes("4\n")
      assert.are.same({ { 1, 2 }, { 3, 4 } }, D.read_csv(write("two.csv.gz", csv)):totable())
      -- data in a second member beyond what the header declares is still an error
      S.fails("trailing data", D.read_idx, write("more.idx.gz", gzip_bytes(data) .. gzip_bytes("x")))
    end)
  end)

  describe("threads", function()
    local cpus = lunet.config().cpus

    it("set_num_threads refuses more threads than online CPUs", function()
      local out = S.run("getconf _NPROCESSORS_ONLN")
      assert.are.equal(tonumber(out), cpus)
      local n = lunet.get_num_threads()
      assert.has_error(function() lunet.set_num_threads(64 * cpus) end,
                       "set_num_threads: n must be in [1, " .. cpus .. "] (the online CPUs), got " ..
                       64 * cpus)
      assert.are.equal(n, lunet.get_num_threads())
      lunet.set_num_threads(cpus)
      assert.are.equal(cpus, lunet.get_num_threads())
      lunet.set_num_threads(n)
    end)

    it("exits at once under a 100 MB address-space limit", function()
      local out, code = S.run("ulimit -v 102400; timeout 10 " .. S.lunet_bin ..
                              [[ -e "print(lunet.zeros(4):sum()); print(lunet.get_num_threads())"]])
      assert.are.equal(0, code)
      assert.are.equal("tensor(0., shape=(), dtype=float32)\n1\n", out)
      if cpus > 1 then
        out, code = S.run("ulimit -v 102400; timeout 10 " .. S.lunet_bin ..
                          [[ -e "print(pcall(lunet.set_num_threads, 2))"]])
        assert.are.equal(0, code)
        assert.is_truthy(out:find("false\tset_num_threads: the address-space limit (ulimit -v, 100 MiB) " ..
                                  "leaves room for 1 thread", 1, true), out)
      end
    end)

    it("runs a matmul with the usual threads under a 1 GB limit", function()
      local free = tonumber((S.run(S.lunet_bin .. [[ -e "print(lunet.get_num_threads())"]])))
      local out, code = S.run("ulimit -v 1048576; timeout 20 " .. S.lunet_bin ..
                              [[ -e "print(lunet.ones(30, 40):matmul(lunet.ones(40, 50)):sum():item(), ]] ..
                              [[lunet.get_num_threads())"]])
      assert.are.equal(0, code)
      -- 1 GB holds 7 OpenBLAS threads (128 MiB buffer + 8 MiB stack each)
      assert.are.equal("60000.0\t" .. math.min(free, 7) .. "\n", out)
    end)
  end)
end)
