-- spec/ports/seed002_lecun_selu.lua - seed 002's tf.keras.activations.selu
-- page: selu(x) with its constants, and its example model (Dense layers
-- with lecun_normal and selu on (28, 28, 1) inputs: Dense acts on the last
-- axis, as in Keras).
local lunet = require("lunet")
local models, Dense = lunet.nn, lunet.nn.Dense
local tf = { keras = { activations = lunet.activations } }

-- scale * x if x > 0, scale * alpha * (exp(x) - 1) if x < 0
local x = lunet.tensor({ -1, 0, 1 }, "float64")
local y = tf.keras.activations.selu(x)                           -- tf.keras.activations.selu(x)
print(string.format("selu(-1) = %.10f, selu(0) = %g, selu(1) = %.10f", y:get(1), y:get(2), y:get(3)))

local n_classes = 10 -- 10_class problem
local model = models.Sequential()
model:add(Dense(64, { kernel_initializer = "lecun_normal", activation = "selu", input_shape = { 28, 28, 1 } }))
model:add(Dense(32, { kernel_initializer = "lecun_normal", activation = "selu" }))
model:add(Dense(16, { kernel_initializer = "lecun_normal", activation = "selu" }))
model:add(Dense(n_classes, { activation = "softmax" }))
model:summary()
-- (for the port spec) lecun_normal: std sqrt(1/fan_in); the second kernel's fan_in is 64
print(string.format("second kernel std: %.4f", model.layers[2]:get_weights()[1]:std():item()))
