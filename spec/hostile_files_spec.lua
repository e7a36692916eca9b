-- Hostile files, made at test time: a FIFO, a link to /dev/zero, a
-- directory, safetensors files with overlapping offsets or huge shapes, and
-- model configs that ask for huge weights.  Every loader must answer each
-- with a clear error (or, for a well-formed file, the model) within a
-- second, and with peak RSS growing by less than 100 MB.
--
-- Each case runs in its own `build/lunet` process (under `timeout`, and a
-- 2 GB address-space limit so a regression cannot take the machine's
-- memory), which measures its time with core.clock and its growth of
-- VmHWM (a high-water mark, so relative to the value before the case).
local S = require("support")
local ST = require("lunet.safetensors")
local lunet = require("lunet")

local MAX_SECONDS, MAX_GROWTH_KB = 1.0, 100 * 1024

local CHILD = [=[
local lunet = require("lunet")
local core = require("lunet.core")
local function hwm()
  local f = assert(io.open("/proc/self/status"))
  local s = f:read("a")
  f:close()
  return tonumber(s:match("VmHWM:%s*(%d+)"))
end
local cases = {
  read_idx = function(p) return lunet.data.read_idx(p) end,
  read_csv = function(p) return lunet.data.read_csv(p) end,
  load_model = function(p) return lunet.nn.load_model(p) end,
  read_safetensors = function(p) return lunet.nn.read_safetensors(p) end,
  mnist = function(p) return lunet.datasets.mnist.load(p) end,
  uci = function(p) return lunet.datasets.uci.load("iris", p) end,
}
local fn, path = cases[arg[1]], arg[2]
collectgarbage()
local h0, t0 = hwm(), core.clock()
local ok, r = pcall(fn, path)
local dt = core.clock() - t0
local growth = hwm() - h0
if ok then r = "(no error)" end
io.write(string.format("%s\t%.3f\t%d\t%s", tostring(ok), dt, growth, (tostring(r):gsub("\n", " "))))
]=]

local dir, child

