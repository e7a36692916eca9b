-- spec/conv_spec.lua - Conv2D and MaxPooling2D (NHWC, kernels (kh, kw, in,
-- out) as Keras) against nested-loop references written here, their float64
-- gradients, save/load, seed 003's summary, and the errors of bad input.
local lunet = require("lunet")
local S = require("support")
local nn = lunet.nn

-- TensorFlow's padding: the output size and the cells before
local function geometry(n, k, s, d, padding)
  local ext = (k - 1) * d + 1
  if padding == "same" then
    local o = (n + s - 1) // s
    local pad = math.max((o - 1) * s + ext - n, 0)
    return o, pad // 2
  end
  return (n - ext) // s + 1, 0
end

-- y[b][i][j][o] = bias[o] + sum over u, v, c of x[b][i*s+u*d-pt][j*s+v*d-pl][c] * w[u][v][c][o]
local function conv_ref(x, w, b, s, d, padding)
  local X, W = x:totable(), w:totable()
  local n, h, wd, c = x:size(1), x:size(2), x:size(3), x:size(4)
  local kh, kw, o = w:size(1), w:size(2), w:size(4)
  local oh, pt = geometry(h, kh, s[1], d[1], padding)
  local ow, pl = geometry(wd, kw, s[2], d[2], padding)
  local B = b and b:totable()
  local y = {}
  for bi = 1, n do
    y[bi] = {}
    for i = 1, oh do
      y[bi][i] = {}
      for j = 1, ow do
        local out = {}
        for f = 1, o do
          local acc = B and B[f] or 0
          for u = 1, kh do
            local r = (i - 1) * s[1] + (u - 1) * d[1] - pt + 1
            for v = 1, kw do
              local q = (j - 1) * s[2] + (v - 1) * d[2] - pl + 1
              if r >= 1 and r <= h and q >= 1 and q <= wd then
                for ch = 1, c do acc = acc + X[bi][r][q][ch] * W[u][v][ch][f] end
              end
            end
          end
          out[f] = acc
        end
        y[bi][i][j] = out
      end
    end
  end
  return y
end

