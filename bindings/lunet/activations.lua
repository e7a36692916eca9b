--- Activation functions (functional), with exact gradients.
-- Every activation of SEMANTICS.md by its name there: `A.selu(x)`,
-- `A.relu(x, {negative_slope=, max_value=, threshold=})`, `A.pelu(x, a, b)`,
-- ...  Each runs one C kernel forward and one backward (runtime/activations.c)
-- and is recorded for autograd.  Each is also a tensor method (`x:selu()`).
-- Each returns a new tensor of x's shape and dtype; x must be a float32
-- or float64 tensor, as in
-- `"relu: x must be a float32 or float64 tensor (got an int32 tensor of shape (2,); convert with :float())"`.
-- NaN in gives NaN out.
-- @module lunet.activations
-- @alias A
local core = require("lunet.core")
local autograd = require("lunet.autograd")
-- lunet.utils (large) loads at the first options table, not at start-up
local function check_options(...) return require("lunet.utils").check_options(...) end
local check = require("lunet.check")

local A = {}

local is_tensor = core.is_tensor
local record, is_tracked, sum_to = autograd.record, autograd.is_tracked, autograd.sum_to
local fmt = string.format

-- x is a float tensor (errors name the activation as the user called it)
local function check_x(name, x) check.float_tensor(name, "x", x, 3) end

-- One function per row of the C table (runtime/activations.c), read once
-- here: A[name](x [, p1, p2, p3]) with the row's parameters positional, or
-- A[name](x [, {param = value, ...}]) by name; a parameter not given takes
-- the table's default.  Parameters are numbers (a boolean is 1 or 0, as
-- gelu's `approximate`).
-- Keras' other names for a parameter: K.relu(x, alpha=) is negative_slope
local aliases = { relu = { alpha = "negative_slope" } }

-- The layer whose workspace the next table activation call writes into in
-- a training step: set by an activation layer just before it calls its
-- activation, and taken (cleared) by that call as it starts, so no later
-- call ever sees it.
local next_owner

--- For activation layers: the next call of a C-table activation is the
-- layer's, and writes its result and gradient into the layer's buffers in
-- a training step (autograd.workspace).
-- @param layer the layer, or nil to clear it
function A.for_layer(layer)
  if layer ~= nil and type(layer) ~= "table" then check.arg_error("for_layer", "layer", "a layer or nil", layer, 2) end
  next_owner = layer
end

