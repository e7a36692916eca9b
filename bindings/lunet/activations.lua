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

-- One function per row of the C table (runtime/activations.c), read once
-- here: A[name](x [, p1, p2, p3]) with the row's parameters positional, or
-- A[name](x [, {param = value, ...}]) by name; a parameter not given takes
-- the table's default.  Parameters are numbers (a boolean is 1 or 0, as
-- gelu's `approximate`).
-- Keras' other names for a parameter: K.relu(x, alpha=) is negative_slope
local aliases = { relu = { alpha = "negative_slope" } }

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
    check_x(name, x)
    local a, b, c
    if np == 0 and select("#", ...) > 0 and (...) ~= nil then
      check.arg_error(name, "the argument after x", "absent (" .. name .. " takes no parameters)", (...), 2)
    elseif np > 0 then
      local first = ...
      if type(first) == "table" and not is_tensor(first) then
        utils.check_options(name, first, known, 2)
        first = unalias(first)
        a, b, c = value(params[1], first[params[1]]), value(params[2], first[params[2]]),
            value(params[3], first[params[3]])
      else
        local v1, v2, v3 = ...
        a, b, c = value(params[1], v1), np > 1 and value(params[2], v2) or nil,
            np > 2 and value(params[3], v3) or nil
      end
    end
    local y = core.activation(name, x, a, b, c)
    if is_tracked(x) then
      record(name, y, { x }, function(g)
        return core.activation_backward(name, saves_y and y or x, g, a, b, c)
      end, 1)
    end
    return y
  end
end

for _, name in ipairs(core.activation_names()) do A[name] = table_activation(name) end

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
