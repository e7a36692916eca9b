-- examples/mnist_selu.lua - the self-normalizing MLP on MNIST: load the
-- digits, build 784-512-512-10 with SELU, lecun_normal and AlphaDropout,
-- print the summary, train with a progress bar, evaluate, save the model
-- and write the training curves.
--
--   make data && build/lunet examples/mnist_selu.lua [--epochs 20] [--data DIR] [--out out]
--
-- --data DIR: a directory with the four standard MNIST files (the full
-- 60,000 / 10,000 set works as is); default: the 10,000 real digits of
-- `make data`. --fashion trains on Fashion-MNIST instead.
local lunet = require("lunet")
local nn = lunet.nn

local opts = lunet.utils.parse_args(arg, {
  epochs = 20, batch_size = 128, data = "", out = "out", seed = 1, fashion = false, verbose = 1,
}, "usage: lunet examples/mnist_selu.lua [options]")

local dataset = opts.fashion and lunet.datasets.fashion_mnist or lunet.datasets.mnist
local x_train, y_train, x_test, y_test = dataset.load(opts.data, { flatten = true, normalize = true })
print(string.format("%d train samples, %d test samples", x_train:size(1), x_test:size(1)))
y_train = lunet.utils.to_categorical(y_train, 10)
y_test = lunet.utils.to_categorical(y_test, 10)

lunet.manual_seed(opts.seed)
local model = nn.Sequential({
  nn.Dense(512, { activation = "selu", kernel_initializer = "lecun_normal", input_shape = { 784 } }),
  nn.AlphaDropout(0.1),
  nn.Dense(512, { activation = "selu", kernel_initializer = "lecun_normal" }),
  nn.AlphaDropout(0.1),
  nn.Dense(10, { activation = "softmax" }),
})
model:summary()
model:compile({ loss = "categorical_crossentropy", optimizer = "rmsprop", metrics = { "accuracy" } })

local t0 = lunet.clock()
local history = model:fit(x_train, y_train, {
  batch_size = opts.batch_size, epochs = opts.epochs, verbose = opts.verbose,
  validation_data = { x_test, y_test },
})
local seconds = lunet.clock() - t0
local score = model:evaluate(x_test, y_test)
print(string.format("Test loss: %.4f", score.loss))
print(string.format("Test accuracy: %.4f  (%d epochs in %.1f s)", score.accuracy, opts.epochs, seconds))

os.execute("mkdir -p '" .. opts.out .. "'")
local model_path = opts.out .. "/mnist_selu.safetensors"
model:save(model_path)
-- the saved model predicts exactly what the trained one does
local again = nn.load_model(model_path)
assert(lunet.equal(again:predict(x_test), model:predict(x_test)), "the reloaded model differs")
local plot_path = lunet.plot.history(history, opts.out .. "/mnist_selu_history.svg",
  { title = "SELU MLP on MNIST" })
print("model: " .. model_path)
print("plot: " .. plot_path)
