-- scripts/pelu_jacobian.lua - the PELU tutorial's derivative checks: the
-- jacobian of a PELU layer's output with respect to its parameters a and b
-- (lunet.autograd.jacobian, float64) against the closed forms, at a
-- positive and a negative input, printed true/false as the tutorial did.
--
--   build/lunet scripts/pelu_jacobian.lua [--seed 0] [--points 200]
--
-- PELU: f(x) = (a/b) x for x >= 0, a (exp(x/b) - 1) otherwise, so
--   df/da = x/b (x >= 0),        exp(x/b) - 1 (x < 0)
--   df/db = -a x / b^2 (x >= 0), -a x exp(x/b) / b^2 (x < 0)
-- The tutorial's text printed the last one without its minus sign (its
-- code had it right); the check of that text's formula prints false.
local lunet = require("lunet")
local nn = lunet.nn
local A = lunet.activations

local opts = lunet.utils.parse_args(arg, { seed = 0, points = 200 },
  "usage: lunet scripts/pelu_jacobian.lua [options]")

lunet.manual_seed(opts.seed)
-- one unit, the tutorial's initialisation: a, b ~ U(0, 1), NonNeg
local layer = nn.PELU({ tutorial_init = true, dtype = "float64" })
layer:build_for({ 1 })
local a, b = layer.a, layer.b
print(string.format("PELU(units=1): a = %.6f, b = %.6f", a:item(), b:item()))

local x = lunet.linspace(-5, 5, opts.points, "float64"):reshape(opts.points, 1)
local n = opts.points
local x_neg, x_pos = x:get(1, 1), x:get(n, 1) -- -5 and 5
local av, bv = a:item(), b:item()

-- d output / d a and d output / d b: shape (points, 1, 1)
local da = lunet.autograd.jacobian(function(p) return A.pelu(x, p, b) end, a)
local db = lunet.autograd.jacobian(function(p) return A.pelu(x, a, p) end, b)
-- the tutorial used |u - v| < 1e-4 in float32; in float64 a relative 1e-9 is the stricter test
local function close(u, v) return math.abs(u - v) <= 1e-9 * math.max(math.abs(u), math.abs(v), 1e-300) end

print("")
print("d/da at x = " .. x_neg .. " (negative), exp(x/b) - 1:")
print(tostring(close(math.exp(x_neg / bv) - 1, da:get(1, 1, 1))))
print("d/da at x = " .. x_pos .. " (positive), x/b:")
print(tostring(close(x_pos / bv, da:get(n, 1, 1))))
print("d/db at x = " .. x_pos .. " (positive), -a x / b^2:")
print(tostring(close(-av * x_pos / bv ^ 2, db:get(n, 1, 1))))
print("d/db at x = " .. x_neg .. " (negative), -a x exp(x/b) / b^2:")
print(tostring(close(-av * x_neg * math.exp(x_neg / bv) / bv ^ 2, db:get(1, 1, 1))))
print("d/db at x = " .. x_neg .. " (negative), the tutorial text's a x exp(x/b) / b^2 (sign slip):")
print(tostring(close(av * x_neg * math.exp(x_neg / bv) / bv ^ 2, db:get(1, 1, 1))))

-- every point, not just the two ends
local worst = 0
for i = 1, n do
  local xi = x:get(i, 1)
  local ea = xi >= 0 and xi / bv or math.exp(xi / bv) - 1
  local eb = xi >= 0 and -av * xi / bv ^ 2 or -av * xi * math.exp(xi / bv) / bv ^ 2
  worst = math.max(worst, math.abs(ea - da:get(i, 1, 1)), math.abs(eb - db:get(i, 1, 1)))
end
print("")
print(string.format("largest |jacobian - closed form| over all %d points: %.3g", n, worst))
