--- Optimizers with C update kernels (SEMANTICS.md, "Optimizers").
-- `opt:step(params)` updates each tensor of `params` that has a gradient,
-- in place, with one fused C loop per tensor; `opt.learning_rate` is mutable.
-- Each class is called with an options table (Keras' names and defaults;
-- `lr` is accepted for `learning_rate`); numbers must be finite and >= 0.
-- @module lunet.optim
-- @alias O
local core = require("lunet.core")
local utils = require("lunet.utils")
local check = require("lunet.check")

local O = {}
local fmt = string.format

--- What every optimizer class makes.  Fields: the options (e.g.
-- `opt.learning_rate`, which a scheduler may change between steps),
-- `opt.iterations` (steps taken) and `opt.state` (per-tensor slots, weak keys).
-- @type Optimizer

local function class(name, defaults, step_one)
  local cls = { name = name, defaults = defaults }
  cls.__index = cls
  setmetatable(cls, {
    __call = function(_, opts)
      opts = utils.check_options(name, opts, defaults, 2, { lr = true })
      local self = setmetatable({ iterations = 0, state = setmetatable({}, { __mode = "k" }) }, cls)
      for k, v in pairs(defaults) do
        local given = opts[k]
        if given == nil and k == "learning_rate" then given = opts.lr end
        if given == nil then given = v end
        if type(v) == "number" then
          check.number(name, k, given, 2, { min = 0, finite = true })
        elseif type(v) == "boolean" and type(given) ~= "boolean" then
          check.arg_error(name, k, "a boolean", given, 2)
        end
        self[k] = given
      end
      return self
    end,
  })
  --- One update of each tensor of params that has a gradient, in place
  -- (tensors without one are skipped; a gradient of another float dtype is
  -- converted).  Counts one iteration even when no tensor has a gradient.
  -- @function Optimizer:step
  -- @param params an array of float32 or float64 tensors
  function cls:step(params)
    check.type(name .. ".step", "params", params, "table", 2)
    for i = 1, #params do
      local w = params[i]
      if not core.is_tensor(w) then check.arg_error(name .. ".step", fmt("params[%d]", i), "a tensor", w, 2) end
      local dt = w:dtype()
      if dt ~= "float32" and dt ~= "float64" then
        check.arg_error(name .. ".step", fmt("params[%d]", i), "a float tensor", w, 2)
      end
    end
    local lr = self.learning_rate
    if type(lr) ~= "number" or not (lr >= 0 and lr < math.huge) then
      check.arg_error(name .. ".step", "learning_rate", "a finite number >= 0", lr, 2)
    end
    self.iterations = self.iterations + 1
    local t = self.iterations
    for i = 1, #params do
      local w = params[i]
      local g = w:grad()
      if g ~= nil then
        if g:dtype() ~= w:dtype() then g = g:astype(w:dtype()) end
        g = g:contiguous()
        local st = self.state[w]
        if st == nil then
          st = {}
          self.state[w] = st
        end
        step_one(self, w, g, st, t)
      end
    end
  end
  --- The optimizer's options, such as `{learning_rate = 0.01, momentum = 0, nesterov = false}`.
  -- @function Optimizer:get_config
  -- @return a new table of the current option values
  function cls:get_config()
    local c = {}
    for k in pairs(defaults) do c[k] = self[k] end
    return c
  end
  check.methods(cls, name)
  O[name] = cls
  return cls
end

--- Optimizer classes.
-- `optim.SGD({...})` and the others make an Optimizer.
-- @section optimizers

local function zeros_like(w) return core.zeros(w:shape(), w:dtype()) end
local function state(st, key, w, fill)
  local s = st[key]
  if s == nil then
    s = fill and core.full(w:shape(), fill, w:dtype()) or zeros_like(w)
    st[key] = s
  end
  return s
end

--- Stochastic gradient descent: w -= lr * g; with momentum, m = momentum *
-- m - lr * g and w += m; with nesterov, w += momentum * m - lr * g.
-- @function SGD
-- @param[opt] opts `learning_rate` (0.01), `momentum` (0), `nesterov` (false)
-- @return an Optimizer
class("SGD", { learning_rate = 0.01, momentum = 0, nesterov = false }, function(self, w, g, st)
  local m = self.momentum ~= 0 and state(st, "m", w) or nil
  core.sgd_step(w, g, m, self.learning_rate, self.momentum, self.nesterov)
end)

--- RMSprop: divides the gradient by a running root mean square of it.
-- @function RMSprop
-- @param[opt] opts `learning_rate` (0.001), `rho` (0.9), `momentum` (0),
-- `epsilon` (1e-7), `centered` (false; true subtracts the square of the
-- running mean gradient from the running mean square)
-- @return an Optimizer
class("RMSprop", { learning_rate = 0.001, rho = 0.9, momentum = 0, epsilon = 1e-7, centered = false },
  function(self, w, g, st)
    core.rmsprop_step(w, g, state(st, "v", w), self.centered and state(st, "mg", w) or nil,
      self.momentum > 0 and state(st, "mom", w) or nil, self.learning_rate, self.rho, self.momentum,
      self.epsilon, self.centered)
  end)

