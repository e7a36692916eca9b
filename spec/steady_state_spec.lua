-- spec/steady_state_spec.lua - training reuses its buffers: after the first
-- step of an epoch, fit makes no new tensor storage (core.storage_count) and
-- takes no new pages (minor faults), and the reuse changes no number.
local lunet = require("lunet")
local S = require("support")
local nn = lunet.nn
local core = lunet.core
local autograd = lunet.autograd

-- the SNN MLP of seed 000 (narrower), and its data
local function snn(loss)
  local m = nn.Sequential({
    nn.Dense(256, { activation = "selu", kernel_initializer = "lecun_normal", input_shape = { 100 } }),
    nn.AlphaDropout(0.1),
    nn.Dense(256, { activation = "selu", kernel_initializer = "lecun_normal" }),
    nn.AlphaDropout(0.1),
    nn.Dense(10, { activation = "softmax" }),
  })
  m:compile({ optimizer = "rmsprop", loss = loss or "categorical_crossentropy", metrics = { "accuracy" } })
  return m
end

local function data(n)
  local x = lunet.randn(n, 100)
  local labels = lunet.uniform({ n }, 0, 10):int()
  return x, labels, lunet.losses.one_hot("spec", labels, 10)
end

local function minor_faults()
  local f = io.open("/proc/self/stat")
  if not f then return nil end
  local s = f:read("a")
  f:close()
  -- the fields after the command name (in parentheses, which may hold spaces)
  local rest = s:match("%) (.*)$")
  local fields = {}
  for w in rest:gmatch("%S+") do fields[#fields + 1] = w end
  return tonumber(fields[8]) -- field 10 of the line: minflt
end

-- storages and faults seen at the end of each step of one epoch
local function watch(model, x, y, opts)
  local seen = { storages = {}, faults = {} }
  local cb = {
    on_batch_end = function(_, b)
      seen.storages[b + 1] = core.storage_count()
      seen.faults[b + 1] = minor_faults()
    end,
  }
  opts = opts or {}
  opts.batch_size, opts.epochs, opts.verbose, opts.callbacks = 32, 1, 0, { cb }
  model:fit(x, y, opts)
  return seen
end

describe("training in the steady state", function()
  after_each(function() autograd.set_buffer_reuse(true) end)

  it("makes no tensor storage after the first step of an epoch (steps 2..10)", function()
    S.seed(41)
    local x, labels, onehot = data(320)
    for _, case in ipairs({ { "categorical_crossentropy", onehot }, { "sparse_categorical_crossentropy", labels } }) do
      local model = snn(case[1])
      local seen = watch(model, x, case[2]) -- shuffled: the batches are gathered
      assert.are.equal(10, #seen.storages)
      assert.are.equal(seen.storages[1], seen.storages[10], case[1])
      -- the same without shuffling (the batches are views)
      seen = watch(model, x, case[2], { shuffle = false })
      assert.are.equal(seen.storages[1], seen.storages[10], case[1] .. ", no shuffle")
    end
  end)

  it("makes no tensor storage after the first step in a CNN with pooling and BatchNormalization", function()
    S.seed(46)
    local x = lunet.randn(160, 12, 12, 1)
    local labels = lunet.uniform({ 160 }, 0, 10):int()
    local model = nn.Sequential({
      nn.Conv2D(4, { 3, 3 }, { activation = "relu", input_shape = { 12, 12, 1 } }),
      nn.MaxPooling2D({ 2, 2 }),
      nn.Conv2D(4, { 3, 3 }, { padding = "same" }),
      nn.LeakyReLU(0.05),
      nn.AveragePooling2D({ 2, 2 }),
      nn.BatchNormalization(),
      nn.Flatten(),
      nn.Dense(16, { activation = "relu" }),
      nn.Dense(10, { activation = "softmax" }),
    })
    model:compile({ optimizer = "adam", loss = "sparse_categorical_crossentropy", metrics = { "accuracy" } })
    local seen = watch(model, x, labels)
    assert.are.equal(5, #seen.storages)
    assert.are.equal(seen.storages[1], seen.storages[5])
  end)

  it("takes no new pages after the first step of an epoch", function()
    -- (no /proc, or ASan's allocator, whose quarantine keeps taking fresh pages)
    if not minor_faults() or S.sanitized then return end
    S.seed(42)
    local x, _, onehot = data(320)
    local model = snn()
    watch(model, x, onehot) -- the first epoch sizes the heap
    collectgarbage()
    local seen = watch(model, x, onehot)
    assert.are.equal(seen.faults[2], seen.faults[10])
  end)

  it("without reuse every step makes its tensors anew (what the counter would catch)", function()
    S.seed(43)
    local x, _, onehot = data(320)
    autograd.set_buffer_reuse(false)
    local seen = watch(snn(), x, onehot)
    assert.is_true(seen.storages[10] - seen.storages[2] >= 8 * 20, "storages " .. seen.storages[10] - seen.storages[2])
  end)

  it("gives bit-identical weights, history and train_on_batch logs with and without reuse", function()
    local function train(on)
      autograd.set_buffer_reuse(on)
      S.seed(44)
      local x, _, onehot = data(256)
      local model = nn.Sequential({
        nn.Dense(100, { activation = "tanh", input_shape = { 100 } }),
        nn.Dense(100, { activation = "selu" }), nn.AlphaDropout(0.2), nn.Dense(100, { activation = "relu" }),
        nn.Dense(10, { activation = "softmax" }),
      })
      model:compile({ optimizer = "adam", loss = "categorical_crossentropy", metrics = { "accuracy" } })
      local h = model:fit(x, onehot, { batch_size = 32, epochs = 2, verbose = 0 })
      local logs = model:train_on_batch(x:narrow(1, 1, 64), onehot:narrow(1, 1, 64))
      return model:get_weights(), h.history, logs
    end
    local w1, h1, l1 = train(false)
    local w2, h2, l2 = train(true)
    assert.are.equal(#w1, #w2)
    for i = 1, #w1 do assert.is_true(lunet.equal(w1[i], w2[i]), "weight " .. i) end
    assert.are.same(h1, h2)
    assert.are.same(l1, l2)
  end)

  it("leaves what fit returns and what predict gives apart from the buffers", function()
    S.seed(45)
    local x, _, onehot = data(64)
    local model = snn()
    model:fit(x, onehot, { batch_size = 32, epochs = 1, verbose = 0 })
    local before = model:predict(x)
    local kept = before:clone()
    local g = model.layers[1].kernel:grad()
    local g_copy = g and g:clone()
    model:fit(x, onehot, { batch_size = 32, epochs = 1, verbose = 0 })
    assert.is_true(lunet.equal(before, kept)) -- predict's result is the caller's
    -- the gradient of the last step is there after fit
    assert.is_not_nil(g_copy)
    assert.is_not_nil(model.layers[1].kernel:grad())
  end)

  it("refuses a workspace that is not a table, and an owner that cannot key one", function()
    assert.has_error(function() core.dense(lunet.ones(2, 3), lunet.ones(3, 4), nil, "linear", false, 5) end,
      "dense: expected a workspace table or nil for argument 6, got number")
    assert.has_error(function() core.dropout(lunet.ones(4), 0.5, 1, 0, 0, nil, lunet.ones(1)) end,
      "dropout: expected a workspace table or nil for argument 7, got userdata")
    assert.has_error(function() autograd.workspace("x") end,
      "workspace: owner must be a table or a function (got \"x\")")
    assert.has_error(function() autograd.set_buffer_reuse(1) end, "set_buffer_reuse: on must be a boolean (got 1)")
  end)

  it("writes a workspace's buffer again only when it fits the result and is not an input", function()
    local ws = {}
    local x, W = lunet.ones(2, 3), lunet.ones(3, 4)
    local y1 = core.dense(x, W, nil, "linear", false, ws)
    assert.is_true(rawequal(ws.y, y1))
    local y2 = core.dense(x, W, nil, "linear", false, ws)
    assert.is_true(rawequal(y1, y2))
    -- another shape: a new buffer
    local y3 = core.dense(lunet.ones(5, 3), W, nil, "linear", false, ws)
    assert.is_false(rawequal(y3, y2))
    assert.are.same({ 5, 4 }, y3:shape())
    -- the buffer given as the input: not overwritten in place
    local sq = lunet.ones(4, 4)
    ws = { y = sq }
    local y4 = core.dense(sq, lunet.eye(4), nil, "linear", false, ws)
    assert.is_false(rawequal(y4, sq))
    assert.is_true(lunet.equal(y4, lunet.ones(4, 4)))
    -- index_select's out
    local t = lunet.arange(1, 13):reshape(4, 3)
    local out = lunet.zeros({ 2, 3 }, t:dtype())
    local r = t:index_select(1, { 4, 1 }, out)
    assert.is_true(rawequal(r, out))
    assert.are.same({ { 10, 11, 12 }, { 1, 2, 3 } }, out:totable())
    local r2 = t:index_select(1, { 2 }, out) -- not its shape: a new tensor
    assert.is_false(rawequal(r2, out))
  end)
end)

describe("the collector in the steady state", function()
  it("keeps up with the tape's garbage when the data is large (the heap stays within an eighth of it)", function()
    S.seed(47)
    local ballast = lunet.zeros(16 * 1024 * 1024) -- 64 MiB alive throughout, as a data set is
    local x = lunet.randn(8000, 8)
    local y = lunet.randn(8000, 1)
    local model = nn.Sequential({ nn.Dense(4, { activation = "relu", input_shape = { 8 } }), nn.Dense(1) })
    model:compile({ optimizer = "sgd", loss = "mse" })
    model:fit(x, y, { batch_size = 8, epochs = 1, verbose = 0 })
    collectgarbage()
    local base = collectgarbage("count")
    local peak = base
    local cb = { on_batch_end = function() peak = math.max(peak, collectgarbage("count")) end }
    -- fit asks for a full collection each time its steps made an eighth of the heap
    local collections, real = 0, collectgarbage
    _G.collectgarbage = function(what, ...)
      if what == "collect" then collections = collections + 1 end
      return real(what, ...)
    end
    local ok, err = pcall(model.fit, model, x, y, { batch_size = 1, epochs = 1, verbose = 0, callbacks = { cb } })
    _G.collectgarbage = real
    assert(ok, err)
    -- 8000 steps make some 27 MiB of tape: three eighths of the 64 MiB heap
    assert.is_true(collections >= 2, "collections " .. collections)
    assert.is_true(peak - base < 64 * 1024 / 4, string.format("the heap grew by %.0f KiB", peak - base))
    assert.are.equal(16 * 1024 * 1024, ballast:numel())
  end)
end)

describe("autograd.rebind_buffer", function()
  it("makes the next steps write a gradient into the view given, in place", function()
    S.seed(48)
    local x, y = lunet.randn(64, 5), lunet.randn(64, 3)
    local model = nn.Sequential({ nn.Dense(3, { input_shape = { 5 } }) })
    model:compile({ optimizer = "sgd", loss = "mse" })
    model:train_on_batch(x, y)
    local W = model.layers[1].kernel
    local g = W:grad()
    local big = lunet.zeros(100)
    local view = big:narrow(1, 11, 15):reshape(5, 3)
    assert.is_true(autograd.rebind_buffer(g, view) >= 1)
    model:train_on_batch(x, y)
    assert.is_true(rawequal(W:grad(), view))
    -- the gradient landed in big's elements 11..25, nothing around it
    assert.is_true(big:narrow(1, 11, 15):abs():sum():item() > 0)
    assert.are.equal(0, big:narrow(1, 1, 10):abs():sum():item())
    assert.are.equal(0, big:narrow(1, 26, 75):abs():sum():item())
    -- and it is the gradient the step without the view gives
    autograd.set_buffer_reuse(false)
    local again = nn.Sequential({ nn.Dense(3, { input_shape = { 5 } }) })
    again:compile({ optimizer = "sgd", loss = "mse" })
    again:set_weights(model:get_weights())
    model:train_on_batch(x, y)
    again:train_on_batch(x, y)
    autograd.set_buffer_reuse(true)
    assert.is_true(lunet.allclose(model.layers[1].kernel:grad(), again.layers[1].kernel:grad(), 1e-6, 1e-7))
    assert.are.equal(0, autograd.rebind_buffer(lunet.zeros(1), lunet.zeros(1)))
  end)
end)
