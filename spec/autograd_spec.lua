local lunet = require("lunet")
local S = require("support")

local autograd = lunet.autograd
local gradcheck = autograd.gradcheck

local function randn(...) return lunet.randn({ ... }, "float64") end
-- values in [lo, hi] with random signs, away from 0 (for abs, sign-sensitive ops)
local function away(shape, lo, hi)
  local u = lunet.uniform(shape, lo, hi, "float64")
  local s = lunet.rand(shape, "float64"):gt(0.5):double() * 2 - 1
  return u * s
end

local function check(f, inputs, msg)
  local ok, report = gradcheck(f, inputs)
  assert.is_true(ok, (msg or "") .. " " .. tostring(report))
end

describe("lunet.autograd", function()
  describe("backward", function()
    it("computes the gradient of a scalar through matmul and selu", function()
      S.seed(1)
      local x = randn(4, 3)
      local w = randn(3, 2):requires_grad()
      local loss = x:matmul(w):selu():sum()
      assert.are.equal("sum", loss:grad_fn())
      loss:backward()
      -- d/dw sum(selu(xw)) = x^T selu'(xw)
      local z = x:matmul(w:detach())
      local d = lunet.core.activation_backward("selu", z, lunet.ones({ 4, 2 }, "float64"))
      assert.is_true(lunet.allclose(w:grad(), x:t():matmul(d), 1e-14, 1e-15))
      assert.is_nil(x:grad())
    end)

    it("accumulates over uses and over calls, and zero_grad clears", function()
      local x = lunet.tensor({ 1, 2, 3 }, "float64"):requires_grad()
      local y = (x * x + x):sum()
      y:backward()
      assert.are.same({ 3, 5, 7 }, x:grad():totable())
      y:backward() -- the graph is kept: a second pass accumulates
      assert.are.same({ 6, 10, 14 }, x:grad():totable())
      x:zero_grad()
      assert.is_nil(x:grad())
      local e = x:exp():sum()
      e:backward()
      assert.is_true(lunet.allclose(x:grad(), x:detach():exp(), 1e-15, 0))
    end)

    it("a leaf keeps a gradient its node declares fresh, and copies any other", function()
      local autograd = lunet.autograd
      local made = {}
      -- op(x, fresh): y = 2x, its gradient 2g made anew, or g itself passed on
      local function op(x, fresh)
        local y = x:detach() * 2
        return autograd.record("op", y, { x }, function(g)
          local d = fresh and g * 2 or g
          made[#made + 1] = d
          return d
        end, 1, fresh)
      end
      for _, fresh in ipairs({ true, false }) do
        made = {}
        local x = lunet.tensor({ 1, 2 }, "float64"):requires_grad()
        local g = lunet.tensor({ 1, 1 }, "float64")
        op(x, fresh):backward(g)
        assert.are.equal(fresh, rawequal(made[1], x:grad()))
        -- whatever was kept, the caller's tensor and the leaf's gradient stay apart
        g:fill(7)
        assert.are.same(fresh and { 2, 2 } or { 1, 1 }, x:grad():totable())
        -- two fresh gradients for one leaf are summed into a new tensor
        made = {}
        x:zero_grad()
        local y = op(x, fresh) + op(x, fresh)
        y:backward(lunet.tensor({ 1, 1 }, "float64"))
        assert.is_false(rawequal(made[1], x:grad()) or rawequal(made[2], x:grad()))
        assert.are.same(fresh and { 4, 4 } or { 2, 2 }, x:grad():totable())
      end
      -- a leaf that is the root copies the caller's gradient
      local x = lunet.tensor({ 1, 2 }, "float64"):requires_grad()
      local g = lunet.tensor({ 3, 4 }, "float64")
      x:backward(g)
      assert.is_false(rawequal(g, x:grad()))
      assert.has_error(function() autograd.record("op", lunet.zeros(1), {}, function() end, 0, "yes") end,
        "record: fresh must be a boolean (got \"yes\")")
    end)

    it("takes an explicit gradient for a non-scalar output", function()
      local x = lunet.tensor({ { 1, 2 }, { 3, 4 } }, "float64"):requires_grad()
      local y = x * 3
      y:backward(lunet.tensor({ { 1, 0 }, { 0, 2 } }, "float64"))
      assert.are.same({ { 3, 0 }, { 0, 6 } }, x:grad():totable())
    end)

    it("keeps gradient dtypes: float32 leaves get float32 gradients", function()
      local x = lunet.tensor({ 1, 2 }):requires_grad()
      local y = (x:double() * lunet.tensor({ 2, 3 }, "float64")):sum()
      y:backward()
      assert.are.equal("float32", x:grad():dtype())
      assert.are.same({ 2, 3 }, x:grad():totable())
    end)

    it("does not record through detach or inside no_grad", function()
      local x = lunet.tensor({ 1, 2 }, "float64"):requires_grad()
      local d = x:detach()
      assert.is_false(d:is_grad_tracked())
      local y = lunet.no_grad(function() return x * 2 end)
      assert.is_false(y:is_grad_tracked())
      assert.is_true((x * 2):is_grad_tracked())
      -- an error inside no_grad restores recording
      assert.has_error(function() lunet.no_grad(function() error("boom", 0) end) end, "boom")
      assert.is_true(autograd.is_enabled())
      -- detach shares storage
      d:fill(5)
      assert.are.same({ 5, 5 }, x:detach():totable())
    end)

    it("refuses bad calls with clear messages", function()
      local x = lunet.tensor({ 1, 2 }, "float64")
      assert.has_error(function() x:backward() end,
        "backward: the tensor does not require grad (call requires_grad() on an input)")
      x:requires_grad()
      local y = x * 2
      assert.has_error(function() y:backward() end,
        "backward: a gradient is needed for a non-scalar output of shape (2,)")
      assert.has_error(function() y:backward(lunet.ones(3, "float64")) end,
        "backward: grad of shape (3,) does not match the output's shape (2,)")
      assert.has_error(function() lunet.tensor({ 1 }, "int32"):requires_grad() end,
        "requires_grad: only float tensors can require grad, got int32 (convert with :float())")
      assert.has_error(function() x:add_(1) end,
        "add_: in-place operation on a tensor that requires grad (use lunet.no_grad or :detach())")
      lunet.no_grad(function() x:add_(1) end)
      assert.are.same({ 2, 3 }, x:detach():totable())
    end)
  end)

  describe("gradients of the tensor operations (gradcheck, float64)", function()
    it("arithmetic with broadcasting and numbers on either side", function()
      S.seed(2)
      local a, b, c = randn(3, 4), randn(4), randn(3, 1)
      local p = lunet.uniform({ 3, 4 }, 0.5, 2, "float64")
      check(function(x, y) return x + y end, { a, b }, "add")
      check(function(x, y) return x - y end, { a, c }, "sub")
      check(function(x, y) return x * y end, { a, b }, "mul")
      check(function(x, y) return x / y end, { a, p }, "div")
      check(function(x, y) return x ^ y end, { p, b }, "pow")
      check(function(x) return 2 - x * 3 end, a, "numbers")
      check(function(x) return 1 / x + x / 4 end, p, "number / x")
      check(function(x) return x ^ 3 + 2 ^ x end, a, "pow numbers")
      check(function(x) return -x end, a, "unm")
      check(function(x, y) return x:add(y):mul(y):sub(x):div(2) end, { a, c }, "methods")
      check(function(x, y) return lunet.maximum(x, y) end, { a, b }, "maximum")
      check(function(x, y) return lunet.minimum(x, y) end, { a, c }, "minimum")
      check(function(x) return lunet.maximum(x, 0.1) end, a + 0.0123, "maximum number")
    end)

    it("matmul in 1-d, 2-d, batched 3-d and transposed forms", function()
      S.seed(3)
      check(function(x, y) return x:matmul(y) end, { randn(3, 4), randn(4, 2) }, "2d")
      check(function(x, y) return x:matmul(y) end, { randn(4), randn(4, 2) }, "1d @ 2d")
      check(function(x, y) return x:matmul(y) end, { randn(3, 4), randn(4) }, "2d @ 1d")
      check(function(x, y) return x:matmul(y) end, { randn(4), randn(4) }, "1d @ 1d")
      check(function(x, y) return x:matmul(y) end, { randn(2, 3, 4), randn(2, 4, 2) }, "3d")
      check(function(x, y) return x:matmul(y) end, { randn(2, 3, 4), randn(4, 2) }, "3d @ 2d")
      check(function(x, y) return lunet.matmul(x:t(), y:t()) end, { randn(4, 3), randn(2, 4) }, "views")
    end)

    it("unary math", function()
      S.seed(4)
      local x, p = randn(3, 4), lunet.uniform({ 3, 4 }, 0.5, 3, "float64")
      check(function(v) return v:exp() end, x, "exp")
      check(function(v) return v:log() end, p, "log")
      check(function(v) return v:sqrt() end, p, "sqrt")
      check(function(v) return v:abs() end, away({ 3, 4 }, 0.1, 2), "abs")
      check(function(v) return v:square() end, x, "square")
      check(function(v) return v:neg() end, x, "neg")
      local xc = away({ 3, 4 }, 0.1, 2) -- away from the clamp bounds
      check(function(v) return v:clamp(-1.05, 1.05) end, xc, "clamp")
      check(function(v) return v:clamp(nil, 0.5) end, xc + 0.01, "clamp hi")
    end)

    it("reductions over all and over one dim, keepdim and negative dims", function()
      S.seed(5)
      local x = randn(3, 4, 2)
      for _, op in ipairs({ "sum", "mean", "var", "std", "max", "min" }) do
        check(function(v) return v[op](v) end, x, op)
        check(function(v) return v[op](v, 2) end, x, op .. "(2)")
        check(function(v) return v[op](v, -1, true) end, x, op .. "(-1, true)")
        check(function(v) return v[op](v, 1) end, x, op .. "(1)")
      end
    end)

    it("views and shape operations", function()
      S.seed(6)
      local x = randn(3, 4)
      local y = randn(2, 3, 4)
      check(function(v) return v:reshape(4, 3) * lunet.arange(1, 13):double():reshape(4, 3) end, x, "reshape")
      check(function(v) return v:view(-1) * 2 end, x, "view")
      check(function(v) return v:flatten() end, y, "flatten")
      check(function(v) return v:transpose(1, 3) end, y, "transpose")
      check(function(v) return v:t():contiguous() end, x, "t")
      check(function(v) return v:permute(3, 1, 2) end, y, "permute")
      check(function(v) return v:permute({ 2, 3, 1 }) end, y, "permute table")
      check(function(v) return v:narrow(2, 2, 2) end, x, "narrow")
      check(function(v) return v:select(1, 2) end, x, "select")
      check(function(v) return v[3] * v[1] end, x, "index")
      check(function(v) return v:unsqueeze(2):squeeze() end, x, "unsqueeze")
      check(function(v) return v:index_select(1, { 3, 1, 3 }) end, x, "index_select repeats")
      check(function(v) return v:index_select(2, lunet.tensor({ 4, 2 }, "int32")) end, x, "index_select int32")
      check(function(v) return v:clone() * v end, x, "clone")
      -- through float32 the finite differences are too coarse: check directly
      local w = lunet.tensor({ 0.5, 0.25, 2 }, "float64")
      local g = autograd.grad(function(v) return (v:float():astype("float64") * w):sum() end,
        lunet.tensor({ 1, 2, 3 }, "float64"))
      assert.are.same({ 0.5, 0.25, 2 }, g:totable())
    end)

    it("cat, stack and where", function()
      S.seed(7)
      local a, b = randn(2, 3), randn(4, 3)
      check(function(u, v) return lunet.cat({ u, v }, 1) end, { a, b }, "cat 1")
      check(function(u, v) return lunet.cat({ u, v:t() }, 2) end, { a, randn(2, 2):t() }, "cat 2")
      check(function(u, v) return lunet.stack({ u, v }, 2) end, { a, randn(2, 3) }, "stack")
      local cond = randn(2, 3):gt(0)
      check(function(u, v) return lunet.where(cond, u, v) end, { a, randn(3) }, "where")
      check(function(u) return lunet.where(cond, u, 0) end, a, "where number")
    end)

    it("compositions (a small MLP)", function()
      S.seed(8)
      local x, w1, b1, w2 = randn(5, 4), randn(4, 3), randn(3), randn(3, 2)
      check(function(w, b, v)
        return lunet.activations.log_softmax((x:matmul(w) + b):elu():matmul(v)):mean()
      end, { w1, b1, w2 }, "mlp")
    end)
  end)

  describe("grad, jacobian and gradcheck", function()
    it("grad returns one gradient per input, zeros for unused ones", function()
      local x = lunet.tensor({ 1, 2 }, "float64")
      local y = lunet.tensor({ 3, 4 }, "float64")
      local z = lunet.tensor({ 5 }, "float64")
      local g = autograd.grad(function(u, v) return (u * v):sum() end, { x, y, z })
      assert.are.same({ 3, 4 }, g[1]:totable())
      assert.are.same({ 1, 2 }, g[2]:totable())
      assert.are.same({ 0 }, g[3]:totable())
      local gx = autograd.grad(function(u) return (u ^ 2):sum() end, x)
      assert.are.same({ 2, 4 }, gx:totable())
      assert.is_false(x:is_grad_tracked()) -- inputs are not modified
    end)

    it("jacobian has shape f(x):shape() .. x:shape() and the right entries", function()
      local x = lunet.tensor({ 0.5, -1, 2 }, "float64")
      local J = autograd.jacobian(function(v) return v:reshape(3, 1) * v end, x)
      assert.are.same({ 3, 3, 3 }, J:shape())
      -- d(x_i x_j)/dx_k
      for i = 1, 3 do
        for j = 1, 3 do
          for k = 1, 3 do
            local want = (i == k and x[j] or 0) + (j == k and x[i] or 0)
            assert.are.equal(want, J:get(i, j, k))
          end
        end
      end
      local J0 = autograd.jacobian(function() return lunet.ones(2, "float64") end, x)
      assert.are.same({ { 0, 0, 0 }, { 0, 0, 0 } }, J0:totable())
    end)

    it("gradcheck catches a wrong backward", function()
      local function bad_square(x)
        local y = lunet.no_grad(function() return x * x end)
        return autograd.record("bad_square", y, { x }, function(g) return g * x end) -- missing 2
      end
      local ok, report = gradcheck(bad_square, lunet.tensor({ 1, 2 }, "float64"))
      assert.is_false(ok)
      assert.matches("analytic 1, numeric 2", report, 1, true)
      assert.is_true(gradcheck(function(x) return x * x end, lunet.tensor({ 1, 2 }, "float64")))
    end)

    it("gradcheck refuses float32", function()
      assert.has_error(function() gradcheck(function(x) return x end, lunet.ones(2)) end,
        "gradcheck: input 1 is float32; gradcheck needs float64 inputs " ..
        "(finite differences in float32 are too coarse; use :double())")
      assert.has_error(function() gradcheck(function(x) return x end, { 1 }) end,
        "gradcheck: input 1 must be a tensor (got 1)")
    end)
  end)

  describe("grad mode scopes (no_grad, with_grad_mode, with_scope)", function()
    local on = autograd.is_enabled

    it("a yield inside no_grad leaves grad mode on outside and off again after resume", function()
      local x = lunet.tensor({ 1, 2 }, "float64"):requires_grad()
      local seen, tracked = {}, nil
      local co = coroutine.create(function(a)
        local r1, r2 = lunet.no_grad(function(b)
          seen[#seen + 1] = on()
          local sent = coroutine.yield(b + 1, "out")
          seen[#seen + 1] = on()
          tracked = (x * 2):is_grad_tracked()
          return sent * 10, "done"
        end, a)
        seen[#seen + 1] = on()
        return r1, r2
      end)
      local ok, v, w = coroutine.resume(co, 1)
      assert.is_true(ok)
      assert.are.same({ 2, "out" }, { v, w }) -- yielded values pass outward
      assert.is_true(on())
      assert.is_true((x * 2):is_grad_tracked())
      ok, v, w = coroutine.resume(co, 4)      -- and resumed values inward
      assert.is_true(ok)
      assert.are.same({ 40, "done" }, { v, w })
      assert.are.same({ false, false, true }, seen)
      assert.is_false(tracked)
      assert.are.equal("dead", coroutine.status(co))
      assert.is_true(on())
    end)

    it("a coroutine resumed from inside no_grad runs with grad off; its own no_grad nests", function()
      local seen = {}
      local gen = coroutine.wrap(function()
        seen[#seen + 1] = on()
        lunet.no_grad(function() coroutine.yield(); seen[#seen + 1] = on() end)
        seen[#seen + 1] = on()
        coroutine.yield()
        seen[#seen + 1] = on()
      end)
      lunet.no_grad(gen)  -- off (dynamic scope)
      gen()               -- inside its no_grad: off
      seen[#seen + 1] = "|"
      gen()               -- resumed with grad on: on
      assert.are.same({ false, false, true, "|", true }, seen)
      assert.is_true(on())
    end)

    it("an abandoned coroutine does not leave grad mode off; closing it runs f's guards", function()
      local closed = false
      local co = coroutine.create(function()
        lunet.no_grad(function()
          local _ <close> = setmetatable({}, { __close = function() closed = true end })
          coroutine.yield()
        end)
      end)
      assert.is_true(coroutine.resume(co))
      assert.is_true(on())
      assert.is_true(coroutine.close(co))
      assert.is_true(closed)
      co = coroutine.create(function() lunet.no_grad(coroutine.yield) end)
      assert.is_true(coroutine.resume(co))
      co = nil -- luacheck: ignore
      collectgarbage()
      assert.is_true(on())
    end)

    it("an error inside no_grad restores the mode and propagates unchanged", function()
      local obj = {}
      for _, where in ipairs({ "main", "coroutine" }) do
        local function run(f)
          if where == "main" then return f() end
          local co = coroutine.wrap(f)
          return co()
        end
        assert.has_error(function() run(function() lunet.no_grad(function() error("boom", 0) end) end) end,
          "boom")
        assert.is_true(on(), where)
        local ok, e = pcall(run, function() lunet.no_grad(function() error(obj) end) end)
        assert.is_false(ok)
        assert.are.equal(obj, e, where) -- error objects keep their identity
        assert.is_true(on(), where)
        -- an error after a yield and resume
        local co = coroutine.create(function()
          lunet.no_grad(function() coroutine.yield(); error("late", 0) end)
        end)
        assert.is_true(coroutine.resume(co))
        assert.are.same({ false, "late" }, { coroutine.resume(co) })
        assert.is_true(on(), where)
      end
    end)

    it("keeps the traceback of an error raised inside f (main thread)", function()
      local call_line
      local function inner() error("deep", 0) end
      local ok, tb = xpcall(function()
        lunet.no_grad(function()
          call_line = debug.getinfo(1, "l").currentline + 1
          inner()
        end)
      end, debug.traceback)
      assert.is_false(ok)
      assert.matches("^deep\nstack traceback:", tb)
      assert.matches("autograd_spec.lua:" .. call_line .. ":", tb, 1, true)
      assert.is_true(on())
    end)

    it("nests: no_grad in no_grad, with_grad_mode(true) inside no_grad", function()
      local x = lunet.tensor({ 1, 2 }, "float64"):requires_grad()
      lunet.no_grad(function()
        lunet.no_grad(function() assert.is_false(on()) end)
        assert.is_false(on())
        local y = autograd.with_grad_mode(true, function() return x * 3 end)
        assert.is_true(y:is_grad_tracked())
        assert.is_false(on())
        -- grad() records even when called under no_grad
        assert.are.same({ 2, 4 }, autograd.grad(function(v) return (v * v):sum() end, x):totable())
        assert.is_false(on())
      end)
      assert.is_true(on())
      assert.are.same({ 7, "b" }, { autograd.with_grad_mode(false, function(a, b) return a, b end, 7, "b") })
    end)

    it("grad and backward inside a coroutine that yields in f", function()
      local x = lunet.tensor({ 1, 2, 3 }, "float64")
      local co = coroutine.create(function()
        return autograd.grad(function(v)
          coroutine.yield(on())
          return (v * v):sum()
        end, x)
      end)
      local ok, mode = coroutine.resume(co)
      assert.is_true(ok and mode)
      lunet.no_grad(function() ok, mode = coroutine.resume(co) end) -- f still records
      assert.is_true(ok)
      assert.are.same({ 2, 4, 6 }, mode:totable())
    end)

    it("with_scope sets and restores any state around each stretch of f", function()
      local state, log = "base", {}
      local enter = function(v) local was = state; state = v; return was end
      local leave = function(was) state = was end
      assert.are.equal(5, autograd.with_scope(enter, leave, "in", function(a)
        log[#log + 1] = state
        return a
      end, 5))
      assert.are.equal("base", state)
      local co = coroutine.wrap(function()
        autograd.with_scope(enter, leave, "in", function()
          log[#log + 1] = state
          coroutine.yield()
          log[#log + 1] = state
          error("stop", 0)
        end)
      end)
      co()
      log[#log + 1] = state
      assert.has_error(co, "stop")
      assert.are.same({ "in", "in", "base", "in" }, log)
      assert.are.equal("base", state)
    end)
  end)

  describe("the tape", function()
    it("records and backpropagates 100,000 ops in linear time", function()
      local x = lunet.ones(4, "float64"):requires_grad()
      local t0 = lunet.core.clock()
      local y = x
      for _ = 1, 100000 do y = y * 1.00001 end
      y:sum():backward()
      local dt = lunet.core.clock() - t0
      print(string.format("\n  100,000 recorded ops, record + backward: %.3f s", dt))
      assert.is_true(dt < (S.sanitized and 20 or 2), "took " .. dt .. " s")
      assert.near(1.00001 ^ 100000, x:grad()[1], 1e-9)
    end)

    it("a graph dies with its output; leaves keep their gradients", function()
      collectgarbage()
      collectgarbage()
      local base = collectgarbage("count")
      local x = lunet.ones(4, "float64"):requires_grad()
      local probe = setmetatable({}, { __mode = "v" })
      do
        local y = x
        for i = 1, 20000 do
          y = y * 1.0001
          if i == 10000 then probe.mid = y end
        end
        local loss = y:sum()
        loss:backward()
        probe.loss = loss
        assert.is_true(collectgarbage("count") - base > 2000) -- the graph is held
      end
      collectgarbage()
      collectgarbage()
      assert.is_nil(probe.mid)
      assert.is_nil(probe.loss)
      assert.is_true(collectgarbage("count") - base < 200, "KiB left: " .. (collectgarbage("count") - base))
      assert.near(1.0001 ^ 20000, x:grad()[1], 1e-8)
      x:requires_grad(false)
      assert.is_false(x:is_grad_tracked())
      assert.is_nil(x:grad())
    end)

    it("reductions pass their gradient back as a broadcast view; a leaf's grad is its own memory", function()
      local core = lunet.core
      local e = core._expand(lunet.tensor({ { 1 }, { 2 } }), { 2, 3 })
      assert.are.same({ 2, 3 }, e:shape())
      assert.is_false(e:is_contiguous())
      assert.are.same({ { 1, 1, 1 }, { 2, 2, 2 } }, e:totable())
      assert.has_error(function() core._expand(lunet.ones(2, 1), { 3, 3 }) end,
        "_expand: cannot broadcast shape (2, 1) to (3, 3)")
      assert.has_error(function() core._expand(lunet.ones(3), { 3, 2 }) end,
        "_expand: cannot broadcast shape (3,) to (3, 2)")
      -- sum over everything: the one-element gradient is broadcast, but the
      -- leaf's grad must be contiguous memory of its own (writing to it must
      -- change one element, not the whole broadcast row)
      local x = lunet.tensor({ { 1, 2, 3 }, { 4, 5, 6 } }, "float64"):requires_grad()
      ;(x:sum(2):mean() * 2):backward()
      local g = x:grad()
      assert.is_true(g:is_contiguous())
      g[1][1] = 7
      assert.are.same({ { 7, 1, 1 }, { 1, 1, 1 } }, g:totable())
      -- a second backward accumulates onto it
      ;(x:max(1):sum()):backward()
      assert.are.same({ { 7, 1, 1 }, { 2, 2, 2 } }, x:grad():totable())
    end)

    it("core.tape_get answers nil for anything untracked; tape_set wants a tensor", function()
      assert.is_nil(lunet.core.tape_get(3))
      assert.is_nil(lunet.core.tape_get(nil))
      assert.is_nil(lunet.core.tape_get(io.stdout))
      assert.is_nil(lunet.core.tape_get(lunet.ones(2)))
      local x = lunet.ones(2):requires_grad()
      assert.are.equal(true, lunet.core.tape_get(x).leaf)
      -- two operands in one call: the first tracked one's record
      assert.are.equal(lunet.core.tape_get(x), lunet.core.tape_get(2, x))
      assert.are.equal(lunet.core.tape_get(x), lunet.core.tape_get(x, lunet.ones(2)))
      assert.is_nil(lunet.core.tape_get(lunet.ones(2), 2))
      assert.has_error(function() lunet.core.tape_set({}, {}) end,
        "tape_set: expected a tensor for argument 1, got table")
      assert.has_error(function() lunet.core.tape_set(lunet.ones(2), 1) end,
        "tape_set: expected a table or nil for argument 2, got number")
    end)
  end)
end)
