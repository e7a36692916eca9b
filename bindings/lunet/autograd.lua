--- Reverse-mode automatic differentiation for lunet tensors.
--
-- A tensor that `requires_grad` records every differentiable operation
-- applied to it: the result gets a node holding the operation's inputs and a
-- backward function (which calls C kernels).  `y:backward()` walks the nodes
-- from y in reverse topological order and accumulates gradients into the
-- leaves (`x:grad()`).  The graph is kept while its output is alive, so
-- `backward` may run twice (the leaves' gradients then accumulate).
--
-- Each tracked tensor's record lives on the tensor itself (its user value 2,
-- through core.tape_get/tape_set), so the graph is held by plain strong
-- references from its output and the GC frees it with the output, in time
-- linear in its size.  (A weak-keyed side table made the graph an ephemeron
-- chain that every GC cycle re-traversed: 40,000 ops took 10 s.)  Untracked
-- code pays one C call per operand.  Loading this module wraps lunet.core's
-- differentiable functions and tensor methods (and the arithmetic
-- metamethods) in place.
-- @module lunet.autograd
local core = require("lunet.core")
local check = require("lunet.check")

local M = {}

local T = core.Tensor
local is_tensor = core.is_tensor
local mt = getmetatable(core.zeros(1))
local select_, pack, unpack = select, table.pack, table.unpack
local setmetatable = setmetatable
local co_create, co_resume, co_yield = coroutine.create, coroutine.resume, coroutine.yield
local co_status, co_close, co_running = coroutine.status, coroutine.close, coroutine.running
local fmt = string.format

-- A tracked tensor's record (core.tape_get(t), nil if untracked): a leaf has
-- { leaf = true, grad = tensor|nil }; a recorded result has
-- { name =, inputs =, n =, backward = }.
local tape, set_tape = core.tape_get, core.tape_set
local enabled = true

-- the C functions, before wrapping
local raw = {}
for k, v in pairs(T) do raw[k] = v end
for _, k in ipairs({ "maximum", "minimum", "where", "cat", "stack", "matmul" }) do
  raw["core_" .. k] = core[k]
end
raw.__unm = mt.__unm

local shape_str = check.shape_str

-- ---- scoped state: grad mode (and anything saved, set and restored) ----------

-- A scope sets some state for the duration of fn and restores it on every way
-- out of fn: return, error, and yield.  On the main thread nothing can
-- suspend fn, so a to-be-closed guard restores the state on return and
-- during error unwinding, with no pcall: the error and its traceback pass
-- through untouched.  In a coroutine a guard is not enough (a yield would
-- suspend fn with the state still set, and a coroutine that is never resumed
-- or that dies by an error does not close its guards), so fn runs in its own
-- coroutine: the state is set around each resume of it and restored before
-- each of its yields is forwarded outward (and the values sent back in).
-- Inside fn, coroutine.running() is then that inner coroutine.

local guard_mt = { __close = function(g) g[1](g[2], g[3]) end }

-- resume co with the state entered; leave it before returning
local function resume_in(enter, leave, arg, co, ...)
  local token = enter(arg)
  local r = pack(co_resume(co, ...))
  leave(token, arg)
  return r
end

-- closes fn's coroutine if the outer one is closed while fn is suspended,
-- so fn's own to-be-closed variables run
local inner_mt = {
  __close = function(g)
    if co_status(g[1]) == "suspended" then co_close(g[1]) end
  end,
}

local function scope_in_coroutine(enter, leave, arg, fn, ...)
  local co = co_create(fn)
  local _ <close> = setmetatable({ co }, inner_mt)
  local r = resume_in(enter, leave, arg, co, ...)
  while true do
    if not r[1] then
      co_close(co) -- run fn's pending to-be-closed variables
      error(r[2], 0)
    end
    if co_status(co) == "dead" then return unpack(r, 2, r.n) end
    r = resume_in(enter, leave, arg, co, co_yield(unpack(r, 2, r.n)))
  end
end

