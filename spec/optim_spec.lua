local lunet = require("lunet")

local optim = lunet.optim

-- f(w) = sum(c * w^2) / 2, gradient c*w; three coordinates of different curvature
local C = { 0.5, 2.0, -1.0 }
local W0 = { 1.5, -0.7, 0.3 }

-- run an optimizer for `steps` steps on float64 weights; return the trajectory
local function run(opt, steps)
  local w = lunet.tensor(W0, "float64"):requires_grad()
  local c = lunet.tensor(C, "float64")
  local traj = {}
  for s = 1, steps do
    w:zero_grad()
    local loss = (c * w * w):sum() * 0.5
    loss:backward()
    opt:step({ w })
    traj[s] = w:detach():totable()
  end
  return traj
end

-- the same update rule written out in scalar Lua (SEMANTICS.md)
local function reference(update, steps)
  local w = { W0[1], W0[2], W0[3] }
  local state = { {}, {}, {} }
  local traj = {}
  for t = 1, steps do
    for i = 1, 3 do
      local g = C[i] * w[i]
      w[i] = update(w[i], g, state[i], t)
    end
    traj[t] = { w[1], w[2], w[3] }
  end
  return traj
end

local function same(a, b, tol)
  for t = 1, #b do
    for i = 1, 3 do
      local d = math.abs(a[t][i] - b[t][i])
      assert(d <= tol * math.max(1, math.abs(b[t][i])),
        ("step %d coordinate %d: %.17g vs %.17g"):format(t, i, a[t][i], b[t][i]))
    end
  end
end

describe("lunet.optim", function()
  local steps = 25

  it("SGD, with momentum and Nesterov, follows its update rule", function()
    same(run(optim.SGD({ learning_rate = 0.1 }), steps), reference(function(w, g) return w - 0.1 * g end, steps), 1e-14)
    local function mom(nesterov)
      return function(w, g, s)
        s.m = 0.9 * (s.m or 0) - 0.1 * g
        if nesterov then return w + 0.9 * s.m - 0.1 * g end
        return w + s.m
      end
    end
    same(run(optim.SGD({ learning_rate = 0.1, momentum = 0.9 }), steps), reference(mom(false), steps), 1e-13)
    same(run(optim.SGD({ learning_rate = 0.1, momentum = 0.9, nesterov = true }), steps),
      reference(mom(true), steps), 1e-13)
  end)

  it("RMSprop (plain, centered, momentum) follows its update rule", function()
    local function rule(centered, momentum)
      return function(w, g, s)
        s.v = 0.9 * (s.v or 0) + 0.1 * g * g
        local den
        if centered then
          s.mg = 0.9 * (s.mg or 0) + 0.1 * g
          den = math.sqrt(s.v - s.mg * s.mg + 1e-7)
        else
          den = math.sqrt(s.v + 1e-7)
        end
        if momentum > 0 then
          s.mom = momentum * (s.mom or 0) + 0.01 * g / den
          return w - s.mom
        end
        return w - 0.01 * g / den
      end
    end
    same(run(optim.RMSprop({ learning_rate = 0.01 }), steps), reference(rule(false, 0), steps), 1e-13)
    same(run(optim.RMSprop({ learning_rate = 0.01, centered = true }), steps), reference(rule(true, 0), steps), 1e-13)
    same(run(optim.RMSprop({ learning_rate = 0.01, momentum = 0.5 }), steps), reference(rule(false, 0.5), steps), 1e-13)
  end)

  it("Adam (and amsgrad) follows its update rule with Keras' defaults", function()
    local function rule(ams)
      return function(w, g, s, t)
        s.m = 0.9 * (s.m or 0) + 0.1 * g
        s.v = 0.999 * (s.v or 0) + 0.001 * g * g
        local v = s.v
        if ams then
          s.vh = math.max(s.vh or 0, s.v)
          v = s.vh
        end
        local lr_t = 0.01 * math.sqrt(1 - 0.999 ^ t) / (1 - 0.9 ^ t)
        return w - lr_t * s.m / (math.sqrt(v) + 1e-7)
      end
    end
    same(run(optim.Adam({ learning_rate = 0.01 }), steps), reference(rule(false), steps), 1e-13)
    same(run(optim.Adam({ learning_rate = 0.01, amsgrad = true }), steps), reference(rule(true), steps), 1e-13)
    local a = optim.Adam()
    assert.are.same({ 0.001, 0.9, 0.999, 1e-7, false },
      { a.learning_rate, a.beta_1, a.beta_2, a.epsilon, a.amsgrad })
  end)

  it("Adagrad, Adadelta and Adamax follow their update rules", function()
    same(run(optim.Adagrad({ learning_rate = 0.1 }), steps), reference(function(w, g, s)
      s.acc = (s.acc or 0.1) + g * g
      return w - 0.1 * g / math.sqrt(s.acc + 1e-7)
    end, steps), 1e-13)
    same(run(optim.Adadelta({ learning_rate = 1.0 }), steps), reference(function(w, g, s)
      s.eg = 0.95 * (s.eg or 0) + 0.05 * g * g
      local d = math.sqrt((s.ed or 0) + 1e-7) / math.sqrt(s.eg + 1e-7) * g
      s.ed = 0.95 * (s.ed or 0) + 0.05 * d * d
      return w - d
    end, steps), 1e-13)
    same(run(optim.Adamax({ learning_rate = 0.01 }), steps), reference(function(w, g, s, t)
      s.m = 0.9 * (s.m or 0) + 0.1 * g
      s.u = math.max(0.999 * (s.u or 0), math.abs(g))
      return w - 0.01 / (1 - 0.9 ^ t) * s.m / (s.u + 1e-7)
    end, steps), 1e-13)
  end)

  it("Nadam follows Keras' schedule", function()
    local ms = 1
    local last_t = 0
    same(run(optim.Nadam({ learning_rate = 0.01 }), steps), reference(function(w, g, s, t)
      local mu = 0.9 * (1 - 0.5 * 0.96 ^ (t * 0.004))
      local mu1 = 0.9 * (1 - 0.5 * 0.96 ^ ((t + 1) * 0.004))
      if t ~= last_t then ms, last_t = ms * mu, t end
      local gp = g / (1 - ms)
      s.m = 0.9 * (s.m or 0) + 0.1 * g
      local mp = s.m / (1 - ms * mu1)
      s.v = 0.999 * (s.v or 0) + 0.001 * g * g
      local vp = s.v / (1 - 0.999 ^ t)
      local mbar = (1 - mu) * gp + mu1 * mp
      return w - 0.01 * mbar / (math.sqrt(vp) + 1e-7)
    end, steps), 1e-12)
  end)

  it("uses a mutable learning_rate and float32 kernels", function()
    local opt = optim.SGD({ learning_rate = 0.5 })
    local w = lunet.tensor({ 1, 2 }):requires_grad()
    w:zero_grad();
    (w * w):sum():backward()
    opt.learning_rate = 0.25
    opt:step({ w })
    assert.are.same({ 0.5, 1 }, w:detach():totable())
    assert.are.equal("float32", w:dtype())
  end)

  it("rejects unknown names and options", function()
    assert.has_error(function() optim.get("adamw") end,
      "optim.get: unknown optimizer 'adamw' (known: adadelta, adagrad, adam, adamax, nadam, rmsprop, sgd)")
    assert.has_error(function() optim.Adam({ beta1 = 0.5 }) end,
      "Adam: unknown option 'beta1' (known: amsgrad, beta_1, beta_2, epsilon, learning_rate)")
    assert.are.equal("RMSprop", getmetatable(optim.get("rmsprop")).name)
  end)
end)
