--- lunet: tensors, activations and Keras-style neural networks for Lua 5.4.
-- `local lunet = require("lunet")`.  The tensor functions come from the C
-- module `lunet.core`; submodules (`lunet.nn`, `lunet.optim`, ...) load on
-- first use.
-- @module lunet
local core = require("lunet.core")
-- autograd wraps core's differentiable functions in place: load it first
local autograd = require("lunet.autograd")
local activations = require("lunet.activations")

local lunet = {}


for name, value in pairs(core) do
  if type(value) == "function" then lunet[name] = value end
end

--- The version string, e.g. "0.1.0".
lunet.version = core.version
--- The table of tensor methods (add a method here and every tensor has it).
lunet.Tensor = core.Tensor
lunet.core = core
lunet.autograd = autograd
lunet.activations = activations
--- Run fn(...) without recording operations for autograd.
lunet.no_grad = autograd.no_grad

--- Compare two tensors: same shape and equal elements.
-- @param a tensor
-- @param b tensor
-- @return boolean
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

--- Elementwise |a - b| <= atol + rtol * |b| (numpy.allclose).
-- @param a tensor
-- @param b tensor or number
-- @param rtol relative tolerance (1e-5)
-- @param atol absolute tolerance (1e-8)
-- @return boolean
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
  plot = "lunet.plot",
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
