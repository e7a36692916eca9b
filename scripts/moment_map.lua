-- scripts/moment_map.lua - the SNN paper's self-normalization analysis for
-- every activation lunet has: the fixed point of the moment map
-- g(mu, nu) = (E[f(z)], Var[f(z)]), z ~ N(omega*mu, tau*nu), at omega = 0,
-- tau = 1 (normalized weights), its Jacobian's spectral norm and whether it
-- attracts; then the paper's figure, the (mu, nu) plane with the map's
-- steps as arrows, as SVG for SELU, ELU, ReLU and PELU.
-- Run: build/lunet scripts/moment_map.lua [--out out] [--omega 0] [--tau 1]
local lunet = require("lunet")
local A = require("lunet.analysis")

local opts = lunet.utils.parse_args(arg, { out = "out", omega = 0, tau = 1 },
  "usage: lunet scripts/moment_map.lua [--out DIR] [--omega W] [--tau T]")

local rows = {}
for _, name in ipairs(lunet.core.activation_names()) do rows[#rows + 1] = { name } end
rows[#rows + 1] = { "pelu", { a = 1, b = 1 }, "a = 1, b = 1" }
rows[#rows + 1] = { "prelu", { alpha = 0.25 }, "alpha = 0.25" }

print(string.format("moment map fixed points at omega = %g, tau = %g (from (0, 1))", opts.omega, opts.tau))
print("| activation | parameters | mu* | nu* | spectral norm | attracting |")
print("|---|---|---|---|---|---|")
for _, r in ipairs(rows) do
  local ok, fp = pcall(A.fixed_point, r[1], { omega = opts.omega, tau = opts.tau, params = r[2] })
  if ok then
    print(string.format("| %s | %s | %.6f | %.6f | %.4f | %s |", r[1], r[3] or "defaults", fp.mu, fp.nu,
      fp.spectral_norm, fp.attracting and "yes" or "no"))
  else
    -- where the variance goes instead: one step of the map from (0, 1)
    local mu, nu = A.moment_map(r[1], 0, 1, { omega = opts.omega, tau = opts.tau, params = r[2] })
    print(string.format("| %s | %s | none | none (g(0, 1) = (%.4f, %.4f)) | - | - |", r[1], r[3] or "defaults", mu, nu))
  end
end

-- the figure: arrows from (mu, nu) towards g(mu, nu) on a grid, at the same omega and tau
os.execute("mkdir -p '" .. opts.out .. "'")
for _, r in ipairs({ { "selu" }, { "elu" }, { "relu" }, { "pelu", { a = 1, b = 1 } } }) do
  local series = {}
  for i = 0, 8 do
    for j = 0, 8 do
      local mu, nu = -0.4 + 0.1 * i, 0.6 + 0.1 * j
      local m2, n2 = A.moment_map(r[1], mu, nu, { omega = opts.omega, tau = opts.tau, params = r[2] })
      -- a quarter of the step, so neighbouring arrows do not cross
      series[#series + 1] = { x = { mu, mu + 0.25 * (m2 - mu) }, y = { nu, nu + 0.25 * (n2 - nu) },
        color = "#4477aa" }
    end
  end
  local ok, fp = pcall(A.fixed_point, r[1], { omega = opts.omega, tau = opts.tau, params = r[2] })
  if ok then series[#series + 1] = { x = { fp.mu }, y = { fp.nu }, label = "fixed point", color = "#cc3311" } end
  local path = string.format("%s/moment_map_%s.svg", opts.out, r[1])
  lunet.plot.line({ series = series, markers = true, title = string.format("%s: (mu, nu) -> g(mu, nu)%s", r[1],
    ok and string.format(", fixed point (%.3f, %.3f), norm %.3f", fp.mu, fp.nu, fp.spectral_norm) or ", no fixed point"),
    xlabel = "mu", ylabel = "nu" }, path)
  print("figure: " .. path)
end
