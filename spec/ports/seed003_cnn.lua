-- spec/ports/seed003_cnn.lua - seed 003's two Keras CNN blocks, line by
-- line: Conv2D with activation='relu', then the same net with the
-- activation taken out of each Conv2D and a LeakyReLU(alpha=0.05) layer
-- after it; model.summary() of each, and (for the port spec) a forward pass
-- and a few training steps on MNIST-format digits.
local QUICK = os.getenv("LUNET_QUICK") ~= nil
local lunet = require("lunet")
local layers, models = lunet.nn, lunet.nn                        -- from keras import layers, models
local LeakyReLU = lunet.nn.LeakyReLU                             -- from keras.layers import LeakyReLU

local model = models.Sequential()
model:add(layers.Conv2D(32, { 3, 3 }, { activation = "relu", input_shape = { 28, 28, 1 } }))
model:add(layers.MaxPooling2D({ 2, 2 }))
model:add(layers.Conv2D(64, { 3, 3 }, { activation = "relu" }))
model:add(layers.MaxPooling2D({ 2, 2 }))
model:add(layers.Conv2D(64, { 3, 3 }, { activation = "relu" }))
model:summary()

model = models.Sequential()
model:add(layers.Conv2D(32, { 3, 3 }, { input_shape = { 28, 28, 1 } }))
model:add(LeakyReLU({ alpha = 0.05 }))
model:add(layers.MaxPooling2D({ 2, 2 }))
model:add(layers.Conv2D(64, { 3, 3 }))
model:add(LeakyReLU({ alpha = 0.05 }))
model:add(layers.MaxPooling2D({ 2, 2 }))
model:add(layers.Conv2D(64, { 3, 3 }))
model:add(LeakyReLU({ alpha = 0.05 }))
model:summary()

-- (for the port spec) the classifier head of the Keras tutorial, and a short fit
model:add(layers.Flatten())
model:add(layers.Dense(64, { activation = "relu" }))
model:add(layers.Dense(10, { activation = "softmax" }))
local x_train, y_train = lunet.datasets.mnist.load_data()
local n = QUICK and 256 or x_train:size(1)
x_train = x_train:narrow(1, 1, n):reshape(n, 28, 28, 1):astype("float32") / 255
y_train = y_train:narrow(1, 1, n)
model:compile({ optimizer = "rmsprop", loss = "sparse_categorical_crossentropy", metrics = { "accuracy" } })
local history = model:fit(x_train, y_train, { epochs = QUICK and 3 or 5, batch_size = 64, verbose = 0 })
print(string.format("loss %.4f -> %.4f, accuracy %.4f", history.history.loss[1],
  history.history.loss[#history.history.loss], history.history.accuracy[#history.history.accuracy]))
