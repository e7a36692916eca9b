--- Activation functions (functional), with exact gradients.
-- Every activation of SEMANTICS.md by its name there: `A.selu(x)`,
-- `A.relu(x, {negative_slope=, max_value=, threshold=})`, `A.pelu(x, a, b)`,
-- ...  Each runs one C kernel forward and one backward (runtime/activations.c)
-- and is recorded for autograd.  Each is also a tensor method (`x:selu()`).
-- @module lunet.activations
local core = require("lunet.core")
local autograd = require("lunet.autograd")
local utils = require("lunet.utils")
local check = require("lunet.check")

local A = {}

local is_tensor = core.is_tensor
local record, is_tracked, sum_to = autograd.record, autograd.is_tracked, autograd.sum_to
local fmt = string.format

-- x is a float tensor (errors name the activation as the user called it)
local function check_x(name, x) check.float_tensor(name, "x", x, 3) end

local function check_number(name, what, v) return check.number(name, what, v, 3) end

-- An elementwise activation with scalar parameters a, b, c (positional, as
-- the C table orders them).
local function elementwise(name, kernel)
  kernel = kernel or name
  local saves_y = core.activation_info(kernel).saves_y
  return function(x, a, b, c)
    local y = core.activation(kernel, x, a, b, c)
    if is_tracked(x) then
      record(name, y, { x }, function(g)
        return core.activation_backward(kernel, saves_y and y or x, g, a, b, c)
      end, 1)
    end
    return y
  end
end

local relu_k = elementwise("relu")
local relu_opts = { "negative_slope", "max_value", "threshold",
  negative_slope = true, max_value = true, threshold = true }

--- relu(x [, {negative_slope=0, max_value=nil, threshold=0}]) in Keras' semantics.
function A.relu(x, opts)
  check_x("relu", x)
  local ns, mv, th = 0, math.huge, 0
  if opts ~= nil then
    utils.check_options("relu", opts, relu_opts)
    if opts.negative_slope ~= nil then ns = check_number("relu", "negative_slope", opts.negative_slope) end
    if opts.max_value ~= nil then mv = check_number("relu", "max_value", opts.max_value) end
    if opts.threshold ~= nil then th = check_number("relu", "threshold", opts.threshold) end
  end
  return relu_k(x, ns, mv, th)
end

--- relu6(x) = relu(x, {max_value=6})
function A.relu6(x)
  check_x("relu6", x)
  return relu_k(x, 0, 6, 0)
end

-- activations with one optional scalar parameter
local function one_param(name, pname, default)
  local k = elementwise(name)
  return function(x, p)
    check_x(name, x)
    if p == nil then p = default else check_number(name, pname, p) end
    return k(x, p)
  end
end

--- leaky_relu(x [, alpha=0.3])
A.leaky_relu = one_param("leaky_relu", "alpha", 0.3)
--- elu(x [, alpha=1])
A.elu = one_param("elu", "alpha", 1)
--- celu(x [, alpha=1])
A.celu = one_param("celu", "alpha", 1)
--- thresholded_relu(x [, theta=1])
A.thresholded_relu = one_param("thresholded_relu", "theta", 1)

-- swish is silu and hard_swish is hard_silu (their own names in messages)
for name, kernel in pairs({ linear = "linear", selu = "selu", sigmoid = "sigmoid",
  hard_sigmoid = "hard_sigmoid", hard_silu = "hard_silu", silu = "silu", tanh = "tanh",
  softplus = "softplus", softsign = "softsign", mish = "mish", exponential = "exponential",
  swish = "silu", hard_swish = "hard_silu" }) do
  local k = elementwise(kernel)
  A[name] = function(x)
    check_x(name, x)
    return k(x)
  end
end

local gelu_k = elementwise("gelu")
--- gelu(x [, {approximate=false}])
function A.gelu(x, opts)
  check_x("gelu", x)
  local approx = false
  if opts ~= nil then
    utils.check_options("gelu", opts, { approximate = true })
    approx = opts.approximate and true or false
  end
  return gelu_k(x, approx)
end

-- a tensor parameter (or a number, made a 0-d tensor of x's dtype)
local function param(name, what, x, p)
  if type(p) == "number" then return core.tensor(p, x:dtype()) end
  if not is_tensor(p) then check.arg_error(name, what, "a tensor or a number", p, 3) end
  return p
end

--- prelu(x, alpha): x > 0: x; else alpha*x (alpha broadcast over x).
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

--- pelu(x, a, b): x >= 0: (a/b)*x; else a*(exp(x/b)-1) (a, b > 0, broadcast).
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
--- softmax(x [, axis=-1])
A.softmax = softmax_like("softmax", false)
--- log_softmax(x [, axis=-1])
A.log_softmax = softmax_like("log_softmax", true)

local names = {}
for k in pairs(A) do names[#names + 1] = k end
table.sort(names)

--- The activation function called `name` (a function is returned as is;
-- nil gives linear, as in Keras).  Unknown names are an error listing the
-- known ones.
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

--- The names of all activations, sorted.
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
