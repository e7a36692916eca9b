--- The SNN paper's self-normalization analysis for lunet's activations:
-- the moment map g(mu, nu) = (E[f(z)], Var[f(z)]) for z ~ N(omega*mu,
-- tau*nu), its fixed points with their Jacobian and spectral norm (norm
-- < 1: the fixed point attracts, the activations normalize themselves
-- through depth), SELU's constants solved from g(0, 1) = (0, 1), and
-- AlphaDropout's affine correction from the same moments.
--
-- The expectations are integrals against the normal density.  Between the
-- activation's kinks the integrand is smooth, so each piece (within 14
-- standard deviations) is summed with composite Gauss-Legendre
-- quadrature; where no kink lies in the way Gauss-Hermite of the chosen
-- order does the whole line.  The activations are evaluated by their own
-- float64 C kernels.  ReLU, linear, ELU and SELU also have closed forms
-- (`closed = true`), which the specs compare with the quadrature.
-- @module lunet.analysis
local lunet = require("lunet")
local check = require("lunet.check")
local utils = require("lunet.utils")
local core = lunet.core

local fmt = string.format
local sqrt, exp, pi, abs = math.sqrt, math.exp, math.pi, math.abs

local M = {}

local INV_SQRT_2PI = 1 / sqrt(2 * pi)
local function Phi(x) return 0.5 * core.erfc(-x / sqrt(2)) end
local function phi(x) return INV_SQRT_2PI * exp(-0.5 * x * x) end

-- ---- nodes ----------------------------------------------------------------------

-- Gauss-Legendre nodes and weights on [-1, 1] (Newton on P_n from Chebyshev guesses)
local function gauss_legendre(n)
  local x, w = {}, {}
  for i = 1, n do
    local z = math.cos(pi * (i - 0.25) / (n + 0.5))
    local dp
    for _ = 1, 100 do
      local p1, p2 = 1, 0
      for j = 1, n do
        local p3 = p2
        p2 = p1
        p1 = ((2 * j - 1) * z * p2 - (j - 1) * p3) / j
      end
      dp = n * (z * p1 - p2) / (z * z - 1)
      local dz = p1 / dp
      z = z - dz
      if abs(dz) < 1e-16 then break end
    end
    x[i], w[i] = z, 2 / ((1 - z * z) * dp * dp)
  end
  return x, w
end

-- Gauss-Hermite nodes and weights for the weight exp(-t^2) (Newton on the
-- normalised Hermite recurrence, from the asymptotic guesses)
local function gauss_hermite(n)
  local x, w = {}, {}
  local m = (n + 1) // 2
  local z
  for i = 1, m do
    if i == 1 then z = sqrt(2 * n + 1) - 1.85575 * (2 * n + 1) ^ (-1 / 6)
    elseif i == 2 then z = z - 1.14 * n ^ 0.426 / z
    elseif i == 3 then z = 1.86 * z - 0.86 * x[1]
    elseif i == 4 then z = 1.91 * z - 0.91 * x[2]
    else z = 2 * z - x[i - 2] end
    local pp
    for _ = 1, 200 do
      local p1, p2 = pi ^ -0.25, 0
      for j = 1, n do
        local p3 = p2
        p2 = p1
        p1 = z * sqrt(2 / j) * p2 - sqrt((j - 1) / j) * p3
      end
      pp = sqrt(2 * n) * p2
      local dz = p1 / pp
      z = z - dz
      if abs(dz) < 1e-15 then break end
    end
    x[i], w[i] = z, 2 / (pp * pp)
    x[n + 1 - i], w[n + 1 - i] = -z, w[i]
  end
  return x, w
end

local GL_X, GL_W = gauss_legendre(24)
local hermite_cache = {}

-- ---- activations --------------------------------------------------------------

