-- spec/ports/seed000_keras_mnist.lua - seed 000's Keras block (SELU and
-- AlphaDropout on MNIST), line by line.  The changes are the two Lua forces
-- (keyword arguments as one options table; score[1] for score[0]) and the
-- QUICK knob of the port spec (LUNET_QUICK: a few hundred samples, 1 epoch).
local QUICK = os.getenv("LUNET_QUICK") ~= nil

local lunet = require("lunet")                                   -- import keras
local mnist = lunet.datasets.mnist                               -- from keras.datasets import mnist
local Sequential = lunet.nn.Sequential                           -- from keras.models import Sequential
local Dense, Dropout, Activation = lunet.nn.Dense, lunet.nn.Dropout, lunet.nn.Activation  -- from keras.layers.core import ...
local AlphaDropout = lunet.nn.AlphaDropout                       -- from keras.layers.noise import AlphaDropout
local np_utils = lunet.utils                                     -- from keras.utils import np_utils
local RMSprop, Adam = lunet.optim.RMSprop, lunet.optim.Adam      -- from keras.optimizers import RMSprop, Adam
local _ = { Dropout, Activation, np_utils, Adam }                -- (imported, unused, as in the seed)

local batch_size = 128
local num_classes = 10
local epochs = QUICK and 1 or 20
local learning_rate = 0.001
_ = learning_rate

-- the data, shuffled and split between train and test sets
local x_train, y_train, x_test, y_test = mnist.load_data()       -- (x_train, y_train), (x_test, y_test) = mnist.load_data()

x_train = x_train:reshape(x_train:size(1), 784)                  -- x_train.reshape(60000, 784): the files' count
x_test = x_test:reshape(x_test:size(1), 784)
x_train = x_train:astype("float32")
x_test = x_test:astype("float32")
x_train = x_train / 255                                          -- x_train /= 255
x_test = x_test / 255
print(x_train:size(1), "train samples")                          -- print(x_train.shape[0], 'train samples')
print(x_test:size(1), "test samples")

-- convert class vectors to binary class matrices
y_train = lunet.utils.to_categorical(y_train, num_classes)       -- keras.utils.to_categorical(y_train, num_classes)
y_test = lunet.utils.to_categorical(y_test, num_classes)

local modelSELU = Sequential()
modelSELU:add(Dense(512, { activation = "selu", input_shape = { 784 } }))
modelSELU:add(AlphaDropout(0.1))
modelSELU:add(Dense(512, { activation = "selu" }))
modelSELU:add(AlphaDropout(0.1))
modelSELU:add(Dense(10, { activation = "softmax" }))

modelSELU:summary()

modelSELU:compile({ loss = "categorical_crossentropy",
              optimizer = RMSprop(),
              metrics = { "accuracy" } })

local historySELU = modelSELU:fit(x_train, y_train, {
                    batch_size = batch_size,
                    epochs = epochs,
                    verbose = 1,
                    validation_data = { x_test, y_test } })
local scoreSELU = modelSELU:evaluate(x_test, y_test, { verbose = 0 })
print("Test loss:", scoreSELU[1])                                -- scoreSELU[0]
print("Test accuracy:", scoreSELU[2])                            -- scoreSELU[1]
-- (for the port spec: what History holds)
local keys = {}
for name in pairs(historySELU.history) do keys[#keys + 1] = name end
table.sort(keys)
print("history keys:", table.concat(keys, " "))
