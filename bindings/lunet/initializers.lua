--- Weight initializers (SEMANTICS.md, "Initializers"; Keras 2.2+ VarianceScaling).
-- An initializer is called as `init(shape [, dtype])` and returns a new tensor.
-- `I.get(name_or_init)`; classes: `I.LecunNormal()`, `I.RandomUniform({minval=, maxval=, seed=})`, ...
-- An initializer is a callable table with `name` and `config` (what
-- `serialize` saves); `shape` is an array of non-negative integers and
-- `dtype` "float32" (the default) or "float64".  A `seed` makes an
-- initializer give the same values at every call without touching the
-- global generator; without one it draws from the global generator.
-- Options are checked as a script's are: known keys, finite numbers,
-- integer seeds.
-- @module lunet.initializers
-- @alias I
local core = require("lunet.core")
local utils = require("lunet.utils")
local check = require("lunet.check")

local I = {}
local fmt = string.format

local TRUNC_STD = 0.87962566103423978 -- std of N(0,1) cut at +-2

-- a seeded initializer does not disturb the global generator
local with_seed = utils.with_seed

-- Option checks, so that a config in a file is held to what a script may
-- pass: known keys only, finite numbers, integer seeds.  Messages read
-- "<Initializer>: <what> (got <value>)"; level as error() counts from the
-- constructor's caller.
local function refuse(name, what, v, level)
  error(fmt("%s: %s (got %s)", name, what, check.describe(v)), level or 4)
end
local function options(name, opts, known)
  if type(opts) == "table" and getmetatable(opts) == nil then
    utils.check_options(name, opts, known, 3)
  elseif opts ~= nil then
    check.arg_error(name, "options", "a table", opts, 3)
  end
  opts = opts or {}
  if opts.seed ~= nil and math.type(opts.seed) ~= "integer" then refuse(name, "seed must be an integer", opts.seed) end
  return opts
end
local function finite(name, key, v, min)
  if type(v) ~= "number" or v ~= v or v == math.huge or v == -math.huge or (min and v < min) then
    refuse(name, fmt("%s must be a finite number%s", key, min and fmt(" >= %s", min) or ""), v)
  end
  return v
end

--- The fans of a weight shape as Keras computes them: () gives 1, 1; (n)
-- gives n, n; (in, out) gives in, out; a kernel (k1, ..., in, out) gives
-- in * k1 * ..., out * k1 * ...
-- @param shape an array of non-negative integers
-- @return `fan_in`, `fan_out`
function I.compute_fans(shape)
  check.type("compute_fans", "shape", shape, "table", 2)
  for i = 1, #shape do check.number("compute_fans", fmt("shape[%d]", i), shape[i], 2, { integer = true, min = 0 }) end
  local n = #shape
  if n == 0 then return 1, 1 end
  if n == 1 then return shape[1], shape[1] end
  if n == 2 then return shape[1], shape[2] end
  local receptive = 1
  for i = 1, n - 2 do receptive = receptive * shape[i] end
  return shape[n - 1] * receptive, shape[n] * receptive
end

-- N(mean, std) redrawn outside mean +- 2 std: each round a full draw of
-- N(0, 1), taken where the value is still outside (core.truncate_normal_,
-- in place: no round makes a tensor)
local function truncated_normal(shape, mean, std, dtype)
  local z = core.truncate_normal_(core.randn(shape, "float64"), 2)
  return (z * std + mean):astype(dtype)
end

local function make(name, fn, config)
  local init = setmetatable({ name = name, config = config or {} }, {
    __call = function(self, shape, dtype)
      if type(shape) ~= "table" then check.arg_error(name, "shape", "a table of sizes", shape, 2) end
      for i = 1, #shape do check.number(name, fmt("shape[%d]", i), shape[i], 2, { integer = true, min = 0 }) end
      if dtype ~= nil and dtype ~= "float32" and dtype ~= "float64" then
        check.arg_error(name, "dtype", '"float32" or "float64"', dtype, 2)
      end
      return fn(shape, dtype or "float32", self)
    end,
  })
  return init
end

