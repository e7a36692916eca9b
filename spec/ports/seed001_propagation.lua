-- spec/ports/seed001_propagation.lua - seed 001's numpy propagation demo:
-- 500 random inputs through 15 layers of its "sigmoid" (x / (1 + exp(-x)),
-- i.e. SiLU) and 100 layers of SELU, weights N(0, 1/100), printing the
-- range of the per-sample means and stds.  np.random.normal ->
-- lunet.normal, np.dot -> matmul, np.mean(Z, axis=1) -> Z:mean(2).
local lunet = require("lunet")
local np = lunet

local function sigmoid(x)
  return x / (1 + np.exp(-x))                                    -- x / (1+np.exp(-x))
end

local Z = np.normal({ 500, 100 }, 0, 1)                          -- np.random.normal(size=(500, 100))
for layer = 0, 14 do                                             -- for layer in range(15)
  local W = np.normal({ 100, 100 }, 0, math.sqrt(1 / 100))       -- np.random.normal(size=(100, 100), scale=np.sqrt(1/100))
  Z = sigmoid(Z:matmul(W))                                       -- sigmoid(np.dot(Z, W))
  local means = Z:mean(2)                                        -- np.mean(Z, axis=1)
  local stds = Z:std(2)                                          -- np.std(Z, axis=1)
  print(string.format("Layer %d: %.2f < mean < %.2f, %.2f < std < %.2f", layer,
    means:min():item(), means:max():item(), stds:min():item(), stds:max():item()))
end

local function elu(z, alpha)
  alpha = alpha or 1
  return np.where(z:lt(0), alpha * (np.exp(z) - 1), z)           -- np.where(z < 0, alpha * (np.exp(z) - 1), z)
end

local function selu(z, scale, alpha)
  scale = scale or 1.0507009873554804934193349852946
  alpha = alpha or 1.6732632423543772848170429916717
  return scale * elu(z, alpha)
end

Z = np.normal({ 500, 100 }, 0, 1)
for layer = 0, 99 do
  local W = np.normal({ 100, 100 }, 0, math.sqrt(1 / 100))
  Z = selu(Z:matmul(W))
  local means = Z:mean(2)
  local stds = Z:std(2)
  if layer % 10 == 0 then
    print(string.format("Layer %d: %.2f < mean < %.2f, %.2f < std < %.2f", layer,
      means:min():item(), means:max():item(), stds:min():item(), stds:max():item()))
  end
end
