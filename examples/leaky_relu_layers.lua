-- examples/leaky_relu_layers.lua - advanced activations as layers versus
-- activation strings (the Keras 2 post on LeakyReLU/PReLU): a Dense layer
-- with no activation followed by a LeakyReLU(alpha = 0.05) layer computes
-- exactly what Dense with activation = relu and negative_slope 0.05 does,
-- and the relu options of Keras' backend (alpha, max_value, threshold).
--
--   build/lunet examples/leaky_relu_layers.lua
local lunet = require("lunet")
local nn = lunet.nn
local A = lunet.activations

lunet.manual_seed(7)
-- LeakyReLU, PReLU and ELU as layers after activation-free Dense layers
local layered = nn.Sequential({
  nn.Dense(64, { input_shape = { 784 } }),
  nn.LeakyReLU({ alpha = 0.05 }),
  nn.Dense(64),
  nn.PReLU(),
  nn.Dense(64),
  nn.ELU({ alpha = 1.0 }),
  nn.Dense(10, { activation = "softmax" }),
})
layered:summary()

-- the same network with the activations given as options of Dense
local fused = nn.Sequential({
  nn.Dense(64, { input_shape = { 784 }, activation = function(x) return A.leaky_relu(x, 0.05) end }),
  nn.Dense(64, { activation = "relu" }), -- PReLU starts at alpha = 0: relu
  nn.Dense(64, { activation = "elu" }),
  nn.Dense(10, { activation = "softmax" }),
})
local w = layered:get_weights()
-- layered weights: kernel, bias, kernel, bias, prelu alpha, kernel, bias, kernel, bias
fused:set_weights({ w[1], w[2], w[3], w[4], w[6], w[7], w[8], w[9] })
local x = lunet.rand(16, 784)
local d = (layered:predict(x) - fused:predict(x)):abs():max():item()
print(string.format("layers vs activation options: largest difference %.3g", d))

-- Keras backend relu(x, alpha, max_value, threshold)
local v = lunet.tensor({ -3, -1, 0, 0.5, 1, 2, 7 })
print("x                           ", v)
print("relu                        ", A.relu(v))
print("relu alpha=0.1 (leaky)      ", A.relu(v, { negative_slope = 0.1 }))
print("relu max_value=6            ", A.relu(v, { max_value = 6 }))
print("relu threshold=1            ", A.relu(v, { threshold = 1 }))
print("relu all three              ", A.relu(v, { negative_slope = 0.1, max_value = 6, threshold = 1 }))
