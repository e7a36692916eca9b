-- scripts/activation_histograms.lua - per-layer activation histograms of a
-- deep MLP (as the Activation-Visualization-Histogram project showed for
-- SELU, ReLU and Leaky ReLU): each activation with its matching init
-- (lecun_normal for SELU, he_normal for the ReLU family), every layer's
-- output on real MNIST test digits, before and after a few epochs.
--
--   build/lunet scripts/activation_histograms.lua [--layers 8] [--units 256]
--     [--epochs 3] [--activations selu,relu,leaky_relu] [--samples 1000]
--     [--data DIR] [--seed 1] [--out out]
--
-- Writes OUT/hist_<activation>_<before|after>.svg (one panel per layer)
-- and prints each layer's mean and std.
local lunet = require("lunet")
local nn = lunet.nn

local opts = lunet.utils.parse_args(arg, {
  layers = 8, units = 256, epochs = 3, activations = "selu,relu,leaky_relu", samples = 1000,
  data = "", seed = 1, out = "out", batch_size = 128,
}, "usage: lunet scripts/activation_histograms.lua [options]")

local init_for = { selu = "lecun_normal", relu = "he_normal", leaky_relu = "he_normal", elu = "he_normal" }

local x_train, y_train, x_test = lunet.datasets.mnist.load(opts.data, { flatten = true, normalize = true })
local Y_train = lunet.utils.to_categorical(y_train, 10)
local n = math.min(opts.samples, x_test:size(1))
local probe = x_test:narrow(1, 1, n)
print(string.format("MNIST: %d train samples; histograms on %d test digits", x_train:size(1), n))
os.execute("mkdir -p '" .. opts.out .. "'")

local function build(act)
  local layers = {}
  for i = 1, opts.layers do
    layers[#layers + 1] = nn.Dense(opts.units, { activation = act, kernel_initializer = init_for[act] or "glorot_uniform",
      input_shape = i == 1 and { 784 } or nil })
  end
  layers[#layers + 1] = nn.Dense(10, { activation = "softmax" })
  return nn.Sequential(layers)
end

-- every hidden layer's output on the probe digits, at inference: the
-- recorder LayerStats uses (lunet.callbacks.record_layers)
local function report(act, stage, model)
  local rec = lunet.callbacks.record_layers(model, probe)
  local series = {}
  local stats = {}
  for i = 1, opts.layers do
    series[i] = { values = rec[i].output, label = string.format("layer %d", i) }
    stats[#stats + 1] = string.format("%d: %.2f/%.2f", i, rec[i].mean, rec[i].std)
  end
  print(string.format("%-10s %-6s mean/std per layer  %s", act, stage, table.concat(stats, "  ")))
  return lunet.plot.hist({ series = series, bins = 60, layout = "grid", cols = 4,
    title = string.format("%s (%s init), %s training: activations of each layer", act,
      init_for[act] or "glorot_uniform", stage) },
    string.format("%s/hist_%s_%s.svg", opts.out, act, stage))
end

local files = {}
for act in opts.activations:gmatch("[^,%s]+") do
  lunet.manual_seed(opts.seed)
  local model = build(act)
  files[#files + 1] = report(act, "before", model)
  model:compile({ optimizer = "rmsprop", loss = "categorical_crossentropy", metrics = { "accuracy" } })
  local h = model:fit(x_train, Y_train, { epochs = opts.epochs, batch_size = opts.batch_size, verbose = 0 })
  files[#files + 1] = report(act, "after", model)
  print(string.format("%-10s trained %d epochs: loss %.4f, accuracy %.4f", act, opts.epochs,
    h.history.loss[#h.history.loss], h.history.accuracy[#h.history.accuracy]))
end
print("plots: " .. table.concat(files, " "))