-- each window's cells inside the input, reduced by mode: "max" or "avg"
-- (the mean over those cells, TensorFlow's "same")
local function pool_ref(x, p, s, padding, mode)
  local X = x:totable()
  local n, h, w, c = x:size(1), x:size(2), x:size(3), x:size(4)
  local oh, pt = geometry(h, p[1], s[1], 1, padding)
  local ow, pl = geometry(w, p[2], s[2], 1, padding)
  local y = {}
  for bi = 1, n do
    y[bi] = {}
    for i = 1, oh do
      y[bi][i] = {}
      for j = 1, ow do
        local out = {}
        for ch = 1, c do
          local m, sum, k = -math.huge, 0, 0
          for u = 1, p[1] do
            local r = (i - 1) * s[1] + u - pt
            for v = 1, p[2] do
              local q = (j - 1) * s[2] + v - pl
              if r >= 1 and r <= h and q >= 1 and q <= w then
                local e = X[bi][r][q][ch]
                m, sum, k = math.max(m, e), sum + e, k + 1
              end
            end
          end
          out[ch] = mode == "avg" and sum / k or m
        end
        y[bi][i][j] = out
      end
    end
  end
  return y
end

local function max_diff(a, b)
  local worst = 0
  local function walk(u, v)
    if type(u) == "number" then worst = math.max(worst, math.abs(u - v)) return end
    assert.are.equal(#u, #v)
    for i = 1, #u do walk(u[i], v[i]) end
  end
  walk(a, b)
  return worst
end

describe("Conv2D", function()
  before_each(function() nn.reset_names() end)

  it("Conv2D(filters, (kh, kw), strides=, padding=, dilation_rate=) equals the nested-loop reference", function()
    S.seed(81)
    local cases = {
      { n = 1, h = 7, w = 6, c = 2, o = 3, k = { 3, 3 }, s = { 1, 1 }, d = { 1, 1 }, p = "valid" },
      { n = 3, h = 8, w = 7, c = 3, o = 2, k = { 3, 2 }, s = { 2, 2 }, d = { 1, 1 }, p = "valid" },
      { n = 3, h = 7, w = 8, c = 2, o = 4, k = { 3, 3 }, s = { 1, 1 }, d = { 1, 1 }, p = "same" },
      { n = 1, h = 8, w = 8, c = 1, o = 2, k = { 2, 2 }, s = { 2, 1 }, d = { 1, 1 }, p = "same" },
      { n = 3, h = 9, w = 7, c = 2, o = 2, k = { 3, 3 }, s = { 1, 1 }, d = { 2, 2 }, p = "valid" },
      { n = 1, h = 6, w = 9, c = 2, o = 3, k = { 2, 3 }, s = { 1, 1 }, d = { 2, 1 }, p = "same" },
      { n = 3, h = 5, w = 5, c = 2, o = 2, k = { 4, 4 }, s = { 3, 3 }, d = { 1, 1 }, p = "same" },
      -- one channel: window rows of 3, 5 and 7 cells (the copies of known length), dilated rows
      { n = 3, h = 7, w = 6, c = 1, o = 3, k = { 3, 3 }, s = { 1, 1 }, d = { 1, 1 }, p = "valid" },
      { n = 2, h = 11, w = 8, c = 1, o = 2, k = { 3, 5 }, s = { 1, 1 }, d = { 2, 1 }, p = "valid" },
      { n = 2, h = 6, w = 9, c = 1, o = 2, k = { 2, 7 }, s = { 2, 1 }, d = { 1, 1 }, p = "same" },
    }
    for _, dt in ipairs({ "float32", "float64" }) do
      for ci, t in ipairs(cases) do
        local layer = nn.Conv2D(t.o, t.k, { strides = t.s, dilation_rate = t.d, padding = t.p, dtype = dt,
          bias_initializer = "random_normal" })
        local x = lunet.randn(t.n, t.h, t.w, t.c, dt)
        local y = layer(x)
        local want = conv_ref(x, layer.kernel:detach(), layer.bias:detach(), t.s, t.d, t.p)
        local tol = dt == "float32" and 1e-5 or 1e-12
        assert.is_true(max_diff(y:totable(), want) < tol, dt .. " case " .. ci)
        assert.are.same(layer:compute_output_shape({ t.h, t.w, t.c }), { y:size(2), y:size(3), y:size(4) })
      end
    end
  end)

  it("its input, kernel and bias gradients pass float64 gradcheck (strided, same, dilated)", function()
    S.seed(82)
    for _, t in ipairs({ { s = { 2, 1 }, d = { 1, 1 }, p = "same" }, { s = { 1, 1 }, d = { 2, 1 }, p = "valid" } }) do
      local layer = nn.Conv2D(3, { 2, 3 }, { strides = t.s, dilation_rate = t.d, padding = t.p, dtype = "float64",
        activation = "tanh" })
      local x = lunet.randn(2, 5, 6, 2, "float64")
      layer:build_for({ 5, 6, 2 })
      local W = layer.kernel:detach():clone()
      local function f(xx, ww, bb)
        layer.kernel, layer.bias = ww, bb
        local y = layer:call(xx)
        return y
      end
      local ok, report = lunet.autograd.gradcheck(f, { x, W, lunet.randn(3, "float64") })
      assert.is_true(ok, report)
      layer.kernel, layer.bias = layer.weights_[1].value, layer.weights_[2].value
    end
  end)

  it("model.add(Conv2D(32, (3, 3), activation='relu', input_shape=(28, 28, 1))): seed 003's summary", function()
    local model = nn.Sequential()
    model:add(nn.Conv2D(32, { 3, 3 }, { activation = "relu", input_shape = { 28, 28, 1 } }))
    model:add(nn.MaxPooling2D({ 2, 2 }))
    model:add(nn.Conv2D(64, { 3, 3 }, { activation = "relu" }))
    model:add(nn.MaxPooling2D({ 2, 2 }))
    model:add(nn.Conv2D(64, { 3, 3 }, { activation = "relu" }))
    local text = model:summary({ print_fn = function() end })
    assert.truthy(text:find("conv2d_1 (Conv2D)            (None, 26, 26, 32)        320", 1, true), text)
    assert.truthy(text:find("max_pooling2d_1 (MaxPooling2 (None, 13, 13, 32)        0", 1, true), text)
    assert.truthy(text:find("conv2d_2 (Conv2D)            (None, 11, 11, 64)        18496", 1, true), text)
    assert.truthy(text:find("max_pooling2d_2 (MaxPooling2 (None, 5, 5, 64)          0", 1, true), text)
    assert.truthy(text:find("conv2d_3 (Conv2D)            (None, 3, 3, 64)          36928", 1, true), text)
    assert.truthy(text:find("Total params: 55,744", 1, true), text)
  end)

  it("saves and loads bit-exact, and a small CNN learns", function()
    S.seed(83)
    -- two classes: a bright vertical or horizontal bar
    local n = 96
    local x = lunet.rand(n, 8, 8, 1) * 0.2
    local y = lunet.zeros(n, "int32")
    for i = 1, n do
      local cls = i % 2
      y:set(i, cls)
      local at = (i % 6) + 2
      for k = 1, 8 do
        if cls == 1 then x:set(i, k, at, 1, 1) else x:set(i, at, k, 1, 1) end
      end
    end
    local m = nn.Sequential({
      nn.Conv2D(4, 3, { activation = "relu", input_shape = { 8, 8, 1 }, padding = "same" }),
      nn.MaxPooling2D(2),
      nn.Flatten(),
      nn.Dense(2, { activation = "softmax" }),
    })
    m:compile({ optimizer = lunet.optim.Adam({ learning_rate = 0.01 }), loss = "sparse_categorical_crossentropy",
      metrics = { "accuracy" } })
    local h = m:fit(x, y, { epochs = 20, batch_size = 16, verbose = 0 })
    assert.is_true(h.history.loss[20] < h.history.loss[1] / 2, tostring(h.history.loss[20]))
    assert.is_true(h.history.accuracy[20] > 0.9)
    local path = os.tmpname()
    m:save(path)
    local m2 = nn.load_model(path)
    os.remove(path)
    assert.is_true(lunet.equal(m:predict(x), m2:predict(x)))
    assert.are.same(m.layers[1].config, m2.layers[1].config)
  end)

  it("over a batch of many cache-sized chunks equals im2col + matmul, gradients too, the same on 1 and 2 threads",
    function()
    S.seed(86)
    local core = lunet.core
    -- 28x28x8 images: each chunk of the fused kernel holds a sample or two, so 12 samples are many chunks
    local x = lunet.randn(12, 28, 28, 8, "float64")
    local W = lunet.randn(3, 3, 8, 16, "float64") * 0.2
    local b = lunet.randn(16, "float64")
    local col, oh, ow = core.im2col(x, 3, 3, 2, 1, 1, 1, "same")
    local Wm = W:reshape(72, 16)
    local zref = col:matmul(Wm) + b
    local yref = zref:tanh()
    local g = lunet.randn(12, oh, ow, 16, "float64")
    local dz = g:reshape(-1, 16) * (1 - yref * yref)
    local want = {
      y = yref:reshape(12, oh, ow, 16),
      dx = core.col2im(dz:matmul(Wm:t()), { 12, 28, 28, 8 }, 3, 3, 2, 1, 1, 1, "same"),
      dW = col:t():matmul(dz):reshape(3, 3, 8, 16),
      db = dz:sum(1),
    }
    local threads = lunet.get_num_threads()
    local runs = {}
    for _, nt in ipairs({ 1, math.min(2, lunet.config().cpus) }) do
      lunet.set_num_threads(nt)
      local r = {}
      r.y = core.conv2d(x, W, b, "tanh", 2, 1, 1, 1, "same", false, nil)
      r.dx, r.dW, r.db = core.conv2d_backward(x, W, "tanh", r.y, g, 2, 1, 1, 1, "same", true, true, true, nil)
      runs[#runs + 1] = r
    end
    lunet.set_num_threads(threads)
    for k, v in pairs(want) do
      assert.is_true((runs[1][k] - v):abs():max():item() < 1e-12, k)
      assert.is_true(lunet.equal(runs[1][k], runs[#runs][k]), k .. " differs between 1 and 2 threads")
    end
  end)

  it("gives the same result from a fresh process's first parallel job, which starts the thread pool", function()
    if lunet.config().cpus < 2 then return end
    -- the first job of a process starts the pool's worker and hands it a
    -- slice at once: it must finish before the caller returns
    local script = S.root .. "/spec/fixtures/pool_first_job.lua"
    for _ = 1, 12 do
      local out, code = S.run(S.lunet_bin .. " " .. script, true)
      assert.are.equal(0, code, out)
      assert.are.equal("same\n", out)
    end
  end)

  it("keeps one workspace across training steps", function()
    S.seed(87)
    local m = nn.Sequential({ nn.Conv2D(4, 3, { activation = "relu", input_shape = { 10, 10, 2 } }), nn.Flatten(),
      nn.Dense(3, { activation = "softmax" }) })
    m:compile({ optimizer = "sgd", loss = "sparse_categorical_crossentropy" })
    local x, y = lunet.randn(32, 10, 10, 2), lunet.uniform({ 32 }, 0, 3):int()
    m:fit(x, y, { batch_size = 8, epochs = 1, verbose = 0 })
    local ws = m.layers[1].workspace
    assert.is_true(lunet.is_tensor(ws))
    m:fit(x, y, { batch_size = 8, epochs = 2, verbose = 0 })
    assert.is_true(rawequal(ws, m.layers[1].workspace), "a new workspace was made")
  end)

  it("model.save_weights(p); other.load_weights(p) (Keras 2, by_name=False: by order) round-trips; a kernel for other channels is refused, nothing loaded", function()
    S.seed(88)
    local function model(c)
      return nn.Sequential({ nn.Conv2D(4, 3, { input_shape = { 8, 8, c } }), nn.BatchNormalization() })
    end
    local a, same, other = model(3), model(3), model(2)
    local path = os.tmpname()
    a:save_weights(path)
    same:load_weights(path)
    local x = lunet.randn(2, 8, 8, 3)
    assert.is_true(lunet.equal(a:predict(x), same:predict(x)))
    local before = other:get_weights()
    local ok, err = pcall(other.load_weights, other, path)
    os.remove(path)
    assert.is_false(ok)
    assert.truthy(tostring(err):find(other.layers[1].name .. "/kernel is (3, 3, 2, 4) in the model but (3, 3, 3, 4) " ..
      "in the file ('" .. a.layers[1].name .. "/kernel')", 1, true), err)
    for i, w in ipairs(other:get_weights()) do assert.is_true(lunet.equal(w, before[i])) end
    -- and the kernel itself, handed to the C kernel directly
    assert.has_error(function()
      lunet.core.conv2d(lunet.zeros(1, 8, 8, 2), a.layers[1].kernel:detach(), nil, "relu", 1, 1, 1, 1, "valid", false, nil)
    end, "conv2d: the kernel (3, 3, 3, 4) takes 3 input channels, the input (1, 8, 8, 2) has 2")
  end)

  it("refuses bad sizes at construction and bad input with the layer and the shapes", function()
    assert.has_error(function() nn.Conv2D(0, 3) end, "Conv2D: filters must be a positive integer (got 0)")
    assert.has_error(function() nn.Conv2D(8, { 3, 0 }) end)
    assert.has_error(function() nn.Conv2D(8, 3, { strides = -1 }) end)
    assert.has_error(function() nn.Conv2D(8, 3, { padding = "full" }) end)
    assert.has_error(function() nn.Conv2D(8, 3, { data_format = "channels_first" }) end,
      "Conv2D: data_format must be \"channels_last\" (lunet is NHWC, as Keras' default) (got \"channels_first\")")
    assert.has_error(function() nn.MaxPooling2D(0) end,
      "MaxPooling2D: pool_size must be a positive integer or a pair of them (got 0)")
    assert.has_error(function() nn.Sequential({ nn.Conv2D(4, 5, { input_shape = { 3, 3, 1 } }) }) end)
    local c = nn.Conv2D(4, 3)
    assert.has_error(function() c(lunet.zeros(2, 8, 8)) end)
    local ok, err = pcall(function() c(lunet.zeros(2, 8, 8)) end)
    assert.is_false(ok)
    assert.truthy(tostring(err):find("(batch, height, width, channels)", 1, true), err)
    c(lunet.zeros(1, 8, 8, 2))
    assert.has_error(function() c(lunet.zeros(1, 8, 8, 3)) end, c.name .. " (Conv2D): expected input (batch, height, width, 2), got (1, 8, 8, 3)")
    -- NaN propagates, nothing crashes
    local x = lunet.zeros(1, 8, 8, 2)
    x:set(1, 4, 4, 1, 0 / 0)
    local yv = c(x)
    assert.is_true(yv:ne(yv):sum():item() > 0)
  end)
end)

describe("MaxPooling2D", function()
  it("MaxPooling2D(pool_size, strides=, padding=) equals the reference; strides default to pool_size", function()
    S.seed(84)
    for _, dt in ipairs({ "float32", "float64" }) do
      for _, t in ipairs({ { p = { 2, 2 } }, { p = { 3, 3 }, s = { 2, 2 } }, { p = { 2, 3 }, s = { 1, 2 }, pad = "same" },
        { p = { 3, 2 }, pad = "same" } }) do
        local layer = nn.MaxPooling2D(t.p, { strides = t.s, padding = t.pad })
        local x = lunet.randn(3, 7, 8, 2, dt)
        local y = layer(x)
        assert.are.equal(0, max_diff(y:totable(), pool_ref(x, t.p, t.s or t.p, t.pad or "valid", "max")))
      end
    end
  end)

  it("pools a batch split over threads exactly as on one thread", function()
    S.seed(89)
    local x = lunet.randn(40, 28, 28, 8)
    local layer = nn.MaxPooling2D({ 2, 2 })
    local threads = lunet.get_num_threads()
    local out = {}
    for _, nt in ipairs({ 1, math.min(2, lunet.config().cpus) }) do
      lunet.set_num_threads(nt)
      local xv = x:clone():requires_grad()
      local y = layer(xv);
      (y * y):sum():backward()
      out[#out + 1] = { y, xv:grad() }
    end
    lunet.set_num_threads(threads)
    assert.is_true(lunet.equal(out[1][1], out[2][1]))
    assert.is_true(lunet.equal(out[1][2], out[2][2]))
    -- each window's max is its output, and its gradient lands there alone
    assert.is_true(lunet.allclose(out[1][2]:sum(), (out[1][1] * 2):sum(), 1e-4))
  end)

  it("passes its gradient to the max of each window (float64 gradcheck)", function()
    S.seed(85)
    -- overlapping windows with padding, then windows that tile the input (a row and a column left over)
    for _, layer in ipairs({ nn.MaxPooling2D({ 2, 2 }, { strides = { 1, 2 }, padding = "same" }),
      nn.MaxPooling2D({ 2, 2 }) }) do
      local ok, report = lunet.autograd.gradcheck(function(x) return layer:call(x) end,
        { lunet.randn(2, 5, 7, 3, "float64") })
      assert.is_true(ok, report)
    end
  end)

  it("core.maxpool_backward refuses indices outside the input", function()
    local y, arg = lunet.core.maxpool(lunet.randn(1, 4, 4, 1), 2, 2, 2, 2, "valid")
    arg:set(1, 1, 1, 1, 99)
    assert.has_error(function() lunet.core.maxpool_backward(y, arg, { 1, 4, 4, 1 }, 2, 2, 2, 2, "valid") end,
      "maxpool_backward: index 1 of the pooling indices is outside the input")
  end)
end)

describe("GlobalAveragePooling2D and GlobalMaxPooling2D", function()
  it("GlobalAveragePooling2D()(x) is x.mean(axis=(1, 2)); GlobalMaxPooling2D() its max; gradients (gradcheck)", function()
    S.seed(86)
    local x = lunet.randn(2, 3, 4, 5, "float64")
    local X = x:totable()
    local avg, mx = nn.GlobalAveragePooling2D()(x):totable(), nn.GlobalMaxPooling2D()(x):totable()
    for b = 1, 2 do
      for c = 1, 5 do
        local sum, m = 0, -math.huge
        for i = 1, 3 do for j = 1, 4 do sum = sum + X[b][i][j][c]; m = math.max(m, X[b][i][j][c]) end end
        assert.is_true(math.abs(avg[b][c] - sum / 12) < 1e-12)
        assert.are.equal(m, mx[b][c])
      end
    end
    for _, cls in ipairs({ nn.GlobalAveragePooling2D, nn.GlobalMaxPooling2D }) do
      local layer = cls()
      local ok, report = lunet.autograd.gradcheck(function(v) return layer:call(v) end, { x })
      assert.is_true(ok, report)
      assert.are.same({ 5 }, layer:compute_output_shape({ 3, 4, 5 }))
    end
  end)
end)

describe("BatchNormalization", function()
  before_each(function() nn.reset_names() end)

  it("BatchNormalization(momentum=0.9)(x, training=True): batch statistics; moving = moving * 0.9 + batch * 0.1; inference the moving ones", function()
    S.seed(87)
    local bn = nn.BatchNormalization({ momentum = 0.9, dtype = "float64" })
    local x = lunet.randn(40, 3, "float64") * 2 + 5
    local y = bn(x, true)
    assert.is_true(y:mean(1):abs():max():item() < 1e-12)
    -- population variance, then epsilon: std = sqrt(var / (var + 1e-3))
    local var = x:var(1)
    local want_std = (var / (var + 1e-3)):sqrt()
    assert.is_true(lunet.allclose(y:std(1), want_std, 1e-9, 0))
    -- moving = 0.9 * moving + 0.1 * batch (the variance times n / (n - 1 - eps))
    assert.is_true(lunet.allclose(bn.moving_mean, x:mean(1) * 0.1, 1e-12, 0))
    assert.is_true(lunet.allclose(bn.moving_variance, var * (40 / (40 - 1.001)) * 0.1 + 0.9, 1e-12, 0))
    -- inference: (x - moving_mean) / sqrt(moving_variance + eps)
    local z = bn(x, false)
    local want = (x - bn.moving_mean) / (bn.moving_variance + 1e-3):sqrt()
    assert.is_true(lunet.allclose(z, want, 1e-12, 0))
    -- the weights are gamma, beta, moving_mean, moving_variance; two are not trainable
    local names = {}
    for i, w in ipairs(bn.weights_) do names[i] = w.name .. (w.trainable and "" or " (frozen)") end
    assert.are.same({ "gamma", "beta", "moving_mean (frozen)", "moving_variance (frozen)" }, names)
    assert.are.same({ 12, 6 }, { bn:count_params() })
  end)

  it("gamma, beta and input gradients in training pass float64 gradcheck; batch size 1 gives no NaN", function()
    S.seed(88)
    local bn = nn.BatchNormalization({ dtype = "float64" })
    bn:build_for({ 4, 3 })
    local x = lunet.randn(5, 4, 3, "float64")
    local function f(xx, g, b)
      bn.gamma, bn.beta = g, b
      return bn:call(xx, true)
    end
    local ok, report = lunet.autograd.gradcheck(f, { x, lunet.randn(3, "float64"), lunet.randn(3, "float64") })
    assert.is_true(ok, report)
    bn.gamma, bn.beta = bn.weights_[1].value, bn.weights_[2].value
    -- inference (the moving statistics, made non-trivial first), and without gamma and beta
    bn.moving_mean:copy(lunet.randn(3, "float64"))
    bn.moving_variance:copy(lunet.rand(3, "float64") + 0.5)
    ok, report = lunet.autograd.gradcheck(function(xx, g, b)
      bn.gamma, bn.beta = g, b
      return bn:call(xx, false)
    end, { x, lunet.randn(3, "float64"), lunet.randn(3, "float64") })
    assert.is_true(ok, report)
    bn.gamma, bn.beta = bn.weights_[1].value, bn.weights_[2].value
    local bare = nn.BatchNormalization({ dtype = "float64", center = false, scale = false })
    bare:build_for({ 3 })
    ok, report = lunet.autograd.gradcheck(function(xx) return bare:call(xx, true) end, { lunet.randn(6, 3, "float64") })
    assert.is_true(ok, report)
    local one = nn.BatchNormalization()
    local y = one(lunet.randn(1, 4), true)
    assert.are.equal(0, y:ne(y):sum():item())
    assert.are.equal(0, one.moving_variance:ne(one.moving_variance):sum():item())
    -- an empty batch: an empty output, the moving statistics as they were
    local mv = one.moving_variance:clone()
    assert.are.same({ 0, 4 }, one(lunet.zeros(0, 4), true):shape())
    assert.is_true(lunet.equal(mv, one.moving_variance))
  end)

  it("saves and loads bit-exact with its moving statistics; a model with it trains", function()
    S.seed(89)
    local x = lunet.randn(64, 6) * 10 + 3
    local y = x:narrow(2, 1, 1):gt(3):int():reshape(64)
    local m = nn.Sequential({ nn.Input({ 6 }), nn.BatchNormalization(), nn.Dense(2, { activation = "softmax" }) })
    m:compile({ optimizer = lunet.optim.Adam({ learning_rate = 0.05 }), loss = "sparse_categorical_crossentropy",
      metrics = { "accuracy" } })
    local h = m:fit(x, y, { epochs = 20, batch_size = 16, verbose = 0 })
    assert.is_true(h.history.accuracy[20] > 0.9)
    local text = m:summary({ print_fn = function() end })
    assert.truthy(text:find("Non-trainable params: 12", 1, true), text)
    local path = os.tmpname()
    m:save(path)
    local m2 = nn.load_model(path)
    os.remove(path)
    assert.is_true(lunet.equal(m.layers[1].moving_mean, m2.layers[1].moving_mean))
    assert.is_true(lunet.equal(m:predict(x), m2:predict(x)))
    assert.has_error(function() nn.BatchNormalization({ axis = 1 }) end)
    assert.has_error(function() nn.BatchNormalization({ momentum = 2 }) end)
  end)
end)

describe("Normalization", function()
  before_each(function() nn.reset_names() end)

  it("layer.adapt(x) keeps each feature's mean and variance; then (x - mean) / sqrt(variance)", function()
    S.seed(90)
    local x = lunet.randn(200, 3, "float64") * lunet.tensor({ 1, 10, 1000 }, "float64") + 7
    local norm = nn.Normalization({ dtype = "float64" })
    norm:adapt(x)
    assert.is_true(lunet.allclose(norm.mean, x:mean(1), 1e-12, 0))
    assert.is_true(lunet.allclose(norm.variance, x:var(1), 1e-12, 0))
    assert.are.equal(200, norm.count:item())
    local y = norm(x)
    assert.is_true(lunet.allclose(y, (x - x:mean(1)) / x:var(1):sqrt(), 1e-12, 0))
    -- given statistics, and one value for every feature
    local fixed = nn.Normalization({ mean = 2, variance = 4 })
    assert.are.same({ { 1, 0 } }, fixed(lunet.tensor({ { 4, 2 } })):totable())
    -- a constant feature: divided by max(sqrt(0), 1e-7), not by 0
    local c = nn.Normalization()
    c:adapt(lunet.ones(5, 1))
    assert.are.equal(0, c(lunet.ones(2, 1)):abs():sum():item())
    assert.has_error(function() nn.Normalization({ mean = "a" }) end)
    assert.has_error(function() nn.Normalization({ axis = 0 }) end)
    assert.has_error(function() norm:adapt(lunet.randn(5, 4, "float64")) end)
    -- the input gradient (the statistics are fixed): float64 gradcheck
    local ok, report = lunet.autograd.gradcheck(function(v) return norm:call(v) end, { lunet.randn(4, 3, "float64") })
    assert.is_true(ok, report)
  end)

  it("has Keras' 2c + 1 non-trainable weights (mean, variance, count) and saves them", function()
    S.seed(91)
    local x = lunet.randn(30, 4) * 50
    local norm = nn.Normalization()
    norm:adapt(x)
    local m = nn.Sequential({ nn.Input({ 4 }), norm, nn.Dense(2) })
    local text = m:summary({ print_fn = function() end })
    assert.truthy(text:find("normalization_1 (Normalizati (None, 4)                 9", 1, true), text)
    assert.truthy(text:find("Non-trainable params: 9", 1, true), text)
    local path = os.tmpname()
    m:save(path)
    local m2 = nn.load_model(path)
    os.remove(path)
    assert.is_true(lunet.equal(m2.layers[1].mean, norm.mean))
    assert.is_true(lunet.equal(m:predict(x), m2:predict(x)))
  end)
end)

describe("AveragePooling2D and ZeroPadding2D", function()
  it("AveragePooling2D(pool_size, strides=, padding='same') averages the cells inside the input; gradcheck", function()
    S.seed(92)
    for _, t in ipairs({ { p = { 2, 2 } }, { p = { 3, 3 }, s = { 2, 2 }, pad = "same" }, { p = { 2, 3 }, s = { 1, 2 }, pad = "same" } }) do
      local layer = nn.AveragePooling2D(t.p, { strides = t.s, padding = t.pad })
      local x = lunet.randn(2, 5, 7, 3, "float64")
      assert.is_true(max_diff(layer(x):totable(), pool_ref(x, t.p, t.s or t.p, t.pad or "valid", "avg")) < 1e-12)
      local x32 = x:float()
      assert.is_true(max_diff(layer(x32):totable(), pool_ref(x32, t.p, t.s or t.p, t.pad or "valid", "avg")) < 1e-6)
      local ok, report = lunet.autograd.gradcheck(function(v) return layer:call(v) end, { x })
      assert.is_true(ok, report)
    end
    -- a batch split over threads: the same numbers as on one
    local threads, out = lunet.get_num_threads(), {}
    local big = lunet.randn(40, 28, 28, 8)
    for _, nt in ipairs({ 1, math.min(2, lunet.config().cpus) }) do
      lunet.set_num_threads(nt)
      local xv = big:clone():requires_grad()
      local y = nn.AveragePooling2D(3, { strides = 2, padding = "same" })(xv);
      (y * y):sum():backward()
      out[#out + 1] = { y, xv:grad() }
    end
    lunet.set_num_threads(threads)
    assert.is_true(lunet.equal(out[1][1], out[2][1]) and lunet.equal(out[1][2], out[2][2]))
  end)

  it("ZeroPadding2D(((1, 0), (0, 2))) pads with zeros and passes the inner gradient back", function()
    local layer = nn.ZeroPadding2D({ { 1, 0 }, { 0, 2 } })
    local x = lunet.randn(2, 3, 4, 2, "float64")
    local y = layer(x)
    assert.are.same({ 2, 4, 6, 2 }, y:shape())
    assert.are.same({ 4, 6, 2 }, layer:compute_output_shape({ 3, 4, 2 }))
    assert.is_true(lunet.equal(y:narrow(2, 2, 3):narrow(3, 1, 4), x))
    assert.are.equal(0, y:narrow(2, 1, 1):abs():sum():item())
    assert.are.equal(0, y:narrow(3, 5, 2):abs():sum():item())
    local ok, report = lunet.autograd.gradcheck(function(v) return layer:call(v) end, { x })
    assert.is_true(ok, report)
    assert.are.same({ { 1, 1 }, { 1, 1 } }, nn.ZeroPadding2D().padding)
    assert.has_error(function() nn.ZeroPadding2D(-1) end)
  end)
end)

describe("Conv2D fused with the MaxPooling2D after it", function()
  local core = lunet.core
  after_each(function() nn.set_layer_fusion(true) end)

  -- (Keras) model.add(Conv2D(8, (3, 3), activation=act)); model.add(MaxPooling2D(pool, strides=, padding=))
  local function pair(act, pool, strides, padding, dtype)
    local conv = nn.Conv2D(4, { 3, 3 }, { activation = act, dtype = dtype, padding = "same" })
    local mp = nn.MaxPooling2D(pool, { strides = strides, padding = padding, dtype = dtype })
    return conv, mp
  end

  it("gives the two layers' output and gradients to the bit, in both dtypes", function()
    S.seed(91)
    local cases = { { "relu", { 2, 2 }, nil, "valid" }, { "selu", { 3, 3 }, nil, "same" }, { "selu", { 2, 2 }, { 3, 2 }, "valid" },
      { "linear", { 2, 3 }, { 2, 4 }, "valid" }, { "tanh", { 2, 2 }, nil, "same" } }
    for _, dtype in ipairs({ "float32", "float64" }) do
      for _, c in ipairs(cases) do
        local conv, mp = pair(c[1], c[2], c[3], c[4], dtype)
        local x = lunet.randn(3, 7, 9, 2):astype(dtype):requires_grad()
        conv:build_for({ 7, 9, 2 })
        mp:build_for(conv:compute_output_shape({ 7, 9, 2 }))
        assert.is_true(conv:fuses_with(mp), c[1] .. " fuses")
        local y1 = mp:call(conv:call(x))
        local g = lunet.randn(table.unpack(y1:shape())):astype(dtype)
        y1:backward(g)
        local dx1, dW1, db1 = x:grad():clone(), conv.kernel:grad():clone(), conv.bias:grad():clone()
        x:zero_grad(); conv.kernel:zero_grad(); conv.bias:zero_grad()
        local y2 = conv:call_fused(x, mp)
        assert.is_true(lunet.equal(y1:detach(), y2:detach()), c[1] .. " forward")
        y2:backward(g)
        assert.is_true(lunet.equal(dx1, x:grad()), c[1] .. " dx")
        assert.is_true(lunet.equal(dW1, conv.kernel:grad()), c[1] .. " dW")
        assert.is_true(lunet.equal(db1, conv.bias:grad()), c[1] .. " db")
      end
    end
  end)

  it("passes float64 gradcheck for the input, kernel and bias", function()
    S.seed(92)
    local conv, mp = pair("elu", { 2, 2 }, nil, "valid", "float64")
    conv:build_for({ 6, 6, 2 })
    mp:build_for(conv:compute_output_shape({ 6, 6, 2 }))
    local W = conv.kernel:detach():clone()
    local function f(xx, ww, bb)
      conv.kernel, conv.bias = ww, bb
      return conv:call_fused(xx, mp)
    end
    local ok, report = lunet.autograd.gradcheck(f, { lunet.randn(2, 6, 6, 2, "float64"), W, lunet.randn(4, "float64") })
    assert.is_true(ok, report)
  end)

  it("trains seed 003's CNN to the same weights as the unfused layers; only a plain pair fuses", function()
    local function train(fuse)
      nn.set_layer_fusion(fuse)
      S.seed(93)
      local x = lunet.randn(64, 12, 12, 1)
      local y = lunet.uniform({ 64 }, 0, 10):int()
      local model = nn.Sequential({
        nn.Conv2D(4, { 3, 3 }, { activation = "relu", input_shape = { 12, 12, 1 } }),
        nn.MaxPooling2D({ 2, 2 }),
        nn.Conv2D(4, { 3, 3 }, { activation = "relu" }),
        nn.MaxPooling2D({ 2, 2 }),
        nn.Flatten(),
        nn.Dense(10, { activation = "softmax" }),
      })
      model:compile({ optimizer = "rmsprop", loss = "sparse_categorical_crossentropy", metrics = { "accuracy" } })
      local h = model:fit(x, y, { batch_size = 16, epochs = 2, verbose = 0 })
      return model:get_weights(), h.history, model:predict(x)
    end
    local w1, h1, p1 = train(false)
    local w2, h2, p2 = train(true)
    for i = 1, #w1 do assert.is_true(lunet.equal(w1[i], w2[i]), "weight " .. i) end
    assert.are.same(h1, h2)
    assert.is_true(lunet.equal(p1, p2))
    -- what does not fuse: overlapping windows (a cell's gradients would be summed after
    -- the activation's derivative, not before), a function activation, another pool
    local co = nn.Conv2D(2, 3, { activation = "relu" })
    co:build_for({ 7, 7, 1 })
    local over = nn.MaxPooling2D(3, { strides = 2 })
    over:build_for({ 5, 5, 2 })
    assert.is_false(co:fuses_with(over))
    local c = nn.Conv2D(2, 3, { activation = function(v) return v end })
    c:build_for({ 5, 5, 1 })
    local mp = nn.MaxPooling2D()
    mp:build_for({ 3, 3, 2 })
    assert.is_false(c:fuses_with(mp))
    local c2 = nn.Conv2D(2, 3, { activation = "relu" })
    c2:build_for({ 5, 5, 1 })
    assert.is_false(c2:fuses_with(nn.AveragePooling2D()))
    assert.has_error(function() c2:call_fused(lunet.randn(1, 5, 5, 1), nn.AveragePooling2D()) end)
    assert.has_error(function() nn.set_layer_fusion("no") end, "set_layer_fusion: on must be a boolean (got \"no\")")
  end)

  it("refuses bad saved values, indices and gradients, naming the function", function()
    S.seed(94)
    local x, W = lunet.randn(2, 6, 6, 1), lunet.randn(3, 3, 1, 2)
    local y, arg, saved = core.conv2d_pool(x, W, nil, "relu", 1, 1, 1, 1, "valid", 2, 2, 2, 2, "valid")
    assert.are.same({ 2, 2, 2, 2 }, y:shape())
    local g = lunet.ones(2, 2, 2, 2)
    local function back(a, s, gg)
      return core.conv2d_pool_backward(x, W, "relu", s, a, gg, 1, 1, 1, 1, "valid", 2, 2, 2, 2, "valid",
        true, true, true)
    end
    local dx = back(arg, saved, g)
    assert.are.same({ 2, 6, 6, 1 }, dx:shape())
    local bad = arg:clone()
    bad[1][1][1][1] = 4 * 4 * 2 -- one past the sample's conv output
    assert.has_error(function() back(bad, saved, g) end,
      "conv2d_pool_backward: index 1 of the pooling indices is outside the input")
    bad[1][1][1][1] = -1
    assert.has_error(function() back(bad, saved, g) end,
      "conv2d_pool_backward: index 1 of the pooling indices is outside the input")
    assert.has_error(function() back(arg, saved, lunet.ones(2, 2, 2, 3)) end)
    assert.has_error(function() back(arg:float(), saved, g) end)
    assert.has_error(function() core.conv2d_pool(x, W, nil, "relu", 1, 1, 1, 1, "valid", 5, 5, 1, 1, "valid") end)
  end)
end)
