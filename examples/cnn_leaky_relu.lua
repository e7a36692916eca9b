-- examples/cnn_leaky_relu.lua - seed 003's Keras CNN, line by line, in both
-- of its forms (activation='relu' inside each Conv2D, and Conv2D followed by
-- LeakyReLU(alpha=0.05)), with the tutorial's Flatten -> Dense(64, relu) ->
-- Dense(10, softmax) head, trained on Fashion-MNIST.
--
--   make data && build/lunet examples/cnn_leaky_relu.lua [epochs] [samples]
--
-- samples (default all 60000) limits the training set for a quick run.
local lunet = require("lunet")
local layers, models = lunet.nn, lunet.nn                        -- from keras import layers, models
local LeakyReLU = lunet.nn.LeakyReLU                             -- from keras.layers import LeakyReLU

local epochs = tonumber(arg[1]) or 5
local samples = tonumber(arg[2])

local x_train, y_train, x_test, y_test = lunet.datasets.fashion_mnist.load_data()
local function images(x) return x:reshape(x:size(1), 28, 28, 1):astype("float32") / 255 end
if samples then x_train, y_train = x_train:narrow(1, 1, samples), y_train:narrow(1, 1, samples) end
x_train, x_test = images(x_train), images(x_test)

local function relu_cnn()
  local model = models.Sequential()
  model:add(layers.Conv2D(32, { 3, 3 }, { activation = "relu", input_shape = { 28, 28, 1 } }))
  model:add(layers.MaxPooling2D({ 2, 2 }))
  model:add(layers.Conv2D(64, { 3, 3 }, { activation = "relu" }))
  model:add(layers.MaxPooling2D({ 2, 2 }))
  model:add(layers.Conv2D(64, { 3, 3 }, { activation = "relu" }))
  return model
end

local function leaky_cnn()
  local model = models.Sequential()
  model:add(layers.Conv2D(32, { 3, 3 }, { input_shape = { 28, 28, 1 } }))
  model:add(LeakyReLU({ alpha = 0.05 }))
  model:add(layers.MaxPooling2D({ 2, 2 }))
  model:add(layers.Conv2D(64, { 3, 3 }))
  model:add(LeakyReLU({ alpha = 0.05 }))
  model:add(layers.MaxPooling2D({ 2, 2 }))
  model:add(layers.Conv2D(64, { 3, 3 }))
  model:add(LeakyReLU({ alpha = 0.05 }))
  return model
end

local results = {}
for _, variant in ipairs({ { "relu", relu_cnn }, { "leaky_relu", leaky_cnn } }) do
  local model = variant[2]()
  model:add(layers.Flatten())
  model:add(layers.Dense(64, { activation = "relu" }))
  model:add(layers.Dense(10, { activation = "softmax" }))
  model:summary()
  model:compile({ optimizer = "rmsprop", loss = "sparse_categorical_crossentropy", metrics = { "accuracy" } })
  model:fit(x_train, y_train, { epochs = epochs, batch_size = 64 })
  local score = model:evaluate(x_test, y_test, { verbose = 0 })
  print(string.format("%s CNN: test loss %.4f, test accuracy %.4f", variant[1], score[1], score[2]))
  results[#results + 1] = { variant[1], score[2] }
end
for _, r in ipairs(results) do print(string.format("%-10s test accuracy %.4f", r[1], r[2])) end
