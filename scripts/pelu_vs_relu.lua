-- scripts/pelu_vs_relu.lua - the PELU tutorial's comparison: Dense(50) ->
-- PELU against Dense(50) -> ReLU, softmax output, SGD(learning_rate 0.001)
-- with the tutorial's LearningRateScheduler, batch 32, validation_split
-- 0.2, a stratified train/test split, and the features left unnormalised
-- (that is the point of the comparison).
--
--   build/lunet scripts/pelu_vs_relu.lua [--data FILE] [--dataset wine]
--     [--epochs 300] [--tutorial-init] [--seed 1] [--out out]
--
-- Data: --data path/to/Sensorless_drive_diagnosis.txt (UCI, as published)
-- when you have it; by default a real UCI table from `make data` (wine: 13
-- features spanning four orders of magnitude; --dataset picks another:
-- iris, breast_cancer, digits). --epochs 1000 is the tutorial's setting.
-- --tutorial-init uses the tutorial's PELU init (RandomUniform(0, 1) for a
-- and b, NonNeg) instead of lunet's default (ones, MinValue(0.1)).
-- --normalize tests the tutorial's closing remark (ReLU lost for want of a
-- normalization layer): a third model, ReLU with a Normalization layer
-- first (adapted on the training rows), on the same unnormalised data.
-- --seeds N repeats the comparison over seeds 1..N (split and init) with
-- lunet.experiment.sweep and prints the test accuracy as mean ± std and
-- its 95% interval per model (results in OUT/pelu_vs_relu_seeds/).
local lunet = require("lunet")
local nn = lunet.nn

local opts = lunet.utils.parse_args(arg, {
  data = "", dataset = "wine", epochs = 300, tutorial_init = false, seed = 1, out = "out", verbose = 0,
  normalize = false, seeds = 0,
}, "usage: lunet scripts/pelu_vs_relu.lua [options]")

local x, y, info
if opts.data ~= "" then
  local dir, file = opts.data:match("^(.*)/([^/]*)$")
  if file ~= "Sensorless_drive_diagnosis.txt" then
    error("pelu_vs_relu: --data must name Sensorless_drive_diagnosis.txt, got " .. opts.data, 0)
  end
  x, y, info = lunet.datasets.uci.load("sensorless", dir)
else
  x, y, info = lunet.datasets.uci.load(opts.dataset)
end
local classes = #info.class_names
print(string.format("%s: %d samples, %d features, %d classes (%s)", info.file, x:size(1), x:size(2), classes,
  info.source))
local lo, hi = x:abs():max(1):min():item(), x:abs():max(1):max():item()
print(string.format("feature scales (max |x| per column): %.3g .. %.3g, left unnormalised", lo, hi))

local x_train, x_test, y_train, y_test, Y_train
local function split(seed)
  lunet.manual_seed(seed)
  x_train, x_test, y_train, y_test = lunet.utils.train_test_split(x, y, { stratify = y, seed = seed })
  Y_train = lunet.utils.to_categorical(y_train, classes)
end
split(opts.seed)
print(string.format("train %d, test %d (stratified); fit uses the last 20%% of train for validation",
  x_train:size(1), x_test:size(1)))

local function schedule(epoch)
  if epoch < 50 then return 1e-3 end
  if epoch < 300 then return 1e-4 end
  if epoch < 600 then return 1e-5 end
  if epoch < 900 then return 1e-6 end
  return 1e-7
end

local function build(kind)
  local act = kind == "pelu" and nn.PELU({ tutorial_init = opts.tutorial_init }) or nn.ReLU()
  local layers = { nn.Input({ shape = { x:size(2) } }) }
  if kind == "normalized relu" then
    local norm = nn.Normalization()
    norm:adapt(x_train)
    layers[#layers + 1] = norm
  end
  layers[#layers + 1] = nn.Dense(50)
  layers[#layers + 1] = act
  layers[#layers + 1] = nn.Dense(classes, { activation = "softmax" })
  return nn.Sequential(layers)
end
local kinds = { "pelu", "relu" }
if opts.normalize then kinds[3] = "normalized relu" end

os.execute("mkdir -p '" .. opts.out .. "'")

-- one model of kind trained from seed (the split already made for it): its history and test accuracy
local function train(kind, seed)
  lunet.manual_seed(seed)
  local model = build(kind)
  model:compile({ optimizer = lunet.optim.SGD({ learning_rate = 0.001 }), loss = "categorical_crossentropy",
    metrics = { "acc" } })
  local h = model:fit(x_train, Y_train, { batch_size = 32, validation_split = 0.2, epochs = opts.epochs,
    callbacks = { lunet.callbacks.LearningRateScheduler(schedule) }, verbose = opts.verbose, shuffle = true })
  return h, lunet.metrics.accuracy(y_test, model:predict_classes(x_test))
end

if opts.seeds > 0 then
  local seeds = {}
  for i = 1, opts.seeds do seeds[i] = i end
  print(string.format("\n%d seeds per model, test accuracy:", opts.seeds))
  lunet.experiment.sweep({ grid = { model = kinds, seed = seeds }, out = opts.out .. "/pelu_vs_relu_seeds",
    run = function(cfg)
      split(cfg.seed)
      local _, a = train(cfg.model, cfg.seed)
      return { acc = a }
    end })
  return
end

local histories, acc = {}, {}
for _, kind in ipairs(kinds) do
  lunet.manual_seed(opts.seed)
  local model = build(kind)
  model:compile({ optimizer = lunet.optim.SGD({ learning_rate = 0.001 }), loss = "categorical_crossentropy",
    metrics = { "acc" } })
  local t0 = lunet.clock()
  histories[kind] = model:fit(x_train, Y_train, { batch_size = 32, validation_split = 0.2, epochs = opts.epochs,
    callbacks = { lunet.callbacks.LearningRateScheduler(schedule) }, verbose = opts.verbose, shuffle = true })
  acc[kind] = lunet.metrics.accuracy(y_test, model:predict_classes(x_test))
  local h = histories[kind].history
  print(string.format("%s: %d epochs in %.1f s, final loss %.4f, val_loss %.4f, val_acc %.4f", kind, opts.epochs,
    lunet.clock() - t0, h.loss[#h.loss], h.val_loss[#h.val_loss], h.val_acc[#h.val_acc]))
end

print("")
print(string.format("Pelu model accuracy is: %.4f", acc.pelu))
print(string.format("Relu model accuracy is: %.4f", acc.relu))
if opts.normalize then print(string.format("Normalized relu model accuracy is: %.4f", acc["normalized relu"])) end

local function curves(key, ylabel, title, file)
  local s = {}
  for _, kind in ipairs(kinds) do
    for _, k in ipairs({ key, "val_" .. key }) do
      local v = histories[kind].history[k]
      local xs = {}
      for i = 1, #v do xs[i] = i - 1 end
      s[#s + 1] = { x = xs, y = v, label = kind .. " " .. k:gsub("_", " ") }
    end
  end
  return lunet.plot.line({ series = s, title = title, xlabel = "epochs", ylabel = ylabel }, opts.out .. "/" .. file)
end
print("plots: " .. curves("loss", "loss", "Train and Valid Loss Compare", "pelu_vs_relu_loss.svg") .. " " ..
  curves("acc", "accuracy", "Train and Valid Accuracy Compare", "pelu_vs_relu_accuracy.svg"))