--- Adam, with the bias-corrected step size lr * sqrt(1 - `beta_2`^t) / (1 - `beta_1`^t).
-- @function Adam
-- @param[opt] opts `learning_rate` (0.001), `beta_1` (0.9), `beta_2` (0.999),
-- `epsilon` (1e-7), `amsgrad` (false)
-- @return an Optimizer
class("Adam", { learning_rate = 0.001, beta_1 = 0.9, beta_2 = 0.999, epsilon = 1e-7, amsgrad = false },
  function(self, w, g, st, t)
    local lr_t = self.learning_rate * math.sqrt(1 - self.beta_2 ^ t) / (1 - self.beta_1 ^ t)
    core.adam_step(w, g, state(st, "m", w), state(st, "v", w),
      self.amsgrad and state(st, "vhat", w) or nil, lr_t, self.beta_1, self.beta_2, self.epsilon)
  end)

--- Adagrad: divides by the root of the accumulated squared gradients.
-- @function Adagrad
-- @param[opt] opts `learning_rate` (0.001), `initial_accumulator_value` (0.1),
-- `epsilon` (1e-7)
-- @return an Optimizer
class("Adagrad", { learning_rate = 0.001, initial_accumulator_value = 0.1, epsilon = 1e-7 },
  function(self, w, g, st)
    core.adagrad_step(w, g, state(st, "acc", w, self.initial_accumulator_value), self.learning_rate,
      self.epsilon)
  end)

--- Adadelta: steps scaled by running averages of squared gradients and
-- squared updates.
-- @function Adadelta
-- @param[opt] opts `learning_rate` (0.001), `rho` (0.95), `epsilon` (1e-7)
-- @return an Optimizer
class("Adadelta", { learning_rate = 0.001, rho = 0.95, epsilon = 1e-7 }, function(self, w, g, st)
  core.adadelta_step(w, g, state(st, "eg", w), state(st, "ed", w), self.learning_rate, self.rho,
    self.epsilon)
end)

--- Adamax: Adam with the infinity norm of the gradients.
-- @function Adamax
-- @param[opt] opts `learning_rate` (0.001), `beta_1` (0.9), `beta_2` (0.999),
-- `epsilon` (1e-7)
-- @return an Optimizer
class("Adamax", { learning_rate = 0.001, beta_1 = 0.9, beta_2 = 0.999, epsilon = 1e-7 },
  function(self, w, g, st, t)
    core.adamax_step(w, g, state(st, "m", w), state(st, "u", w),
      self.learning_rate / (1 - self.beta_1 ^ t), self.beta_1, self.beta_2, self.epsilon)
  end)

--- Nadam: Adam with Nesterov momentum and Keras' momentum schedule
-- `mu_t` = `beta_1` (1 - 0.5 * 0.96^(t * `schedule_decay`)) (`schedule_decay` = 1
-- gives the plain 0.96^t form).
-- @function Nadam
-- @param[opt] opts `learning_rate` (0.001), `beta_1` (0.9), `beta_2` (0.999),
-- `epsilon` (1e-7), `schedule_decay` (0.004)
-- @return an Optimizer
class("Nadam", { learning_rate = 0.001, beta_1 = 0.9, beta_2 = 0.999, epsilon = 1e-7,
  schedule_decay = 0.004 }, function(self, w, g, st, t)
  local b1, d = self.beta_1, self.schedule_decay
  local mu_t = b1 * (1 - 0.5 * 0.96 ^ (t * d))
  local mu_t1 = b1 * (1 - 0.5 * 0.96 ^ ((t + 1) * d))
  -- the running product of mu is shared by all parameters of one step
  if self._ms_t ~= t then
    self._ms = (self._ms or 1) * mu_t
    self._ms_t = t
  end
  local ms_new = self._ms
  core.nadam_step(w, g, state(st, "m", w), state(st, "v", w), self.learning_rate, b1, self.beta_2,
    self.epsilon, mu_t, mu_t1, ms_new, ms_new * mu_t1, self.beta_2 ^ t)
end)

local names = { sgd = "SGD", rmsprop = "RMSprop", adam = "Adam", adagrad = "Adagrad",
  adadelta = "Adadelta", adamax = "Adamax", nadam = "Nadam" }

--- An optimizer from a name, with its defaults; an optimizer (a table with
-- `step`) is returned as it is.
-- @param spec a name, in any case: sgd, rmsprop, adam, adagrad, adadelta,
-- adamax, nadam; or an optimizer
-- @return an Optimizer; an unknown name is an error listing the known ones
function O.get(spec)
  if type(spec) == "table" and spec.step then return spec end
  local cls = type(spec) == "string" and (O[names[spec:lower()] or ""])
  if not cls then
    error(fmt("optim.get: unknown optimizer '%s' (known: adadelta, adagrad, adam, adamax, nadam, " ..
      "rmsprop, sgd)", tostring(spec)), 2)
  end
  return cls()
end

return O
