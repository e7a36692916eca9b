--- Weight constraints, applied to a weight after every optimizer step
-- (SEMANTICS.md): `c(w)` returns the projected tensor (w a float tensor).
-- A constraint is a callable table with `name` and `config` (what
-- `serialize` saves).  Norms are taken over dim `axis` (1, the default:
-- the norm of each column of a Dense kernel (in, out), as Keras' axis=0);
-- a 1-d weight (a bias) has only its one dim.
-- @module lunet.constraints
-- @alias C
local core = require("lunet.core")
local utils = require("lunet.utils")
local check = require("lunet.check")

local C = {}
local fmt = string.format
local EPS = 1e-7

local function make(name, fn, config)
  return setmetatable({ name = name, config = config or {} }, {
    __call = function(_, w)
      check.float_tensor(name, "w", w, 2)
      return fn(w)
    end,
  })
end

local function axis_of(name, axis)
  if axis == nil then return 1 end
  return check.number(name, "axis", axis, 2, { integer = true }) -- a tail call: 2 is the constructor's caller
end

--- Clip negative weights to 0: max(w, 0).
-- @return the constraint
function C.NonNeg() return make("NonNeg", function(w) return core.maximum(w, 0) end) end

--- Clip weights below a value: max(w, v) (PELU's default is MinValue(0.1)).
-- @param v the smallest value, a finite number, or a table `{min_value =}`
-- (or `{value =}`)
-- @return the constraint
function C.MinValue(v)
  if type(v) == "table" then v = v.min_value or v.value end
  check.number("MinValue", "min_value", v, 2, { finite = true })
  return make("MinValue", function(w) return core.maximum(w, v) end, { min_value = v })
end

-- norms of the slices along axis (a 1-d weight, e.g. a bias, has only axis 1)
local function norms(w, axis)
  return (w * w):sum(w:dim() == 1 and 1 or axis, true):sqrt()
end

--- Rescale the slices along `axis` whose L2 norm exceeds `max_value`:
-- w * clamp(n, 0, `max_value`) / (n + 1e-7).
-- @param[opt=2] max_value the largest norm (>= 0), or a table `{max_value =, axis =}`
-- @param[opt=1] axis the dim the norms are taken over
-- @return the constraint
function C.MaxNorm(max_value, axis)
  if type(max_value) == "table" then max_value, axis = max_value.max_value, max_value.axis end
  max_value = check.number("MaxNorm", "max_value", max_value or 2, 2, { min = 0 })
  axis = axis_of("MaxNorm", axis)
  return make("MaxNorm", function(w)
    local n = norms(w, axis)
    return w * (n:clamp(0, max_value) / (n + EPS))
  end, { max_value = max_value, axis = axis })
end

--- Rescale the slices along `axis` towards a norm in [`min_value`, `max_value`]:
-- the norm becomes rate * clamp(n, `min_value`, `max_value`) + (1 - rate) * n.
-- @param[opt] opts `min_value` (0), `max_value` (1), `rate` (1), `axis` (1);
-- numbers >= 0, `min_value` <= `max_value`
-- @return the constraint
function C.MinMaxNorm(opts)
  opts = utils.check_options("MinMaxNorm", opts, { min_value = true, max_value = true, rate = true, axis = true })
  local lo, hi, rate = opts.min_value or 0, opts.max_value or 1, opts.rate or 1
  for k, v in pairs({ min_value = lo, max_value = hi, rate = rate }) do check.number("MinMaxNorm", k, v, 2, { min = 0 }) end
  if lo > hi then error(fmt("MinMaxNorm: min_value %s exceeds max_value %s", check.describe(lo), check.describe(hi)), 2) end
  local axis = axis_of("MinMaxNorm", opts.axis)
  return make("MinMaxNorm", function(w)
    local n = norms(w, axis)
    local desired = n:clamp(lo, hi) * rate + n * (1 - rate)
    return w * (desired / (n + EPS))
  end, { min_value = lo, max_value = hi, rate = rate, axis = axis })
end

--- Rescale the slices along `axis` to unit L2 norm: w / (n + 1e-7).
-- @param[opt=1] axis the dim the norms are taken over, or a table `{axis =}`
-- @return the constraint
function C.UnitNorm(axis)
  if type(axis) == "table" then axis = axis.axis end
  axis = axis_of("UnitNorm", axis)
  return make("UnitNorm", function(w)
    return w / (norms(w, axis) + EPS)
  end, { axis = axis })
end

local by_name = { NonNeg = C.NonNeg, MinValue = C.MinValue, MaxNorm = C.MaxNorm,
  MinMaxNorm = C.MinMaxNorm, UnitNorm = C.UnitNorm, non_neg = C.NonNeg, max_norm = C.MaxNorm,
  unit_norm = C.UnitNorm, min_max_norm = C.MinMaxNorm }

--- A constraint from a name, a config or a function.
-- @param spec nil (gives nil); a constraint (returned as it is); a function
-- of w (wrapped); a name (MaxNorm, MinMaxNorm, MinValue, NonNeg, UnitNorm,
-- or `max_norm`, `min_max_norm`, `non_neg`, `unit_norm`: made with its defaults;
-- MinValue has none, so it needs a config);
-- or a config `{class_name =, config =}` as `serialize` gives
-- @return the constraint, or nil; an unknown name is an error listing the known ones
function C.get(spec)
  if spec == nil then return nil end
  if type(spec) == "table" and getmetatable(spec) then return spec end
  if type(spec) == "function" then return make("function", spec) end
  local name, config = spec, nil
  if type(spec) == "table" then name, config = spec.class_name, spec.config end
  local f = by_name[name]
  if not f then
    error(fmt("constraints.get: unknown constraint '%s' (known: MaxNorm, MinMaxNorm, MinValue, NonNeg, UnitNorm)",
      tostring(name)), 2)
  end
  return f(config)
end

--- The config of a constraint, `{class_name =, config =}`, which `get`
-- turns back into the constraint; a config gives a new table of its two fields.
-- @param c a constraint, or a config
-- @return a table `{class_name =, config =}`
function C.serialize(c)
  if type(c) == "table" and getmetatable(c) == nil and type(c.class_name) == "string" then
    return { class_name = c.class_name, config = c.config } -- a config already
  end
  if not (type(c) == "table" and getmetatable(c) and c.name) then
    check.arg_error("constraints.serialize", "c", "a constraint or {class_name=, config=}", c, 2)
  end
  return { class_name = c.name, config = c.config } end

return C
