local lunet = require("lunet")
local S = require("support")

local nn = lunet.nn
local cb = lunet.callbacks

local function tmpname(suffix)
  return os.tmpname() .. (suffix or ".safetensors")
end

local function snn()
  return nn.Sequential({
    nn.Dense(512, { activation = "selu", kernel_initializer = "lecun_normal", input_shape = { 784 } }),
    nn.AlphaDropout(0.1),
    nn.Dense(512, { activation = "selu", kernel_initializer = "lecun_normal" }),
    nn.AlphaDropout(0.1),
    nn.Dense(10, { activation = "softmax" }),
  })
end

-- a separable 3-class problem: label = argmax of x @ w
local function problem(n, d)
  local x = lunet.randn(n, d)
  local w = lunet.randn(d, 3)
  local labels = x:matmul(w):argmax(2):double() - 1
  return x, labels, lunet.losses.one_hot("problem", labels, 3)
end

local function small(opts)
  return nn.Sequential({
    nn.Dense(16, { activation = (opts and opts.act) or "selu", input_shape = { 8 } }),
    nn.Dense(3, { activation = "softmax" }),
  })
end

describe("lunet.nn Sequential", function()
  before_each(function() nn.reset_names() end)

  it("prints the Keras 2 summary exactly", function()
    local want = table.concat({
      "_________________________________________________________________",
      "Layer (type)                 Output Shape              Param #",
      "=================================================================",
      "dense_1 (Dense)              (None, 512)               401920",
      "_________________________________________________________________",
      "alpha_dropout_1 (AlphaDropou (None, 512)               0",
      "_________________________________________________________________",
      "dense_2 (Dense)              (None, 512)               262656",
      "_________________________________________________________________",
      "alpha_dropout_2 (AlphaDropou (None, 512)               0",
      "_________________________________________________________________",
      "dense_3 (Dense)              (None, 10)                5130",
      "=================================================================",
      "Total params: 669,706",
      "Trainable params: 669,706",
      "Non-trainable params: 0",
      "_________________________________________________________________",
    }, "\n")
    -- model.summary() prints through print_fn, one call per line, and returns the text
    local printed = {}
    local text = snn():summary({ print_fn = function(line) printed[#printed + 1] = line end })
    assert.are.equal(want, text)
    assert.are.equal(want, table.concat(printed, "\n"))
    assert.has_error(function() snn():summary({ print_fn = 3 }) end, "summary: print_fn must be a function (got 3)")
  end)

  it("reports shape mismatches when layers are added", function()
    local m = nn.Sequential({ nn.Dense(4, { input_shape = { 6 } }) })
    local ok, err = pcall(function() m:add(nn.Reshape({ 3, 3 })) end)
    assert.is_false(ok)
    assert.matches("Reshape: cannot reshape input of shape %(None, 4%) into %(None, 3, 3%)", err)
    local d = nn.Dense(2)
    d:build_for({ 5 })
    assert.has_error(function() d:apply(lunet.ones(3, 4)) end, "Dense: expected input with last dim 5, got (3, 4)")
  end)

  it("trains a small problem to low loss, and the same seed gives the same weights", function()
    local function train()
      nn.reset_names()
      lunet.manual_seed(31)
      local x, _, y = problem(600, 8)
      local m = small()
      m:compile({ optimizer = lunet.optim.Adam({ learning_rate = 0.01 }), loss = "categorical_crossentropy",
        metrics = { "accuracy" } })
      local h = m:fit(x, y, { batch_size = 32, epochs = 15, verbose = 0 })
      return m, h
    end
    local m1, h1 = train()
    local m2 = train()
    assert.is_true(h1.history.loss[15] < 0.25 * h1.history.loss[1], "loss " .. h1.history.loss[15])
    assert.is_true(h1.history.accuracy[15] > 0.9)
    local w1, w2 = m1:get_weights(), m2:get_weights()
    for i = 1, #w1 do assert.is_true(lunet.equal(w1[i], w2[i])) end
  end)

  it("takes validation_split from the end, before shuffling, and evaluates it in inference mode", function()
    lunet.manual_seed(32)
    local x, _, y = problem(100, 8)
    local m = small()
    m:compile({ optimizer = "sgd", loss = "categorical_crossentropy", metrics = { "acc" } })
    local h = m:fit(x, y, { batch_size = 16, epochs = 1, verbose = 0, validation_split = 0.25 })
    assert.are.equal(75, h.params.samples)
    local ev = m:evaluate(x:narrow(1, 76, 25), y:narrow(1, 76, 25))
    assert.near(ev.loss, h.history.val_loss[1], 1e-6)
    assert.near(ev.acc, h.history.val_acc[1], 1e-12)
    assert.is_not_nil(h.history.acc) -- the key the user gave
    assert.are.same({ 0 }, h.epoch)
  end)

  it("passes 0-based epochs to LearningRateScheduler and records lr", function()
    lunet.manual_seed(33)
    local x, labels = problem(64, 8)
    local m = small()
    m:compile({ optimizer = lunet.optim.SGD({ learning_rate = 0.1 }), loss = "sparse_categorical_crossentropy",
      metrics = { "accuracy" } })
    local seen = {}
    local sched = cb.LearningRateScheduler(function(epoch, lr)
      seen[#seen + 1] = epoch
      if epoch < 2 then return 1e-3 end
      return lr / 10
    end)
    local h = m:fit(x, labels, { epochs = 4, verbose = 0, callbacks = { sched } })
    assert.are.same({ 0, 1, 2, 3 }, seen)
    assert.are.same({ 1e-3, 1e-3, 1e-4, 1e-5 }, h.history.lr)
    assert.are.same({ 0, 1, 2, 3 }, h.epoch)
  end)

  it("stops early and logs CSV", function()
    lunet.manual_seed(34)
    local x, _, y = problem(64, 8)
    local m = small()
    m:compile({ optimizer = lunet.optim.SGD({ learning_rate = 0 }), loss = "categorical_crossentropy" })
    local path = tmpname(".csv")
    local h = m:fit(x, y, { epochs = 10, verbose = 0, validation_split = 0.25,
      callbacks = { cb.EarlyStopping({ monitor = "val_loss", patience = 1 }), cb.CSVLogger(path) } })
    assert.are.equal(2, #h.epoch) -- lr 0: no improvement after the first epoch
    local lines = {}
    for l in io.lines(path) do lines[#lines + 1] = l end
    os.remove(path)
    assert.are.equal(3, #lines)
    assert.are.equal("epoch,loss,val_loss", lines[1])
  end)

  it("prints one line per epoch when output is not a terminal", function()
    local script = os.tmpname() .. ".lua"
    local f = io.open(script, "w")
    f:write([[
      local lunet = require("lunet"); local nn = lunet.nn
      lunet.manual_seed(1)
      local m = nn.Sequential({nn.Dense(3, {activation = "softmax", input_shape = {4}})})
      m:compile({optimizer = "adam", loss = "categorical_crossentropy", metrics = {"accuracy"}})
      m:fit(lunet.randn(100, 4), lunet.losses.one_hot("t", lunet.zeros(100), 3), {batch_size = 10, epochs = 2})
    ]])
    f:close()
    local out = S.run(S.lunet_bin .. " " .. script)
    os.remove(script)
    local lines = {}
    for l in out:gmatch("[^\n]+") do lines[#lines + 1] = l end
    assert.are.equal(4, #lines, out)
    assert.are.equal("Epoch 1/2", lines[1])
    assert.matches("^10/10 %[==============================%] %- %d+s %d+[mu]?s/step %- loss: %d%.%d%d%d%d %- accuracy: %d%.%d%d%d%d$",
      lines[2])
  end)

  it("saves to safetensors and loads back bit-exactly, custom layers included", function()
    lunet.manual_seed(35)
    local MyScale = nn.Layer:extend("MyScale")
    function MyScale:build(input_shape)
      self.s = self:add_weight({ name = "s", shape = { input_shape[#input_shape] }, initializer = "ones",
        constraint = lunet.constraints.NonNeg() })
    end
    function MyScale:call(x) return x * self.s end
    local m = nn.Sequential({
      nn.Dense(6, { activation = "elu", input_shape = { 8 } }), nn.PReLU(), MyScale(), nn.PELU(),
      nn.Dense(3, { activation = "softmax", kernel_constraint = lunet.constraints.MaxNorm(2) }),
    })
    local x, _, y = problem(64, 8)
    m:compile({ optimizer = "rmsprop", loss = "categorical_crossentropy" })
    m:fit(x, y, { epochs = 2, verbose = 0 })
    local path = tmpname()
    m:save(path)
    local m2 = nn.load_model(path, { custom_objects = { MyScale = MyScale } })
    local quiet = { print_fn = function() end }
    assert.are.equal(m:summary(quiet), m2:summary(quiet))
    local w1, w2 = m:get_weights(), m2:get_weights()
    assert.are.equal(#w1, #w2)
    for i = 1, #w1 do assert.is_true(lunet.equal(w1[i], w2[i])) end
    assert.is_true(lunet.equal(m:predict(x), m2:predict(x)))
    -- the file is a standard safetensors file
    local tensors, meta = nn.read_safetensors(path)
    assert.are.equal("lunet", meta.format)
    assert.is_true(lunet.equal(tensors["dense_1/kernel"], w1[1]))
    os.remove(path)
  end)

  describe("hostile model files", function()
    local path, good
    setup(function()
      nn.reset_names()
      lunet.manual_seed(36)
      local m = small()
      path = tmpname()
      m:save(path)
      local f = io.open(path, "rb")
      good = f:read("a")
      f:close()
    end)
    teardown(function() os.remove(path) end)

    local function write(bytes)
      local p = tmpname()
      local f = io.open(p, "wb")
      f:write(bytes)
      f:close()
      return p
    end
    local function fails(bytes, pattern)
      local p = write(bytes)
      local ok, err = pcall(nn.load_model, p)
      os.remove(p)
      assert.is_false(ok)
      assert.matches(pattern, err)
    end
    local function with_header(h)
      local hlen = string.unpack("<I8", good)
      return string.pack("<I8", #h) .. h .. good:sub(9 + hlen)
    end
    local function header()
      local hlen = string.unpack("<I8", good)
      return good:sub(9, 8 + hlen)
    end

    it("refuses empty, truncated and oversized-header files", function()
      fails("", "empty file")
      fails("abc", "file too short")
      fails(good:sub(1, 100), "header length %d+ does not fit")
      fails(string.pack("<I8", 2 ^ 40) .. "{}", "header length")
      fails(good:sub(1, #good - 10), "data offsets outside the file")
    end)

    it("refuses bad JSON, dtypes, shapes and offsets", function()
      fails(with_header("{not json"), "not valid JSON")
      fails(with_header(header():gsub('"F32"', '"BF16"', 1)), "unsupported dtype BF16")
      fails(with_header(header():gsub('"shape":%[8,16%]', '"shape":[8,17]', 1)), "bytes for shape")
      fails(with_header(header():gsub('"shape":%[8,16%]', '"shape":[-8,16]', 1)), "bad dimension")
      fails(with_header(header():gsub('"data_offsets":%[0,', '"data_offsets":[-4,', 1)), "data offsets")
    end)

    it("refuses unknown layer classes and missing tensors", function()
      fails(with_header(header():gsub('Dense', 'Evil', 1)), "unknown layer class 'Evil'")
      fails(with_header(header():gsub('"dense_1/kernel"', '"dense_9/kernel"', 1)), "missing tensor 'dense_1/kernel'")
      local ok, err = pcall(nn.load_model, "/nonexistent/m.safetensors")
      assert.is_false(ok)
      assert.matches("cannot open", err)
      ok, err = pcall(nn.load_model, "/tmp")
      assert.is_false(ok)
    end)
  end)

  describe("bad input", function()
    it("names the function and the values", function()
      local m = small()
      m:compile({ optimizer = "adam", loss = "sparse_categorical_crossentropy", metrics = { "accuracy" } })
      local x = lunet.randn(10, 8)
      local ok, err = pcall(m.fit, m, x, lunet.zeros(9), { verbose = 0 })
      assert.is_false(ok)
      assert.matches("fit: x has 10 rows but y has 9", err)
      ok, err = pcall(m.fit, m, x, lunet.full({ 10 }, 3), { verbose = 0 })
      assert.is_false(ok)
      assert.matches("sparse_categorical_crossentropy: labels must be in %[0, 3%), got 3", err)
      -- all labels are checked before the first step: a bad one in the last
      -- batch leaves the weights as they were
      local before = m:get_weights()
      local y = lunet.zeros(10)
      y[10] = 7
      ok, err = pcall(m.fit, m, x, y, { verbose = 0, batch_size = 2 })
      assert.is_false(ok)
      assert.matches("fit: sparse_categorical_crossentropy: labels must be in %[0, 3%), got 7", err)
      for i, w in ipairs(m:get_weights()) do assert.is_true(lunet.equal(w, before[i])) end
      assert.has_error(function() m:compile({ optimizer = "adamw", loss = "mse" }) end)
      ok, err = pcall(m.compile, m, { optimizer = "adam", loss = "hinge" })
      assert.matches("unknown loss 'hinge' %(known: binary_crossentropy", err)
      ok, err = pcall(m.compile, m, { optimizer = "adam", loss = "mse", metrics = { "f1" } })
      assert.matches("unknown metric 'f1'", err)
      ok, err = pcall(nn.Dense, 4, { kernel_initializer = "xavier" })
      assert.matches("unknown initializer 'xavier'", err)
      ok, err = pcall(nn.Dense, 4, { activaton = "relu" })
      assert.matches("Dense: unknown option 'activaton'", err)
    end)

    it("refuses misspelt options, missing y and bad batch sizes", function()
      local m = small()
      m:compile({ optimizer = "sgd", loss = "mse" })
      local x, y = lunet.randn(6, 8), lunet.randn(6, 3)
      S.fails("fit: unknown option 'epoch' (known: batch_size, callbacks, distributed, epochs", m.fit, m, x, y, { epoch = 3 })
      S.fails("fit: y must be a tensor", m.fit, m, x, nil, { verbose = 0 })
      S.fails("fit: verbose must be 0, 1 or 2, got true", m.fit, m, x, y, { verbose = true })
      S.fails("fit: validation_split must be a number, got string", m.fit, m, x, y,
        { verbose = 0, validation_split = "0.2" })
      S.fails("evaluate: batch_size must be a positive integer, got 0", m.evaluate, m, x, y, { batch_size = 0 })
      S.fails("predict: batch_size must be a positive integer, got -1", m.predict, m, x, { batch_size = -1 })
      S.fails("predict: x has no rows", m.predict, m, lunet.zeros(0, 8))
      S.fails("compile: unknown option 'metric'", m.compile, m, { loss = "mse", metric = { "mae" } })
      S.fails("EarlyStopping: unknown option 'patiance'", cb.EarlyStopping, { patiance = 3 })
    end)

    it("keeps layer names unique, and a built layer to its input shape", function()
      local d = nn.Dense(3, { input_shape = { 4 }, name = "same" })
      local m = nn.Sequential({ d })
      S.fails("the model already has a layer named 'same'", m.add, m, nn.Dense(2, { name = "same" }))
      assert.are.equal(1, #m.layers)
      S.fails("same was built for input of shape (None, 4), got (None, 7)", d.build_for, d, { 7 })
    end)

    it("set_weights checks every shape before changing anything", function()
      local m = small()
      local before = m:get_weights()
      local bad = {}
      for i, w in ipairs(before) do bad[i] = w + 1 end
      bad[#bad] = lunet.zeros(5)
      S.fails("set_weights: weight 2 (bias) has shape (3,), got (5,)", m.set_weights, m, bad)
      for i, w in ipairs(m:get_weights()) do assert.is_true(lunet.equal(w, before[i])) end
    end)

    it("will not save what it cannot load: function activations; keeps trainable = false", function()
      local m = nn.Sequential({ nn.Dense(2, { input_shape = { 3 }, activation = function(x) return x:relu() end }) })
      S.fails("save: layer dense_1 has a function as activation", m.save, m, tmpname())
      local frozen = nn.Sequential({ nn.Dense(2, { input_shape = { 3 }, trainable = false }) })
      local p = tmpname()
      frozen:save(p)
      local back = nn.load_model(p)
      os.remove(p)
      assert.are.equal(0, select(2, back.layers[1]:count_params()))
    end)
  end)
end)
