local lunet = require("lunet")
local S = require("support")

local A = lunet.activations
local autograd = lunet.autograd
local nan, inf = 0 / 0, math.huge

local SELU_ALPHA = 1.6732632423543772848170429916717
local SELU_SCALE = 1.0507009873554804934193349852946

-- erf by its Taylor series for |x| <= 2, erfc by a continued fraction above
local function erf(x)
  if math.abs(x) > 2 then
    local ax, k = math.abs(x), 0
    for n = 80, 1, -1 do k = (n / 2) / (ax + k) end
    local erfc = math.exp(-ax * ax) / math.sqrt(math.pi) / (ax + k)
    return x > 0 and 1 - erfc or erfc - 1
  end
  local sum, term, k = x, x, 0
  repeat
    k = k + 1
    term = term * -x * x / k
    local add = term / (2 * k + 1)
    sum = sum + add
  until math.abs(add) < 1e-17 * math.abs(sum)
  return 2 / math.sqrt(math.pi) * sum
end
local function expm1(x)
  if math.abs(x) >= 0.5 then return math.exp(x) - 1 end
  local sum, term, k = x, x, 1
  repeat
    k = k + 1
    term = term * x / k
    sum = sum + term
  until math.abs(term) < 1e-18 * math.abs(sum)
  return sum
end
local function tanh(x)
  local m = expm1(-2 * math.abs(x))
  local t = -m / (2 + m)
  return x < 0 and -t or t
end
local function sigmoid(x) return 1 / (1 + math.exp(-x)) end
-- log(1 + e) keeping e's digits (Kahan's trick)
local function log1p(e)
  local u = 1 + e
  if u == 1 then return e end
  return math.log(u) * e / (u - 1)
end
local function softplus(x) return math.max(x, 0) + log1p(math.exp(-math.abs(x))) end

-- plain-Lua references: forward and derivative
local ref = {
  linear = { function(x) return x end, function() return 1 end },
  relu = { function(x) return math.max(x, 0) end, function(x) return x > 0 and 1 or 0 end },
  relu6 = { function(x) return math.min(math.max(x, 0), 6) end,
    function(x) return (x > 0 and x < 6) and 1 or 0 end },
  leaky_relu = { function(x) return x > 0 and x or 0.3 * x end, function(x) return x > 0 and 1 or 0.3 end },
  elu = { function(x) return x > 0 and x or expm1(x) end,
    function(x) return x > 0 and 1 or math.exp(x) end },
  selu = { function(x) return x > 0 and SELU_SCALE * x or SELU_SCALE * (SELU_ALPHA * expm1(x)) end,
    function(x) return x > 0 and SELU_SCALE or SELU_SCALE * SELU_ALPHA * math.exp(x) end },
  celu = { function(x) return x > 0 and x or expm1(x) end,
    function(x) return x > 0 and 1 or math.exp(x) end },
  sigmoid = { sigmoid, function(x) return sigmoid(x) * (1 - sigmoid(x)) end },
  hard_sigmoid = { function(x) return math.min(math.max(0.2 * x + 0.5, 0), 1) end,
    function(x) return (x > -2.5 and x < 2.5) and 0.2 or 0 end },
  hard_silu = { function(x) return x * math.min(math.max(x + 3, 0), 6) / 6 end,
    function(x) return x < -3 and 0 or (x > 3 and 1 or (2 * x + 3) / 6) end },
  silu = { function(x) return x * sigmoid(x) end,
    function(x) local s = sigmoid(x) return s + x * s * (1 - s) end },
  tanh = { tanh, function(x) return 1 - tanh(x) ^ 2 end },
  softplus = { softplus, sigmoid },
  softsign = { function(x) return x / (1 + math.abs(x)) end,
    function(x) return 1 / (1 + math.abs(x)) ^ 2 end },
  mish = { function(x) return x * tanh(softplus(x)) end,
    function(x)
      local t = tanh(softplus(x))
      return t + x * (1 - t * t) * sigmoid(x)
    end },
  gelu = { function(x) return 0.5 * x * (1 + erf(x / math.sqrt(2))) end,
    function(x)
      return 0.5 * (1 + erf(x / math.sqrt(2))) + x * math.exp(-x * x / 2) / math.sqrt(2 * math.pi)
    end },
  exponential = { math.exp, math.exp },
  thresholded_relu = { function(x) return x > 1 and x or 0 end, function(x) return x > 1 and 1 or 0 end },
  swish = { function(x) return x * sigmoid(x) end,
    function(x) local s = sigmoid(x) return s + x * s * (1 - s) end },
  hard_swish = { function(x) return x * math.min(math.max(x + 3, 0), 6) / 6 end,
    function(x) return x < -3 and 0 or (x > 3 and 1 or (2 * x + 3) / 6) end },
}