-- fn is callable (a function, or a table or userdata with __call)
local callable = check.callable
local function check_fn(fname, what, fn)
  if not callable(fn) then check.arg_error(fname, what, "a function", fn, 3) end
end

--- Run fn(...) inside a scope: `enter(arg)` sets some state and returns a
-- token to restore it; `leave(token, arg)` restores it.  They run around each
-- stretch of fn's execution, so the state is restored on return, on error and
-- while fn is suspended by a yield (and set again when it is resumed), and a
-- coroutine abandoned inside fn leaves nothing set.  Errors propagate unchanged.
-- @param enter function(arg) -> token
-- @param leave function(token, arg)
-- @param arg passed to enter and leave
-- @param fn the function to run
-- @param ... fn's arguments
-- @return fn's results
function M.with_scope(enter, leave, arg, fn, ...)
  check_fn("with_scope", "enter", enter)
  check_fn("with_scope", "leave", leave)
  check_fn("with_scope", "fn", fn)
  local _, main = co_running()
  if not main then return scope_in_coroutine(enter, leave, arg, fn, ...) end
  local _ <close> = setmetatable({ leave, enter(arg), arg }, guard_mt)
  return fn(...)
end
local with_scope = M.with_scope

local function mode_enter(flag)
  local was = enabled
  enabled = flag
  return was
end
local function mode_leave(was) enabled = was end
-- preallocated guards: the main-thread path allocates nothing
local restore = {
  [true] = setmetatable({}, { __close = function() enabled = true end }),
  [false] = setmetatable({}, { __close = function() enabled = false end }),
}

--- Run fn(...) with grad mode set to `flag` (true: record operations on
-- tracked tensors, false: do not), restoring the previous mode on every way
-- out of fn (return, error, yield; see `with_scope`).
-- @param flag boolean
-- @param fn the function to run
-- @param ... fn's arguments
-- @return fn's results
function M.with_grad_mode(flag, fn, ...)
  if not callable(fn) then check.arg_error("with_grad_mode", "fn", "a function", fn, 2) end
  flag = not not flag
  local _, main = co_running()
  if not main then return scope_in_coroutine(mode_enter, mode_leave, flag, fn, ...) end
  local _ <close> = restore[enabled]
  enabled = flag
  return fn(...)
end
local with_grad_mode = M.with_grad_mode

--- Run fn(...) with recording off.
-- @param fn the function to run
-- @param ... fn's arguments
-- @return fn's results
function M.no_grad(fn, ...)
  if not callable(fn) then check.arg_error("no_grad", "fn", "a function", fn, 2) end
  return with_grad_mode(false, fn, ...)
end

--- Whether operations on `v` are being recorded (grad mode on and v tracked).
-- @param v any value
-- @return boolean
function M.is_tracked(v)
  return enabled and tape(v) ~= nil
end

--- Whether grad mode is on (it is off inside `no_grad`).
-- @return boolean
function M.is_enabled() return enabled end