--- Keras' VarianceScaling: values of variance scale / n, n the `fan_in`, the
-- `fan_out` or their mean (at least 1).  `"truncated_normal"` draws N(0, s)
-- redrawn outside 2 std with s = sqrt(scale / n) / 0.87962566103423978 (so
-- the variance is scale / n); `"untruncated_normal"` draws N(0, sqrt(scale /
-- n)); "uniform" draws U(-l, l) with l = sqrt(3 scale / n).
-- @param[opt] opts `scale` (1, > 0), `mode` (`"fan_in"`, `"fan_out"` or
-- `"fan_avg"`), `distribution` (`"truncated_normal"`; "normal" is the same),
-- `seed`
-- @return the initializer
function I.VarianceScaling(opts)
  opts = options("VarianceScaling", opts, { scale = true, mode = true, distribution = true, seed = true })
  local scale, mode = opts.scale or 1, opts.mode or "fan_in"
  local dist = opts.distribution or "truncated_normal"
  if dist == "normal" then dist = "truncated_normal" end
  if mode ~= "fan_in" and mode ~= "fan_out" and mode ~= "fan_avg" then
    error(fmt("VarianceScaling: mode must be fan_in, fan_out or fan_avg, got '%s'", tostring(mode)), 2)
  end
  if dist ~= "truncated_normal" and dist ~= "untruncated_normal" and dist ~= "uniform" then
    error(fmt("VarianceScaling: unknown distribution '%s'", tostring(dist)), 2)
  end
  if not (finite("VarianceScaling", "scale", scale, 0) > 0) then
    refuse("VarianceScaling", "scale must be positive", scale, 3)
  end
  return make("VarianceScaling", function(shape, dtype)
    local fan_in, fan_out = I.compute_fans(shape)
    local n = mode == "fan_in" and fan_in or (mode == "fan_out" and fan_out or (fan_in + fan_out) / 2)
    local s = scale / math.max(1, n)
    return with_seed(opts.seed, function()
      if dist == "truncated_normal" then
        return truncated_normal(shape, 0, math.sqrt(s) / TRUNC_STD, dtype)
      elseif dist == "untruncated_normal" then
        return core.normal(shape, 0, math.sqrt(s), dtype)
      end
      local lim = math.sqrt(3 * s)
      return core.uniform(shape, -lim, lim, dtype)
    end)
  end, { scale = scale, mode = mode, distribution = dist, seed = opts.seed })
end

local function vs(name, scale, mode, dist)
  return function(opts)
    opts = options(name, opts, { seed = true })
    local o = { scale = scale, mode = mode, distribution = dist, seed = opts.seed }
    local init = I.VarianceScaling(o)
    init.name = name
    init.config = { seed = o.seed }
    return init
  end
end
--- LeCun normal: VarianceScaling(scale 1, `fan_in`, truncated normal), SELU's initializer.
-- @function LecunNormal
-- @param[opt] opts `seed`
-- @return the initializer

--- LeCun uniform: VarianceScaling(scale 1, `fan_in`, uniform).
-- @function LecunUniform
-- @param[opt] opts `seed`
-- @return the initializer

--- Glorot (Xavier) normal: VarianceScaling(scale 1, `fan_avg`, truncated normal).
-- @function GlorotNormal
-- @param[opt] opts `seed`
-- @return the initializer

--- Glorot (Xavier) uniform: VarianceScaling(scale 1, `fan_avg`, uniform), Dense's default.
-- @function GlorotUniform
-- @param[opt] opts `seed`
-- @return the initializer

--- He normal: VarianceScaling(scale 2, `fan_in`, truncated normal).
-- @function HeNormal
-- @param[opt] opts `seed`
-- @return the initializer

--- He uniform: VarianceScaling(scale 2, `fan_in`, uniform).
-- @function HeUniform
-- @param[opt] opts `seed`
-- @return the initializer
I.LecunNormal = vs("LecunNormal", 1, "fan_in", "truncated_normal")
I.LecunUniform = vs("LecunUniform", 1, "fan_in", "uniform")
I.GlorotNormal = vs("GlorotNormal", 1, "fan_avg", "truncated_normal")
I.GlorotUniform = vs("GlorotUniform", 1, "fan_avg", "uniform")
I.HeNormal = vs("HeNormal", 2, "fan_in", "truncated_normal")
I.HeUniform = vs("HeUniform", 2, "fan_in", "uniform")

--- All zeros.
-- @param[opt] opts no options (an empty table is accepted)
-- @return the initializer
function I.Zeros(opts)
  options("Zeros", opts, {})
  return make("Zeros", function(shape, dtype) return core.zeros(shape, dtype) end)
end
--- All ones.
-- @param[opt] opts no options (an empty table is accepted)
-- @return the initializer
function I.Ones(opts)
  options("Ones", opts, {})
  return make("Ones", function(shape, dtype) return core.ones(shape, dtype) end)
end
--- Every value the same.
-- @param[opt] opts `{value = 0}`, or the value itself (a finite number)
-- @return the initializer
function I.Constant(opts)
  local v = opts
  if type(opts) ~= "number" then v = options("Constant", opts, { value = true }).value or 0 end
  finite("Constant", "value", v)
  return make("Constant", function(shape, dtype) return core.full(shape, v, dtype) end, { value = v })
end
--- U(minval, maxval).
-- @param[opt] opts `minval` (-0.05), `maxval` (0.05; not below minval), `seed`
-- @return the initializer
function I.RandomUniform(opts)
  opts = options("RandomUniform", opts, { minval = true, maxval = true, seed = true })
  local lo = finite("RandomUniform", "minval", opts.minval or -0.05)
  local hi = finite("RandomUniform", "maxval", opts.maxval or 0.05)
  if lo > hi then refuse("RandomUniform", fmt("minval must not exceed maxval (%s)", tostring(hi)), lo, 3) end
  return make("RandomUniform", function(shape, dtype)
    return with_seed(opts.seed, function() return core.uniform(shape, lo, hi, dtype) end)
  end, { minval = lo, maxval = hi, seed = opts.seed })