local function table_activation(name)
  local info = core.activation_info(name)
  local params, saves_y = info.params, info.saves_y
  local np = #params
  local known = {}
  for i, p in ipairs(params) do known[i], known[p] = p, true end
  local alias = aliases[name] or {}
  for a, p in pairs(alias) do known[#known + 1], known[a] = a .. " (" .. p .. ")", true end
  -- the options table with each alias under its parameter's name
  local function unalias(o)
    if next(alias) == nil then return o end
    local r = {}
    for k, v in pairs(o) do r[k] = v end
    for a, p in pairs(alias) do
      if r[a] ~= nil then
        if r[p] ~= nil then check.arg_error(name, a, "absent when " .. p .. " is given (the same parameter)", r[a], 3) end
        r[p], r[a] = r[a], nil
      end
    end
    return r
  end
  local function value(p, v)
    if v == nil or type(v) == "boolean" then return v end
    return check.number(name, p, v, 3)
  end
  return function(x, ...)
    local owner = next_owner
    next_owner = nil
    check_x(name, x)
    local a, b, c
    if np == 0 and select("#", ...) > 0 and (...) ~= nil then
      check.arg_error(name, "the argument after x", "absent (" .. name .. " takes no parameters)", (...), 2)
    elseif np > 0 then
      local first = ...
      if type(first) == "table" and not is_tensor(first) then
        check_options(name, first, known, 2)
        first = unalias(first)
        a, b, c = value(params[1], first[params[1]]), value(params[2], first[params[2]]),
            value(params[3], first[params[3]])
      else
        local v1, v2, v3 = ...
        a, b, c = value(params[1], v1), np > 1 and value(params[2], v2) or nil,
            np > 2 and value(params[3], v3) or nil
      end
    end
    local ws = owner and autograd.workspace(owner)
    local y = core.activation(name, x, a, b, c, ws)
    if is_tracked(x) then
      record(name, y, { x }, function(g)
        return core.activation_backward(name, saves_y and y or x, g, a, b, c, ws)
      end, 1, true)
    end
    return y
  end
end

--- Activations of the C table.  The loop below makes one per row of
-- runtime/activations.c, as `f(x, ...)`: x is a float32 or float64
-- tensor; a parameter is given positionally or in one table by name (an
-- unknown name is an error), and one not given (or nil) takes its default.  A
-- parameter is a number (NaN is an error) or a boolean, which counts as
-- 1 or 0.  At a kink the derivative is the left side's in the ReLU
-- family (relu'(0) = 0) and the x <= 0 branch's in the ELU family
-- (elu'(0) = alpha).
-- @section table

--- The identity: a copy of x.
-- @function linear
-- @param x a float32 or float64 tensor
-- @param ... none (a non-nil argument after x is an error)
-- @return a new tensor of x's shape and dtype

--- The rectifier, with Keras' options: for x > `threshold`, x, or
-- `clamp(x, 0, max_value)` when `max_value` is given (so x in
-- (`threshold`, 0] gives 0 then); else `negative_slope * (x - threshold)`.
-- With the defaults, `max(x, 0)`.
-- @function relu
-- @param x a float32 or float64 tensor
-- @param ... `negative_slope` (0), `max_value` (none) and `threshold` (0):
-- numbers, positionally in that order or as one table
-- `{negative_slope =, max_value =, threshold =}`
-- @return a new tensor of x's shape and dtype

--- `relu` with `max_value` 6: `min(max(x, 0), 6)`.
-- @function relu6
-- @param x a float32 or float64 tensor
-- @param ... none (a non-nil argument after x is an error)
-- @return a new tensor of x's shape and dtype

--- x for x > 0, else `alpha * x`.
-- @function leaky_relu
-- @param x a float32 or float64 tensor
-- @param ... `alpha` (0.3): a number, or a table `{alpha =}`
-- @return a new tensor of x's shape and dtype

--- x for x > `theta`, else 0.
-- @function thresholded_relu
-- @param x a float32 or float64 tensor
-- @param ... `theta` (1): a number, or a table `{theta =}`
-- @return a new tensor of x's shape and dtype

--- x for x > 0, else `alpha * (exp(x) - 1)`.
-- @function elu
-- @param x a float32 or float64 tensor
-- @param ... `alpha` (1): a number, or a table `{alpha =}`
-- @return a new tensor of x's shape and dtype

--- `scale * elu(x, alpha)` with the SELU constants alpha =
-- 1.6732632423543772 and scale = 1.0507009873554805 (selu(1) =
-- 1.0507009873554805, selu(-1) = -1.1113307378125625).
-- @function selu
-- @param x a float32 or float64 tensor
-- @param ... none (a non-nil argument after x is an error)
-- @return a new tensor of x's shape and dtype

--- `max(0, x) + min(0, alpha * (exp(x / alpha) - 1))`.
-- @function celu
-- @param x a float32 or float64 tensor
-- @param ... `alpha` (1): a number, or a table `{alpha =}`
-- @return a new tensor of x's shape and dtype

--- The Gaussian error linear unit: `0.5 * x * (1 + erf(x / sqrt(2)))`;
-- approximate: `0.5 * x * (1 + tanh(sqrt(2 / pi) * (x + 0.044715 * x^3)))`.
-- @function gelu
-- @param x a float32 or float64 tensor
-- @param ... `approximate` (false): a boolean (or 1 or 0), or a table
-- `{approximate =}`
-- @return a new tensor of x's shape and dtype

--- The logistic function `1 / (1 + exp(-x))`, computed stably for both signs.
-- @function sigmoid
-- @param x a float32 or float64 tensor
-- @param ... none (a non-nil argument after x is an error)
-- @return a new tensor of x's shape and dtype

--- `clip(0.2 * x + 0.5, 0, 1)`, the Keras 2 definition.
-- @function hard_sigmoid
-- @param x a float32 or float64 tensor
-- @param ... none (a non-nil argument after x is an error)
-- @return a new tensor of x's shape and dtype

--- `x * sigmoid(x)`; `swish` is the same function.
-- @function silu
-- @param x a float32 or float64 tensor
-- @param ... none (a non-nil argument after x is an error)
-- @return a new tensor of x's shape and dtype

--- `silu` under its other name: `x * sigmoid(x)`.
-- @function swish
-- @param x a float32 or float64 tensor
-- @param ... none (a non-nil argument after x is an error)
-- @return a new tensor of x's shape and dtype

--- `x * relu6(x + 3) / 6`; `hard_swish` is the same function.
-- @function hard_silu
-- @param x a float32 or float64 tensor
-- @param ... none (a non-nil argument after x is an error)
-- @return a new tensor of x's shape and dtype

--- `hard_silu` under its other name: `x * relu6(x + 3) / 6`.
-- @function hard_swish
-- @param x a float32 or float64 tensor
-- @param ... none (a non-nil argument after x is an error)
-- @return a new tensor of x's shape and dtype

--- The hyperbolic tangent.
-- @function tanh
-- @param x a float32 or float64 tensor
-- @param ... none (a non-nil argument after x is an error)
-- @return a new tensor of x's shape and dtype

--- `log(1 + exp(x))`, computed as `max(x, 0) + log1p(exp(-abs(x)))`.
-- @function softplus
-- @param x a float32 or float64 tensor
-- @param ... none (a non-nil argument after x is an error)
-- @return a new tensor of x's shape and dtype

--- `x / (1 + abs(x))`.
-- @function softsign
-- @param x a float32 or float64 tensor
-- @param ... none (a non-nil argument after x is an error)
-- @return a new tensor of x's shape and dtype

--- `x * tanh(softplus(x))`.
-- @function mish
-- @param x a float32 or float64 tensor
-- @param ... none (a non-nil argument after x is an error)
-- @return a new tensor of x's shape and dtype

--- `exp(x)`.
-- @function exponential
-- @param x a float32 or float64 tensor
-- @param ... none (a non-nil argument after x is an error)
-- @return a new tensor of x's shape and dtype

for _, name in ipairs(core.activation_names()) do A[name] = table_activation(name) end

-- a tensor parameter (or a number, made a 0-d tensor of x's dtype)
local function param(name, what, x, p)
  if type(p) == "number" then return core.tensor(p, x:dtype()) end
  if not is_tensor(p) then check.arg_error(name, what, "a tensor or a number", p, 3) end
  return p
end

--- Activations with tensor parameters.  The layers PReLU and PELU
-- hold them as weights; gradients flow to the parameters too (summed to their
-- shapes).  A parameter is a tensor of x's dtype whose shape broadcasts
-- to x's, or a number (a 0-d tensor of x's dtype).
-- @section weighted

--- The parametric rectifier: x for x > 0, else `alpha * x`.
-- @param x a float32 or float64 tensor
-- @param alpha a tensor or a number; else an error, as
-- `"prelu: alpha of shape (2,) does not broadcast to x of shape (9,)"` or
-- `"prelu: alpha is float32 but x is float64"`
-- @return a new tensor of x's shape and dtype
function A.prelu(x, alpha)
  check_x("prelu", x)
  alpha = param("prelu", "alpha", x, alpha)
  local y = core.prelu(x, alpha)
  if is_tracked(x) or is_tracked(alpha) then
    record("prelu", y, { x, alpha }, function(g)
      local dx, da = core.prelu_backward(x, alpha, g)
      return dx, sum_to(da, alpha)
    end, 2)
  end
  return y
end

--- The parametric exponential linear unit: `(a / b) * x` for x >= 0,
-- else `a * (exp(x / b) - 1)`; pelu'(0) = a / b.  a and b must be > 0,
-- which is not checked (b = 0 gives inf and NaN): the PELU layer keeps
-- them >= 0.1 by its constraints.
-- @param x a float32 or float64 tensor
-- @param a a tensor or a number
-- @param b a tensor or a number
-- @return a new tensor of x's shape and dtype
function A.pelu(x, a, b)
  check_x("pelu", x)
  a = param("pelu", "a", x, a)
  b = param("pelu", "b", x, b)
  local y = core.pelu(x, a, b)
  if is_tracked(x) or is_tracked(a) or is_tracked(b) then
    record("pelu", y, { x, a, b }, function(g)
      local dx, da, db = core.pelu_backward(x, a, b, g)
      return dx, sum_to(da, a), sum_to(db, b)
    end, 3)
  end
  return y
end

local function softmax_like(name, log)
  return function(x, axis)
    check_x(name, x)
    local nd = x:dim()
    if nd == 0 then error(fmt("%s: x must have at least 1 dim, got %s", name, check.describe(x)), 2) end
    if axis ~= nil then
      axis = check.number(name, "axis", axis, 2, { integer = true })
      if axis == 0 or axis < -nd or axis > nd then
        error(fmt("%s: axis %d out of range for a %d-d tensor", name, axis, nd), 2)
      end
    end
    local y = core.softmax(x, axis, log)
    if is_tracked(x) then
      record(name, y, { x }, function(g) return core.softmax_backward(y, g, axis, log) end, 1)
    end
    return y
  end
end
--- Softmax and its log.  Along one dim of x, which needs at least one:
-- `"softmax: x must have at least 1 dim, got a float32 tensor of shape ()"`.
-- The axis is a non-zero integer in [-x:dim(), x:dim()]:
-- `"softmax: axis 2 out of range for a 1-d tensor"`.
-- @section softmax

--- `exp(x - max) / sum(exp(x - max))` along `axis`: each slice sums to 1.
-- @function softmax
-- @param x a float32 or float64 tensor
-- @param[opt=-1] axis the dim (negative counts from the last)
-- @return a new tensor of x's shape and dtype
A.softmax = softmax_like("softmax", false)

--- `x - max - log(sum(exp(x - max)))` along `axis`: the log of softmax,
-- computed from x directly rather than as log(softmax(x)).
-- @function log_softmax
-- @param x a float32 or float64 tensor
-- @param[opt=-1] axis the dim (negative counts from the last)
-- @return a new tensor of x's shape and dtype
A.log_softmax = softmax_like("log_softmax", true)

local names = {}
for k in pairs(A) do names[#names + 1] = k end
table.sort(names)

--- Looking activations up.
-- @section lookup

--- The activation function called `name`: what `Dense` and `Activation`
-- use for their `activation` option.
-- @param name an activation name (exact: `"relu"`, `"selu"`, ...), a
-- function (returned as it is), or nil (gives `linear`, as in Keras)
-- @return the function; an unknown name is an error listing the known
-- ones (`"activations.get: unknown activation 'rleu' (known: celu, elu, ...)"`)
function A.get(name)
  if name == nil then return A.linear end
  if type(name) == "function" then return name end
  local f = type(name) == "string" and rawget(A, name)
  if not f or name == "get" or name == "names" then
    error(fmt("activations.get: unknown activation '%s' (known: %s)", tostring(name),
      table.concat(names, ", ")), 2)
  end
  return f
end

--- The names of all activations, sorted (the table's and prelu, pelu,
-- softmax, log_softmax).
-- @return a new array of strings
function A.names()
  local r = {}
  for i, n in ipairs(names) do r[i] = n end
  return r
end

-- tensor methods: x:selu(), x:relu(opts), ...
local T = core.Tensor
for _, n in ipairs(names) do
  if T[n] == nil then T[n] = A[n] end
end

return A