-- (the library's own ops record through this, unchecked: it is on every op)
local function record(name, out, inputs, backward, n, fresh)
  set_tape(out, { name = name, inputs = inputs, n = n or #inputs, backward = backward, fresh = fresh })
  return out
end

-- ---- buffers kept from one training step to the next -------------------------
-- Inside a training step (Sequential's fit and train_on_batch open one with
-- `step_buffers`), each call of a layer or loss gets a workspace table of
-- its own: the C kernels write its results and gradients into the tensors
-- they left there at the previous step instead of making new ones.  A step
-- runs one forward and one backward and keeps nothing but numbers, so
-- nothing still reads a buffer when the next step writes it.  Outside a
-- step `workspace` returns nil and every result is a new tensor.
local step_no -- the open step's number, nil when none is open
local step_count = 0
local spaces = setmetatable({}, { __mode = "k" }) -- owner -> {step =, n =, [i] = table}

local reuse = true

--- Turn the reuse of buffers between training steps off (or on again):
-- off, every step makes new tensors, as calls outside a step do (for
-- comparing, or for code that keeps a step's tensors).  On by default.
-- @param on a boolean
-- @return the previous setting
function M.set_buffer_reuse(on)
  if type(on) ~= "boolean" then check.arg_error("set_buffer_reuse", "on", "a boolean", on, 2) end
  local was = reuse
  reuse = on
  return was
end

--- Open a training step for the returned to-be-closed value's scope:
-- `local _ <close> = autograd.step_buffers()`.  Steps do not nest (an inner
-- one is part of the outer).
-- @return a value to close when the step ends (also on an error), or nil
-- when a step is open already or reuse is off
function M.step_buffers()
  if step_no or not reuse then return nil end
  step_count = step_count + 1
  step_no = step_count
  return setmetatable({}, { __close = function() step_no = nil end })
end

--- The workspace of `owner` (a layer, a loss) for its next call in the open
-- step, or nil outside a step.  The n-th call of an owner in a step gets
-- the n-th table it had: a layer used twice keeps two sets of buffers.
-- @param owner a table or a function (held weakly)
-- @return a table, or nil
function M.workspace(owner)
  if type(owner) ~= "table" and type(owner) ~= "function" then
    check.arg_error("workspace", "owner", "a table or a function", owner, 2)
  end
  if not step_no then return nil end
  local w = spaces[owner]
  if not w then
    w = {}
    spaces[owner] = w
  end
  if w.step ~= step_no then w.step, w.n = step_no, 0 end
  local n = w.n + 1
  w.n = n
  local t = w[n]
  if not t then
    t = {}
    w[n] = t
  end
  return t
end

--- Make the step buffers hold `new` where they hold `old`: the next steps
-- write into `new` (a tensor of old's shape and dtype, contiguous, a view
-- included) instead.  lunet.distributed uses it to have the backward write
-- each gradient into its place in a bucket.
-- @param old a tensor a workspace holds
-- @param new its replacement
-- @return how many places held old
function M.rebind_buffer(old, new)
  if not is_tensor(old) then check.arg_error("rebind_buffer", "old", "a tensor", old, 2) end
  if not is_tensor(new) then check.arg_error("rebind_buffer", "new", "a tensor", new, 2) end
  local n = 0
  for _, w in pairs(spaces) do
    for i = 1, #w do
      local t = w[i]
      if type(t) == "table" then
        for k, v in pairs(t) do
          if rawequal(v, old) then
            t[k] = new
            n = n + 1
          end
        end
      end
    end
  end
  return n
end

--- Record `out` as the result of an operation on `inputs` (an array that
-- may hold non-tensors; `n` entries).  `backward(g)` returns one gradient
-- (or nil) per input.  For kernels written outside this module
-- (activations, layers).
-- @param name operation name (shown by `t:grad_fn()`)
-- @param out the result tensor
-- @param inputs array of inputs
-- @param backward function(g) -> gradients
-- @param[opt] n the number of inputs (default #inputs)
-- @param[opt] fresh true when every gradient `backward` returns is a new
-- tensor that nothing else holds (and no two are the same tensor): a leaf
-- then keeps it as its gradient without copying it
-- @return out
function M.record(name, out, inputs, backward, n, fresh)
  if type(name) ~= "string" then check.arg_error("record", "name", "a string", name, 2) end
  if not is_tensor(out) then check.arg_error("record", "out", "a tensor", out, 2) end
  if type(inputs) ~= "table" then check.arg_error("record", "inputs", "an array", inputs, 2) end
  if not callable(backward) then check.arg_error("record", "backward", "a function", backward, 2) end
  if n ~= nil and (math.type(n) ~= "integer" or n < 0) then
    check.arg_error("record", "n", "a non-negative integer", n, 2)
  end
  if fresh ~= nil and type(fresh) ~= "boolean" then check.arg_error("record", "fresh", "a boolean", fresh, 2) end
  return record(name, out, inputs, backward, n, fresh)
end

local function tracking2(a, b)
  return enabled and tape(a, b) ~= nil
end

-- Sum a broadcast gradient g down to shape xs (numpy broadcasting undone).
local function reduce_to(g, xs)
  local gs = g:shape()
  local lead = #gs - #xs
  for _ = 1, lead do g = g:sum(1) end
  for i = 1, #xs do
    if xs[i] == 1 and gs[lead + i] ~= 1 then g = g:sum(i, true) end
  end
  return g
end

-- Reduce g to the shape of x (nil when x is not a tracked tensor: nobody
-- needs its gradient).
local function sum_to(g, x)
  if not tape(x) then return nil end
  return reduce_to(g, x:shape())
end
--- Reduce a gradient to the shape of x, undoing numpy broadcasting (for
-- backward functions of broadcasting operations).
-- @param g the gradient, of the broadcast shape
-- @param x the input whose gradient is wanted
-- @return g summed down to x's shape, or nil when x is not a tracked tensor
M.sum_to = sum_to

-- g broadcast to the full shape of x (for reductions): a view, no copy.
-- Only read: gradients that reach a leaf are copied (see backward).
local core_expand = core._expand
local function expand(g, x)
  return core_expand(g, x:shape())
end

-- ---- leaves, gradients and the backward pass --------------------------------

--- Mark a float tensor as a leaf whose gradient is wanted.
-- @param t the tensor (`t:requires_grad()`)
-- @param flag false to stop tracking (default true)
-- @return the tensor itself
function T.requires_grad(t, flag)
  if not is_tensor(t) then error("requires_grad: expected a tensor", 2) end
  if flag == false then
    set_tape(t, nil)
    return t
  end
  local dt = t:dtype()
  if dt ~= "float32" and dt ~= "float64" then
    error(fmt("requires_grad: only float tensors can require grad, got %s (convert with :float())", dt), 2)
  end
  local i = tape(t)
  if not i then
    set_tape(t, { leaf = true })
  elseif not i.backward then
    i.leaf = true
  end
  return t
end

--- Whether the tensor requires grad (a leaf marked so, or a result of
-- recorded operations).
function T.is_grad_tracked(t) return tape(t) ~= nil end

--- The accumulated gradient of a leaf, or nil.
function T.grad(t)
  local i = tape(t)
  return i and i.grad
end

--- Forget the accumulated gradient (grad() returns nil until the next backward).
function T.zero_grad(t)
  local i = tape(t)
  if i then i.grad = nil end
  return t
end

--- The name of the operation that produced the tensor, or nil for a leaf.
function T.grad_fn(t)
  local i = tape(t)
  return i and i.name
end

-- (owned[g]: g is a new tensor nothing else holds, so a leaf may keep it)
local function accumulate(map, owned, t, g, fresh)
  local dt = t:dtype()
  if g:dtype() ~= dt then g, fresh = g:astype(dt), true end
  local prev = map[t]
  if prev then
    g, fresh = prev + g, true
    owned[prev] = nil
  end
  map[t] = g
  if fresh then owned[g] = true end
end

-- Tracked tensors reachable from root, each after all the tensors computed
-- from it (reverse topological order), by an iterative depth-first search:
-- O(nodes + edges).
local function topo_order(root)
  local order, no = {}, 0
  local state = {} -- nil: unseen, 1: on the stack, 2: emitted
  local stack, sp = { root }, 1
  while sp > 0 do
    local t = stack[sp]
    if state[t] == nil then
      state[t] = 1
      local ti = tape(t)
      local inputs = ti.inputs
      if inputs then
        for k = 1, ti.n do
          local inp = inputs[k]
          if state[inp] == nil and tape(inp) then
            sp = sp + 1
            stack[sp] = inp
          end
        end
      end
    else
      stack[sp] = nil
      sp = sp - 1
      if state[t] == 1 then
        state[t] = 2
        no = no + 1
        order[no] = t
      end
    end
  end
  return order, no
end

-- leaf -> function(leaf, grad), called when a backward pass completes the leaf's gradient
local grad_hooks = setmetatable({}, { __mode = "k" })

--- Call `fn(t, grad)` each time a backward pass completes the gradient of
-- the leaf `t` (its consumers all done, in the pass's order: the same on
-- every process that runs the same graph), for starting work on it early,
-- as lunet.distributed's overlapping allreduce does.  One function per
-- leaf; nil removes it.
-- @param t a leaf that requires grad
-- @param fn the function, or nil
function M.on_grad_ready(t, fn)
  if not is_tensor(t) then check.arg_error("on_grad_ready", "t", "a tensor", t, 2) end
  if fn ~= nil and not callable(fn) then check.arg_error("on_grad_ready", "fn", "a function or nil", fn, 2) end
  grad_hooks[t] = fn
end

-- the backward pass proper (grad mode off)
local function backpropagate(root, grad)
  local order, no = topo_order(root)
  local grads, owned = { [root] = grad }, {}
  for i = no, 1, -1 do
    local t = order[i]
    local g = grads[t]
    grads[t] = nil
    if g then
      local ti = tape(t)
      local backward = ti.backward
      if backward then
        local gs = pack(backward(g))
        local inputs, fresh = ti.inputs, ti.fresh
        for k = 1, ti.n do
          local inp, gk = inputs[k], gs[k]
          if gk ~= nil and tape(inp) then accumulate(grads, owned, inp, gk, fresh) end
        end
      end
      if ti.leaf then
        -- a gradient that may be held elsewhere (the caller's, a view of
        -- another) is copied; one made for this leaf alone is kept
        local own = owned[g]
        if g:dtype() ~= t:dtype() then g, own = g:astype(t:dtype()), true end
        ti.grad = ti.grad and ti.grad + g or (own and g or g:clone())
        local hook = grad_hooks[t]
        if hook then hook(t, ti.grad) end
      end
      owned[g] = nil
    end
  end
end

--- Backpropagate from this tensor: a scalar (one element) unless `grad`,
-- a tensor of its shape, is given.
-- @param root the tensor (`y:backward()`)
-- @param grad optional gradient of the same shape
function T.backward(root, grad)
  if not tape(root) then
    error("backward: the tensor does not require grad (call requires_grad() on an input)", 2)
  end
  if grad == nil then
    if root:numel() ~= 1 then
      error(fmt("backward: a gradient is needed for a non-scalar output of shape %s",
        shape_str(root:shape())), 2)
    end
    grad = core.ones(root:shape(), root:dtype())
  else
    if not is_tensor(grad) then error("backward: grad must be a tensor", 2) end
    local gs, rs = grad:shape(), root:shape()
    local same = #gs == #rs
    for i = 1, #gs do same = same and gs[i] == rs[i] end
    if not same then
      error(fmt("backward: grad of shape %s does not match the output's shape %s",
        shape_str(gs), shape_str(rs)), 2)
    end
  end
  with_grad_mode(false, backpropagate, root, grad)
end

-- ---- wrapping the differentiable operations ---------------------------------

local function neg(g) return raw.neg(g) end

local binary_grads = {
  add = function(g, a, b) return sum_to(g, a), sum_to(g, b) end,
  sub = function(g, a, b) return sum_to(g, a), tape(b) and sum_to(neg(g), b) end,
  mul = function(g, a, b)
    return tape(a) and sum_to(g * b, a), tape(b) and sum_to(g * a, b)
  end,
  div = function(g, a, b, out)
    return tape(a) and sum_to(g / b, a), tape(b) and sum_to(neg(g) * out / b, b)
  end,
  pow = function(g, a, b, out)
    local ga, gb
    if tape(a) then ga = sum_to(g * b * raw.pow(a, b - 1), a) end
    if tape(b) then
      local la = is_tensor(a) and a:log() or math.log(a)
      gb = sum_to(g * out * la, b)
    end
    return ga, gb
  end,
}

for name, gradf in pairs(binary_grads) do
  local f = raw[name]
  local function op(a, b)
    local out = f(a, b)
    if tracking2(a, b) then
      record(name, out, { a, b }, function(g) return gradf(g, a, b, out) end, 2)
    end
    return out
  end
  T[name] = op
  mt["__" .. name] = op
end

-- x % y = x - floor(x / y) * y: d/dx = 1 and d/dy = -(x // y) between the
-- jumps (numpy's remainder, Lua's __mod).  floor_divide is piecewise
-- constant and is not recorded (a gradient of 0, as torch's).
do
  local f = raw.remainder
  local function remainder(a, b)
    local out = f(a, b)
    if tracking2(a, b) then
      record("remainder", out, { a, b }, function(g)
        return sum_to(g, a), tape(b) and sum_to(neg(g) * raw.floor_divide(a, b), b)
      end, 2)
    end
    return out
  end
  T.remainder = remainder
  mt.__mod = remainder
end

local function guard_inplace(name)
  local f = raw[name]
  T[name] = function(t, ...)
    if enabled and tape(t) then
      error(name .. ": in-place operation on a tensor that requires grad " ..
        "(use lunet.no_grad or :detach())", 2)
    end
    return f(t, ...)
  end
end
for _, name in ipairs({ "add_", "sub_", "mul_", "div_", "pow_", "fill", "copy", "set" }) do
  guard_inplace(name)
end

mt.__unm = function(a)
  local out = raw.__unm(a)
  if enabled and tape(a) then record("neg", out, { a }, neg, 1) end
  return out
end

-- unary ops: backward(g, x, out, ...) where ... are the op's extra arguments
local function wrap_unary(name, gradf)
  local f = raw[name]
  T[name] = function(x, ...)
    local out = f(x, ...)
    if enabled and tape(x) and out ~= x then
      local args = pack(...)
      record(name, out, { x }, function(g) return gradf(g, x, out, unpack(args, 1, args.n)) end, 1)
    end
    return out
  end
end

wrap_unary("neg", function(g) return neg(g) end)
wrap_unary("exp", function(g, _, out) return g * out end)
wrap_unary("log", function(g, x) return g / x end)
wrap_unary("sqrt", function(g, _, out) return g * 0.5 / out end)
wrap_unary("abs", function(g, x) return g * x:sign() end)
wrap_unary("square", function(g, x) return g * x * 2 end)
-- clamp and clip: 1 on [lo, hi] (the bounds included, as torch's), 0 outside.
-- floor, ceil, round, trunc and sign are not recorded: their gradient is 0
-- wherever it exists (as torch's; Keras calls them not differentiable).
local function clamp_grad(g, x, _, lo, hi)
  if lo then g = core.where(x:lt(lo), 0, g) end
  if hi then g = core.where(x:gt(hi), 0, g) end
  return g
end
wrap_unary("clamp", clamp_grad)
wrap_unary("clip", clamp_grad)
wrap_unary("clone", function(g) return g end)
wrap_unary("contiguous", function(g) return g end)
local function cast_back(g, x) return g:astype(x:dtype()) end
wrap_unary("astype", cast_back)
wrap_unary("float", cast_back)
wrap_unary("double", cast_back)

-- shape ops
local function reshape_back(g, x) return g:reshape(x:shape()) end
wrap_unary("reshape", reshape_back)
wrap_unary("view", reshape_back)
wrap_unary("flatten", reshape_back)
wrap_unary("unsqueeze", reshape_back)
wrap_unary("squeeze", reshape_back)
wrap_unary("transpose", function(g, _, _, d1, d2) return g:transpose(d1, d2) end)
wrap_unary("t", function(g) return g:t() end)
wrap_unary("permute", function(g, x, _, ...)
  local p = select_("#", ...) == 1 and type(...) == "table" and (...) or { ... }
  local inv, nd = {}, x:dim()
  for i = 1, nd do
    local d = p[i]
    if d < 0 then d = d + nd + 1 end
    inv[d] = i
  end
  return g:permute(inv)
end)
wrap_unary("narrow", function(g, x, _, dim, start, len)
  local gx = core.zeros(x:shape(), g:dtype())
  raw.copy(gx:narrow(dim, start, len), g)
  return gx
end)
wrap_unary("select", function(g, x, _, dim, i)
  local gx = core.zeros(x:shape(), g:dtype())
  raw.copy(gx:select(dim, i), g)
  return gx
end)
wrap_unary("index_select", function(g, x, _, dim, idx)
  local gx = core.zeros(x:shape(), g:dtype())
  local n = is_tensor(idx) and idx:numel() or #idx
  if is_tensor(idx) then idx = idx:totable() end
  for k = 1, n do
    local dst = gx:select(dim, idx[k])
    raw.add_(dst, g:select(dim, k))
  end
  return gx
end)

-- reductions: dims as given by the user (1-based or negative), keepdim flag
local function unreduce(g, x, dim, keepdim)
  if dim ~= nil and not keepdim then
    local d = dim < 0 and dim + x:dim() + 1 or dim
    g = g:unsqueeze(d)
  end
  return expand(g, x)
end

local function count(x, dim)
  if dim == nil then return x:numel() end
  return x:size(dim)
end

wrap_unary("sum", function(g, x, _, dim, keepdim) return unreduce(g, x, dim, keepdim) end)
wrap_unary("mean", function(g, x, _, dim, keepdim)
  return unreduce(g, x, dim, keepdim) / count(x, dim)
end)
wrap_unary("var", function(g, x, _, dim, keepdim)
  local mu = dim and x:mean(dim, true) or x:mean()
  return unreduce(g, x, dim, keepdim) * (x - mu) * (2 / count(x, dim))
end)
wrap_unary("std", function(g, x, out, dim, keepdim)
  local mu = dim and x:mean(dim, true) or x:mean()
  local o = unreduce(out, x, dim, keepdim)
  return unreduce(g, x, dim, keepdim) * (x - mu) / (o * count(x, dim))
end)
local function extreme_grad(g, x, out, dim, keepdim)
  local o = unreduce(out, x, dim, keepdim)
  local mask = x:eq(o):astype(g:dtype())
  local n = dim and mask:sum(dim, true) or mask:sum()
  return unreduce(g, x, dim, keepdim) * mask / n
end
wrap_unary("max", extreme_grad)
wrap_unary("min", extreme_grad)

-- matmul: treat 1-d operands as rows/columns, reduce broadcast batch dims
local function matmul(a, b)
  local out = raw.core_matmul(a, b)
  if tracking2(a, b) then
    record("matmul", out, { a, b }, function(g)
      local a2 = a:dim() == 1 and a:unsqueeze(1) or a
      local b2 = b:dim() == 1 and b:unsqueeze(2) or b
      local g2 = g
      if a:dim() == 1 then g2 = g2:unsqueeze(g2:dim() == 0 and 1 or -2) end
      if b:dim() == 1 then g2 = g2:unsqueeze(-1) end
      local ga, gb
      if tape(a) then
        ga = raw.core_matmul(g2, b2:transpose(-1, -2))
        ga = reduce_to(ga, a2:shape()):reshape(a:shape())
      end
      if tape(b) then
        gb = raw.core_matmul(a2:transpose(-1, -2), g2)
        gb = reduce_to(gb, b2:shape()):reshape(b:shape())
      end
      return ga, gb
    end, 2)
  end
  return out
end
core.matmul = matmul
T.matmul = matmul

local function minmax(name, pick_a)
  local f = raw["core_" .. name]
  core[name] = function(a, b)
    local out = f(a, b)
    if tracking2(a, b) then
      record(name, out, { a, b }, function(g)
        local ma = pick_a(a, b)
        return tape(a) and sum_to(core.where(ma, g, 0), a),
            tape(b) and sum_to(core.where(ma, 0, g), b)
      end, 2)
    end
    return out
  end
end
-- ties send the gradient to a
minmax("maximum", function(a, b)
  return is_tensor(a) and a:ge(b) or b:le(a)
end)
minmax("minimum", function(a, b)
  return is_tensor(a) and a:le(b) or b:ge(a)
end)

core.where = function(c, a, b)
  local out = raw.core_where(c, a, b)
  if tracking2(a, b) then
    record("where", out, { c, a, b }, function(g)
      return nil, tape(a) and sum_to(core.where(c, g, 0), a),
          tape(b) and sum_to(core.where(c, 0, g), b)
    end, 3)
  end
  return out
end

local function any_tracked(list)
  if not enabled or type(list) ~= "table" then return false end
  for i = 1, #list do
    if tape(list[i]) then return true end
  end
  return false
end

-- cat and stack of a list of tensors: split(g, inputs, d) gives each input's gradient
local function list_op(name, f, split)
  return function(list, dim)
    local out = f(list, dim)
    if any_tracked(list) then
      local inputs = { table.unpack(list) }
      local d = dim or 1
      if name == "stack" and d < 0 then d = d + out:dim() + 1 end
      record(name, out, inputs, function(g)
        return unpack(split(g, inputs, d), 1, #inputs)
      end, #inputs)
    end
    return out
  end
end
core.cat = list_op("cat", raw.core_cat, function(g, inputs, d)
  local gs, start = {}, 1
  for i = 1, #inputs do
    local len = inputs[i]:size(d)
    gs[i] = g:narrow(d, start, len)
    start = start + len
  end
  return gs
end)
core.stack = list_op("stack", raw.core_stack, function(g, inputs, d)
  local gs = {}
  for i = 1, #inputs do gs[i] = g:select(d, i) end
  return gs
end)

-- ---- the checking tools: grad, jacobian, gradcheck (lunet/gradcheck.lua) ----

-- lunet.gradcheck loads at the first use of one of these, not at start-up
-- (it requires this module, and lunet.utils: 1.6 ms of parsing between them)
package.loaded["lunet.autograd"] = M
local function G() return require("lunet.gradcheck") end
--- Gradients of a scalar function (lunet.gradcheck.grad).
-- @param f function(...) returning a one-element tensor
-- @param inputs a tensor or an array of tensors
-- @return the gradient, or an array of them
function M.grad(f, inputs) return G().grad(f, inputs) end
--- Jacobian of f at x (lunet.gradcheck.jacobian).
-- @param f function(x) returning a tensor
-- @param x a float tensor
-- @return the Jacobian, of shape f(x):shape() .. x:shape()
function M.jacobian(f, x) return G().jacobian(f, x) end
--- Analytic gradients against central differences (lunet.gradcheck.gradcheck).
-- @param f function(...) returning a tensor
-- @param inputs a tensor or an array of tensors (float64)
-- @param[opt] opts `{eps=1e-6, atol=1e-5, rtol=1e-3}`
-- @return true, or false and a report
function M.gradcheck(f, inputs, opts) return G().gradcheck(f, inputs, opts) end
--- tf.GradientTape for ported code (lunet.gradcheck.GradientTape):
-- `local tape = GradientTape()`, then its methods below.  Until the first
-- call this stands in for lunet.gradcheck's, which it loads and hands on to.
-- @type GradientTape
-- @return a new tape
local Tape = {}
M.GradientTape = setmetatable(Tape, { __call = function() return G().GradientTape() end })

--- Watch a float tensor (it requires grad from now on).
-- @param t a float tensor
-- @return t
function Tape:watch(t) return G().GradientTape.watch(self, t) end

--- d y / d x, of shape y's shape .. x's shape (tf.GradientTape.jacobian).
-- @param y a tensor computed from x
-- @param x a watched tensor
-- @return the Jacobian
function Tape:jacobian(y, x) return G().GradientTape.jacobian(self, y, x) end

--- d sum(y) / d x, of x's shape (tf.GradientTape.gradient).
-- @param y a tensor computed from x
-- @param x a watched tensor
-- @return the gradient
function Tape:gradient(y, x) return G().GradientTape.gradient(self, y, x) end

return M
