-- examples/keras_port.lua - the Keras 2 MNIST SELU script, translated line
-- by line; each block shows the Python it replaces.
--
--   make data && build/lunet examples/keras_port.lua [epochs] [mnist dir]
--
-- With the full MNIST files (pass their directory) the shapes are the
-- script's 60000 and 10000; with `make data`'s digits, 8000 and 2000.
local lunet = require("lunet")                                   -- import keras
local nn = lunet.nn                                              -- from keras.models import Sequential
local Dense, AlphaDropout = nn.Dense, nn.AlphaDropout            -- from keras.layers... import Dense, AlphaDropout
local RMSprop = lunet.optim.RMSprop                              -- from keras.optimizers import RMSprop

local batch_size = 128                                           -- batch_size = 128
local num_classes = 10                                           -- num_classes = 10
local epochs = tonumber(arg[1]) or 20                            -- epochs = 20

-- (x_train, y_train), (x_test, y_test) = mnist.load_data()
local x_train, y_train, x_test, y_test = lunet.datasets.mnist.load(arg[2])

x_train = x_train:reshape(x_train:size(1), 784)                  -- x_train = x_train.reshape(60000, 784)
x_test = x_test:reshape(x_test:size(1), 784)                     -- x_test = x_test.reshape(10000, 784)
x_train = x_train:astype("float32")                              -- x_train = x_train.astype('float32')
x_test = x_test:astype("float32")                                -- x_test = x_test.astype('float32')
x_train = x_train / 255                                          -- x_train /= 255
x_test = x_test / 255                                            -- x_test /= 255
print(x_train:size(1), "train samples")                          -- print(x_train.shape[0], 'train samples')
print(x_test:size(1), "test samples")                            -- print(x_test.shape[0], 'test samples')

-- convert class vectors to binary class matrices
y_train = lunet.utils.to_categorical(y_train, num_classes)       -- y_train = keras.utils.to_categorical(y_train, num_classes)
y_test = lunet.utils.to_categorical(y_test, num_classes)         -- y_test = keras.utils.to_categorical(y_test, num_classes)

local modelSELU = nn.Sequential()                                -- modelSELU = Sequential()
modelSELU:add(Dense(512, { activation = "selu", input_shape = { 784 } }))  -- modelSELU.add(Dense(512, activation='selu', input_shape=(784,)))
modelSELU:add(AlphaDropout(0.1))                                 -- modelSELU.add(AlphaDropout(0.1))
modelSELU:add(Dense(512, { activation = "selu" }))               -- modelSELU.add(Dense(512, activation='selu'))
modelSELU:add(AlphaDropout(0.1))                                 -- modelSELU.add(AlphaDropout(0.1))
modelSELU:add(Dense(10, { activation = "softmax" }))             -- modelSELU.add(Dense(10, activation='softmax'))

modelSELU:summary()                                              -- modelSELU.summary()

modelSELU:compile({ loss = "categorical_crossentropy",           -- modelSELU.compile(loss='categorical_crossentropy',
                    optimizer = RMSprop(),                       --               optimizer=RMSprop(),
                    metrics = { "accuracy" } })                  --               metrics=['accuracy'])

local historySELU = modelSELU:fit(x_train, y_train, {            -- historySELU = modelSELU.fit(x_train, y_train,
                    batch_size = batch_size,                     --                     batch_size=batch_size,
                    epochs = epochs,                             --                     epochs=epochs,
                    verbose = 1,                                 --                     verbose=1,
                    validation_data = { x_test, y_test } })      --                     validation_data=(x_test, y_test))
local scoreSELU = modelSELU:evaluate(x_test, y_test, { verbose = 0 })  -- scoreSELU = modelSELU.evaluate(x_test, y_test, verbose=0)
print("Test loss:", scoreSELU[1])                                -- print('Test loss:', scoreSELU[0])
print("Test accuracy:", scoreSELU[2])                            -- print('Test accuracy:', scoreSELU[1])
print("epochs run:", #historySELU.epoch)
