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
      fails("Dense.call: expected a Dense layer as self", d.call, 5, lunet.ones(1, 2))
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
end)
