-- The .safetensors files of model:save and nn.load_model: the same model
-- gives the same bytes in any process, the file stays standard safetensors,
-- the header is checked whole before anything is made, and the config goes
-- through the constructors' option checks, weights checked against the file.
local lunet = require("lunet")
local nn = lunet.nn
local S = require("support")
local ST = require("lunet.safetensors")
local cjson = require("cjson")

local function tmpname() return os.tmpname() end

local function write(path, parts)
  local f = assert(io.open(path, "wb"))
  for _, p in ipairs(type(parts) == "table" and parts or { parts }) do assert(f:write(p)) end
  assert(f:close())
  return path
end

-- A safetensors file from the JSON text of its header and its data bytes.
local function raw_file(header, data)
  return write(tmpname(), { string.pack("<I8", #header), header, data })
end

-- A model file from config JSON text (the layer list) and {name, tensor} pairs.
local function model_file(layers, tensors, input_shape)
  local config = string.format('{"class_name":"Sequential","name":"m","input_shape":%s,"layers":[%s]}',
    input_shape or "[4]", layers)
  local list = {}
  for i, t in ipairs(tensors or {}) do list[i] = { name = t[1], tensor = t[2] } end
  return write(tmpname(), ST.encode(list, { format = "lunet", lunet_config = config }))
end

-- load_model's error for a file (removed after)
local function load_error(path)
  local ok, err = pcall(nn.load_model, path)
  os.remove(path)
  assert.is_false(ok, "load_model should refuse the file")
  return tostring(err)
end

local SEEDED_MODEL = [[
local lunet = require("lunet")
local nn, C = lunet.nn, lunet.constraints
lunet.manual_seed(1234)
local m = nn.Sequential({
  nn.Dense(16, { activation = "selu", kernel_initializer = "lecun_normal", input_shape = { 8 } }),
  nn.AlphaDropout(0.1, { seed = 5, noise_shape = { 1, 16 } }),
  nn.PELU({ alpha_constraint = C.MinValue(0.2) }),
  nn.Dense(12, { activation = "elu", kernel_constraint = C.MaxNorm(3), bias_initializer = "ones" }),
  nn.PReLU({ shared_axes = { 1 } }),
  nn.GaussianNoise(0.25, { seed = 9 }),
  nn.ReLU({ max_value = 6, negative_slope = 0.01, threshold = 0.5 }),
  nn.Dense(3, { activation = "softmax", kernel_initializer = { class_name = "RandomUniform",
    config = { minval = -0.1, maxval = 0.1, seed = 3 } }, name = "output" }),
})
m:save(arg[1])
]]

describe("lunet.safetensors", function()
  describe("model:save", function()
    local script, p1, p2
    setup(function()
      script = write(tmpname(), SEEDED_MODEL)
      p1, p2 = tmpname(), tmpname()
    end)
    teardown(function()
      for _, p in ipairs({ script, p1, p2 }) do os.remove(p) end
    end)

    it("gives the same bytes for the same seeded model in two processes", function()
      for _, p in ipairs({ p1, p2 }) do
        local out, code = S.run(S.lunet_bin .. " " .. script .. " " .. p, true)
        assert.are.equal(0, code, out)
      end
      local a, b = S.read_file(p1), S.read_file(p2)
      assert.is_true(#a > 1000)
      assert.is_true(a == b, "the two files differ")
    end)

    it("writes standard safetensors that lunet loads back", function()
      local bytes = S.read_file(p1)
      local hlen = string.unpack("<I8", bytes)
      assert.are.equal(0, (8 + hlen) % 8) -- data 8-byte aligned
      local header = cjson.decode(bytes:sub(9, 8 + hlen))
      local data_len = #bytes - 8 - hlen
      local spans = {}
      for name, e in pairs(header) do
        if name == "__metadata__" then
          for k, v in pairs(e) do
            assert.are.equal("string", type(k))
            assert.are.equal("string", type(v), "__metadata__." .. k .. " must be a string")
          end
        else
          assert.is_truthy(({ F32 = true, F64 = true, I32 = true, U8 = true })[e.dtype])
          local n = 1
          for _, d in ipairs(e.shape) do n = n * d end
          assert.are.equal(n * 4, e.data_offsets[2] - e.data_offsets[1])
          spans[#spans + 1] = e.data_offsets
        end
      end
      table.sort(spans, function(x, y) return x[1] < y[1] end)
      local pos = 0
      for _, s in ipairs(spans) do
        assert.are.equal(pos, s[1])
        pos = s[2]
      end
      assert.are.equal(data_len, pos)
      assert.are.equal("lunet", header.__metadata__.format)
      -- the keys of the header are in sorted order
      local text = bytes:sub(9, 8 + hlen)
      local last = ""
      for key in text:gmatch('"([^"]+)":{"data_offsets"') do
        assert.is_true(key > last, key .. " after " .. last)
        last = key
      end
      -- and it loads: the same weights as a model built here with the same seed
      local m = nn.load_model(p1)
      nn.reset_names()
      local mine = assert(load(SEEDED_MODEL:gsub("m:save%(arg%[1%]%)", "return m")))()
      local w1, w2 = mine:get_weights(), m:get_weights()
      assert.are.equal(#w1, #w2)
      for i = 1, #w1 do assert.is_true(lunet.equal(w1[i], w2[i]), "weight " .. i) end
      assert.are.equal("output", m.layers[#m.layers].name)
      local x = lunet.randn(5, 8)
      assert.is_true(lunet.equal(mine:predict(x), m:predict(x)))
    end)

    it("writes an empty shape as [] (a scalar weight)", function()
      local Scalar = nn.Layer:extend("ScalarGain")
      function Scalar:build() self.g = self:add_weight({ name = "g", shape = {}, initializer = "ones" }) end
      function Scalar:call(x) return x * self.g end
      local m = nn.Sequential({ Scalar({ input_shape = { 2 } }) })
      local p = tmpname()
      m:save(p)
      assert.is_truthy(S.read_file(p):find('"shape":[]', 1, true))
      local m2 = nn.load_model(p, { custom_objects = { ScalarGain = Scalar } })
      os.remove(p)
      assert.are.equal(1, m2:get_weights()[1]:item())
    end)
  end)

  describe("the header", function()
    local a8 = string.rep("\1\0\0\0", 2)
    it("may list the tensors in any order, as long as they tile the data", function()
      local p = raw_file('{"b":{"dtype":"I32","shape":[2],"data_offsets":[8,16]},' ..
        '"a":{"dtype":"I32","shape":[2],"data_offsets":[0,8]},"e":{"dtype":"U8","shape":[0],"data_offsets":[16,16]}}',
        a8 .. string.pack("<i4i4", 7, -3))
      local t = nn.read_safetensors(p)
      os.remove(p)
      assert.are.same({ 1, 1 }, t.a:totable())
      assert.are.same({ 7, -3 }, t.b:totable())
      assert.are.same({ 0 }, t.e:shape())
    end)

    it("refuses overlapping, gapped and trailing data", function()
      local function refused(header, data, want)
        local p = raw_file(header, data)
        local ok, err = pcall(nn.read_safetensors, p)
        os.remove(p)
        assert.is_false(ok)
        assert.is_truthy(tostring(err):find(want, 1, true), "expected '" .. want .. "' in: " .. tostring(err))
      end
      refused('{"a":{"dtype":"I32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"I32","shape":[2],"data_offsets":[4,12]}}',
        a8 .. a8, "tensor 'b' (bytes 4..12) overlaps tensor 'a' (bytes 0..8)")
      refused('{"a":{"dtype":"I32","shape":[1],"data_offsets":[0,4]},"b":{"dtype":"I32","shape":[1],"data_offsets":[8,12]}}',
        a8 .. "\0\0\0\0", "4 bytes before tensor 'b' belong to no tensor")
      refused('{"a":{"dtype":"I32","shape":[2],"data_offsets":[0,8]}}', a8 .. "xyz",
        "3 bytes after the last tensor belong to no tensor")
      refused('{"a":{"dtype":"I32","shape":[2.5],"data_offsets":[0,8]}}', a8, "tensor 'a' has a bad shape")
      refused('{"a":{"dtype":"I32","shape":[2],"data_offsets":[0,8.5]}}', a8, "data offsets outside the file")
      refused('{"a":{"dtype":"I32","shape":[1e300],"data_offsets":[0,8]}}', a8, "tensor 'a' has a bad shape")
      -- 2^62 * 4 bytes wraps to 0 in integer arithmetic: refused as too large, not read as 0 bytes
      refused('{"b":{"dtype":"I32","shape":[4611686018427387904],"data_offsets":[0,0]}}', "", "tensor 'b' is too large")
      refused('{"__metadata__":{"format":1}}', "", "__metadata__ values must be strings")
    end)
  end)

  describe("nn.load_model", function()
    local k, b = lunet.ones(4, 3), lunet.zeros(3)
    local DENSE = '{"class_name":"Dense","config":{"name":"d","units":3%s}}'
    local function dense(extra) return DENSE:format(extra or "") end

    it("loads a hand-written file", function()
      local p = model_file(dense(',"activation":"relu"'), { { "d/kernel", k }, { "d/bias", b } })
      local m = nn.load_model(p)
      os.remove(p)
      assert.are.same({ { 4, 4, 4 } }, m:predict(lunet.ones(1, 4)):totable())
    end)

    it("refuses options no constructor would take", function()
      local tensors = { { "d/kernel", k }, { "d/bias", b } }
      local function refused(layers, want, input_shape)
        local err = load_error(model_file(layers, tensors, input_shape))
        assert.is_truthy(err:find(want, 1, true), "expected '" .. want .. "' in: " .. err)
      end
      refused(dense(',"activation":42'), "Dense: activation must be a name or a function (got 42)")
      refused(dense(',"activation":"no_such"'), "unknown activation 'no_such'")
      refused(dense(',"unitz":3'), "Dense: unknown option 'unitz'")
      refused(dense(',"use_bias":"yes"'), 'Dense: use_bias must be a boolean (got "yes")')
      refused(dense(',"kernel_initializer":{"class_name":"RandomUniform","config":{"maxvl":1}}'),
        "RandomUniform: unknown option 'maxvl'")
      refused(dense(',"kernel_initializer":{"class_name":"RandomNormal","config":{"stddev":-1}}'),
        "RandomNormal: stddev must be a finite number >= 0 (got -1")
      refused(dense() .. ',{"class_name":"GaussianNoise","config":{"stddev":NaN}}',
        "GaussianNoise: stddev must be a finite number >= 0 (got ")
      refused(dense() .. ',{"class_name":"Dropout","config":{"rate":-0.5}}',
        "Dropout: rate must be a number in [0, 1) (got -0.5)")
      refused(dense() .. ',{"class_name":"LeakyReLU","config":{"alpha":"big"}}',
        'LeakyReLU: alpha must be a finite number >= 0 (got "big")')
      refused(dense() .. ',{"class_name":"PReLU","config":{"shared_axes":[0]}}',
        "PReLU: shared_axes[1] must be a positive integer (got 0)")
      refused(dense(',"name":7'), "Dense: name must be a non-empty string (got 7)")
      refused(dense(), "input_shape[2] must be an integer >= 1 (got 0)", "[4,0]")
      refused(dense(), "the model config has no input_shape", '"wide"')
      refused(dense(), "input_shape[1] must be an integer >= 1 (got 4.5)", "[4.5]")
      refused('{"class_name":"Dense","config":{"name":"d","units":3},"extra":1}', "layer 1 has an unknown field 'extra'")
      refused(dense() .. "," .. dense(), "two layers are named 'd'")
      local p = write(tmpname(), ST.encode({ { name = "d/kernel", tensor = k }, { name = "d/bias", tensor = b } },
        { lunet_config = '{"class_name":"Sequential","input_shape":[4],"layers":[],"optimizer":"x"}' }))
      local err = load_error(p)
      assert.is_truthy(err:find("the model config: unknown option 'optimizer'", 1, true), err)
    end)

    it("checks each weight against the file before making it, naming the layer and both shapes", function()
      local err = load_error(model_file(dense(), { { "d/kernel", lunet.ones(4, 5) }, { "d/bias", b } }))
      assert.is_truthy(err:find("layer 1 (d)", 1, true), err)
      assert.is_truthy(err:find("weight 'd/kernel' is float32 (4, 3) by the config but float32 (4, 5) in the file",
        1, true), err)
      err = load_error(model_file(dense(), { { "d/kernel", k:double() }, { "d/bias", b } }))
      assert.is_truthy(err:find("float32 (4, 3) by the config but float64 (4, 3)", 1, true), err)
      err = load_error(model_file(dense(), { { "d/kernel", k }, { "d/bias", b }, { "d/extra", b } }))
      assert.is_truthy(err:find("1 tensors in the file do not belong to the model", 1, true), err)
    end)

    it("takes weights from the file: no initializer runs, custom layers included", function()
      local calls = 0
      local counted = setmetatable({ name = "Counted", config = {} }, {
        __call = function(_, shape, dtype)
          calls = calls + 1
          return lunet.full(shape, 0.5, dtype)
        end })
      local Gain = nn.Layer:extend("CountedGain")
      function Gain:build(s) self.g = self:add_weight({ name = "g", shape = { s[#s] }, initializer = counted }) end
      function Gain:call(x) return x * self.g end
      local m = nn.Sequential({ Gain({ input_shape = { 3 } }) })
      assert.are.equal(1, calls)
      m.layers[1]:set_weights({ lunet.full({ 3 }, 2) })
      local p = tmpname()
      m:save(p)
      local m2 = nn.load_model(p, { custom_objects = { CountedGain = Gain } })
      os.remove(p)
      assert.are.equal(1, calls)
      assert.are.same({ 2, 2, 2 }, m2.layers[1].g:detach():totable())
      assert.is_truthy(m2.layers[1].g:is_grad_tracked())
    end)
  end)
end)