end
-- RandomNormal and TruncatedNormal: a (mean, stddev) option pair and a draw
local function normal_family(name, draw)
  return function(opts)
    opts = options(name, opts, { mean = true, stddev = true, seed = true })
    local m = finite(name, "mean", opts.mean or 0)
    local s = finite(name, "stddev", opts.stddev or 0.05, 0)
    return make(name, function(shape, dtype)
      return with_seed(opts.seed, function() return draw(shape, m, s, dtype) end)
    end, { mean = m, stddev = s, seed = opts.seed })
  end
end
--- N(mean, stddev).
-- @param[opt] opts `mean` (0), `stddev` (0.05, >= 0), `seed`
-- @return the initializer
I.RandomNormal = normal_family("RandomNormal", core.normal)
--- N(mean, stddev) with values beyond 2 stddev from the mean redrawn.
-- @param[opt] opts `mean` (0), `stddev` (0.05, >= 0), `seed`
-- @return the initializer
I.TruncatedNormal = normal_family("TruncatedNormal", truncated_normal)
--- A (scaled) orthogonal matrix: the shape is seen as (product of all dims
-- but the last, last dim); the columns (or rows, when the matrix is wide)
-- of a normal matrix are orthonormalized as a QR decomposition would, times
-- gain.
-- @param[opt] opts `gain` (1), `seed`
-- @return the initializer
function I.Orthogonal(opts)
  opts = options("Orthogonal", opts, { gain = true, seed = true })
  local gain = finite("Orthogonal", "gain", opts.gain or 1)
  return make("Orthogonal", function(shape, dtype)
    local rows = 1
    for i = 1, #shape - 1 do rows = rows * shape[i] end
    local cols = shape[#shape]
    local n, m = math.max(rows, cols), math.min(rows, cols)
    local a = with_seed(opts.seed, function() return core.randn(n, m, "float64") end)
    -- modified Gram-Schmidt on the columns of a (n >= m), sign-fixed like QR
    local q = a:clone()
    for j = 1, m do
      local v = q:select(2, j)
      for k = 1, j - 1 do
        local u = q:select(2, k)
        v = v - u * (u * v):sum():item()
      end
      local norm = math.sqrt((v * v):sum():item())
      q:select(2, j):copy(v / norm)
    end
    if rows < cols then q = q:t() end
    return (q * gain):contiguous():reshape(shape):astype(dtype)
  end, { gain = gain, seed = opts.seed })
end

local by_name = {
  zeros = I.Zeros, ones = I.Ones, constant = I.Constant,
  random_uniform = I.RandomUniform, random_normal = I.RandomNormal,
  truncated_normal = I.TruncatedNormal, orthogonal = I.Orthogonal,
  lecun_normal = I.LecunNormal, lecun_uniform = I.LecunUniform,
  glorot_normal = I.GlorotNormal, glorot_uniform = I.GlorotUniform,
  he_normal = I.HeNormal, he_uniform = I.HeUniform,
  variance_scaling = I.VarianceScaling,
}
-- Keras class names too
for _, k in ipairs({ "Zeros", "Ones", "Constant", "RandomUniform", "RandomNormal", "TruncatedNormal",
  "Orthogonal", "LecunNormal", "LecunUniform", "GlorotNormal", "GlorotUniform", "HeNormal",
  "HeUniform", "VarianceScaling" }) do
  by_name[k] = I[k]
end

--- An initializer from a name, a config or a function.
-- @param spec an initializer (returned as it is); a function(shape, dtype)
-- (wrapped); a name, in snake case (`"lecun_normal"`, "zeros", ...) or as
-- the class ("LecunNormal"), made with its defaults; or a config
-- `{class_name =, config =}` as `serialize` gives
-- @return the initializer; an unknown name is an error listing the known ones
function I.get(spec)
  if type(spec) == "table" and getmetatable(spec) and getmetatable(spec).__call then return spec end
  if type(spec) == "function" then return make("function", function(shape, dtype) return spec(shape, dtype) end) end
  if type(spec) == "table" and spec.class_name then
    local f = by_name[spec.class_name]
    if f then return f(spec.config) end
    spec = spec.class_name
  end
  local f = type(spec) == "string" and by_name[spec]
  if not f then
    local names = {}
    for k in pairs(by_name) do if k:match("^%l") then names[#names + 1] = k end end
    table.sort(names)
    error(fmt("initializers.get: unknown initializer '%s' (known: %s)", tostring(spec),
      table.concat(names, ", ")), 2)
  end
  return f()
end

--- The config of an initializer, `{class_name =, config =}`, which `get`
-- turns back into the initializer; a config gives a new table of its two fields.
-- @param init an initializer, or a config
-- @return a table `{class_name =, config =}`
function I.serialize(init)
  if type(init) == "table" and getmetatable(init) == nil and type(init.class_name) == "string" then
    return { class_name = init.class_name, config = init.config } -- a config already
  end
  local mt = type(init) == "table" and getmetatable(init)
  if not (mt and mt.__call and init.name) then
    check.arg_error("initializers.serialize", "init", "an initializer or {class_name=, config=}", init, 2)
  end
  return { class_name = init.name, config = init.config }
end

return I