-- the activation `act` with its parameters as f(t) over an array of points:
-- returns eval(points) -> array of values, and its kinks
local function activation(act, params, fname)
  params = params or {}
  if type(params) ~= "table" then check.arg_error(fname, "params", "a table of parameters", params, 3) end
  if act == "pelu" or act == "prelu" then
    local known = act == "pelu" and { a = 1, b = 1 } or { alpha = 0.25 }
    for k in pairs(params) do
      if known[k] == nil then error(fmt("%s: unknown parameter '%s' of %s", fname, tostring(k), act), 3) end
    end
    if act == "pelu" then
      local a, b = params.a or 1, params.b or 1
      if not (a > 0 and b > 0) then error(fmt("%s: pelu's a and b must be > 0", fname), 3) end
      return function(t)
        local y = {}
        for i, v in ipairs(t) do y[i] = v >= 0 and (a / b) * v or a * (exp(v / b) - 1) end
        return y
      end, { 0 }
    end
    local al = params.alpha or 0.25
    return function(t)
      local y = {}
      for i, v in ipairs(t) do y[i] = v > 0 and v or al * v end
      return y
    end, { 0 }
  end
  local info = type(act) == "string" and core.activation_info(act)
  if not info then
    error(fmt("%s: unknown activation '%s' (the C table's, pelu or prelu)", fname, tostring(act)), 3)
  end
  local names, args = info.params, {}
  local known = {}
  for i, p in ipairs(names) do known[p] = i end
  for k, v in pairs(params) do
    if not known[k] then error(fmt("%s: unknown parameter '%s' of %s", fname, tostring(k), act), 3) end
    args[known[k]] = v
  end
  local kinks = {}
  local name = info.name
  if name == "relu" then
    -- the threshold; with max_value set, the clip at max_value and at 0 too
    local maxv, th = args[2] or math.huge, args[3] or 0
    kinks = { th }
    if maxv < math.huge then kinks[#kinks + 1], kinks[#kinks + 2] = maxv, 0 end
  elseif name == "relu6" then kinks = { 0, 6 }
  elseif name == "leaky_relu" or name == "elu" or name == "selu" or name == "celu" or name == "softsign" then
    kinks = { 0 }
  elseif name == "hard_sigmoid" then kinks = { -2.5, 2.5 }
  elseif name == "hard_silu" then kinks = { -3, 3 }
  elseif name == "thresholded_relu" then kinks = { args[1] or 1 }
  end
  return function(t)
    local x = lunet.tensor(t, "float64")
    return core.activation(act, x, args[1], args[2], args[3]):totable()
  end, kinks
end

-- E[f(Z)] and E[f(Z)^2] for Z ~ N(m, s^2) by quadrature
local function moments(eval, kinks, m, s, order)
  if s == 0 then
    local v = eval({ m })[1]
    return v, v * v
  end
  -- kinks in standard units, inside the range that matters
  local L = 14
  local cuts = { -L }
  local inside = {}
  for _, k in ipairs(kinks) do
    local t = (k - m) / s
    if t > -L and t < L then inside[#inside + 1] = t end
  end
  table.sort(inside)
  if #inside == 0 and order then
    -- the whole line at once: Gauss-Hermite with t = sqrt(2) u
    local hx, hw = hermite_cache[order], nil
    if not hx then
      local a, b = gauss_hermite(order)
      hermite_cache[order] = { a, b }
      hx = hermite_cache[order]
    end
    hx, hw = hx[1], hx[2]
    local pts = {}
    for i, u in ipairs(hx) do pts[i] = m + s * sqrt(2) * u end
    local y = eval(pts)
    local e1, e2 = 0, 0
    for i = 1, #hx do
      local wt = hw[i] / sqrt(pi)
      e1, e2 = e1 + wt * y[i], e2 + wt * y[i] * y[i]
    end
    return e1, e2
  end
  for _, t in ipairs(inside) do cuts[#cuts + 1] = t end
  cuts[#cuts + 1] = L
  -- each piece in panels of at most 0.5 standard units, 24 nodes each
  local pts, wts = {}, {}
  for c = 1, #cuts - 1 do
    local a, b = cuts[c], cuts[c + 1]
    local panels = math.max(1, math.ceil((b - a) / 0.5))
    local h = (b - a) / panels
    for p = 0, panels - 1 do
      local lo = a + p * h
      for i = 1, #GL_X do
        local t = lo + h * (GL_X[i] + 1) / 2
        pts[#pts + 1] = m + s * t
        wts[#wts + 1] = h / 2 * GL_W[i] * phi(t)
      end
    end
  end
  local y = eval(pts)
  local e1, e2 = 0, 0
  for i = 1, #pts do
    e1, e2 = e1 + wts[i] * y[i], e2 + wts[i] * y[i] * y[i]
  end
  return e1, e2
end

-- the closed forms: E[f], E[f^2] for Z ~ N(m, s^2), or nil
local function closed_moments(act, params, m, s)
  params = params or {}
  if act == "linear" then return m, m * m + s * s end
  if s == 0 then return nil end
  local r = m / s
  local pos1 = m * Phi(r) + s * phi(r)             -- E[Z; Z > 0]
  local pos2 = (m * m + s * s) * Phi(r) + m * s * phi(r) -- E[Z^2; Z > 0]
  if act == "relu" and next(params) == nil then return pos1, pos2 end
  local alpha, lambda
  if act == "elu" then alpha, lambda = params.alpha or 1, 1
  elseif act == "selu" and next(params) == nil then
    alpha, lambda = 1.6732632423543772848170429916717, 1.0507009873554804934193349852946
  else
    return nil
  end
  -- alpha (e^Z - 1) for Z <= 0
  local e1 = exp(m + s * s / 2) * Phi(-r - s)          -- E[e^Z; Z <= 0]
  local e2 = exp(2 * m + 2 * s * s) * Phi(-r - 2 * s)   -- E[e^{2Z}; Z <= 0]
  local p0 = Phi(-r)
  local neg1 = alpha * (e1 - p0)
  local neg2 = alpha * alpha * (e2 - 2 * e1 + p0)
  return lambda * (pos1 + neg1), lambda * lambda * (pos2 + neg2)
end

local function map_opts(fname, opts)
  opts = opts or {}
  if type(opts) ~= "table" then check.arg_error(fname, "opts", "a table", opts, 3) end
  utils.check_options(fname, opts, { omega = true, tau = true, params = true, order = true, closed = true,
    start = true }, 3)
  local omega, tau = opts.omega or 0, opts.tau or 1
  check.number(fname, "omega", omega, 3)
  check.number(fname, "tau", tau, 3, { min = 0 })
  if opts.order ~= nil then check.number(fname, "order", opts.order, 3, { integer = true, min = 2 }) end
  return opts, omega, tau
end

local function g(eval, kinks, act, params, mu, nu, omega, tau, order, closed)
  local m, s = omega * mu, sqrt(tau * nu)
  local e1, e2
  if closed then
    e1, e2 = closed_moments(act, params, m, s)
    if not e1 then error(fmt("moment_map: %s has no closed form here (relu, linear, elu and selu do)", act), 4) end
  else
    e1, e2 = moments(eval, kinks, m, s, order)
  end
  return e1, math.max(e2 - e1 * e1, 0)
end

--- The moment map: the mean and variance of `act(z)` for z ~ N(omega*mu,
-- tau*nu), the SNN paper's g(mu, nu).
-- @param act an activation of the C table by name (its parameters in
-- `params` by name: relu's negative_slope, max_value, threshold, elu's
-- alpha, ...), or "pelu" (`params = {a =, b =}`) or "prelu" (`{alpha =}`)
-- @param mu the mean of the inputs
-- @param nu their variance (>= 0)
-- @param[opt] opts `omega` (0: the sum of the weights), `tau` (1: the sum
-- of their squares), `params`, `order` (Gauss-Hermite order, used when no
-- kink lies within the range; nil: composite Gauss-Legendre throughout),
-- `closed` (true: the closed form, for relu, linear, elu and selu)
-- @return mu' (a number)
-- @return nu' (a number)
function M.moment_map(act, mu, nu, opts)
  local o, omega, tau = map_opts("moment_map", opts)
  check.number("moment_map", "mu", mu, 2)
  check.number("moment_map", "nu", nu, 2, { min = 0 })
  local eval, kinks = activation(act, o.params, "moment_map")
  return g(eval, kinks, act, o.params, mu, nu, omega, tau, o.order, o.closed)
end

-- the 2x2 Jacobian of the map at (mu, nu), by central differences
local function jacobian(G, mu, nu)
  local h = 1e-5
  local a1, b1 = G(mu + h, nu)
  local a2, b2 = G(mu - h, nu)
  local hn = h * math.max(1, nu)
  local c1, d1 = G(mu, nu + hn)
  local c2, d2 = G(mu, nu - hn)
  return { { (a1 - a2) / (2 * h), (c1 - c2) / (2 * hn) }, { (b1 - b2) / (2 * h), (d1 - d2) / (2 * hn) } }
end

-- the largest singular value and the eigenvalues (real, or {re, im} pairs) of a 2x2 matrix
local function spectrum(J)
  local a, b, c, d = J[1][1], J[1][2], J[2][1], J[2][2]
  local s1 = a * a + b * b + c * c + d * d
  local det = a * d - b * c
  local norm = sqrt((s1 + sqrt(math.max(s1 * s1 - 4 * det * det, 0))) / 2)
  local tr = a + d
  local disc = tr * tr / 4 - det
  local eig
  if disc >= 0 then eig = { tr / 2 + sqrt(disc), tr / 2 - sqrt(disc) }
  else eig = { { tr / 2, sqrt(-disc) }, { tr / 2, -sqrt(-disc) } } end
  return norm, eig
end

--- The fixed point (mu*, nu*) of the moment map, g(mu*, nu*) = (mu*, nu*),
-- by Newton's method from `start`, with the map's Jacobian there, its
-- spectral norm (< 1: the fixed point attracts) and its eigenvalues.  An
-- error when Newton finds no fixed point with nu > 0 (ReLU has none at
-- omega = 0, tau = 1: its map shrinks every variance).
-- @param act the activation (as `moment_map` takes it)
-- @param[opt] opts `omega` (0), `tau` (1), `start` ({0, 1}), `params`, `order`
-- @return `{mu =, nu =, jacobian = {{dmu'/dmu, dmu'/dnu}, {dnu'/dmu, dnu'/dnu}}, spectral_norm =, eigenvalues =, attracting =}`
function M.fixed_point(act, opts)
  local o, omega, tau = map_opts("fixed_point", opts)
  local eval, kinks = activation(act, o.params, "fixed_point")
  local function G(mu, nu) return g(eval, kinks, act, o.params, mu, math.max(nu, 0), omega, tau, o.order, o.closed) end
  local start = o.start or { 0, 1 }
  if type(start) ~= "table" or type(start[1]) ~= "number" or type(start[2]) ~= "number" or not (start[2] > 0) then
    check.arg_error("fixed_point", "start", "{mu, nu} with nu > 0", start, 2)
  end
  local mu, nu = start[1], start[2]
  for _ = 1, 100 do
    local a, b = G(mu, nu)
    local f1, f2 = a - mu, b - nu
    if abs(f1) < 1e-13 and abs(f2) < 1e-13 * math.max(1, nu) then
      local J = jacobian(G, mu, nu)
      local norm, eig = spectrum(J)
      -- (a norm of 1 up to the differences' error is neutral, not attracting: linear's)
      return { mu = mu, nu = nu, jacobian = J, spectral_norm = norm, eigenvalues = eig, attracting = norm < 1 - 1e-6 }
    end
    local J = jacobian(G, mu, nu)
    local a11, a12, a21, a22 = J[1][1] - 1, J[1][2], J[2][1], J[2][2] - 1
    local det = a11 * a22 - a12 * a21
    if det == 0 or det ~= det then break end
    local d1, d2 = (f1 * a22 - f2 * a12) / det, (a11 * f2 - a21 * f1) / det
    mu, nu = mu - d1, nu - d2
    if not (nu > 1e-12 and nu < 1e8 and abs(mu) < 1e8) then break end
  end
  error(fmt("fixed_point: the moment map of %s has no fixed point with nu > 0 in range (omega = %g, tau = %g)",
    tostring(act), omega, tau), 2)
end

local ALPHA_P = -1.7580993408473766

--- SELU's alpha and lambda solved from the two fixed-point equations
-- g(0, 1) = (0, 1) at omega = 0, tau = 1 (the SNN paper's derivation), by
-- Newton on the closed form.
-- @return alpha
-- @return lambda
function M.solve_selu_constants()
  -- the map of lambda * elu_alpha at (0, 1): mean and second moment
  local function F(alpha, lambda)
    local e1 = exp(0.5) * Phi(-1)
    local mean = lambda * (INV_SQRT_2PI + alpha * (e1 - 0.5))
    local e2 = exp(2) * Phi(-2)
    local second = lambda * lambda * (0.5 + alpha * alpha * (e2 - 2 * e1 + 0.5))
    return mean, second - mean * mean - 1
  end
  local alpha, lambda = 1.5, 1
  for _ = 1, 100 do
    local f1, f2 = F(alpha, lambda)
    if abs(f1) < 1e-16 and abs(f2) < 1e-16 then break end
    local h = 1e-7
    local a1, a2 = F(alpha + h, lambda)
    local b1, b2 = F(alpha, lambda + h)
    local j11, j21 = (a1 - f1) / h, (a2 - f2) / h
    local j12, j22 = (b1 - f1) / h, (b2 - f2) / h
    local det = j11 * j22 - j12 * j21
    alpha = alpha - (f1 * j22 - f2 * j12) / det
    lambda = lambda - (j11 * f2 - j21 * f1) / det
  end
  return alpha, lambda
end

--- AlphaDropout's affine correction (a, b) for a drop rate, from the moments
-- of x at the fixed point (mean 0, variance 1) with dropped units set to the
-- saturation value alpha' = -lambda * alpha: a = Var^(-1/2), b = -a * mean
-- of the dropped-in variable.
-- @param rate the drop rate, in [0, 1)
-- @param[opt] alpha_p the saturation value (-1.7580993408473766)
-- @return a
-- @return b
function M.alpha_dropout_constants(rate, alpha_p)
  check.number("alpha_dropout_constants", "rate", rate, 2, { min = 0 })
  if not (rate < 1) then check.arg_error("alpha_dropout_constants", "rate", "in [0, 1)", rate, 2) end
  alpha_p = alpha_p or ALPHA_P
  local q = 1 - rate
  local mean = rate * alpha_p                  -- q * 0 + rate * alpha'
  local var = q * 1 + rate * alpha_p ^ 2 - mean * mean
  local a = var ^ -0.5
  return a, -a * mean
end

return M
