-- scripts/propagation.lua - the "propagation demo": a random input pushed
-- through many random layers, with the per-sample mean and std of the
-- activations printed every 10 layers (min and max over the samples, as
-- the notebook printed them) and drawn against depth.
--
--   build/lunet scripts/propagation.lua [--layers 100] [--width 100]
--     [--samples 500] [--activations selu,sigmoid,silu,tanh,relu,elu]
--     [--seed 0] [--every 10] [--plot out/propagation.svg]
--
-- Weights are N(0, 1/width) (LeCun's scale), the input N(0, 1), float64.
-- "sigmoid" is the real logistic sigmoid; the widely copied notebook's
-- "sigmoid" was x / (1 + exp(-x)), which is silu. Every activation sees the
-- same weights (the generator is reseeded for each).
local lunet = require("lunet")
local A = lunet.activations

local opts = lunet.utils.parse_args(arg, {
  layers = 100, width = 100, samples = 500, seed = 0, every = 10,
  activations = "selu,sigmoid,silu,tanh,relu,elu", plot = "out/propagation.svg",
}, "usage: lunet scripts/propagation.lua [options]")

local names = {}
for name in opts.activations:gmatch("[^,%s]+") do
  A.get(name) -- an unknown name is an error listing the known ones
  names[#names + 1] = name
end

-- the layers as a model (bias-free Dense layers holding the random
-- weights, drawn after the input in the notebook's order), run through the
-- recorder LayerStats uses (lunet.callbacks.record_layers)
local function run(name)
  lunet.manual_seed(opts.seed)
  local z0 = lunet.randn({ opts.samples, opts.width }, "float64")
  local scale = math.sqrt(1 / opts.width)
  local ws = {}
  for i = 1, opts.layers do ws[i] = lunet.randn({ opts.width, opts.width }, "float64") * scale end
  local layers = {}
  for i = 1, opts.layers do
    layers[i] = lunet.nn.Dense(opts.width, { activation = name, use_bias = false, dtype = "float64",
      input_shape = i == 1 and { opts.width } or nil })
  end
  local model = lunet.nn.Sequential(layers)
  for i = 1, opts.layers do layers[i].kernel:detach():copy(ws[i]) end
  local rec = lunet.callbacks.record_layers(model, z0)
  local rows = {}
  for layer = 0, opts.layers - 1 do
    local z = rec[layer + 1].output
    local means, stds = z:mean(2), z:std(2)
    local r = { layer = layer, mean_lo = means:min():item(), mean_hi = means:max():item(),
      std_lo = stds:min():item(), std_hi = stds:max():item(), std_mid = stds:mean():item(),
      mean_mid = means:mean():item(),
      -- how different the samples still are: std over the samples, averaged over the units
      spread = z:std(1):mean():item() }
    rows[#rows + 1] = r
    if layer % opts.every == 0 or layer == opts.layers - 1 then
      print(string.format("Layer %d: %.2f < mean < %.2f, %.2f < std < %.2f", layer, r.mean_lo, r.mean_hi,
        r.std_lo, r.std_hi))
    end
  end
  return rows
end

local results = {}
for _, name in ipairs(names) do
  print(string.format("== %s: %d layers of %dx%d, %d samples, seed %d", name, opts.layers, opts.width,
    opts.width, opts.samples, opts.seed))
  results[name] = run(name)
end

print("")
print(string.format("%-10s %-26s %-28s %s", "activation", "per-sample std, all layers", "std at the last layer",
  "spread across samples (last layer)"))
for _, name in ipairs(names) do
  local lo, hi = math.huge, -math.huge
  for _, r in ipairs(results[name]) do
    lo, hi = math.min(lo, r.std_lo), math.max(hi, r.std_hi)
  end
  local last = results[name][#results[name]]
  print(string.format("%-10s %-26s %-28s %.3g", name, string.format("[%.3g, %.3g]", lo, hi),
    string.format("%.3g < std < %.3g", last.std_lo, last.std_hi), last.spread))
end

if opts.plot ~= "" then
  local dir = opts.plot:match("^(.*)/[^/]*$")
  if dir then os.execute("mkdir -p '" .. dir .. "'") end
  local function series(field)
    local s = {}
    for _, name in ipairs(names) do
      local xs, mid, lo, hi = {}, {}, {}, {}
      for i, r in ipairs(results[name]) do
        xs[i], mid[i], lo[i], hi[i] = r.layer, r[field .. "_mid"], r[field .. "_lo"], r[field .. "_hi"]
      end
      s[#s + 1] = { x = xs, y = mid, lo = lo, hi = hi, label = name }
    end
    return s
  end
  local std_path = opts.plot
  local mean_path = opts.plot:gsub("%.svg$", "") .. "_mean.svg"
  lunet.plot.line({ series = series("std"), title = "Per-sample std of the activations against depth (min-max band)",
    xlabel = "layer", ylabel = "std" }, std_path)
  lunet.plot.line({ series = series("mean"), title = "Per-sample mean of the activations against depth (min-max band)",
    xlabel = "layer", ylabel = "mean" }, mean_path)
  print("")
  print("plots: " .. std_path .. " " .. mean_path)
end
