-- spec/ports/seed004_pelu.lua - seed 004: a custom PELU layer (trainable
-- alpha and beta per unit, NonNeg), its jacobian checks with a gradient
-- tape, PELU vs ReLU on the UCI Sensorless Drive Diagnosis table with SGD
-- and a LearningRateScheduler, the accuracy from np.argmax, and save/load.
-- Lua forces: keyword arguments as tables, 1-based indexing, the class
-- registered under a name no built-in layer has (lunet has nn.PELU), and
-- load_model given the class (lunet never runs code from a file).
-- LUNET_QUICK: 40 epochs; LUNET_SENSORLESS: the table's path; LUNET_OUT: where files go.
local QUICK = os.getenv("LUNET_QUICK") ~= nil
local OUT = os.getenv("LUNET_OUT") or "."
local lunet = require("lunet")
local tf = { keras = { layers = lunet.nn, initializers = lunet.initializers, constraints = lunet.constraints,
  utils = lunet.utils, callbacks = lunet.callbacks, optimizers = lunet.optim, Input = lunet.nn.Input,
  Sequential = lunet.nn.Sequential, models = lunet.nn },
  nn = lunet.activations, exp = lunet.exp, linspace = lunet.linspace, GradientTape = lunet.autograd.GradientTape }

-- class PELU(tf.keras.layers.Layer)
local PELU = tf.keras.layers.Layer:extend("MyPELU")
function PELU:init(units, opts)                                  -- def __init__(self, units=32)
  units = units or 32
  tf.keras.layers.Layer.init(self, opts)                         -- super(PELU, self).__init__()
  self.units = units
end
function PELU:build()
  self.alpha = self:add_weight({ name = "alpha",
                                 shape = { self.units },
                                 initializer = tf.keras.initializers.RandomUniform({ minval = 0, maxval = 1 }),
                                 trainable = true,
                                 dtype = "float32",
                                 constraint = tf.keras.constraints.NonNeg() })
  self.beta = self:add_weight({ name = "beta", shape = { self.units },
                                initializer = tf.keras.initializers.RandomUniform({ minval = 0, maxval = 1 }),
                                trainable = true,
                                dtype = "float32",
                                constraint = tf.keras.constraints.NonNeg() })
end
function PELU:call(inputs)
  local pos = (self.alpha / self.beta) * tf.nn.relu(inputs)
  local neg = self.alpha * (tf.exp(-tf.nn.relu(-inputs) / self.beta) - 1)
  return pos + neg
end
function PELU:get_config()
  local config = { units = self.units }
  local base_config = tf.keras.layers.Layer.get_config(self)      -- super(PELU, self).get_config()
  for k, v in pairs(base_config) do config[k] = v end
  return config
end

-- 2. the layer on a grid
local pelu = PELU(1)                                             -- PELU(units=1)
local x_range = tf.linspace(-5, 5, 200)                          -- tf.linspace(-5, 5, 200)
x_range = x_range:astype("float32")                              -- tf.cast(x_range, tf.float32)
local y_range = pelu(x_range)
print(string.format("pelu(-5) = %.6f, pelu(5) = %.6f", y_range[1], y_range[200]))

