-- scripts/selu_vs_relu_mnist.lua - the Keras SELU tutorial's comparison:
-- 784-512-512-10 with SELU + lecun_normal + AlphaDropout(0.1) against
-- ReLU + glorot_uniform + Dropout(0.1); RMSprop, batch 128, categorical
-- cross-entropy, validation on the test set as the tutorial did.
--
--   build/lunet scripts/selu_vs_relu_mnist.lua [--epochs 20] [--data DIR]
--     [--batch-size 128] [--seed 1] [--verbose 2] [--out out]
--
-- Data: the MNIST files of `make data` (8,000 / 2,000 real digits), or
-- --data DIR holding the four standard MNIST files (.gz or not).
-- Writes OUT/selu_mnist_history.svg, OUT/relu_mnist_history.svg and
-- OUT/selu_vs_relu_mnist.svg (validation accuracy of both).  --seeds N
-- repeats both models over seeds 1..N with lunet.experiment.sweep and
-- prints test loss and accuracy as mean ± std with 95% intervals
-- (results in OUT/selu_vs_relu_seeds/).
local lunet = require("lunet")
local nn = lunet.nn

local opts = lunet.utils.parse_args(arg, {
  epochs = 20, data = "", batch_size = 128, seed = 1, verbose = 2, out = "out", seeds = 0,
}, "usage: lunet scripts/selu_vs_relu_mnist.lua [options]")

local x_train, y_train, x_test, y_test = lunet.datasets.mnist.load(opts.data, { flatten = true, normalize = true })
print(string.format("%d train samples, %d test samples", x_train:size(1), x_test:size(1)))
local Y_train = lunet.utils.to_categorical(y_train, 10)
local Y_test = lunet.utils.to_categorical(y_test, 10)

local function build(kind)
  if kind == "selu" then
    return nn.Sequential({
      nn.Dense(512, { activation = "selu", kernel_initializer = "lecun_normal", input_shape = { 784 } }),
      nn.AlphaDropout(0.1),
      nn.Dense(512, { activation = "selu", kernel_initializer = "lecun_normal" }),
      nn.AlphaDropout(0.1),
      nn.Dense(10, { activation = "softmax" }),
    })
  end
  return nn.Sequential({
    nn.Dense(512, { activation = "relu", input_shape = { 784 } }),
    nn.Dropout(0.1),
    nn.Dense(512, { activation = "relu" }),
    nn.Dropout(0.1),
    nn.Dense(10, { activation = "softmax" }),
  })
end

os.execute("mkdir -p '" .. opts.out .. "'")
if opts.seeds > 0 then
  local seeds = {}
  for i = 1, opts.seeds do seeds[i] = i end
  print(string.format("%d seeds per model (%d epochs each):", opts.seeds, opts.epochs))
  lunet.experiment.sweep({ grid = { model = { "selu", "relu" }, seed = seeds }, out = opts.out .. "/selu_vs_relu_seeds",
    run = function(cfg)
      lunet.manual_seed(cfg.seed)
      local model = build(cfg.model)
      model:compile({ loss = "categorical_crossentropy", optimizer = lunet.optim.RMSprop(), metrics = { "accuracy" } })
      model:fit(x_train, Y_train, { batch_size = opts.batch_size, epochs = opts.epochs, verbose = 0 })
      local score = model:evaluate(x_test, Y_test)
      return { test_loss = score.loss, test_accuracy = score.accuracy }
    end })
  return
end
local results, histories = {}, {}
for _, kind in ipairs({ "selu", "relu" }) do
  lunet.manual_seed(opts.seed)
  local model = build(kind)
  print("")
  print(string.format("== %s", kind == "selu" and "SELU + lecun_normal + AlphaDropout(0.1)" or
    "ReLU + glorot_uniform + Dropout(0.1)"))
  model:summary()
  model:compile({ loss = "categorical_crossentropy", optimizer = lunet.optim.RMSprop(), metrics = { "accuracy" } })
  local t0 = lunet.clock()
  local history = model:fit(x_train, Y_train, { batch_size = opts.batch_size, epochs = opts.epochs,
    verbose = opts.verbose, validation_data = { x_test, Y_test } })
  local seconds = lunet.clock() - t0
  local score = model:evaluate(x_test, Y_test)
  print(string.format("Test loss: %.4f", score.loss))
  print(string.format("Test accuracy: %.4f", score.accuracy))
  results[kind] = { loss = score.loss, accuracy = score.accuracy, seconds = seconds }
  histories[kind] = history
  local p = lunet.plot.history(history, opts.out .. "/" .. kind .. "_mnist_history.svg",
    { title = kind .. " MLP on MNIST" })
  print("history plot: " .. p)
end

print("")
print(string.format("%-6s %10s %14s %10s", "model", "test loss", "test accuracy", "train s"))
for _, kind in ipairs({ "selu", "relu" }) do
  local r = results[kind]
  print(string.format("%-6s %10.4f %14.4f %10.1f", kind, r.loss, r.accuracy, r.seconds))
end
local function series(kind, key)
  local h = histories[kind].history[key]
  local xs = {}
  for i = 1, #h do xs[i] = i end
  return { x = xs, y = h, label = kind .. " " .. key }
end
local cmp = lunet.plot.line({
  series = { series("selu", "val_accuracy"), series("relu", "val_accuracy"),
    series("selu", "accuracy"), series("relu", "accuracy") },
  title = "SELU vs ReLU on MNIST", xlabel = "epoch", ylabel = "accuracy" },
  opts.out .. "/selu_vs_relu_mnist.svg")
print("comparison plot: " .. cmp)
