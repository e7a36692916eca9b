-- Regression specs of the reliability issue: runaway one-hot and histogram
-- sizes (item 9) and errors that name their function (item 14).  The C
-- items, the autograd items and the file items have their own specs
-- (reliability_c_spec, autograd_spec, hostile_files_spec, fault_spec,
-- model_spec); the sweep over every function is badargs_spec.
local lunet = require("lunet")
local nn, U = lunet.nn, lunet.utils

local S = require("support")
local fails = S.fails -- the error holds the plain string

describe("reliability", function()
  describe("one-hot and histogram sizes are capped before allocating (item 9)", function()
    it("to_categorical refuses a label of 2^31 and a huge num_classes", function()
      local t0 = lunet.clock()
      fails("to_categorical: the largest label 2147483648", U.to_categorical, lunet.tensor({ 2 ^ 31 }, "float64"))
      fails("to_categorical: 1099511627776 classes exceed the limit of 16777216", U.to_categorical,
        lunet.tensor({ 1 }), 1 << 40)
      fails("to_categorical: a one-hot of 1000 labels x 16000000 classes exceeds the limit", U.to_categorical,
        lunet.zeros(1000), 16000000)
      assert.is_true(lunet.clock() - t0 < 1)
    end)

    it("to_categorical still encodes within the limits", function()
      local y = U.to_categorical(lunet.tensor({ 2, 0, 1 }))
      assert.are.same({ { 0, 0, 1 }, { 1, 0, 0 }, { 0, 1, 0 } }, y:totable())
      fails("to_categorical: labels must be in [0, 3), got -1", U.to_categorical, lunet.tensor({ -1, 2 }), 3)
      fails("to_categorical: labels must be integers", U.to_categorical, lunet.tensor({ 0.5 }), 3)
    end)

    it("one_hot (sparse losses) refuses a huge class count", function()
      fails("sparse_categorical_crossentropy: 1099511627776 classes exceed the limit", lunet.losses.one_hot,
        "sparse_categorical_crossentropy", lunet.tensor({ 1 }), 1 << 40)
    end)

    it("plot.hist refuses bins = 1e8 at once", function()
      local t0 = lunet.clock()
      fails("plot.hist: bins must be at most 100000, got 100000000", lunet.plot.hist,
        { series = { { values = { 1, 2, 3 } } }, bins = 1e8 }, os.tmpname())
      fails("plot.histogram: bins must be at most 100000", lunet.plot.histogram, { 1, 2 }, 1e8)
      assert.is_true(lunet.clock() - t0 < 1)
    end)
  end)

  describe("errors name their function (item 14)", function()
    it("the issue's examples", function()
      fails("apply", function() nn.Dense(4):apply(nil) end)
      fails("allclose: a must be a tensor (got 1)", lunet.allclose, 1, 2)
      fails("load_model: options must be a table (got 3)", nn.load_model, "m.safetensors", 3)
      local log = lunet.callbacks.CSVLogger(os.tmpname())
      fails("CSVLogger.on_epoch_end: logs must be a table (got 5)", log.on_epoch_end, log, 0, 5)
      local model = nn.Sequential({ nn.Dense(2, { input_shape = { 3 } }) })
      model:compile({ optimizer = "sgd", loss = "mse" })
      fails("fit: callbacks[1] must be a callback table (got 5)", model.fit, model, lunet.ones(4, 3),
        lunet.ones(4, 2), { callbacks = { 5 }, verbose = 0 })
      fails("mse: y_true and y_pred need a batch dim, got shapes () and ()", lunet.losses.mse,
        lunet.tensor(1), lunet.tensor(2))
    end)

    it("paths are strings: a number is not turned into a file name, a NUL byte is refused", function()
      fails("write_idx: path must be a string (got number)", lunet.core.write_idx, 5, lunet.ones(2))
      fails("read_idx: path must not contain a NUL byte", lunet.data.read_idx, "a\0b")
      fails("save: ", function()
        local m = nn.Sequential({ nn.Dense(1, { input_shape = { 1 } }) })
        m:save("m\0.safetensors")
      end)
      assert.is_nil(io.open("5", "rb"))
    end)

    it("a method called on the wrong self says so", function()
      local opt = lunet.optim.SGD()
      fails("SGD.step: expected a SGD as self (call obj:step(...)), got 5", opt.step, 5, {})
      local es = lunet.callbacks.EarlyStopping()
      fails("EarlyStopping.on_epoch_end: expected a EarlyStopping callback as self", es.on_epoch_end, {}, 0, {})
      local d = nn.Dense(2)
      fails("Dense.call: expected a layer as self (call layer:call(...)), got 5", d.call, 5, lunet.ones(1, 2))
      local model = nn.Sequential()
      fails("Sequential.fit: expected a Sequential as self", model.fit, {}, lunet.ones(1), lunet.ones(1))
    end)

    it("messages show the value, not only its type", function()
      fails('leaky_relu: alpha must be a number (got "x")', lunet.activations.leaky_relu, lunet.ones(2), "x")
      fails("SGD: learning_rate must be >= 0 (got -1)", lunet.optim.SGD, { learning_rate = -1 })
      fails("RandomNormal: stddev must be a finite number >= 0 (got nan)", lunet.initializers.RandomNormal, { stddev = 0 / 0 })
      fails("EarlyStopping: patience must be an integer (got 1.5)", lunet.callbacks.EarlyStopping, { patience = 1.5 })
    end)
  end)

  -- the checks must not refuse what Keras-style code does
  describe("valid uses the argument checks leave alone", function()
    it("callable objects as constraints and initializers (saving one is refused, as for a function)", function()
      local clip = setmetatable({}, { __call = function(_, w) return w:clamp(-0.5, 0.5) end })
      local zeros = setmetatable({}, { __call = function(_, shape, dtype) return lunet.zeros(shape, dtype) end })
      local m = nn.Sequential({ nn.Dense(3, { kernel_constraint = clip, kernel_initializer = zeros,
        input_shape = { 4 } }) })
      assert.are.equal(0, m.layers[1].kernel:abs():sum():item())
      fails("save: layer dense", m.save, m, os.tmpname())
    end)

    it("custom layer classes may hold helpers, function fields and shared methods", function()
      local L = nn.Layer:extend("ReliabilityHelpers")
      L.act = function(t) return t:relu() end
      function L.create(n) return L({ name = "helper_" .. n }) end
      function L:call(x) return self.act(x) end
      L.compute_output_shape = nn.Activation.compute_output_shape
      local l = L.create(1)
      local y = l(lunet.tensor({ { -1, 2 } }))
      assert.are.same({ { 0, 2 } }, y:totable())
      local m = nn.Sequential({ nn.Dense(2, { input_shape = { 2 } }), L.create(2) })
      assert.are.same({ 2 }, m.output_shapes[2])
    end)

    it("a custom layer may take integer input (ids); built-in layers ask for floats", function()
      local E = nn.Layer:extend("ReliabilityIds")
      function E:call(ids) return ids:float() * 2 end
      assert.are.same({ { 2, 4 } }, E()(lunet.tensor({ { 1, 2 } }, "int32")):totable())
      fails("must be a float32 or float64 tensor with a batch dim", function()
        nn.ReLU()(lunet.tensor({ { 1, 2 } }, "int32"))
      end)
    end)

    it("an object inheriting from an optimizer steps like it", function()
      local base = lunet.optim.SGD({ learning_rate = 0.5 })
      local sub = setmetatable({}, { __index = base })
      local w = lunet.ones(3):requires_grad()
      ;(w * w):sum():backward()
      sub:step({ w })
      assert.are.same({ 0, 0, 0 }, w:detach():totable())
    end)

    it("an error in the user's own loss keeps its position; error objects pass through", function()
      local m = nn.Sequential({ nn.Dense(1, { input_shape = { 2 } }) })
      m:compile({ optimizer = "sgd", loss = function(y) return y.no_such_field + 1 end })
      local ok, err = pcall(m.fit, m, lunet.ones(4, 2), lunet.ones(4, 1), { verbose = 0 })
      assert.is_false(ok)
      assert.matches("^fit: .*reliability_spec%.lua:%d+: attempt to perform arithmetic", err)
      local obj = { code = 42 }
      m:compile({ optimizer = "sgd", loss = function() error(obj) end })
      ok, err = pcall(m.fit, m, lunet.ones(4, 2), lunet.ones(4, 1), { verbose = 0 })
      assert.are.equal(obj, err)
    end)

    it("an infinite learning rate from a schedule stops fit instead of training to inf", function()
      local m = nn.Sequential({ nn.Dense(1, { input_shape = { 2 } }) })
      m:compile({ optimizer = "sgd", loss = "mse" })
      fails("LearningRateScheduler: the schedule returned inf", m.fit, m, lunet.ones(4, 2), lunet.ones(4, 1),
        { verbose = 0, callbacks = { lunet.callbacks.LearningRateScheduler(function() return math.huge end) } })
    end)
  end)
end)