-- elementwise activations callable as A[name](x)
local elementwise = {}
for name in pairs(ref) do elementwise[#elementwise + 1] = name end
table.sort(elementwise)

-- kinks of each activation (points to stay away from in gradchecks)
local kinks = {
  relu = { 0 }, relu6 = { 0, 6 }, leaky_relu = { 0 }, elu = { 0 }, selu = { 0 }, celu = { 0 },
  hard_sigmoid = { -2.5, 2.5 }, hard_silu = { -3, 3 }, hard_swish = { -3, 3 },
  thresholded_relu = { 1 },
}

-- n random points in [-4, 4], each at least 0.05 from every kink of name
local function points(name, n) return S.points_away_from(kinks[name] or {}, n) end

local function rel_close(a, b, tol)
  if a ~= a or b ~= b then return a ~= a and b ~= b end
  return math.abs(a - b) <= tol * math.max(math.abs(b), 1e-300) or math.abs(a - b) < 1e-300
end

describe("lunet.activations", function()
  describe("reference values", function()
    it("match SEMANTICS.md's SELU values in float64", function()
      local x = lunet.tensor({ -2, -1, -0.5, 0.5, 1 }, "float64")
      local want = { -1.5201664685956948, -1.1113307378125625, -0.6917581878028713,
        0.5253504936777402, 1.0507009873554805 }
      local got = A.selu(x):totable()
      for i = 1, 5 do
        assert.is_true(rel_close(got[i], want[i], 2.3e-16), ("selu(%g) = %.17g, want %.17g"):format(
          x[i], got[i], want[i]))
      end
    end)

    it("saturate SELU at -scale*alpha = alpha' and have selu'(0) = scale*alpha", function()
      local y = A.selu(lunet.tensor({ -50, 0 }, "float64")):totable()
      assert.are.equal(-1.7580993408473766, y[1])
      assert.are.equal(0, y[2])
      local g = lunet.core.activation_backward("selu", lunet.tensor({ 0 }, "float64"),
        lunet.tensor({ 1 }, "float64"))
      assert.is_true(rel_close(g[1], 1.7580993408473766, 1e-15))
      local xs = lunet.tensor({ -1 }, "float64"):requires_grad()
      A.selu(xs):sum():backward()
      assert.is_true(rel_close(xs:grad()[1], SELU_SCALE * SELU_ALPHA * math.exp(-1), 1e-15))
    end)

    it("reproduce Keras' relu docstring, zero signs included", function()
      local x = lunet.tensor({ -10, -5, 0, 5, 10 })
      assert.are.same({ 0, 0, 0, 5, 10 }, A.relu(x):totable())
      assert.are.same({ -5, -2.5, 0, 5, 10 }, A.relu(x, { negative_slope = 0.5 }):totable())
      assert.are.same({ 0, 0, 0, 5, 5 }, A.relu(x, { max_value = 5 }):totable())
      local t = A.relu(x, { threshold = 5 }):totable()
      assert.are.same({ 0, 0, 0, 0, 10 }, t)
      -- [-0, -0, 0, 0, 10]
      assert.are.same({ -inf, -inf, inf, inf }, { 1 / t[1], 1 / t[2], 1 / t[3], 1 / t[4] })
      -- default relu gives +0 for negative inputs
      assert.are.equal(inf, 1 / A.relu(x)[1])
    end)

    it("combine relu options as Keras does", function()
      local x = lunet.tensor({ -4, -1, 1, 2, 3, 8 }, "float64")
      local y = A.relu(x, { negative_slope = 0.1, max_value = 6, threshold = 2 }):totable()
      local want = { 0.1 * (-4 - 2), 0.1 * (-1 - 2), 0.1 * (1 - 2), 0.1 * (2 - 2), 3, 6 }
      for i = 1, #want do assert.near(want[i], y[i], 1e-15) end
      assert.are.same({ 0, 0, 0, 5, 6, 6 }, A.relu6(lunet.tensor({ -1, 0, 0, 5, 6, 7 })):totable())
    end)

    it("K.relu(x, max_value=6, threshold=-1) follows Keras' code: clip(x * (x > threshold), 0, max_value)", function()
      local x = lunet.tensor({ -3, -1, -0.75, -0.25, 0.5, 5, 9 }, "float64")
      -- Keras 2 backend, as seed 003 prints it: x * (x > threshold), then clip to [0, max_value]
      local function keras(v, slope, max_value, threshold)
        local pos = v > threshold and v or 0
        if max_value then pos = math.min(math.max(pos, 0), max_value) end
        return pos - slope * math.max(threshold - v, 0)
      end
      for _, case in ipairs({ { 0, 6, -1 }, { 0.2, 6, -1 }, { 0.3, nil, -1 }, { 0.1, 4, 2 } }) do
        local slope, max_value, threshold = case[1], case[2], case[3]
        local y = A.relu(x, { negative_slope = slope, max_value = max_value, threshold = threshold }):totable()
        for i, v in ipairs(x:totable()) do
          assert.near(keras(v, slope, max_value, threshold), y[i], 1e-15,
            ("relu(%g, %g, %s, %g)"):format(v, slope, tostring(max_value), threshold))
        end
      end
      -- so the derivative is 0 on (threshold, 0) when max_value is set, and 1 without it
      local g = autograd.grad(function(v) return A.relu(v, { max_value = 6, threshold = -1 }):sum() end, x):totable()
      assert.are.same({ 0, 0, 0, 0, 1, 1, 0 }, g)
      g = autograd.grad(function(v) return A.relu(v, { threshold = -1 }):sum() end, x):totable()
      assert.are.same({ 0, 0, 1, 1, 1, 1, 1 }, g)
    end)

    for _, name in ipairs(elementwise) do
      it(name .. " matches its closed form in float64", function()
        S.seed(200 + #name)
        local xs = points(name, 40)
        xs[#xs + 1] = 2.75
        local y = A[name](lunet.tensor(xs, "float64")):totable()
        for i, v in ipairs(xs) do
          local want = ref[name][1](v)
          -- composites compound a few roundings; the erf reference itself is good to ~1e-13
          local tol = ({ gelu = 1e-12, mish = 1e-13 })[name] or 4e-15
          assert.is_true(math.abs(y[i] - want) <= tol * math.abs(want) + 1e-300,
            ("%s(%.17g) = %.17g, want %.17g"):format(name, v, y[i], want))
        end
      end)
    end
  end)

  describe("derivatives at the kinks (SEMANTICS.md)", function()
    local function d(name, x, ...)
      local t = lunet.tensor({ x }, "float64"):requires_grad()
      local args = table.pack(...)
      A[name](t, table.unpack(args, 1, args.n)):sum():backward()
      return t:grad()[1]
    end

    it("take the left side in the ReLU family", function()
      assert.are.equal(0, d("relu", 0))
      assert.are.equal(0.3, d("leaky_relu", 0) + 0) -- float64 alpha
      assert.are.equal(0.25, d("leaky_relu", 0, 0.25))
      assert.are.equal(0, d("relu6", 0))
      assert.are.equal(0, d("relu6", 6))
      assert.are.equal(1, d("relu6", 5.999))
      assert.are.equal(0, d("thresholded_relu", 1))
      assert.are.equal(1, d("thresholded_relu", 1.001))
      -- relu with options: negative_slope at and below threshold, 0 at and above max_value
      assert.are.equal(0.5, d("relu", 2, { negative_slope = 0.5, threshold = 2 }))
      assert.are.equal(1, d("relu", 2.5, { negative_slope = 0.5, threshold = 2, max_value = 4 }))
      assert.are.equal(0, d("relu", 4, { negative_slope = 0.5, threshold = 2, max_value = 4 }))
    end)

    it("take the x <= 0 branch in the ELU family", function()
      assert.are.equal(1, d("elu", 0))
      assert.are.equal(0.5, d("elu", 0, 0.5))
      assert.is_true(rel_close(d("selu", 0), 1.7580993408473766, 1e-15))
      assert.are.equal(1, d("celu", 0, 2))
    end)

    it("give pelu'(0) = a/b (x >= 0 is the linear branch)", function()
      local x = lunet.tensor({ 0 }, "float64"):requires_grad()
      A.pelu(x, lunet.tensor({ 1.5 }, "float64"), lunet.tensor({ 0.5 }, "float64")):sum():backward()
      assert.are.equal(3, x:grad()[1])
    end)

    it("handle hard_sigmoid and hard_silu at their edges", function()
      assert.are.equal(0, d("hard_sigmoid", 2.5))
      assert.are.equal(0, d("hard_sigmoid", -2.5))
      assert.are.equal(0.2, d("hard_sigmoid", 0) + 0)
      assert.are.equal(-0.5, d("hard_silu", -3))
      assert.are.equal(1.5, d("hard_silu", 3))
      assert.are.equal(0, d("hard_silu", -3.001))
      assert.are.equal(1, d("hard_silu", 3.001))
    end)
  end)

  describe("NaN", function()
    for _, dt in ipairs({ "float32", "float64" }) do
      it("in gives NaN out for every activation and its gradient (" .. dt .. ")", function()
        local names = {}
        for _, n in ipairs(elementwise) do names[#names + 1] = n end
        for _, n in ipairs(names) do
          local x = lunet.tensor({ 1, nan, -1 }, dt):requires_grad()
          local y = A[n](x)
          assert.is_true(y[2] ~= y[2], n .. " forward")
          y:sum():backward()
          -- linear's derivative is 1 whatever x is
          if n ~= "linear" then assert.is_true(x:grad()[2] ~= x:grad()[2], n .. " backward") end
        end
        local x = lunet.tensor({ 1, nan, -1 }, dt)
        local one = lunet.ones(3, dt)
        assert.is_true(A.prelu(x, one * 0.1)[2] ~= A.prelu(x, one * 0.1)[2])
        assert.is_true(A.pelu(x, one, one)[2] ~= A.pelu(x, one, one)[2])
        local s = A.softmax(x)
        for i = 1, 3 do assert.is_true(s[i] ~= s[i]) end
        local r = A.relu(x, { threshold = 0.5 })
        assert.is_true(r[2] ~= r[2])
      end)
    end
  end)

  describe("softmax and log_softmax", function()
    it("make rows that sum to 1 and stay finite at +-1000", function()
      local x = lunet.tensor({ { 1000, -1000, 0 }, { -1000, -1000, -1000 }, { 1, 2, 3 } })
      local y = A.softmax(x)
      local sums = y:sum(2):totable()
      for i = 1, 3 do assert.near(1, sums[i], 1e-6) end
      assert.are.same({ 1, 0, 0 }, y[1]:totable())
      local ly = A.log_softmax(x)
      assert.are.equal(0, ly:ne(ly):sum():item())
      assert.are.equal(0, ly:abs():eq(inf):sum():item())
      assert.near(-2000, ly:get(1, 2), 1e-3)
      local e = math.exp(1) + math.exp(2) + math.exp(3)
      assert.near(math.exp(1) / e, y:get(3, 1), 1e-7)
      assert.near(1 - math.log(e), ly:get(3, 1), 1e-6)
    end)

    it("work along any axis, strided views included", function()
      S.seed(41)
      local x = lunet.randn({ 3, 4, 5 }, "float64")
      for _, axis in ipairs({ 1, 2, 3, -1 }) do
        local y = A.softmax(x, axis)
        local s = y:sum(axis)
        assert.is_true(lunet.allclose(s, lunet.ones(s:shape(), "float64"), 1e-14, 1e-14))
        local ly = A.log_softmax(x, axis)
        assert.is_true(lunet.allclose(ly:exp(), y, 1e-13, 1e-15))
      end
      local xt = x:transpose(1, 3)
      assert.is_true(lunet.equal(A.softmax(xt, 2), A.softmax(xt:contiguous(), 2)))
    end)

    it("have gradients that pass gradcheck", function()
      S.seed(42)
      for _, f in ipairs({ A.softmax, A.log_softmax }) do
        for _, axis in ipairs({ 1, 2, -1 }) do
          local x = lunet.randn({ 3, 4 }, "float64")
          local w = lunet.randn({ 3, 4 }, "float64")
          assert.is_true(autograd.gradcheck(function(v) return f(v, axis) * w end, x))
        end
      end
    end)
  end)

  describe("gradients", function()
    for _, name in ipairs(elementwise) do
      it(name .. " passes gradcheck and matches its closed-form derivative", function()
        S.seed(100 + #name)
        local xs = points(name, 24)
        local x = lunet.tensor(xs, "float64"):reshape(4, 6)
        assert.is_true(autograd.gradcheck(A[name], x))
        local t = x:clone():requires_grad()
        A[name](t):sum():backward()
        local g = S.flat(t:grad():totable())
        for i, v in ipairs(xs) do
          local want = ref[name][2](v)
          -- tanh' = 1 - y^2 from the rounded y loses ~log10(1/(1-y^2)) digits
          local tol = ({ tanh = 1e-11, gelu = 1e-12 })[name] or 1e-13
          assert.is_true(math.abs(g[i] - want) <= tol * math.abs(want) + 1e-15,
            ("%s'(%.17g) = %.17g, want %.17g"):format(name, v, g[i], want))
        end
      end)
    end

    it("of parametrised activations pass gradcheck", function()
      S.seed(7)
      local x = lunet.tensor(points("relu", 12), "float64"):reshape(3, 4)
      local opts = { negative_slope = 0.2, max_value = 3.5, threshold = -0.5 }
      local xr = lunet.tensor(points("relu", 12), "float64"):reshape(3, 4) * 2
      for _, v in ipairs(S.flat(xr:totable())) do
        assert(math.abs(v - 3.5) > 0.01 and math.abs(v + 0.5) > 0.01)
      end
      assert.is_true(autograd.gradcheck(function(v) return A.relu(v, opts) end, xr))
      assert.is_true(autograd.gradcheck(function(v) return A.leaky_relu(v, 0.01) end, x))
      assert.is_true(autograd.gradcheck(function(v) return A.elu(v, 0.7) end, x))
      assert.is_true(autograd.gradcheck(function(v) return A.celu(v, 1.7) end, x))
      assert.is_true(autograd.gradcheck(function(v) return A.gelu(v, { approximate = true }) end, x))
      assert.is_true(autograd.gradcheck(function(v) return A.thresholded_relu(v, 0.5) end,
        x + 0.013))
    end)

    it("of the tanh-approximated gelu match the chain rule", function()
      local x = lunet.tensor({ -2.5, -0.3, 0.8, 3 }, "float64")
      local y = A.gelu(x, { approximate = true }):totable()
      local c = math.sqrt(2 / math.pi)
      for i, v in ipairs(x:totable()) do
        assert.near(0.5 * v * (1 + tanh(c * (v + 0.044715 * v ^ 3))), y[i], 1e-15)
      end
    end)
  end)

  describe("prelu and pelu parameters", function()
    it("prelu: d/dalpha = min(x, 0), per element and shared", function()
      S.seed(8)
      local x = lunet.tensor(points("relu", 12), "float64"):reshape(3, 4)
      local alpha = lunet.uniform({ 4 }, 0.1, 0.5, "float64")
      assert.is_true(autograd.gradcheck(A.prelu, { x, alpha }))
      assert.is_true(autograd.gradcheck(A.prelu, { x, lunet.uniform({ 3, 4 }, 0.1, 0.5, "float64") }))
      assert.is_true(autograd.gradcheck(A.prelu, { x, lunet.uniform({ 3, 1 }, 0.1, 0.5, "float64") }))
      local xl = x:clone():requires_grad()
      local al = alpha:clone():requires_grad()
      A.prelu(xl, al):sum():backward()
      local want = lunet.minimum(x, 0):sum(1)
      assert.is_true(lunet.allclose(al:grad(), want, 1e-15, 0))
    end)

    it("pelu: gradcheck in x, a and b over several broadcast layouts", function()
      S.seed(9)
      local x = lunet.tensor(points("relu", 24), "float64"):reshape(2, 3, 4)
      local layouts = { { 4 }, { 3, 1 }, { 3, 4 }, { 1 }, { 2, 1, 4 }, { 2, 3, 4 } }
      for _, shape in ipairs(layouts) do
        local a = lunet.uniform(shape, 0.5, 2, "float64")
        local b = lunet.uniform(shape, 0.5, 2, "float64")
        local ok, report = autograd.gradcheck(A.pelu, { x, a, b })
        assert.is_true(ok, report)
      end
      -- a and b of different layouts
      local ok = autograd.gradcheck(A.pelu, { x, lunet.uniform({ 4 }, 0.5, 2, "float64"),
        lunet.uniform({ 3, 1 }, 0.5, 2, "float64") })
      assert.is_true(ok)
    end)

    it("pelu: d/db is -a*x*exp(x/b)/b^2 for x < 0 (positive), -a*x/b^2 for x >= 0", function()
      local x = lunet.tensor({ -2, -0.5, 0.5, 2 }, "float64")
      local a0, b0 = 1.3, 0.8
      local a = lunet.full({ 4 }, a0, "float64"):requires_grad()
      local b = lunet.full({ 4 }, b0, "float64"):requires_grad()
      A.pelu(x, a, b):sum():backward()
      for i, v in ipairs(x:totable()) do
        local da, db
        if v < 0 then
          da = math.exp(v / b0) - 1
          db = -a0 * v * math.exp(v / b0) / b0 ^ 2
          assert.is_true(db > 0)
        else
          da = v / b0
          db = -a0 * v / b0 ^ 2
        end
        assert.near(da, a:grad()[i], 1e-15)
        assert.near(db, b:grad()[i], 1e-15)
      end
    end)

    it("pelu: jacobians in a and b equal the closed forms", function()
      local x = lunet.tensor({ { -1.5, 0.7, 2.0 }, { 0.3, -0.2, -3.0 } }, "float64")
      local a = lunet.tensor({ 0.9, 1.1, 1.4 }, "float64")
      local b = lunet.tensor({ 1.2, 0.6, 2.0 }, "float64")
      local Ja = autograd.jacobian(function(v) return A.pelu(x, v, b) end, a)
      local Jb = autograd.jacobian(function(v) return A.pelu(x, a, v) end, b)
      assert.are.same({ 2, 3, 3 }, Ja:shape())
      assert.are.same({ 2, 3, 3 }, Jb:shape())
      for i = 1, 2 do
        for j = 1, 3 do
          for k = 1, 3 do
            local v, aj, bj = x:get(i, j), a[j], b[j]
            local wa, wb = 0, 0
            if k == j then
              if v >= 0 then
                wa, wb = v / bj, -aj * v / bj ^ 2
              else
                wa, wb = math.exp(v / bj) - 1, -aj * v * math.exp(v / bj) / bj ^ 2
              end
            end
            assert.near(wa, Ja:get(i, j, k), 1e-15)
            assert.near(wb, Jb:get(i, j, k), 1e-15)
          end
        end
      end
    end)

    it("a PELU written from tensor ops (API.md) equals the built-in kernel", function()
      S.seed(10)
      local x0 = lunet.randn({ 5, 4 }, "float64") * 2
      local a0 = lunet.uniform({ 4 }, 0.2, 2, "float64")
      local b0 = lunet.uniform({ 4 }, 0.2, 2, "float64")
      local function user_pelu(x, alpha, beta)
        return (alpha / beta) * x:relu() + alpha * ((-(-x):relu() / beta):exp() - 1)
      end
      local function grads(f)
        local x, a, b = x0:clone():requires_grad(), a0:clone():requires_grad(), b0:clone():requires_grad()
        local y = f(x, a, b)
        local loss = (y * y):sum()
        loss:backward()
        return y, x:grad(), a:grad(), b:grad()
      end
      local r1 = table.pack(grads(user_pelu))
      local r2 = table.pack(grads(A.pelu))
      for i = 1, 4 do
        assert.is_true(lunet.allclose(r1[i], r2[i], 1e-14, 1e-15), "result " .. i)
      end
    end)
  end)

  describe("float32", function()
    for _, name in ipairs(elementwise) do
      it(name .. " agrees with float64 within float32 precision", function()
        S.seed(300 + #name)
        local x64 = lunet.uniform({ 4000 }, -12, 12, "float64")
        local x32 = x64:float()
        x64 = x32:double() -- the same points
        local y32, y64 = A[name](x32), A[name](x64)
        assert.is_true(lunet.allclose(y32, y64, 3e-6, 1e-30), name .. " forward")
        local g = lunet.uniform({ 4000 }, -1, 1, "float64")
        local info = lunet.core.activation_info(name) or lunet.core.activation_info(
          ({ relu6 = "relu", swish = "silu", hard_swish = "hard_silu" })[name])
        local k = ({ relu6 = "relu", swish = "silu", hard_swish = "hard_silu" })[name] or name
        local s32 = info.saves_y and y32 or x32
        local s64 = info.saves_y and y64 or x64
        if name ~= "relu6" then
          local d32 = lunet.core.activation_backward(k, s32, g:float())
          local d64 = lunet.core.activation_backward(k, s64, g:float():double())
          assert.is_true(lunet.allclose(d32, d64, 2e-5, 1e-6), name .. " backward")
        end
      end)
    end

    it("give the same values on strided views and across the chunked and streamed paths", function()
      S.seed(12)
      local big = lunet.randn({ 4200000 })
      local y = A.selu(big)
      local y2 = A.selu(big:view(2100000, 2):t():contiguous()):t():contiguous():view(-1)
      assert.is_true(lunet.equal(y, y2))
      -- large runs are split over threads: the result does not depend on their number
      local threads = lunet.get_num_threads()
      lunet.set_num_threads(1)
      local y1 = A.selu(big)
      local g1 = lunet.core.activation_backward("gelu", big, y1)
      lunet.set_num_threads(lunet.config().cpus) -- at most the online CPUs
      local y3 = A.selu(big)
      local g3 = lunet.core.activation_backward("gelu", big, y3)
      lunet.set_num_threads(threads)
      assert.is_true(lunet.equal(y1, y) and lunet.equal(y3, y))
      assert.is_true(lunet.equal(g1, g3))
      local x = lunet.randn({ 70, 90 })
      assert.is_true(lunet.equal(A.elu(x:t()), A.elu(x:t():contiguous())))
      assert.is_true(lunet.equal(A.gelu(x:narrow(2, 3, 50)), A.gelu(x:narrow(2, 3, 50):contiguous())))
    end)
  end)

  describe("names and errors", function()
    it("get returns functions by name and lists the known names for an unknown one", function()
      assert.are.equal(A.selu, A.get("selu"))
      assert.are.equal(A.linear, A.get(nil))
      assert.are.equal(A.swish, A.get("swish"))
      local x = lunet.randn(5)
      assert.is_true(lunet.equal(A.silu(x), A.get("swish")(x)))
      local names = table.concat(A.names(), ", ")
      assert.has_error(function() A.get("seluu") end,
        "activations.get: unknown activation 'seluu' (known: " .. names .. ")")
      for _, n in ipairs({ "relu", "selu", "pelu", "prelu", "softmax", "log_softmax", "gelu", "mish" }) do
        assert.is_truthy(names:find(n, 1, true))
      end
    end)

    it("are tensor methods", function()
      local x = lunet.tensor({ -1, 0.5, 2 })
      assert.is_true(lunet.equal(x:selu(), A.selu(x)))
      assert.is_true(lunet.equal(x:relu({ max_value = 1 }), A.relu(x, { max_value = 1 })))
      assert.is_true(lunet.equal(x:softmax(), A.softmax(x)))
    end)

    it("reject bad arguments with messages naming the function", function()
      assert.has_error(function() A.selu(3) end, "selu: x must be a tensor (got 3)")
      assert.has_error(function() A.selu(lunet.tensor({ 1, 2 }, "int32")) end,
        "selu: x must be a float32 or float64 tensor (got an int32 tensor of shape (2,); convert with :float())")
      assert.has_error(function() A.relu(lunet.ones(2), { slope = 1 }) end,
        "relu: unknown option 'slope' (known: negative_slope, max_value, threshold, alpha (negative_slope))")
      assert.has_error(function() A.elu(lunet.ones(2), "x") end, "elu: alpha must be a number (got \"x\")")
      assert.has_error(function() A.prelu(lunet.ones(2, 3), lunet.ones(2)) end,
        "prelu: alpha of shape (2,) does not broadcast to x of shape (2, 3)")
      assert.has_error(function() A.pelu(lunet.ones(2, 3), lunet.ones(3), lunet.ones(4)) end,
        "pelu: b of shape (4,) does not broadcast to x of shape (2, 3)")
      assert.has_error(function() A.prelu(lunet.ones(2, 3), lunet.ones(3, "float64")) end,
        "prelu: alpha is float64 but x is float32")
      assert.has_error(function() A.softmax(lunet.ones(2, 3), 3) end,
        "softmax: axis 3 out of range for a 2-d tensor")
      assert.has_error(function() lunet.core.activation("nope", lunet.ones(1)) end)
    end)
  end)
end)