-- 3. d phi / d alpha
local tape = tf.GradientTape()                                   -- with tf.GradientTape() as tape:
tape:watch(pelu.alpha)
local y = pelu(x_range)
local dx_da = tape:jacobian(y, pelu.alpha)
-- use positive input x_range[0] (the seed's comment; x_range[0] is -5)
print(((tf.exp(x_range[1] / pelu.beta) - 1 - dx_da[1]):abs():lt(1e-4)):all())
-- use negtive input x_range[-1]
print(((x_range[200] / pelu.beta - dx_da[200]):abs():lt(1e-4)):all())

-- 4. d phi / d beta
tape = tf.GradientTape()
tape:watch(pelu.beta)
y = pelu(x_range)
local dx_db = tape:jacobian(y, pelu.beta)
-- use positive input x_range[-1]
print(((-(pelu.alpha * x_range[200]) / (pelu.beta ^ 2) - dx_db[200]):abs():lt(1e-4)):all())
-- use negtive input x_range[0]
local g = -pelu.alpha * x_range[1] * tf.exp(x_range[1] / pelu.beta) / (pelu.beta ^ 2)
print(((g - dx_db[1]):abs():lt(1e-4)):all())

-- III. PELU vs ReLU
local path = os.getenv("LUNET_SENSORLESS") or "Sensorless_drive_diagnosis.txt"
local sensorless = lunet.data.read_csv(path, { header = nil, sep = " " })  -- pd.read_csv(..., header=None, sep=' ')
local ncol = sensorless:size(2)
local X = sensorless:narrow(2, 1, ncol - 1):astype("float32")    -- sensorless.values[:, 0:-1].astype('float32')
local y_all = sensorless:narrow(2, ncol, 1):astype("int64") - 1  -- sensorless.values[:, -1:].astype('int64') - 1
local x_train, x_test, y_train, y_test = lunet.utils.train_test_split(X, y_all, { stratify = y_all })
y_train = tf.keras.utils.to_categorical(y_train, 11)             -- to_categorical(y_train, num_classes=11)

local model_pelu = tf.keras.Sequential({ layers = {
      tf.keras.Input({ shape = { x_train:size(2) } }),
      tf.keras.layers.Dense(50),
      PELU(50),
      tf.keras.layers.Dense(11, { activation = "softmax" }),
} })
local model_relu = tf.keras.Sequential({ layers = {
      tf.keras.Input({ shape = { x_train:size(2) } }),
      tf.keras.layers.Dense(50),
      tf.keras.layers.ReLU(50),  -- only different here with pelu model
      tf.keras.layers.Dense(11, { activation = "softmax" }),
} })

local function schedule(epoch)
  if epoch < 50 then return .001 end
  if epoch < 300 then return .0001 end
  if epoch < 600 then return .00001 end
  if epoch < 900 then return .000001 end
  return .0000001
end
local lr_scheduler = tf.keras.callbacks.LearningRateScheduler(schedule)
local callbacks_list = { lr_scheduler }

local sgd = tf.keras.optimizers.SGD({ learning_rate = 0.001 })
model_pelu:compile({ optimizer = sgd, loss = "categorical_crossentropy", metrics = { "acc" } })
model_relu:compile({ optimizer = sgd, loss = "categorical_crossentropy", metrics = { "acc" } })

local epochs = QUICK and 40 or 1000
local history_pelu = model_pelu:fit(x_train, y_train, { batch_size = 32, validation_split = 0.2, epochs = epochs,
  callbacks = callbacks_list, verbose = 0, shuffle = true })
local history_relu = model_relu:fit(x_train, y_train, { batch_size = 32, validation_split = 0.2, epochs = epochs,
  callbacks = callbacks_list, verbose = 0, shuffle = true })

-- plt.plot(history.epoch, history.history['loss'], label=...) ... plt.show()
lunet.plot.line({ series = {
  { x = history_relu.epoch, y = history_relu.history["loss"], label = "relu loss" },
  { x = history_pelu.epoch, y = history_pelu.history["loss"], label = "pelu loss" },
  { x = history_relu.epoch, y = history_relu.history["val_loss"], label = "relu val loss" },
  { x = history_pelu.epoch, y = history_pelu.history["val_loss"], label = "pelu val loss" },
}, xlabel = "epochs", ylabel = "loss", title = "Train and Valid Loss Compare" }, OUT .. "/seed004_loss.svg")
lunet.plot.line({ series = {
  { x = history_relu.epoch, y = history_relu.history["acc"], label = "relu acc" },
  { x = history_pelu.epoch, y = history_pelu.history["acc"], label = "pelu acc" },
  { x = history_relu.epoch, y = history_relu.history["val_acc"], label = "relu val acc" },
  { x = history_pelu.epoch, y = history_pelu.history["val_acc"], label = "pelu val acc" },
}, xlabel = "epochs", ylabel = "accuracy", title = "Train and Valid Accuracy Compare" }, OUT .. "/seed004_acc.svg")

local pre_pelu = model_pelu:predict(x_test):argmax(-1, { base = 0 })  -- np.argmax(model_pelu.predict(x_test), axis=-1)
local pre_relu = model_relu:predict(x_test):argmax(-1, { base = 0 })
local function get_acc(pre)
  local account = 0
  for i = 1, pre:size(1) do                                      -- for i in range(0, pre.shape[0])
    if pre[i] == y_test[i][1] then                               -- pre[i] == y_test[i]: y_test[i] is a row of one
      account = account + 1
    end
  end
  return account / #pre                                          -- account / len(pre)
end
print("Pelu model accuracy is: ", get_acc(pre_pelu))
print("Relu model accuracy is: ", get_acc(pre_relu))
print("metrics.accuracy agrees:", lunet.metrics.accuracy(y_test, pre_pelu) == get_acc(pre_pelu))

-- 2. save and load
model_pelu:save(OUT .. "/pelu_model.safetensors")                -- model_pelu.save('pelu_model')
local reloaded_model = tf.keras.models.load_model(OUT .. "/pelu_model.safetensors", { custom_objects = { MyPELU = PELU } })
print("Original model:", model_pelu)
print("Loaded model:", reloaded_model)
print("same predictions:", lunet.equal(model_pelu:predict(x_test), reloaded_model:predict(x_test)))
