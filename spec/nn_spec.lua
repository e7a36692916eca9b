local lunet = require("lunet")
local S = require("support")

local nn = lunet.nn
local autograd = lunet.autograd
local I = lunet.initializers
local Cn = lunet.constraints

local function check(f, inputs, msg)
  local ok, report = autograd.gradcheck(f, inputs)
  assert.is_true(ok, (msg or "") .. " " .. tostring(report))
end

-- a float64 layer built for input_shape, with f(x, w1, w2...) that swaps in the weights
local function layer_fn(layer, fields)
  return function(x, ...)
    local ws = { ... }
    for i, f in ipairs(fields) do layer[f] = ws[i] end
    return layer:call(x, false)
  end
end

describe("lunet.nn layers", function()
  before_each(function() nn.reset_names() end)

  describe("gradients (float64 gradcheck)", function()
    it("Dense with each fused activation, bias and inputs of rank 3", function()
      S.seed(20)
      for _, act in ipairs({ "linear", "selu", "elu", "relu", "sigmoid", "tanh", "gelu", "softmax" }) do
        local d = nn.Dense(3, { activation = act, dtype = "float64", bias_initializer = "random_normal" })
        d:build_for({ 4 })
        local x = lunet.randn({ 5, 4 }, "float64")
        if act == "relu" then x = x + 0.01 end
        check(layer_fn(d, { "kernel", "bias" }), { x, d.kernel:detach(), d.bias:detach() }, act)
      end
      local d = nn.Dense(2, { activation = "selu", use_bias = false, dtype = "float64" })
      d:build_for({ 3 })
      check(layer_fn(d, { "kernel" }), { lunet.randn({ 2, 4, 3 }, "float64"), d.kernel:detach() }, "rank 3")
    end)

    it("PReLU (per element and shared axes) and PELU parameters", function()
      S.seed(21)
      local x = lunet.randn({ 4, 3, 2 }, "float64")
      local p = nn.PReLU({ alpha_initializer = I.RandomUniform({ minval = 0.1, maxval = 0.5 }), dtype = "float64" })
      p:build_for({ 3, 2 })
      assert.are.same({ 3, 2 }, p.alpha:shape())
      check(layer_fn(p, { "alpha" }), { x, p.alpha:detach() }, "prelu")
      local ps = nn.PReLU({ shared_axes = { 1 }, alpha_initializer = I.Constant(0.2), dtype = "float64" })
      ps:build_for({ 3, 2 })
      assert.are.same({ 1, 2 }, ps.alpha:shape())
      check(layer_fn(ps, { "alpha" }), { x, ps.alpha:detach() }, "prelu shared")
      local pe = nn.PELU({ alpha_initializer = I.RandomUniform({ minval = 0.5, maxval = 2 }),
        beta_initializer = I.RandomUniform({ minval = 0.5, maxval = 2 }), dtype = "float64" })
      pe:build_for({ 3, 2 })
      assert.are.same({ 2 }, pe.a:shape())
      check(layer_fn(pe, { "a", "b" }), { x, pe.a:detach(), pe.b:detach() }, "pelu")
    end)

    it("activation layers and Flatten/Reshape", function()
      S.seed(22)
      local x = lunet.randn({ 3, 4 }, "float64") + 0.013
      for _, l in ipairs({ nn.ReLU({ max_value = 1.5 }), nn.LeakyReLU({ alpha = 0.2 }), nn.ELU({ alpha = 0.5 }),
        nn.ThresholdedReLU({ theta = 0.3 }), nn.Softmax(), nn.Activation("selu"), nn.Flatten(),
        nn.Reshape({ 2, 2 }) }) do
        check(function(v) return l:apply(v, false) end, x, l.name)
      end
    end)
  end)

  describe("Keras semantics", function()
    it("give Keras 2 automatic names", function()
      local names = {}
      for _, l in ipairs({ nn.Dense(2), nn.Dense(2), nn.AlphaDropout(0.1), nn.PReLU(), nn.LeakyReLU(),
        nn.ThresholdedReLU(), nn.ELU(), nn.PELU() }) do
        names[#names + 1] = l.name
      end
      assert.are.same({ "dense_1", "dense_2", "alpha_dropout_1", "p_re_lu_1", "leaky_re_lu_1",
        "thresholded_re_lu_1", "elu_1", "pelu_1" }, names)
    end)

    it("ReLU and LeakyReLU layers match the functional forms, defaults included", function()
      local x = lunet.tensor({ -10, -5, 0, 5, 10 })
      assert.are.same({ -3, -1.5, 0, 5, 10 }, nn.LeakyReLU():apply(x):totable())
      assert.are.same({ 0, 0, 0, 5, 5 }, nn.ReLU({ max_value = 5 }):apply(x):totable())
    end)
  end)

  describe("dropout family", function()
    local vectors = {
      { 0.05, 0.954844476005031, 0.08393557219381019, -1.5947758716823934 },
      { 0.1, 0.9212845161497115, 0.16197097005757022, -1.457738730518132 },
      { 0.2, 0.8789035834435328, 0.30903996214409446, -1.2361598485763778 },
      { 0.5, 0.886404894665932, 0.7791939305180317, -0.7791939305180317 },
    }

    it("AlphaDropout has SEMANTICS.md's a, b and dropped value", function()
      for _, v in ipairs(vectors) do
        local a, b, alpha = nn.dropout_selu_constants(v[1])
        assert.near(v[2], a, 1e-15)
        assert.near(v[3], b, 1e-15)
        assert.near(v[4], a * alpha + b, 1e-15)
        local l = nn.AlphaDropout(v[1], { dtype = "float64" })
        local y = l:apply(lunet.full({ 2000 }, 0.5, "float64"), true)
        local kept, dropped = 0, 0
        for i = 1, 2000 do
          local yi = y[i]
          if math.abs(yi - (a * 0.5 + b)) < 1e-12 then kept = kept + 1
          elseif math.abs(yi - v[4]) < 1e-12 then dropped = dropped + 1 end
        end
        assert.are.equal(2000, kept + dropped)
        assert.is_true(math.abs(dropped / 2000 - v[1]) < 0.04)
      end
    end)

    it("AlphaDropout keeps mean 0 and std 1 on N(0,1), is the identity at inference", function()
      S.seed(23)
      local x = lunet.randn({ 200000 })
      local y = nn.AlphaDropout(0.1):apply(x, true)
      assert.is_true(math.abs(y:mean():item()) < 0.02, "mean " .. y:mean():item())
      assert.is_true(math.abs(y:std():item() - 1) < 0.02, "std " .. y:std():item())
      assert.are.equal(x, nn.AlphaDropout(0.1):apply(x, false))
      assert.are.equal(x, nn.AlphaDropout(0):apply(x, true))
    end)

    it("AlphaDropout's gradient is a * keep", function()
      S.seed(24)
      local l = nn.AlphaDropout(0.2)
      local x = lunet.randn({ 1000 }):requires_grad()
      local y = l:apply(x, true)
      y:sum():backward()
      local a, b = nn.dropout_selu_constants(0.2)
      local g = x:grad()
      local yd, xd = y:detach(), x:detach()
      for i = 1, 1000 do
        local kept = math.abs(yd[i] - (a * xd[i] + b)) < 1e-5
        assert.near(kept and a or 0, g[i], 1e-7)
      end
    end)

    it("the dropout mask: each of its eight interleaved streams keeps 1 - rate; a prefix is the shorter mask", function()
      local core = lunet.core
      local x = lunet.ones({ 80000 })
      for _, rate in ipairs({ 0.1, 0.5, 0.9 }) do
        S.seed(31)
        local _, keep = core.dropout(x, rate, 1, 0, 0)
        keep = keep:int()
        -- element i of a block comes from its stream i % 8: every stream keeps 1 - rate (10000 draws each, 5 sigma)
        local sigma = math.sqrt(rate * (1 - rate) / 10000)
        for lane = 1, 8 do
          local kept = keep:narrow(1, lane, 80000 - 7):reshape(-1)
          local sum = 0
          for i = 1, kept:size(1), 8 do sum = sum + kept[i] end
          assert.is_true(math.abs(sum / 10000 - (1 - rate)) < 5 * sigma, "lane " .. lane .. " rate " .. rate)
        end
        -- neighbours are independent: P(keep[i] and keep[i+1]) = (1 - rate)^2
        local both = (keep:narrow(1, 1, 79999) * keep:narrow(1, 2, 79999)):sum():item() / 79999
        assert.is_true(math.abs(both - (1 - rate) ^ 2) < 0.01, "pairs at rate " .. rate)
        -- the same seed gives the same mask, its first 37 elements for a shorter input
        S.seed(31)
        local _, short = core.dropout(lunet.ones({ 37 }), rate, 1, 0, 0)
        assert.are.same(keep:narrow(1, 1, 37):totable(), short:int():totable())
      end
      -- rate 0 keeps everything; the generator advances the same whatever n is
      S.seed(32)
      local _, all = core.dropout(x, 0, 1, 0, 0)
      assert.are.equal(80000, all:int():sum():item())
      local after_long = lunet.rand(1):item()
      S.seed(32)
      core.dropout(lunet.ones({ 3 }), 0.5, 1, 0, 0)
      assert.are.equal(after_long, lunet.rand(1):item())
    end)

    -- The mask's definition (runtime/rng.h), in plain Lua 5.4 integers: the
    -- generator seeded by manual_seed(seed), eight draws, then block b's
    -- lane l seeded by splitmix64 from draw l + b * STEP; element i of a
    -- block is lane i % 8's next output, kept when its top 53 bits >= rate * 2^53.
    local function reference_mask(seed, n, rate)
      local GAMMA, STEP = 0x9e3779b97f4a7c15, 0xd1b54a32d192ed03
      local function splitmix(x)
        x = x + GAMMA
        local z = (x ~ (x >> 30)) * 0xbf58476d1ce4e5b9
        z = (z ~ (z >> 27)) * 0x94d049bb133111eb
        return x, z ~ (z >> 31)
      end
      local function rotl(v, k) return (v << k) | (v >> (64 - k)) end
      local function next_of(st)
        local out, t = rotl(st[2] * 5, 7) * 9, st[2] << 17
        st[3] = st[3] ~ st[1]; st[4] = st[4] ~ st[2]; st[2] = st[2] ~ st[3]; st[1] = st[1] ~ st[4]
        st[3] = st[3] ~ t; st[4] = rotl(st[4], 45)
        return out
      end
      local function seeded(x)
        local st = {}
        for i = 1, 4 do x, st[i] = splitmix(x) end
        return st
      end
      local gen = seeded(seed)
      local draws = {}
      for l = 1, 8 do draws[l] = next_of(gen) end
      local thr, keep = math.ceil(rate * 2 ^ 53), {}
      for b = 0, (n - 1) // 8192 do
        local lanes = {}
        for l = 1, 8 do lanes[l] = seeded(draws[l] + b * STEP) end
        for i = 0, math.min(8192, n - b * 8192) - 1 do
          keep[b * 8192 + i + 1] = (next_of(lanes[i % 8 + 1]) >> 11) >= thr and 1 or 0
        end
      end
      return keep
    end

    it("the dropout mask is made in blocks of 8192 with streams of their own, the same bits on any thread count", function()
      local core = lunet.core
      local threads = lunet.get_num_threads()
      local ok, err = pcall(function()
        for _, n in ipairs({ 3, 13, 8192, 8199, 3 * 8192 + 13 }) do
          for _, rate in ipairs({ 0.5, 0.1 }) do
            local want = reference_mask(33, n, rate)
            for t = 1, math.min(2, lunet.config().cpus) do
              lunet.set_num_threads(t)
              S.seed(33)
              local got = select(2, core.dropout(lunet.ones({ n }), rate, 1, 0, 0)):int():totable()
              assert.are.same(want, got, string.format("n %d rate %g threads %d", n, rate, t))
            end
          end
        end
      end)
      lunet.set_num_threads(threads)
      assert(ok, err)
    end)

    it("Dropout scales kept units by 1/(1-rate); noise_shape broadcasts the mask", function()
      S.seed(25)
      local y = nn.Dropout(0.25):apply(lunet.ones(40000), true)
      local kept = y:gt(0):sum():item()
      assert.is_true(math.abs(kept / 40000 - 0.75) < 0.01)
      assert.near(1 / 0.75, y:max():item(), 1e-6)
      local z = nn.Dropout(0.5, { noise_shape = { 1, nil } }):apply(lunet.ones(50, 8), true)
      -- every row has the same mask
      for i = 2, 50 do assert.are.same(z[1]:totable(), z[i]:totable()) end
    end)

    it("dropout_selu with mean 0 and var 1 equals AlphaDropout; other fixed points differ", function()
      local a1, b1 = nn.dropout_selu_constants(0.1)
      local a2, b2 = nn.dropout_selu_constants(0.1, nil, 0.1, 0.9)
      assert.is_true(math.abs(a1 - a2) > 1e-3 and math.abs(b1 - b2) > 1e-3)
      S.seed(26)
      -- inputs at the fixed point (mean 0.1, var 0.9) stay there
      local x = lunet.normal({ 200000 }, 0.1, math.sqrt(0.9))
      local y = nn.dropout_selu(x, 0.1, { fixed_point_mean = 0.1, fixed_point_var = 0.9 })
      assert.is_true(math.abs(y:mean():item() - 0.1) < 0.02)
      assert.is_true(math.abs(y:var():item() - 0.9) < 0.03)
    end)

    it("rejects rates outside [0, 1)", function()
      assert.has_error(function() nn.AlphaDropout(1) end, "AlphaDropout: rate must be a number in [0, 1) (got 1)")
      assert.has_error(function() nn.Dropout(-0.1) end, "Dropout: rate must be a number in [0, 1) (got -0.1)")
    end)
  end)

  describe("initializers and constraints", function()
    it("VarianceScaling initializers have the right spread", function()
      S.seed(27)
      local w = I.get("lecun_normal")({ 400, 300 })
      assert.is_true(math.abs(w:std():item() - math.sqrt(1 / 400)) < 0.02 * math.sqrt(1 / 400))
      assert.is_true(w:abs():max():item() <= 2 * math.sqrt(1 / 400) / 0.87962566103423978 + 1e-6)
      local h = I.get("he_normal")({ 400, 300 })
      assert.is_true(math.abs(h:std():item() - math.sqrt(2 / 400)) < 0.02 * math.sqrt(2 / 400))
      local g = I.get("glorot_uniform")({ 400, 300 })
      local lim = math.sqrt(6 / 700)
      assert.is_true(g:abs():max():item() <= lim)
      assert.is_true(g:abs():max():item() > 0.99 * lim)
      assert.is_true(math.abs(g:std():item() - lim / math.sqrt(3)) < 0.02 * lim)
      local o = I.Orthogonal()({ 6, 4 }):double()
      assert.is_true(lunet.allclose(o:t():matmul(o), lunet.eye(4, "float64"), 1e-5, 1e-5))
    end)

    it("seeded initializers repeat and leave the global generator alone", function()
      lunet.manual_seed(5)
      local r1 = lunet.rand(3)
      lunet.manual_seed(5)
      local a = I.RandomUniform({ seed = 7 })({ 4 })
      local r2 = lunet.rand(3)
      assert.is_true(lunet.equal(r1, r2))
      assert.is_true(lunet.equal(a, I.RandomUniform({ seed = 7 })({ 4 })))
    end)

    it("unknown initializer names list the known ones", function()
      assert.has_error(function() I.get("lecun") end)
      local ok, err = pcall(I.get, "lecun")
      assert.is_false(ok)
      assert.matches("unknown initializer 'lecun' %(known: .*lecun_normal", err)
    end)

    it("MaxNorm keeps its axis after projecting a 1-d weight", function()
      local c = lunet.constraints.MaxNorm(1, 2)
      c(lunet.ones(4) * 3) -- a bias: norms over its only axis
      local w = lunet.tensor({ { 3, 4 }, { 0, 0.5 } }, "float64")
      -- axis 2: each row rescaled to norm <= 1
      local want = lunet.tensor({ { 0.6, 0.8 }, { 0, 0.5 } }, "float64")
      assert.is_true(lunet.allclose(c(w), want, 1e-6, 1e-7))
      assert.are.equal(2, c.config.axis)
    end)

    it("constraints project as Keras does", function()
      local w = lunet.tensor({ { 3, -4 }, { 4, 0.05 } }, "float64")
      assert.are.same({ { 3, 0 }, { 4, 0.05 } }, Cn.NonNeg()(w):totable())
      assert.are.same({ { 3, 0.1 }, { 4, 0.1 } }, Cn.MinValue(0.1)(w):totable())
      local m = Cn.MaxNorm(2)(w) -- column norms 5 and ~4.0003 scaled to 2
      assert.near(2, math.sqrt(m:get(1, 1) ^ 2 + m:get(2, 1) ^ 2), 1e-6)
      local u = Cn.UnitNorm()(w)
      assert.near(1, math.sqrt(u:get(1, 2) ^ 2 + u:get(2, 2) ^ 2), 1e-6)
    end)
  end)
end)

describe("Dense fused with the dropout after it", function()
  local core = lunet.core
  after_each(function() nn.set_layer_fusion(true) end)

  it("trains the SNN MLP to the same weights as the two layers one by one (seeded dropout too)", function()
    local function train(fuse)
      nn.set_layer_fusion(fuse)
      S.seed(51)
      local x = lunet.randn(96, 30)
      local y = lunet.uniform({ 96 }, 0, 5):int()
      -- (Keras) Dense(64, activation='selu', kernel_initializer='lecun_normal'); AlphaDropout(0.1)
      local model = nn.Sequential({
        nn.Dense(64, { activation = "selu", kernel_initializer = "lecun_normal", input_shape = { 30 } }),
        nn.AlphaDropout(0.1),
        nn.Dense(64, { activation = "relu" }),
        nn.Dropout(0.3, { seed = 7 }),
        nn.Dense(32), -- linear
        nn.AlphaDropout(0.2),
        nn.Dense(5, { activation = "softmax" }),
      })
      model:compile({ optimizer = "adam", loss = "sparse_categorical_crossentropy", metrics = { "accuracy" } })
      local h = model:fit(x, y, { batch_size = 32, epochs = 2, verbose = 0 })
      return model:get_weights(), h.history, model:predict(x), lunet.rand(1):item()
    end
    local w1, h1, p1, r1 = train(false)
    local w2, h2, p2, r2 = train(true)
    for i = 1, #w1 do assert.is_true(lunet.equal(w1[i], w2[i]), "weight " .. i) end
    assert.are.same(h1, h2)
    assert.is_true(lunet.equal(p1, p2))
    assert.are.equal(r1, r2) -- the global generator advanced alike
  end)

  it("fuses only a dropout of its own class without noise_shape after a Dense whose derivative reads its input", function()
    local d = nn.Dense(4, { activation = "selu" })
    d:build_for({ 3 })
    assert.is_true(d:fuses_with(nn.AlphaDropout(0.1)))
    assert.is_true(d:fuses_with(nn.Dropout(0.5)))
    assert.is_false(d:fuses_with(nn.Dropout(0.5, { noise_shape = { 1, nil } })))
    assert.is_false(d:fuses_with(nn.GaussianDropout(0.1)))
    local t = nn.Dense(4, { activation = "tanh" }) -- tanh' reads tanh's output, which the mask replaces
    t:build_for({ 3 })
    assert.is_false(t:fuses_with(nn.Dropout(0.5)))
    -- at inference the pair is the Dense alone
    local x = lunet.randn(5, 3)
    assert.is_true(lunet.equal(d:call(x), d:call_fused(x, nn.AlphaDropout(0.1), false)))
    assert.has_error(function() t:call_fused(x, nn.Dropout(0.5), true) end)
  end)

  it("the fused node passes float64 gradcheck for the input, kernel and bias (selu, relu, linear)", function()
    for _, act in ipairs({ "selu", "relu", "linear" }) do
      S.seed(52)
      local dense = nn.Dense(4, { activation = act, dtype = "float64" })
      dense:build_for({ 3 })
      -- a seeded dropout starts from its seed when its state is cleared: the same mask at every call
      local drop = nn.AlphaDropout(0.3, { seed = 9 })
      local W = dense.kernel:detach():clone()
      local function f(xx, ww, bb)
        dense.kernel, dense.bias = ww, bb
        drop.rng_state = nil
        return dense:call_fused(xx, drop, true)
      end
      local ok, report = lunet.autograd.gradcheck(f, { lunet.randn(5, 3, "float64"), W, lunet.randn(4, "float64") })
      assert.is_true(ok, act .. ": " .. tostring(report))
    end
  end)

  it("its backward checks the mask", function()
    local x, W = lunet.randn(4, 3), lunet.randn(3, 2)
    local _, z, keep = core.dense_dropout(x, W, nil, "selu", true, nil, 0.5, 2, 0, 0)
    assert.are.same({ 4, 2 }, keep:shape())
    local g = lunet.ones(4, 2)
    assert.has_error(function() core.dense_backward(x, W, "selu", z, g, true, true, false, nil, lunet.ones(4, 2), 2) end,
      "dense_backward: the dropout mask must be uint8 of the gradient's shape (4, 2), got float32 (4, 2)")
    assert.has_error(function() core.dense_dropout(x, W, nil, "selu", true, nil, 1, 2, 0, 0) end,
      "dense_dropout: rate must be in [0, 1), got 1")
    -- the mask's gradient: a where kept, 0 where dropped, through selu'
    local dx = core.dense_backward(x, W, "linear", nil, g, true, false, false, nil, keep, 2)
    local expect = (keep:float() * 2):matmul(W:t())
    assert.is_true(lunet.allclose(dx, expect, 1e-6, 1e-6))
  end)
end)
