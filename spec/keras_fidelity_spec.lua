-- spec/keras_fidelity_spec.lua - issue 14: a Keras 2 line ported to lunet
-- computes what Keras computes, or raises.  Each test quotes the Keras line.
local lunet = require("lunet")
local S = require("support")

local nn = lunet.nn
local A = lunet.activations
local metrics = lunet.metrics

local quiet = { print_fn = function() end }

-- a separable 3-class problem with 0-based int32 labels
local function problem(n, d)
  local x = lunet.randn(n, d)
  local w = lunet.randn(d, 3)
  local labels = x:matmul(w):argmax(2, { base = 0 })
  return x, labels
end

local function trained(x, y, metric_names)
  local m = nn.Sequential({
    nn.Dense(16, { activation = "selu", input_shape = { x:size(2) } }),
    nn.Dense(3, { activation = "softmax" }),
  })
  m:compile({ optimizer = "adam", loss = "sparse_categorical_crossentropy", metrics = metric_names })
  m:fit(x, y, { epochs = 30, verbose = 0, batch_size = 16 })
  return m
end

describe("Keras 2 fidelity", function()
  before_each(function() nn.reset_names() end)

  describe("class ids versus positions (trap 1)", function()
    it("model.predict_classes(x) gives 0-based int32 class ids, the argmax of predict", function()
      S.seed(11)
      local x, y = problem(200, 6)
      local m = trained(x, y)
      local ids = m:predict_classes(x)
      assert.are.equal("int32", ids:dtype())
      assert.are.same({ 200 }, ids:shape())
      local p = m:predict(x):totable()
      local want = {}
      for i, row in ipairs(p) do
        local best = 1
        for j = 2, #row do if row[j] > row[best] then best = j end end
        want[i] = best - 1
      end
      assert.are.same(want, ids:totable())
      -- the ids compare with the labels: a trained model is far above chance
      local acc = ids:eq(y):double():mean():item()
      assert.is_true(acc > 0.8, "accuracy " .. acc)
      assert.are.equal(acc, metrics.accuracy(y, ids))
    end)

    it("predict_classes of a one-unit sigmoid model is (p > 0.5) as int32, shape (N)", function()
      S.seed(12)
      local m = nn.Sequential({ nn.Dense(1, { activation = "sigmoid", input_shape = { 3 } }) })
      local x = lunet.randn(50, 3)
      local p = m:predict(x):reshape(50):totable()
      local ids = m:predict_classes(x)
      assert.are.same({ 50 }, ids:shape())
      for i, v in ipairs(ids:totable()) do assert.are.equal(p[i] > 0.5 and 1 or 0, v) end
    end)

    it("metrics.accuracy(y_true, y_pred) takes 0-based ids, one-hot rows or probabilities on either side", function()
      local p = lunet.tensor({ { 0.1, 0.7, 0.2 }, { 0.9, 0.05, 0.05 }, { 0.2, 0.2, 0.6 }, { 0.5, 0.4, 0.1 } })
      local ids = lunet.tensor({ 1, 0, 0, 0 }, "int32") -- rows 1, 2, 4 right
      local onehot = lunet.utils.to_categorical(ids, 3)
      assert.are.equal(0.75, metrics.accuracy(ids, p))
      assert.are.equal(0.75, metrics.accuracy(p, ids))
      assert.are.equal(0.75, metrics.accuracy(onehot, p))
      assert.are.equal(0.75, metrics.accuracy(onehot, p:argmax(2, { base = 0 })))
      assert.are.equal(0.75, metrics.acc(ids, p:argmax(2, { base = 0 })))
      -- 1-based positions are not class ids: the trap gives a wrong number, not 0.75
      assert.are.equal(0, metrics.accuracy(ids, p:argmax(2)))
      -- a 1-d float tensor stays binary: p > 0.5 against 0/1 targets
      assert.are.equal(0.5, metrics.accuracy(lunet.tensor({ 1, 0, 1, 0 }), lunet.tensor({ 0.9, 0.6, 0.2, 0.1 })))
      assert.are.equal(0.5, metrics.accuracy(lunet.tensor({ 1, 0, 1, 0 }, "int32"), lunet.tensor({ 0.9, 0.6, 0.2, 0.1 })))
      assert.has_error(function() metrics.accuracy(ids, lunet.tensor({ 1, 2 }, "int32")) end,
        "accuracy: y_true of shape (4,) does not match y_pred of shape (2,)")
    end)
  end)

  describe("evaluate (trap 2)", function()
    it("score = model.evaluate(x, y); score[0], score[1] port as r[1], r[2] (and r.loss, r.accuracy)", function()
      S.seed(13)
      local x, y = problem(120, 5)
      local m = trained(x, y, { "accuracy", "sparse_categorical_accuracy" })
      local r = m:evaluate(x, y)
      assert.are.equal(3, #r)
      assert.are.equal(r.loss, r[1])
      assert.are.equal(r.accuracy, r[2])
      assert.are.equal(r.sparse_categorical_accuracy, r[3])
      assert.is_true(r.accuracy > 0.5)
      -- the loss is the mean cross-entropy of predict's output
      local p = m:predict(x)
      local want = lunet.losses.sparse_categorical_crossentropy(y, p):item()
      assert.is_true(math.abs(want - r.loss) < 1e-5 * math.max(1, want))
      local d = m:evaluate(x, y, { return_dict = true })
      assert.is_nil(d[1])
      assert.are.equal(r.loss, d.loss)
      assert.has_error(function() m:evaluate(x, y, { return_dict = 1 }) end, "evaluate: return_dict must be a boolean (got 1)")
    end)

    it("history.history keys are loss, acc, val_loss, val_acc as compiled: no list part reaches them", function()
      S.seed(14)
      local x, y = problem(80, 4)
      local m = nn.Sequential({ nn.Dense(3, { activation = "softmax", input_shape = { 4 } }) })
      m:compile({ optimizer = "sgd", loss = "sparse_categorical_crossentropy", metrics = { "acc" } })
      local seen = {}
      local h = m:fit(x, y, { epochs = 2, verbose = 0, validation_split = 0.25, callbacks = {
        { on_epoch_end = function(_, _, logs) for k in pairs(logs) do seen[k] = true end end } } })
      local keys = {}
      for k in pairs(h.history) do keys[#keys + 1] = k end
      table.sort(keys)
      assert.are.same({ "acc", "loss", "val_acc", "val_loss" }, keys)
      assert.are.same({ acc = true, loss = true, val_acc = true, val_loss = true }, seen)
    end)
  end)

  describe("dropout_selu (trap 3)", function()
    local x
    before_each(function() S.seed(15); x = lunet.randn(2000, 40) end)

    it("dropout_selu(x, keep_prob) is the identity by default, as the seed's training=False", function()
      local y = nn.dropout_selu(x, 0.3)
      assert.are.equal(x, y)
      assert.is_true(lunet.equal(nn.dropout_selu(x, 0.3, { training = false }), x))
    end)

    it("dropout_selu(x, rate, fixedPointMean=0.0, fixedPointVar=1.0, training=True) keeps mean 0 and var 1", function()
      local y = nn.dropout_selu(x, 0.3, { training = true, fixedPointMean = 0.0, fixedPointVar = 1.0, seed = 4 })
      assert.is_false(lunet.equal(x, y))
      assert.is_true(math.abs(y:mean():item()) < 0.02)
      assert.is_true(math.abs(y:std():item() - 1) < 0.02)
      -- the camelCase names are the snake_case ones
      local z = nn.dropout_selu(x, 0.3, { training = true, fixed_point_mean = 0.0, fixed_point_var = 1.0, seed = 4 })
      assert.is_true(lunet.equal(y, z))
      -- rate is the drop rate (the seed's dropout_selu_impl: keep_prob = 1 - rate): the
      -- dropped elements all hold a*alpha' + b, 30% of them
      local a, b, alpha = nn.dropout_selu_constants(0.3)
      local dropped = (y - (a * alpha + b)):abs():lt(1e-5):double():mean():item()
      assert.is_true(math.abs(dropped - 0.3) < 0.01, "dropped " .. dropped)
      -- another fixed point gives other constants
      local w = nn.dropout_selu(x, 0.3, { training = true, fixedPointMean = 0.1, fixedPointVar = 0.9, seed = 4 })
      assert.is_false(lunet.equal(y, w))
    end)

    it("dropout_selu(x, rate, noise_shape=[N, 1], seed=1) drops whole rows of the mask", function()
      local y = nn.dropout_selu(x, 0.5, { training = true, noise_shape = { 2000, 1 }, seed = 1 })
      local a, b, alpha = nn.dropout_selu_constants(0.5)
      local d = (y - (a * alpha + b)):abs():lt(1e-5):double():sum(2):totable()
      for i = 1, 2000 do assert.is_true(d[i] == 0 or d[i] == 40) end
    end)

    it("dropout_selu refuses unknown options and names given twice", function()
      assert.has_error(function() nn.dropout_selu(x, 0.1, { keep_prob = 0.9 }) end,
        "dropout_selu: unknown option 'keep_prob' (known: alpha, fixed_point_mean, fixed_point_var, name, noise_shape, seed, training)")
      assert.has_error(function() nn.dropout_selu(x, 0.1, { fixedPointVar = 1, fixed_point_var = 1 }) end)
      assert.has_error(function() nn.dropout_selu(x, 0.1, { training = 1 }) end,
        "dropout_selu: training must be a boolean (got 1)")
    end)
  end)

  describe("positional arguments", function()
    local x = lunet.tensor({ { -2, -0.5, 0.5, 3, 60 } })

    it("tf.keras.layers.ReLU(50) is max_value 50; LeakyReLU(alpha=0.05) ports as LeakyReLU(0.05)", function()
      assert.are.same({ { 0, 0, 0.5, 3, 50 } }, nn.ReLU(50)(x):totable())
      assert.are.same(nn.LeakyReLU({ alpha = 0.05 })(x):totable(), nn.LeakyReLU(0.05)(x):totable())
      assert.are.same(nn.ELU({ alpha = 0.5 })(x):totable(), nn.ELU(0.5)(x):totable())
      assert.are.same({ { 0, 0, 0, 3, 60 } }, nn.ThresholdedReLU(2)(x):totable())
      assert.are.equal(1, nn.Softmax(1).config.axis)
      -- ReLU(max_value, negative_slope, threshold), then options
      local r = nn.ReLU(6, 0.1, 1, { name = "r" })
      assert.are.equal("r", r.name)
      assert.are.same(A.relu(x, { max_value = 6, negative_slope = 0.1, threshold = 1 }):totable(), r(x):totable())
      assert.has_error(function() nn.ReLU(6, { max_value = 5 }) end,
        "ReLU: max_value is given twice (positionally and in the options)")
      assert.has_error(function() nn.LeakyReLU(0.1, 0.2) end,
        "LeakyReLU: takes at most 1 positional argument (alpha) before the options, got 2")
      -- the layers round-trip through save/load
      local m = nn.Sequential({ nn.Input({ 5 }), nn.Dense(5), nn.ReLU(50), nn.LeakyReLU(0.05) })
      local path = os.tmpname()
      m:save(path)
      local m2 = nn.load_model(path)
      os.remove(path)
      assert.are.equal(50, m2.layers[2].config.max_value)
      assert.are.equal(0.05, m2.layers[3].config.alpha)
    end)

    it("Dropout(0.2) and AlphaDropout(0.1) take the rate first", function()
      assert.are.equal(0.2, nn.Dropout(0.2).rate)
      assert.are.equal(0.1, nn.AlphaDropout(0.1).rate)
    end)

    it("K.relu(x, alpha=0.1, max_value=6, threshold=1) ports positionally or with alpha by name", function()
      local want = {}
      for i, v in ipairs(x:totable()[1]) do
        -- Keras' code: clip(x * (x > threshold), 0, max_value) - alpha * relu(-x + threshold)
        local pos = v > 1 and v or 0
        pos = math.min(math.max(pos, 0), 6)
        want[i] = pos - 0.1 * math.max(-v + 1, 0)
      end
      local y1 = A.relu(x, 0.1, 6, 1):totable()[1]
      local y2 = A.relu(x, { alpha = 0.1, max_value = 6, threshold = 1 }):totable()[1]
      for i = 1, #want do
        assert.is_true(math.abs(y1[i] - want[i]) < 1e-6)
        assert.are.equal(y1[i], y2[i])
      end
      assert.has_error(function() A.relu(x, { alpha = 0.1, negative_slope = 0.1 }) end)
    end)
  end)

  describe("summary, Input, input_dim, count_params", function()
    it("tf.keras.Input(shape=(x_train.shape[1],)) as the first element of a Sequential", function()
      local m = nn.Sequential({ nn.Input({ shape = { 48 } }), nn.Dense(50), nn.Dense(11, { activation = "softmax" }) })
      assert.are.same({ 48 }, m.input_shape)
      assert.are.equal(48 * 50 + 50 + 50 * 11 + 11, m:count_params())
      local m2 = nn.Sequential({ nn.Input({ 28, 28, 1 }), nn.Flatten(), nn.Dense(10) })
      assert.are.same({ 784 }, m2.output_shapes[1])
      -- the summary lists layers only, as Keras' Sequential
      assert.is_nil(m:summary(quiet):find("Input"))
      assert.has_error(function() nn.Sequential({ nn.Dense(3, { input_shape = { 2 } }), nn.Input({ 2 }) }) end,
        "Sequential.add: an Input must come first, before any layer and without an input_shape")
      assert.has_error(function() nn.Sequential({ nn.Input({ 3 }), nn.Dense(3, { input_shape = { 2 } }) }) end)
      assert.has_error(function() nn.Input({ shap = { 1 } }) end, "Input: unknown option 'shap' (known: name, shape)")
      assert.has_error(function() nn.Input({ shape = { 0 } }) end)
    end)

    it("Dense(512, input_dim=784) is Dense(512, input_shape=(784,))", function()
      local m = nn.Sequential({ nn.Dense(512, { input_dim = 784 }) })
      assert.are.same({ 784 }, m.input_shape)
      assert.are.equal(784 * 512 + 512, m:count_params())
      assert.has_error(function() nn.Dense(5, { input_dim = 0 }) end, "Dense: input_dim must be a positive integer (got 0)")
      assert.has_error(function() nn.Dense(5, { input_dim = 3, input_shape = { 4 } }) end)
    end)

    it("model.count_params() counts trainable and frozen weights; unbuilt is an error", function()
      local m = nn.Sequential({ nn.Dense(4, { input_shape = { 3 } }), nn.Dense(2, { trainable = false }) })
      assert.are.equal(16 + 10, m:count_params())
      assert.has_error(function() nn.Sequential({ nn.Dense(4) }):count_params() end)
    end)
  end)

  describe("predict and activation names", function()
    it("model.predict(x) casts float64 and integer input to the model's float32", function()
      S.seed(16)
      local m = nn.Sequential({ nn.Dense(3, { input_shape = { 4 } }) })
      local x = lunet.randn(5, 4, "float64")
      local p32 = m:predict(x:float())
      local p64 = m:predict(x)
      assert.are.equal("float32", p64:dtype())
      assert.is_true(lunet.equal(p32, p64))
      local xi = lunet.tensor({ { 1, 2, 3, 4 } }, "int32")
      assert.is_true(lunet.equal(m:predict(xi), m:predict(xi:float())))
      assert.are.equal("int32", m:predict_classes(x):dtype())
    end)

    it("Dense(64, activation='prelu') fails at construction and points to the PReLU layer", function()
      assert.has_error(function() nn.Dense(64, { activation = "prelu" }) end,
        "Dense: activation 'prelu' has trainable weights and cannot be named here; " ..
        "use a linear Dense followed by the PReLU layer (nn.PReLU())")
      assert.has_error(function() nn.Activation("pelu") end,
        "Activation: activation 'pelu' has trainable weights and cannot be named here; use the PELU layer (nn.PELU())")
    end)
  end)

  describe("losses", function()
    local L = lunet.losses

    -- -log softmax(z)[k] in Lua float64, from the definition
    local function nll(row, k)
      local m = -math.huge
      for _, v in ipairs(row) do m = math.max(m, v) end
      local sum = 0
      for _, v in ipairs(row) do sum = sum + math.exp(v - m) end
      return m + math.log(sum) - row[k + 1]
    end

    it("tf.nn.sparse_softmax_cross_entropy_with_logits(logits=logits, labels=y) gives one value per row", function()
      S.seed(21)
      local z = lunet.randn(6, 4, "float64") * 3
      local y = lunet.tensor({ 0, 3, 1, 2, 3, 0 }, "int32")
      local got = L.sparse_softmax_cross_entropy_with_logits({ labels = y, logits = z })
      assert.are.same({ 6 }, got:shape())
      local zt, gt = z:totable(), got:totable()
      for i = 1, 6 do assert.is_true(math.abs(gt[i] - nll(zt[i], y:get(i))) < 1e-12) end
      assert.is_true(lunet.equal(got, L.sparse_softmax_cross_entropy_with_logits(y, z)))
      -- tf.reduce_mean(xentropy) is the Keras loss with from_logits
      assert.is_true(math.abs(got:mean():item() - L.sparse_categorical_crossentropy(y, z, true):item()) < 1e-12)
      -- the dense form agrees on one-hot rows
      local dense = L.softmax_cross_entropy_with_logits(lunet.utils.to_categorical(y, 4), z)
      assert.is_true(lunet.allclose(dense, got, 0, 1e-12))
      assert.has_error(function() L.sparse_softmax_cross_entropy_with_logits(lunet.tensor({ 4, 0, 0, 0, 0, 0 }, "int32"), z) end)
      assert.has_error(function() L.sparse_softmax_cross_entropy_with_logits({ labels = y, logit = z }) end,
        "sparse_softmax_cross_entropy_with_logits: unknown option 'logit' (known: labels, logits)")
    end)

    it("from_logits=True is stable: logits of 1000 give the exact loss, no inf or NaN", function()
      for _, dt in ipairs({ "float32", "float64" }) do
        local z = lunet.tensor({ { 1000, 0, -1000 }, { -1000, 1000, 0 } }, dt)
        local y = lunet.tensor({ 1, 1 }, "int32")
        local rows = L.sparse_softmax_cross_entropy_with_logits(y, z):totable()
        assert.are.equal(1000, rows[1])
        assert.are.equal(0, rows[2])
        local zg = z:clone():requires_grad()
        L.sparse_categorical_crossentropy(y, zg, true):backward()
        -- d/dz mean(loss) = (softmax - one_hot) / N
        assert.is_true(lunet.allclose(zg:grad(), lunet.tensor({ { 0.5, -0.5, 0 }, { 0, 0, 0 } }, dt), 0, 1e-6))
      end
    end)

    it("the fused softmax cross-entropy has exact float64 gradients (gradcheck), ids and dense targets", function()
      S.seed(22)
      local z = lunet.randn(5, 7, "float64")
      local ids = lunet.tensor({ 0, 6, 3, 3, 1 }, "int32")
      local soft = lunet.rand(5, 7, "float64")
      local w = lunet.randn(5, "float64") -- an upstream gradient that differs per row
      assert.is_true(lunet.autograd.gradcheck(function(a)
        return (L.sparse_softmax_cross_entropy_with_logits(ids, a) * w):sum() end, { z }))
      assert.is_true(lunet.autograd.gradcheck(function(a)
        return (L.softmax_cross_entropy_with_logits(soft, a) * w):sum() end, { z }))
      assert.is_true(lunet.autograd.gradcheck(function(a)
        return L.categorical_crossentropy(soft, a, true) end, { z:reshape(5, 1, 7) }))
    end)

    it("loss=tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True) compiles and trains a linear-output model", function()
      S.seed(23)
      local x, y = problem(200, 4)
      local obj = L.SparseCategoricalCrossentropy({ from_logits = true })
      local z = lunet.randn(200, 3)
      assert.is_true(lunet.equal(obj(y, z), L.sparse_categorical_crossentropy(y, z, true)))
      local m = nn.Sequential({ nn.Dense(16, { activation = "relu", input_shape = { 4 } }), nn.Dense(3) })
      m:compile({ optimizer = "adam", loss = obj, metrics = { "accuracy" } })
      local h = m:fit(x, y, { epochs = 20, verbose = 0 })
      assert.is_true(h.history.loss[20] < h.history.loss[1])
      assert.is_true(h.history.accuracy[20] > 0.6)
      local r = m:evaluate(x, y)
      assert.is_true(math.abs(r.loss - L.sparse_categorical_crossentropy(y, m:predict(x), true):item()) < 1e-5)
    end)

    it("CategoricalCrossentropy(), BinaryCrossentropy(from_logits=True), MeanSquaredError() are the loss functions", function()
      S.seed(24)
      local p = lunet.rand(6, 3) + 0.1
      local t = lunet.utils.to_categorical(lunet.tensor({ 0, 1, 2, 2, 1, 0 }, "int32"), 3)
      assert.is_true(lunet.equal(L.CategoricalCrossentropy()(t, p), L.categorical_crossentropy(t, p)))
      local zb, yb = lunet.randn(6, 1), lunet.tensor({ { 1 }, { 0 }, { 1 }, { 1 }, { 0 }, { 0 } })
      assert.is_true(lunet.equal(L.BinaryCrossentropy({ from_logits = true })(yb, zb), L.binary_crossentropy(yb, zb, true)))
      assert.is_true(lunet.equal(L.MeanSquaredError()(t, p), L.mean_squared_error(t, p)))
      assert.has_error(function() L.MeanSquaredError({ from_logits = true }) end,
        "MeanSquaredError: unknown option 'from_logits' (known: name)")
      assert.has_error(function() L.CategoricalCrossentropy({ from_logits = 1 }) end)
      -- compile{loss=, from_logits=} is not Keras' form: refused
      local m = nn.Sequential({ nn.Dense(3, { input_shape = { 2 } }) })
      assert.has_error(function() m:compile({ loss = "categorical_crossentropy", from_logits = true }) end)
    end)
  end)

  describe("layer names and custom layers", function()
    it("to_snake_case as Keras 2: Conv2D -> conv2d, PReLU -> p_re_lu, with per-name counters", function()
      local want = { Conv2D = "conv2d", PReLU = "p_re_lu", AlphaDropout = "alpha_dropout",
        GlobalAveragePooling2D = "global_average_pooling2d", ThresholdedReLU = "thresholded_re_lu",
        LeakyReLU = "leaky_re_lu", ELU = "elu", HTTPServer = "http_server", Conv2DTranspose = "conv2d_transpose",
        _Private = "private__private", MyScale = "my_scale" }
      for name, snake in pairs(want) do assert.are.equal(snake, nn.snake_case(name), name) end
      local a, b, c = nn.PReLU(), nn.Dense(2), nn.PReLU()
      assert.are.same({ "p_re_lu_1", "dense_1", "p_re_lu_2" }, { a.name, b.name, c.name })
      local Conv2DLike = nn.Layer:extend("MyConv2D")
      assert.are.equal("my_conv2d_1", Conv2DLike().name)
    end)

    it("class PELU(Layer) with __init__(self, units) and get_config {'units'} reloads with custom_objects", function()
      local PELU = nn.Layer:extend("SeedPELU")
      function PELU:init(units, opts)
        nn.Layer.init(self, opts)
        self.units = units
      end
      function PELU:build()
        self.alpha = self:add_weight({ name = "alpha", shape = { self.units }, constraint = "non_neg",
          initializer = lunet.initializers.RandomUniform({ minval = 0, maxval = 1 }) })
        self.beta = self:add_weight({ name = "beta", shape = { self.units }, constraint = "non_neg",
          initializer = lunet.initializers.RandomUniform({ minval = 0, maxval = 1 }) })
      end
      function PELU:call(x) return A.pelu(x, self.alpha, self.beta + 0.1) end
      function PELU:get_config()
        local c = nn.Layer.get_config(self)
        c.units = self.units
        return c
      end
      S.seed(31)
      local m = nn.Sequential({ nn.Input({ shape = { 6 } }), nn.Dense(50), PELU(50), nn.Dense(3, { activation = "softmax" }) })
      local x = lunet.randn(4, 6)
      local path = os.tmpname()
      m:save(path)
      local m2 = nn.load_model(path, { custom_objects = { SeedPELU = PELU } })
      os.remove(path)
      assert.are.equal(50, m2.layers[2].units)
      assert.are.equal(m.layers[2].name, m2.layers[2].name)
      assert.is_true(lunet.equal(m:predict(x), m2:predict(x)))
    end)

    it("a user class registered under a built-in's name is an error, not a silent shadow on load", function()
      assert.has_error(function() nn.Layer:extend("Dense") end,
        "Layer:extend: 'Dense' is the name of a built-in layer; give your class another name")
      local Mine = nn.Layer:extend("MineForRegister")
      assert.has_error(function() nn.register("PReLU", Mine) end,
        "register: 'PReLU' is the name of a built-in layer; give your class another name")
      local m = nn.Sequential({ nn.Dense(2, { input_shape = { 2 } }) })
      local path = os.tmpname()
      m:save(path)
      assert.has_error(function() nn.load_model(path, { custom_objects = { Dense = Mine } }) end,
        "load_model: custom_objects names the built-in layer 'Dense'; give your class another name")
      assert.are.equal("Dense", nn.load_model(path, { custom_objects = { Dense = nn.Dense } }).layers[1].class_name)
      os.remove(path)
    end)
  end)

  describe("callbacks and fit", function()
    -- what fn writes to io.stderr
    local function stderr_of(fn)
      local saved, out = io.stderr, {}
      io.stderr = { write = function(_, ...) for _, v in ipairs({ ... }) do out[#out + 1] = v end end, flush = function() end }
      local ok, err = pcall(fn)
      io.stderr = saved
      assert(ok, err)
      return table.concat(out)
    end

    local function model()
      local m = nn.Sequential({ nn.Dense(2, { input_shape = { 3 }, activation = "softmax" }) })
      m:compile({ optimizer = "sgd", loss = "sparse_categorical_crossentropy", metrics = { "acc" } })
      return m
    end
    local x = lunet.randn(20, 3)
    local y = lunet.tensor({ 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1 }, "int32")

    it("EarlyStopping(monitor='val_acc') without validation warns once on stderr and training goes on", function()
      local m = model()
      local h
      local err = stderr_of(function()
        h = m:fit(x, y, { epochs = 4, verbose = 0, callbacks = { lunet.callbacks.EarlyStopping({ monitor = "val_acc" }) } })
      end)
      assert.are.equal(4, #h.history.loss)
      local _, count = err:gsub("WARNING: EarlyStopping", "")
      assert.are.equal(1, count)
      assert.truthy(err:find("'val_acc'", 1, true))
      assert.truthy(err:find("available: acc, loss", 1, true))
    end)

    it("ModelCheckpoint(path, save_best_only=True) warns once when the monitor is missing and saves nothing", function()
      local m = model()
      local path = os.tmpname()
      os.remove(path)
      local err = stderr_of(function()
        m:fit(x, y, { epochs = 3, verbose = 0,
          callbacks = { lunet.callbacks.ModelCheckpoint(path, { save_best_only = true, monitor = "val_loss" }) } })
      end)
      local _, count = err:gsub("WARNING: ModelCheckpoint", "")
      assert.are.equal(1, count)
      assert.truthy(err:find("'val_loss'", 1, true))
      assert.is_nil(io.open(path, "rb"))
    end)

    it("fit(validation_data=(x_val, y_val, sample_weight)) is an error, not silently ignored", function()
      local m = model()
      assert.has_error(function() m:fit(x, y, { verbose = 0, validation_data = { x, y, lunet.ones(20) } }) end,
        "fit: validation_data has a third element (sample weights), which lunet does not support; pass {x_val, y_val}")
      local h = m:fit(x, y, { epochs = 1, verbose = 0, validation_data = { x, y } })
      assert.is_not_nil(h.history.val_acc)
    end)
  end)

  describe("TensorFlow and numpy forms", function()
    it("with tf.GradientTape() as tape: tape.watch(a); y = pelu(x); tape.jacobian(y, a) == the closed form", function()
      local x = lunet.linspace(-5, 5, 11, "float64")
      local a = lunet.tensor({ 0.7 }, "float64")
      local b = lunet.tensor({ 0.4 }, "float64")
      local tape = lunet.autograd.GradientTape()
      tape:watch(a)
      local y = A.pelu(x, a, b)
      local J = tape:jacobian(y, a)
      assert.are.same({ 11, 1 }, J:shape())
      for i = 1, 11 do
        local xi = x[i]
        local want = xi >= 0 and xi / 0.4 or math.exp(xi / 0.4) - 1
        assert.is_true(math.abs(J:get(i, 1) - want) < 1e-12)
      end
      -- tape.gradient(y, a) is d sum(y) / d a
      local g = tape:gradient(y, a)
      assert.is_true(math.abs(g:item() - J:sum():item()) < 1e-12)
      assert.has_error(function() tape:jacobian(y, x) end,
        "GradientTape:jacobian: the source is not watched (tape:watch(t) it, or use a tensor that requires grad)")
    end)

    it("tf.reduce_all / np.all and np.any: t:all(), t:any(), over a dim too", function()
      local t = lunet.tensor({ { 1, 0 }, { 2, 3 } })
      assert.is_false(t:all())
      assert.is_true(t:any())
      assert.is_true(lunet.all(t:abs():lt(4)))
      assert.are.same({ 0, 1 }, t:all(2):totable())
      assert.are.same({ 1, 1 }, t:any(1):totable())
      assert.is_true(lunet.zeros(0):all())
      assert.is_false(lunet.zeros(0):any())
      assert.has_error(function() t:all(3) end)
    end)

    it("np.exp(x), np.abs(x) as lunet.exp(x), lunet.abs(x), recorded for autograd", function()
      local x = lunet.tensor({ -1, 0, 2 }, "float64")
      assert.is_true(lunet.equal(lunet.exp(x), x:exp()))
      assert.is_true(lunet.equal(lunet.abs(x), x:abs()))
      assert.is_true(lunet.autograd.gradcheck(function(v) return lunet.exp(v):sum() end, { x }))
    end)

    it("tf.keras.Sequential(layers=[...], name=...) ports as Sequential({layers = {...}, name = ...})", function()
      local m = nn.Sequential({ layers = { nn.Input({ shape = { 3 } }), nn.Dense(2) }, name = "kw" })
      assert.are.equal("kw", m.name)
      assert.are.equal(1, #m.layers)
      assert.are.equal("Sequential kw (1 layers)", tostring(m))
      assert.has_error(function() nn.Sequential({ layer = {} }) end, "Sequential: unknown option 'layer' (known: layers, name)")
    end)
  end)

  describe("small Keras and numpy names", function()
    it("model.predict_proba(x) (Keras 2) is predict's output", function()
      S.seed(41)
      local m = nn.Sequential({ nn.Dense(3, { activation = "softmax", input_shape = { 2 } }) })
      local x = lunet.randn(7, 2)
      assert.is_true(lunet.equal(m:predict_proba(x), m:predict(x)))
      assert.has_error(function() m:predict_proba(lunet.zeros(2, 5)) end,
        "predict_proba: " .. m.name .. " expects input of shape (None, 2), got (2, 5)")
    end)

    it("(x_train, y_train), (x_test, y_test) = mnist.load_data() ports as four results", function()
      local dir = S.tmpdir()
      S.seed(42)
      S.write_mnist_like(dir, 20, 10)
      S.write_mnist_like(dir, 20, 10, "fashion-mnist")
      local a, b, c, d = lunet.datasets.mnist.load_data(dir .. "/mnist")
      local a2, b2, c2, d2 = lunet.datasets.mnist.load(dir .. "/mnist")
      assert.are.same({ { 20, 28, 28 }, { 20 }, { 10, 28, 28 }, { 10 } }, { a:shape(), b:shape(), c:shape(), d:shape() })
      assert.is_true(lunet.equal(a, a2) and lunet.equal(b, b2) and lunet.equal(c, c2) and lunet.equal(d, d2))
      local fa = lunet.datasets.fashion_mnist.load_data(dir .. "/fashion-mnist")
      assert.are.same({ 20, 28, 28 }, fa:shape())
      assert.has_error(function() lunet.datasets.mnist.load_data(dir .. "/nothing") end)
      S.remove_tmpdir(dir)
    end)

    it("np.floor, np.ceil, np.round, np.trunc, np.clip as lunet.floor(x) ... lunet.clip(x, lo, hi)", function()
      local x = lunet.tensor({ -1.5, -0.5, 0.5, 1.5, 2.5 })
      assert.are.same({ -2, -1, 0, 1, 2 }, lunet.floor(x):totable())
      assert.are.same({ -1, -0.0, 1, 2, 3 }, lunet.ceil(x):totable())
      assert.are.same({ -2, -0.0, 0, 2, 2 }, lunet.round(x):totable()) -- half to even
      assert.are.same({ -1, -0.0, 0, 1, 2 }, lunet.trunc(x):totable())
      assert.are.same({ -1, -0.5, 0.5, 1, 1 }, lunet.clip(x, -1, 1):totable())
      assert.are.same({ -1.5, -0.5, 0.5, 1, 1 }, lunet.clip(x, nil, 1):totable())
      assert.has_error(function() lunet.floor(3) end)
      assert.has_error(function() lunet.clip(x, 2, 1) end)
    end)

    it("tf.keras.losses.MeanAbsoluteError() and losses.is_loss_object", function()
      local L = lunet.losses
      local a, b = lunet.tensor({ { 1, 2 }, { 3, 4 } }), lunet.tensor({ { 1.5, 2 }, { 2, 4 } })
      local mae = L.MeanAbsoluteError()
      assert.are.equal(0.375, mae(a, b):item())
      assert.is_true(L.is_loss_object(mae))
      assert.is_false(L.is_loss_object(L.mean_absolute_error))
      assert.are.equal("MeanAbsoluteError(from_logits=false)", tostring(mae))
      assert.are.equal(mae, L.get(mae))
      assert.has_error(function() mae(a, lunet.ones(3, 2)) end)
      assert.has_error(function() getmetatable(mae).__call(5, a, b) end, "Loss.__call: self must be a loss object (got 5)")
      assert.are.equal("Input(shape=(None, 28, 28, 1))", tostring(nn.Input({ 28, 28, 1 })))
    end)
  end)
end)
