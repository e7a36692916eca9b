-- spec/ports/seed003_relu.lua - seed 003's Keras backend relu, ported from
-- the source it prints (Keras' code: after thresholding it clips to
-- [0, max_value]), checked against lunet.activations.relu(x, alpha,
-- max_value, threshold); and LeakyReLU(alpha=0.05) as a layer after a
-- layer without activation.  (Its CNN blocks are seed003_cnn.lua.)
local lunet = require("lunet")
local K = lunet.activations
local nn = lunet.nn

-- def relu(x, alpha=0., max_value=None, threshold=0)
local function relu(x, alpha, max_value, threshold)
  alpha, threshold = alpha or 0, threshold or 0
  local negative_part
  if alpha ~= 0 then
    if max_value == nil and threshold == 0 then return K.leaky_relu(x, { alpha = alpha }) end
    if threshold ~= 0 then negative_part = K.relu(-x + threshold) else negative_part = K.relu(-x) end
  end
  local clip_max = max_value ~= nil
  if threshold ~= 0 then
    x = x * x:gt(threshold):astype(x:dtype())                    -- x * math_ops.cast(math_ops.greater(x, threshold), floatx())
  elseif max_value == 6 then
    x = K.relu6(x)                                               -- nn.relu6(x)
    clip_max = false
  else
    x = K.relu(x)
  end
  if clip_max then x = x:clamp(0, max_value) end                 -- clip_ops.clip_by_value(x, zero, max_value)
  if alpha ~= 0 then x = x - alpha * negative_part end
  return x
end

local x = lunet.linspace(-10, 10, 2001, "float64")
local worst = 0
for _, case in ipairs({ { 0, nil, 0 }, { 0.05, nil, 0 }, { 0.1, 6, 0 }, { 0, 6, -1 }, { 0.2, 4, 1.5 }, { 0, 5, -2 },
  { 0.3, nil, -1 }, { 0, nil, 2 } }) do
  local a, m, t = case[1], case[2], case[3]
  local want = relu(x, a, m, t)
  local got = K.relu(x, a, m, t)
  local d = (want - got):abs():max():item()
  worst = math.max(worst, d)
  print(string.format("relu(x, alpha=%g, max_value=%s, threshold=%g): max |keras - lunet| = %g", a, tostring(m), t, d))
end
print("largest difference:", worst)

-- model.add(LeakyReLU(alpha=0.05)) after a layer without activation
local model = nn.Sequential()
model:add(nn.Dense(32, { input_shape = { 16 } }))
model:add(nn.LeakyReLU(0.05))                                    -- LeakyReLU(alpha=0.05)
model:add(nn.Dense(10))
model:add(nn.LeakyReLU({ alpha = 0.05 }))
model:summary()
local out = model:predict(lunet.randn(64, 16))
print(string.format("negative outputs scaled by 0.05: min %.4f", out:min():item()))
