--- Checking gradients: `grad(f, inputs)`, `jacobian(f, x)` and
-- `gradcheck(f, inputs)` (analytic gradients against central differences
-- in float64).  All three are also `lunet.autograd.grad` and so on.
-- @module lunet.gradcheck
local core = require("lunet.core")
local check = require("lunet.check")
local utils = require("lunet.utils")
local autograd = require("lunet.autograd")

local M = {}
local T = core.Tensor
local is_tensor = core.is_tensor
local unpack = table.unpack
local fmt = string.format
local tape = core.tape_get
local with_grad_mode = autograd.with_grad_mode

local callable = check.callable


local function check_inputs(fname, f, inputs)
  if not callable(f) then check.arg_error(fname, "f", "a function", f, 3) end
  local list = is_tensor(inputs) and { inputs } or inputs
  if type(list) ~= "table" or #list == 0 then
    check.arg_error(fname, "inputs", "a tensor or an array of tensors", inputs, 3)
  end
  for i = 1, #list do
    local x = list[i]
    if not is_tensor(x) then
      check.arg_error(fname, fmt("input %d", i), "a tensor", x, 3)
    end
    local dt = x:dtype()
    if dt ~= "float32" and dt ~= "float64" then
      error(fmt("%s: input %d must be a float tensor, got %s", fname, i, dt), 3)
    end
  end
  return list
end

local function leaves_of(list)
  local leaves = {}
  for i = 1, #list do leaves[i] = list[i]:detach():clone():requires_grad() end
  return leaves
end

