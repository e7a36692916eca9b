--- lunet: tensors, activations and Keras-style neural networks for Lua 5.4.
-- `local lunet = require("lunet")`.  The tensor functions come from the C
-- module `lunet.core` (every function of lunet.core is also a field of
-- lunet); `lunet.autograd` and `lunet.activations` are loaded with lunet,
-- and the other submodules on first use: `lunet.nn`, `lunet.optim`, `lunet.analysis`, `lunet.experiment`,
-- `lunet.losses`, `lunet.metrics` (= `lunet.losses.metrics`),
-- `lunet.initializers`, `lunet.constraints`, `lunet.callbacks`,
-- `lunet.data`, `lunet.datasets`, `lunet.utils`, `lunet.plot`.
-- @module lunet
local core = require("lunet.core")
-- autograd wraps core's differentiable functions in place: load it first
local autograd = require("lunet.autograd")
local activations = require("lunet.activations")

local lunet = {}


for name, value in pairs(core) do
  if type(value) == "function" then lunet[name] = value end
end

--- The version string, like "0.1.0" (also in `config()`).
lunet.version = core.version
--- The table of tensor methods: add a method here and every tensor has it.
-- Methods are called as `t:sum()`; positions and dims are 1-based, negative
-- dims count from the end, and a method ending in `_` works in place.
--
-- - shape: `shape`, `size(dim)`, `dim`, `numel`, `#t`, `dtype`
-- - conversion: `astype(dtype)`, `float`, `double`, `int` (int32), `long`
--   (int64), `byte` (uint8); float to integer truncates toward zero; NaN and
--   values out of range are errors.  int64 elements are Lua integers, exact
--   beyond 2^53.
-- - copies and views: `clone`, `contiguous`, `is_contiguous`,
--   `reshape`, `view`, `flatten`, `transpose(d1, d2)`, `t`, `permute`,
--   `narrow(dim, start, length)`, `select(dim, index)`, `squeeze`,
--   `unsqueeze`, `index_select(dim, idx)`, `t[i]` (a view of row i)
-- - elements: `get(i, j, ...)`, `set(i, j, ..., value)`, `fill`, `copy`,
--   `totable`, `item`, `tostring(t)`
-- - arithmetic with broadcasting, on every dtype with numpy's promotion (the
--   README's table): `+ - * / // % ^` and unary `-`, `add sub mul div pow
--   floor_divide remainder` and `add_ sub_ mul_ div_ pow_`, `matmul`, `exp
--   log sqrt` (float), `abs neg sign square clamp(lo, hi)`; integer `/` gives
--   float64, integer `//` and `%` by zero give 0, integer overflow wraps
-- - rounding: `floor ceil round trunc` (round: half to even, as numpy) and
--   `clip(lo, hi)` (clamp's numpy name; nil leaves a side open)
-- - comparisons (uint8 masks): `eq ne lt le gt ge`
-- - reductions, over everything (a 0-d tensor) or a dim (`keepdim`):
--   `sum mean var std min max` (var and std: population), `argmin argmax`
--   (1-based positions; `argmax(dim, {base = 0})` gives 0-based class ids, as
--   numpy's and Keras' argmax; `{keepdim = true}` is the same option table's)
-- - autograd: `requires_grad`, `backward`, `grad`, `zero_grad`, `grad_fn`,
--   `detach`, `is_grad_tracked`
-- - every activation of `lunet.activations`: `t:selu()`, `t:relu(opts)`, ...
lunet.Tensor = core.Tensor
lunet.core = core
lunet.autograd = autograd
lunet.activations = activations
--- Run `fn(...)` without recording operations for autograd
-- (`lunet.autograd.no_grad`).  Grad mode is restored on every way out of fn:
-- return, error and `coroutine.yield`.
-- @function no_grad
-- @param fn a function (or callable table)
-- @param ... its arguments
-- @return what fn returns
lunet.no_grad = autograd.no_grad

-- all/any (numpy's, tf.reduce_all/reduce_any): nonzero elements are true
local function truth(fname, t, dim, keepdim, want_all)
  local check = require("lunet.check")
  check.tensor(fname, "t", t, 3)
  local nz = t:ne(0)
  if dim == nil then
    if t:numel() == 0 then return want_all end
    local v = want_all and nz:min():item() or nz:max():item()
    return v == 1
  end
  -- errors (a bad dim) read "all: ..." at the caller
  local r = check.within(fname, 3, want_all and nz.min or nz.max, nz, dim, keepdim)
  return r
end
local function all(t, dim, keepdim) local r = truth("all", t, dim, keepdim, true) return r end
local function any(t, dim, keepdim) local r = truth("any", t, dim, keepdim, false) return r end
core.Tensor.all, core.Tensor.any = all, any
lunet.all, lunet.any = all, any

-- numpy's function forms of the elementwise methods: lunet.exp(x) is x:exp()
-- (recorded for autograd as the method is); doc/tensor.luadoc documents them
for _, k in ipairs({ "exp", "log", "sqrt", "abs", "sign", "square", "tanh", "floor", "ceil", "round", "trunc" }) do
  local method = core.Tensor[k]
  if rawget(lunet, k) == nil then lunet[k] = function(x) return method(x) end end
end
local clip = core.Tensor.clip
--- numpy's `np.clip(x, lo, hi)`: `x:clip(lo, hi)` (nil leaves a side open).
-- @param x a tensor
-- @param[opt] lo the lower bound
-- @param[opt] hi the upper bound
-- @return a new tensor
function lunet.clip(x, lo, hi) return clip(x, lo, hi) end

--- Whether two tensors have the same shape and equal elements (compared
-- after numpy's type promotion, so a float32 and a float64 tensor can be
-- equal; NaN is never equal).
-- @param a a tensor
-- @param b a tensor
-- @return a boolean
function lunet.equal(a, b)
  if not (core.is_tensor(a) and core.is_tensor(b)) then
    error("equal: expected two tensors", 2)
  end
  local sa, sb = a:shape(), b:shape()
  if #sa ~= #sb then return false end
  for i = 1, #sa do
    if sa[i] ~= sb[i] then return false end
  end
  if a:numel() == 0 then return true end
  return a:ne(b):sum():item() == 0
end

--- Whether |a - b| <= atol + rtol * |b| elementwise (numpy.allclose), in
-- float64, with b broadcast against a; NaN is never close.
-- @param a a tensor
-- @param b a tensor or a number
-- @param[opt=1e-5] rtol the relative tolerance (>= 0)
-- @param[opt=1e-8] atol the absolute tolerance (>= 0)
-- @return a boolean
function lunet.allclose(a, b, rtol, atol)
  local check = require("lunet.check")
  check.tensor("allclose", "a", a, 2)
  if not core.is_tensor(b) and type(b) ~= "number" then check.arg_error("allclose", "b", "a tensor or a number", b, 2) end
  rtol, atol = rtol or 1e-5, atol or 1e-8
  check.number("allclose", "rtol", rtol, 2, { min = 0 })
  check.number("allclose", "atol", atol, 2, { min = 0 })
  local close = check.within("allclose", 2, function()
    local da = a:double()
    local db = core.is_tensor(b) and b:double() or b
    local diff = (da - db):abs()
    local tol = (core.is_tensor(db) and db:abs() or math.abs(db)) * rtol + atol
    local bad = diff:gt(tol)
    -- NaN never compares close
    local nan = da:ne(da)
    return bad:sum():item() == 0 and nan:sum():item() == 0
  end)
  return close -- not a tail call: level 2 above is allclose's caller
end

-- loaded on first use: lunet.nn, lunet.optim, ...
local submodules = {
  nn = function() require("lunet.model"); return require("lunet.nn") end,
  optim = "lunet.optim", losses = "lunet.losses", initializers = "lunet.initializers",
  constraints = "lunet.constraints", callbacks = "lunet.callbacks",
  metrics = function() return require("lunet.losses").metrics end,
  data = "lunet.data", datasets = "lunet.datasets", utils = "lunet.utils",
  plot = "lunet.plot", analysis = "lunet.analysis", experiment = "lunet.experiment",
}

return setmetatable(lunet, {
  __index = function(t, key)
    local s = submodules[key]
    if s then
      local m = type(s) == "function" and s() or require(s)
      rawset(t, key, m)
      return m
    end
  end,
})
