-- spec/analysis_spec.lua - lunet.analysis: the SNN paper's moment map
-- against its closed forms and Monte Carlo, SELU's constants and fixed
-- point, ReLU's map, AlphaDropout's correction (SEMANTICS.md's vectors).
local lunet = require("lunet")
local S = require("support")
local A = require("lunet.analysis")

local ALPHA, LAMBDA = 1.6732632423543772, 1.0507009873554805

describe("lunet.analysis", function()
  it("solve_selu_constants recovers SELU's alpha and lambda from g(0, 1) = (0, 1) to 1e-12", function()
    local alpha, lambda = A.solve_selu_constants()
    assert.is_true(math.abs(alpha - ALPHA) < 1e-12, alpha)
    assert.is_true(math.abs(lambda - LAMBDA) < 1e-12, lambda)
  end)

  it("SELU's fixed point is (0, 1), with the paper's Jacobian and a spectral norm below 1", function()
    local fp = A.fixed_point("selu", { start = { 0.2, 1.3 } })
    assert.is_true(math.abs(fp.mu) < 1e-10 and math.abs(fp.nu - 1) < 1e-10, fp.mu .. " " .. fp.nu)
    local J = fp.jacobian
    assert.is_true(math.abs(J[1][1]) < 1e-8 and math.abs(J[2][1]) < 1e-8)
    assert.is_true(math.abs(J[1][2] - 0.0888) < 5e-5 and math.abs(J[2][2] - 0.7826) < 5e-5, J[1][2] .. " " .. J[2][2])
    assert.is_true(math.abs(fp.spectral_norm - 0.7877) < 1e-4 and fp.attracting)
  end)

  it("ReLU sends (0, 1) to mean sqrt(1/(2 pi)), variance 1/2 - 1/(2 pi), and has no fixed point with nu > 0", function()
    local mu, nu = A.moment_map("relu", 0, 1)
    assert.is_true(math.abs(mu - math.sqrt(1 / (2 * math.pi))) < 1e-12)
    assert.is_true(math.abs(nu - (0.5 - 1 / (2 * math.pi))) < 1e-12)
    assert.has_error(function() A.fixed_point("relu") end,
      "fixed_point: the moment map of relu has no fixed point with nu > 0 in range (omega = 0, tau = 1)")
  end)

  it("the quadrature agrees with the closed forms of relu, linear, elu and selu for nu in [0.1, 10]", function()
    for _, c in ipairs({ { "relu" }, { "linear" }, { "elu", { alpha = 0.7 } }, { "selu" } }) do
      for _, mu in ipairs({ -2, -0.3, 0, 0.5, 3 }) do
        for _, nu in ipairs({ 0.1, 0.5, 1, 3, 10 }) do
          local o = { omega = 1, tau = 1, params = c[2] }
          local m1, v1 = A.moment_map(c[1], mu, nu, o)
          o.closed = true
          local m2, v2 = A.moment_map(c[1], mu, nu, o)
          local function close(a, b) return math.abs(a - b) <= 1e-8 * math.max(1, math.abs(b)) end
          assert.is_true(close(m1, m2) and close(v1, v2),
            string.format("%s at (%g, %g): %.15g %.15g vs %.15g %.15g", c[1], mu, nu, m1, v1, m2, v2))
        end
      end
    end
  end)

  it("every activation's map agrees with Monte Carlo (1e6 samples, 3 sigma), kinked and parametric ones included", function()
    S.seed(71)
    local z = lunet.randn({ 1000000 }, "float64")
    local cases = {}
    for _, name in ipairs(lunet.core.activation_names()) do cases[#cases + 1] = { name } end
    cases[#cases + 1] = { "relu", { negative_slope = 0.1, max_value = 2, threshold = -0.5 } }
    cases[#cases + 1] = { "pelu", { a = 1.5, b = 0.7 } }
    cases[#cases + 1] = { "prelu", { alpha = 0.2 } }
    for _, c in ipairs(cases) do
      local name, params = c[1], c[2]
      local m, nu = 0.4, 1.7
      local x = z * math.sqrt(nu) + m
      local y
      if name == "pelu" then
        local a, b = params.a, params.b
        y = lunet.where(x:ge(0), x * (a / b), ((x / b):exp() - 1) * a)
      elseif name == "prelu" then
        y = lunet.where(x:gt(0), x, x * params.alpha)
      else
        local info = lunet.core.activation_info(name)
        local args = {}
        for i, p in ipairs(info.params) do args[i] = params and params[p] end
        y = lunet.core.activation(name, x, args[1], args[2], args[3])
      end
      local mc_mean, mc_var = y:mean():item(), y:var():item()
      local c4 = ((y - mc_mean) ^ 4):mean():item()
      local se_mean, se_var = math.sqrt(mc_var / 1e6), math.sqrt(math.max(c4 - mc_var ^ 2, 0) / 1e6)
      local mu1, nu1 = A.moment_map(name, m, nu, { omega = 1, params = params })
      assert.is_true(math.abs(mu1 - mc_mean) <= 3 * se_mean + 1e-12, string.format("%s mean %g vs %g", name, mu1, mc_mean))
      assert.is_true(math.abs(nu1 - mc_var) <= 3 * se_var + 1e-12, string.format("%s variance %g vs %g", name, nu1, mc_var))
    end
  end)

  it("Gauss-Hermite of a chosen order matches the kink-split quadrature on smooth activations", function()
    for _, name in ipairs({ "sigmoid", "softplus", "gelu" }) do
      local m1, v1 = A.moment_map(name, 0.2, 1.5, { omega = 1, order = 80 })
      local m2, v2 = A.moment_map(name, 0.2, 1.5, { omega = 1 })
      assert.is_true(math.abs(m1 - m2) < 1e-7 and math.abs(v1 - v2) < 1e-7, name)
    end
  end)

  it("AlphaDropout's (a, b) from the fixed point's moments are SEMANTICS.md's", function()
    for _, v in ipairs({ { 0.05, 0.954844476005031, 0.08393557219381019 }, { 0.1, 0.9212845161497115, 0.16197097005757022 },
      { 0.2, 0.8789035834435328, 0.30903996214409446 }, { 0.5, 0.886404894665932, 0.7791939305180317 } }) do
      local a, b = A.alpha_dropout_constants(v[1])
      assert.is_true(math.abs(a - v[2]) < 1e-12 and math.abs(b - v[3]) < 1e-12, v[1])
    end
  end)

  it("refuses what it cannot compute, naming the function", function()
    assert.has_error(function() A.moment_map("nope", 0, 1) end,
      "moment_map: unknown activation 'nope' (the C table's, pelu or prelu)")
    assert.has_error(function() A.moment_map("elu", 0, 1, { params = { beta = 1 } }) end,
      "moment_map: unknown parameter 'beta' of elu")
    assert.has_error(function() A.moment_map("tanh", 0, 1, { closed = true }) end,
      "moment_map: tanh has no closed form here (relu, linear, elu and selu do)")
    assert.has_error(function() A.moment_map("selu", 0, -1) end)
    assert.has_error(function() A.moment_map("selu", 0, 1, { gamma = 1 }) end,
      "moment_map: unknown option 'gamma' (known: closed, omega, order, params, start, tau)")
    assert.has_error(function() A.fixed_point("selu", { start = "x" }) end,
      "fixed_point: start must be {mu, nu} with nu > 0 (got \"x\")")
  end)
end)

describe("callbacks.LayerStats", function()
  it("records each layer's mean, std, saturation and gradient norm on the probe batch, as computed directly", function()
    local nn = lunet.nn
    S.seed(72)
    local x, y = lunet.randn(300, 10), lunet.uniform({ 300 }, 0, 3):int()
    local model = nn.Sequential({
      nn.Dense(16, { activation = "selu", input_shape = { 10 } }), nn.AlphaDropout(0.1),
      nn.Dense(16, { activation = "relu" }), nn.Dense(3, { activation = "softmax" }),
    })
    model:compile({ optimizer = "adam", loss = "sparse_categorical_crossentropy" })
    local h = model:fit(x, y, { epochs = 4, verbose = 0, callbacks = { lunet.callbacks.LayerStats({ every = 2 }) } })
    local stats = h.layer_stats
    assert.are.equal(2, #stats.dense_1.mean) -- epochs 2 and 4
    -- the last record is of the final weights: redo it on the first 256 samples
    local probe, py = x:narrow(1, 1, 256), y:narrow(1, 1, 256)
    local a = lunet.no_grad(function() return model.layers[1]:call(probe, false) end)
    local r = lunet.no_grad(function() return model.layers[3]:call(a, false) end)
    local out = lunet.no_grad(function() return model.layers[4]:call(r, false) end)
    assert.near(a:mean():item(), stats.dense_1.mean[2], 1e-6)
    assert.near(a:std():item(), stats.dense_1.std[2], 1e-6)
    assert.near(r:eq(0):float():mean():item(), stats.dense_2.saturated[2], 1e-12)
    assert.near(out:mean():item(), stats.dense_3.mean[2], 1e-6)
    -- the loss's gradient at the output
    local leaf = out:detach():requires_grad()
    model.loss_fn(py, leaf):backward()
    local g = leaf:grad()
    assert.near(math.sqrt((g * g):sum():item()), stats.dense_3.grad_norm[2], 1e-6)
    assert.is_true(stats.dense_1.grad_norm[2] > 0)
    assert.has_error(function() lunet.callbacks.LayerStats({ every = 0 }) end)
  end)
end)

describe("experiment.sweep", function()
  local E = require("lunet.experiment")
  it("runs a 2 x 3 grid, gives the groups' means, sample stds and intervals, and writes the CSV", function()
    local dir = os.tmpname()
    os.remove(dir)
    -- a fake run: acc = 0.9 for selu, 0.8 for relu, plus seed/100
    local calls = 0
    local function run(cfg)
      calls = calls + 1
      return { acc = (cfg.activation == "selu" and 0.9 or 0.8) + cfg.seed / 100 }
    end
    local r = E.sweep({ grid = { activation = { "selu", "relu" }, seed = { 1, 2, 3 } }, run = run, out = dir, print = false })
    assert.are.equal(6, calls)
    assert.are.equal(2, #r.groups)
    for _, g in ipairs(r.groups) do
      local base = g.cfg.activation == "selu" and 0.9 or 0.8
      assert.near(base + 0.02, g.mean.acc, 1e-12)
      -- numpy: np.std([b + .01, b + .02, b + .03], ddof=1) == 0.01 (the sample std)
      assert.near(0.01, g.std.acc, 1e-12)
      assert.near(base + 0.02 - 4.303 * 0.01 / math.sqrt(3), g.lo.acc, 1e-12)
      assert.are.equal(3, g.n)
    end
    local rows = 0
    for line in io.lines(dir .. "/results.csv") do
      rows = rows + 1
      if rows == 1 then assert.are.equal("activation,seed,=acc", line) end
    end
    assert.are.equal(7, rows)
    assert.matches("| relu | 3 | 0.8200 ± 0.0100 |", r.table, 1, true)
    assert.is_not_nil(io.open(dir .. "/acc.svg"))
    -- a crash after two runs of a bigger grid: the next call runs only what is missing
    local crashing = 0
    assert.has_error(function()
      E.sweep({ grid = { activation = { "selu", "relu", "tanh" }, seed = { 1, 2, 3 } }, out = dir, print = false,
        run = function(cfg)
          if cfg.activation == "tanh" and cfg.seed == 2 then error("simulated crash") end
          crashing = crashing + 1
          return run(cfg)
        end })
    end, "simulated crash")
    assert.are.equal(1, crashing) -- only tanh seed 1 ran (the six before were in the CSV)
    calls = 0
    local r2 = E.sweep({ grid = { activation = { "selu", "relu", "tanh" }, seed = { 1, 2, 3 } }, run = run, out = dir,
      print = false })
    assert.are.equal(2, calls) -- tanh seeds 2 and 3
    assert.are.equal(3, #r2.groups)
    assert.are.equal(9, #r2.runs)
    -- one seed: the mean alone, no spread
    local r3 = E.sweep({ grid = { activation = { "selu" }, seed = { 1 } }, run = run, print = false })
    assert.matches("| selu | 1 | 0.9100 | - |", r3.table, 1, true)
    os.execute("rm -rf " .. dir)
  end)
end)