--- Gradients of a scalar function.
-- @param f function(...) returning a one-element tensor
-- @param inputs a tensor or an array of tensors
-- @return the gradient (a tensor) or an array of them, zeros where f does not depend on an input
function M.grad(f, inputs)
  local list = check_inputs("grad", f, inputs)
  local leaves = leaves_of(list)
  local y = with_grad_mode(true, f, unpack(leaves, 1, #leaves))
  if not is_tensor(y) or y:numel() ~= 1 then
    error("grad: f must return a one-element tensor", 2)
  end
  local out = {}
  if tape(y) then T.backward(y) end
  for i = 1, #leaves do
    out[i] = leaves[i]:grad() or core.zeros(list[i]:shape(), list[i]:dtype())
  end
  if is_tensor(inputs) then return out[1] end
  return out
end

-- rows of d y / d x: calls back(k) for each element k of y
local function jacobian_of(y, leaves, each)
  local n = y:numel()
  local flat_grad = core.zeros(n, y:dtype())
  for k = 1, n do
    for i = 1, #leaves do leaves[i]:zero_grad() end
    if tape(y) then
      if k > 1 then T.set(flat_grad, k - 1, 0) end
      T.set(flat_grad, k, 1)
      T.backward(y, flat_grad:reshape(y:shape()))
    end
    each(k)
  end
end

local function concat_shapes(a, b)
  local s = {}
  for i = 1, #a do s[#s + 1] = a[i] end
  for i = 1, #b do s[#s + 1] = b[i] end
  return s
end

-- d y / d leaf as a tensor of shape y's shape .. leaf's shape, in dtype
local function jacobian_matrix(y, leaf, dtype)
  local m, n = y:numel(), leaf:numel()
  local J = core.zeros({ m, n }, dtype)
  jacobian_of(y, { leaf }, function(k)
    local g = leaf:grad()
    if g then T.copy(J[k], g:reshape(n)) end
  end)
  return J:reshape(concat_shapes(y:shape(), leaf:shape()))
end

--- Jacobian of f at x: a tensor of shape f(x):shape() .. x:shape()
-- (like tf.GradientTape.jacobian).
-- @param f function(x) returning a tensor
-- @param x a float tensor
-- @return the Jacobian, a float tensor
function M.jacobian(f, x)
  local list = check_inputs("jacobian", f, x)
  x = list[1]
  local leaf = leaves_of(list)[1]
  local y = with_grad_mode(true, f, leaf)
  if not is_tensor(y) then error("jacobian: f must return a tensor", 2) end
  return jacobian_matrix(y, leaf, y:dtype())
end

-- ---- GradientTape ----------------------------------------------------------------

--- tf.GradientTape's shape for ported code: `local tape = GradientTape()`,
-- `tape:watch(t)`, compute, then `tape:jacobian(y, t)` or `tape:gradient(y, t)`.
-- lunet records every operation on a tensor that requires grad, so the tape
-- only marks what is watched (a layer's weights already are); the with-block
-- of Python becomes the lines between watch and jacobian.  `GradientTape()`
-- makes a tape.
-- @type GradientTape
-- @return a new tape
local Tape = {}
Tape.__index = Tape
M.GradientTape = setmetatable(Tape, {
  __call = function() return setmetatable({}, Tape) end,
})

local function check_tape(fname, self)
  if getmetatable(self) ~= Tape then check.arg_error(fname, "self", "a GradientTape (call tape:" ..
    fname:match("[%w_]+$") .. "(...))", self, 3) end
end

--- Watch a float tensor: it requires grad from now on (a leaf; a tensor
-- computed from others is tracked already).
-- @param t a float tensor
-- @return t
function Tape:watch(t)
  check_tape("GradientTape:watch", self)
  check.float_tensor("GradientTape:watch", "t", t, 2)
  if not t:is_grad_tracked() then t:requires_grad() end
  return t
end

-- x must be a tracked leaf of the tape (the tensor a gradient is read from)
local function check_source(fname, y, x)
  check.tensor(fname, "target", y, 3)
  check.float_tensor(fname, "source", x, 3)
  if not x:is_grad_tracked() then
    error(fmt("%s: the source is not watched (tape:watch(t) it, or use a tensor that requires grad)", fname), 3)
  end
end

--- d y / d x as tf.GradientTape.jacobian: a tensor of shape y's shape ..
-- x's shape.  x's own gradient is left zero.
-- @param y a tensor computed from x
-- @param x a watched tensor (or one that requires grad)
-- @return the Jacobian
function Tape:jacobian(y, x)
  check_tape("GradientTape:jacobian", self)
  check_source("GradientTape:jacobian", y, x)
  local J = jacobian_matrix(y, x, x:dtype())
  x:zero_grad()
  return J
end

--- d sum(y) / d x as tf.GradientTape.gradient (zeros where y does not depend on x).
-- @param y a tensor computed from x
-- @param x a watched tensor (or one that requires grad)
-- @return a tensor of x's shape
function Tape:gradient(y, x)
  check_tape("GradientTape:gradient", self)
  check_source("GradientTape:gradient", y, x)
  x:zero_grad()
  if tape(y) then T.backward(y, core.ones(y:shape(), y:dtype())) end
  local g = x:grad()
  g = g and g:clone() or core.zeros(x:shape(), x:dtype())
  x:zero_grad()
  return g
end

--- Compare analytic gradients with central differences (float64 inputs).
-- @param f function(...) returning a tensor
-- @param inputs a tensor or an array of tensors
-- @param opts {eps=1e-6, atol=1e-5, rtol=1e-3}
-- @return true, or false and a report naming the first mismatches
function M.gradcheck(f, inputs, opts)
  local list = check_inputs("gradcheck", f, inputs)
  opts = utils.check_options("gradcheck", opts, { "eps", "atol", "rtol", eps = true,
    atol = true, rtol = true })
  local eps, atol, rtol = opts.eps or 1e-6, opts.atol or 1e-5, opts.rtol or 1e-3
  check.number("gradcheck", "eps", eps, 2, { finite = true })
  if not (eps > 0) then check.arg_error("gradcheck", "eps", "> 0", eps, 2) end
  check.number("gradcheck", "atol", atol, 2, { min = 0 })
  check.number("gradcheck", "rtol", rtol, 2, { min = 0 })
  for i = 1, #list do
    if list[i]:dtype() ~= "float64" then
      error(fmt("gradcheck: input %d is %s; gradcheck needs float64 inputs " ..
        "(finite differences in float32 are too coarse; use :double())", i, list[i]:dtype()), 2)
    end
  end
  local leaves = leaves_of(list)
  local y = with_grad_mode(true, f, unpack(leaves, 1, #leaves))
  if not is_tensor(y) then error("gradcheck: f must return a tensor", 2) end
  local m = y:numel()

  -- analytic: one backward per output element
  local analytic = {}
  for i = 1, #list do analytic[i] = core.zeros({ m, list[i]:numel() }, "float64") end
  jacobian_of(y, leaves, function(k)
    for i = 1, #leaves do
      local g = leaves[i]:grad()
      if g then T.copy(analytic[i][k], g:reshape(list[i]:numel())) end
    end
  end)

  -- numeric: central differences, one input element at a time
  local report = {}
  local worst = 0
  local base = {}
  for i = 1, #list do base[i] = list[i]:contiguous():clone() end
  for i = 1, #list do
    local flat = base[i]:view(-1)
    for j = 1, flat:numel() do
      local v = flat[j]
      local yp, ym
      autograd.no_grad(function()
        T.set(flat, j, v + eps)
        yp = f(unpack(base, 1, #base)):double():reshape(m):clone()
        T.set(flat, j, v - eps)
        ym = f(unpack(base, 1, #base)):double():reshape(m):clone()
        T.set(flat, j, v)
      end)
      local num = (yp - ym) / (2 * eps)
      local ana = analytic[i]:select(2, j)
      local diff = (ana - num):abs()
      local tol = num:abs() * rtol + atol
      local bad = diff:gt(tol):sum():item()
      local nan = ana:ne(ana):sum():item() + num:ne(num):sum():item()
      if bad > 0 or nan > 0 then
        for k = 1, m do
          local a, nu = ana[k], num[k]
          if not (math.abs(a - nu) <= atol + rtol * math.abs(nu)) and #report < 10 then
            report[#report + 1] = fmt("input %d element %d, output %d: analytic %.10g, numeric %.10g",
              i, j, k, a, nu)
          end
        end
        worst = worst + bad + nan
      end
    end
  end
  if worst > 0 then
    return false, fmt("gradcheck: %d mismatches\n%s", worst, table.concat(report, "\n"))
  end
  return true
end

return M