-- Run one case; returns ok (the call returned), its error message.
local function run(case, path)
  local out = S.run(string.format("ulimit -v 2000000; timeout 20 %s %s %s '%s'", S.lunet_bin, child, case, path))
  if os.getenv("LUNET_TEST_VERBOSE") then io.stderr:write(case, " ", out, "\n") end
  local ok, dt, growth, msg = out:match("^(%a+)\t([%d.]+)\t(%-?%d+)\t(.*)$")
  assert.is_truthy(ok, string.format("%s(%s) gave no answer within 20 s (or crashed): %q", case, path, out))
  dt, growth = tonumber(dt), tonumber(growth)
  assert.is_true(dt < MAX_SECONDS, string.format("%s(%s) took %.2f s: %s", case, path, dt, msg))
  assert.is_true(growth < MAX_GROWTH_KB,
    string.format("%s(%s) grew peak RSS by %d MB: %s", case, path, growth // 1024, msg))
  return ok == "true", msg
end

-- The case must fail with a message holding each of the plain strings given.
local function refuses(case, path, ...)
  local ok, msg = run(case, path)
  assert.is_false(ok, string.format("%s(%s) should fail", case, path))
  for _, want in ipairs({ ... }) do
    assert.is_truthy(msg:find(want, 1, true), string.format("%s(%s): expected '%s' in: %s", case, path, want, msg))
  end
  return msg
end

local function write(path, ...)
  local f = assert(io.open(path, "wb"))
  for _, part in ipairs({ ... }) do
    if type(part) == "table" then
      for _, p in ipairs(part) do assert(f:write(p)) end
    else
      assert(f:write(part))
    end
  end
  assert(f:close())
  return path
end

-- A safetensors file from a header (JSON text) and a data size in bytes
-- (written in 1 MiB zero blocks).
local function safetensors(path, header, data_bytes)
  header = header .. string.rep(" ", (8 - #header % 8) % 8)
  local f = assert(io.open(path, "wb"))
  assert(f:write(string.pack("<I8", #header), header))
  local block = string.rep("\0", 1 << 20)
  while data_bytes > 0 do
    local n = math.min(data_bytes, #block)
    assert(f:write(n == #block and block or block:sub(1, n)))
    data_bytes = data_bytes - n
  end
  assert(f:close())
  return path
end

-- A lunet model file: the config of `layers` (JSON text of the layer list)
-- for `input_shape` (JSON text), and zero tensors {name, shape} of float32.
local function model_file(path, input_shape, layers, tensors)
  local list = {}
  for i, t in ipairs(tensors) do list[i] = { name = t[1], tensor = lunet.zeros(t[2]) } end
  local config = string.format('{"class_name":"Sequential","name":"m","input_shape":%s,"layers":[%s]}',
    input_shape, layers)
  return write(path, ST.encode(list, { format = "lunet", lunet_config = config }))
end

setup(function()
  dir = S.tmpdir()
  child = write(dir .. "/child.lua", CHILD)
  S.run(string.format("mkfifo '%s/fifo' && ln -s /dev/zero '%s/zero' && mkdir '%s/adir'", dir, dir, dir))
  -- dataset directories whose files are a FIFO or /dev/zero
  S.run(string.format("mkdir '%s/mnist_fifo' && mkfifo '%s/mnist_fifo/train-images-idx3-ubyte'", dir, dir))
  S.run(string.format("mkdir '%s/mnist_zero' && ln -s /dev/zero '%s/mnist_zero/train-images-idx3-ubyte'", dir, dir))
  S.run(string.format("mkdir '%s/uci_fifo' && mkfifo '%s/uci_fifo/iris.csv'", dir, dir))
end)
teardown(function() S.remove_tmpdir(dir) end)

describe("hostile files", function()
  describe("a FIFO, a link to /dev/zero and a directory", function()
    for _, name in ipairs({ "fifo", "zero", "adir" }) do
      it("are refused by read_idx, read_csv, load_model and read_safetensors: " .. name, function()
        local path = dir .. "/" .. name
        for _, case in ipairs({ "read_idx", "read_csv", "load_model", "read_safetensors" }) do
          refuses(case, path, path)
        end
        -- the safetensors readers say why
        refuses("load_model", path, "load_model: " .. path .. ": ", "not a regular file")
      end)
    end

    it("are refused by datasets.mnist.load and datasets.uci.load in a data directory", function()
      refuses("mnist", dir .. "/mnist_fifo", "mnist.load", "train-images-idx3-ubyte", "not a regular file (a fifo)")
      refuses("mnist", dir .. "/mnist_zero", "mnist.load", "train-images-idx3-ubyte", "not a regular file")
      refuses("uci", dir .. "/uci_fifo", "uci.load", "iris.csv", "not a regular file (a fifo)")
    end)
  end)

  describe("safetensors headers", function()
    it("refuse 2400 tensors sharing the bytes of a 1.3 MB file (3 GB if each were made)", function()
      local n, bytes = 2400, 1300000
      local parts = {}
      for i = 1, n do
        parts[i] = string.format('"t%04d":{"dtype":"F32","shape":[%d],"data_offsets":[0,%d]}', i, bytes // 4, bytes)
      end
      local path = safetensors(dir .. "/overlap.safetensors", "{" .. table.concat(parts, ",") .. "}", bytes)
      refuses("read_safetensors", path, "overlaps")
      refuses("load_model", path, "overlaps")
    end)

    it("refuse shapes whose element count overflows or exceeds the data", function()
      local path = safetensors(dir .. "/huge_shape.safetensors",
        '{"w":{"dtype":"F32","shape":[1048576,1048576,1048576],"data_offsets":[0,16]}}', 16)
      refuses("load_model", path, "tensor 'w' is too large")
      -- 2^64 elements of 4 bytes wrap to 0 in 64-bit integers: still refused
      path = safetensors(dir .. "/wrap_shape.safetensors",
        '{"w":{"dtype":"F32","shape":[4294967296,4294967296],"data_offsets":[0,0]}}', 0)
      refuses("read_safetensors", path, "tensor 'w' is too large")
      path = safetensors(dir .. "/big_shape.safetensors",
        '{"w":{"dtype":"F32","shape":[65536,65536],"data_offsets":[0,17179869184]}}', 64)
      refuses("read_safetensors", path, "tensor 'w' has data offsets outside the file")
    end)
  end)

  describe("model configs asking for huge weights", function()
    it("Dense(units = 2e8): refused before any weight is made, naming the layer and both shapes", function()
      local path = model_file(dir .. "/units.safetensors", "[784]",
        '{"class_name":"Dense","config":{"name":"dense","units":200000000,"activation":"relu"}}',
        { { "dense/kernel", { 784, 10 } }, { "dense/bias", { 10 } } })
      refuses("load_model", path, "layer 1 (dense)", "(784, 200000000)", "(784, 10)")
    end)

    it("input_shape {40000, 40000}: built without a 6.4 GB zero sample", function()
      local layers = '{"class_name":"Activation","config":{"name":"act","activation":"relu",' ..
          '"input_shape":[40000,40000]}},{"class_name":"Dense","config":{"name":"dense","units":2}}'
      -- a file whose kernel does not match: an error naming both shapes
      local path = model_file(dir .. "/input_bad.safetensors", "[40000,40000]", layers,
        { { "dense/kernel", { 4, 2 } }, { "dense/bias", { 2 } } })
      refuses("load_model", path, "layer 2 (dense)", "(40000, 2)", "(4, 2)")
      -- a file that matches: the model loads
      path = model_file(dir .. "/input_good.safetensors", "[40000,40000]", layers,
        { { "dense/kernel", { 40000, 2 } }, { "dense/bias", { 2 } } })
      local ok, msg = run("load_model", path)
      assert.is_true(ok, msg)
    end)

    it("an Orthogonal 3000x3000 kernel is taken from the file, not initialised", function()
      local layers = '{"class_name":"Dense","config":{"name":"dense","units":3000,"use_bias":false,' ..
          '"kernel_initializer":{"class_name":"Orthogonal","config":{"gain":1}}}}'
      local path = model_file(dir .. "/ortho_bad.safetensors", "[3000]", layers, { { "dense/kernel", { 3, 3 } } })
      refuses("load_model", path, "layer 1 (dense)", "(3000, 3000)", "(3, 3)")
      path = model_file(dir .. "/ortho.safetensors", "[3000]", layers, { { "dense/kernel", { 3000, 3000 } } })
      local ok, msg = run("load_model", path)
      assert.is_true(ok, msg)
    end)
  end)

  describe("gzip data", function()
    it("with garbage after the last member is refused by read_idx and read_csv", function()
      local idx = dir .. "/t.idx.gz"
      lunet.data.write_idx(idx, lunet.arange(0, 12, 1, "int32"):reshape(3, 4), { level = 6 })
      local f = assert(io.open(idx, "ab"))
      assert(f:write("this is not gzip"))
      assert(f:close())
      refuses("read_idx", idx, "read_idx: " .. idx .. ": ", "trailing garbage after gzip data")
      local csv = dir .. "/t.csv"
      write(csv, "1,2\n3,4\n")
      assert(os.execute(string.format("gzip -f '%s' && printf 'junk' >> '%s.gz'", csv, csv)))
      refuses("read_csv", csv .. ".gz", "read_csv: " .. csv .. ".gz: ", "trailing garbage after gzip data")
    end)
  end)
end)
