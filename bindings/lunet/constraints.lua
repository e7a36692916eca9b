--- Weight constraints, applied to a weight after every optimizer step
-- (SEMANTICS.md): `c(w)` returns the projected tensor.
-- @module lunet.constraints
local core = require("lunet.core")

local C = {}
local fmt = string.format
local EPS = 1e-7

local function make(name, fn, config)
  return setmetatable({ name = name, config = config or {} }, {
    __call = function(_, w) return fn(w) end,
  })
end

--- NonNeg(): max(w, 0)
function C.NonNeg() return make("NonNeg", function(w) return core.maximum(w, 0) end) end

--- MinValue(v): max(w, v) (PELU's default is MinValue(0.1))
function C.MinValue(v)
  if type(v) == "table" then v = v.min_value or v.value end
  if type(v) ~= "number" then error("MinValue: expected a number", 2) end
  return make("MinValue", function(w) return core.maximum(w, v) end, { min_value = v })
end

-- norms of the slices along axis (a 1-d weight, e.g. a bias, has only axis 1)
local function norms(w, axis)
  return (w * w):sum(w:dim() == 1 and 1 or axis, true):sqrt()
end

--- MaxNorm(max_value=2 [, axis=1]): rescale slices along `axis` whose norm exceeds max_value
function C.MaxNorm(max_value, axis)
  if type(max_value) == "table" then max_value, axis = max_value.max_value, max_value.axis end
  max_value, axis = max_value or 2, axis or 1
  return make("MaxNorm", function(w)
    local n = norms(w, axis)
    return w * (n:clamp(0, max_value) / (n + EPS))
  end, { max_value = max_value, axis = axis })
end

--- MinMaxNorm({min_value=0, max_value=1, rate=1, axis=1})
function C.MinMaxNorm(opts)
  opts = opts or {}
  local lo, hi, rate, axis = opts.min_value or 0, opts.max_value or 1, opts.rate or 1, opts.axis or 1
  return make("MinMaxNorm", function(w)
    local n = norms(w, axis)
    local desired = n:clamp(lo, hi) * rate + n * (1 - rate)
    return w * (desired / (n + EPS))
  end, { min_value = lo, max_value = hi, rate = rate, axis = axis })
end

--- UnitNorm([axis=1])
function C.UnitNorm(axis)
  if type(axis) == "table" then axis = axis.axis end
  axis = axis or 1
  return make("UnitNorm", function(w)
    return w / (norms(w, axis) + EPS)
  end, { axis = axis })
end

local by_name = { NonNeg = C.NonNeg, MinValue = C.MinValue, MaxNorm = C.MaxNorm,
  MinMaxNorm = C.MinMaxNorm, UnitNorm = C.UnitNorm, non_neg = C.NonNeg, max_norm = C.MaxNorm,
  unit_norm = C.UnitNorm, min_max_norm = C.MinMaxNorm }

--- A constraint from a name, a constraint, or {class_name=, config=}; nil stays nil.
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

function C.serialize(c) return { class_name = c.name, config = c.config } end

return C
