-- spec/ports/seed001_tf_mnist.lua - seed 001's TensorFlow MNIST MLP with its
-- own selu: two hidden SELU layers (300, 100) by tf.layers.dense, logits,
-- sparse_softmax_cross_entropy_with_logits, plain gradient descent, and
-- in_top_k accuracy.  Layers are lunet.nn.Dense objects called on tensors;
-- sess.run is a call.
local QUICK = os.getenv("LUNET_QUICK") ~= nil
local lunet = require("lunet")
local tf = { layers = lunet.nn, nn = lunet.losses }

-- redefining activations with tf ops
local function elu(z, alpha)
  alpha = alpha or 1
  return lunet.where(z:lt(0), alpha * (z:exp() - 1), z)          -- tf.where(z < 0, alpha * (tf.exp(z) - 1), z)
end
local function selu(z, scale, alpha)
  scale = scale or 1.0507009873554804934193349852946
  alpha = alpha or 1.6732632423543772848170429916717
  return scale * elu(z, alpha)
end

-- mnist = input_data.read_data_sets("tmp/"): integer labels (no one_hot)
local x_train, y_train, x_test, y_test = lunet.datasets.mnist.load({ flatten = true, normalize = true })
if QUICK then x_train, y_train = x_train:narrow(1, 1, 400), y_train:narrow(1, 1, 400) end
local n_valid = math.floor(x_train:size(1) / 12)
local mnist = {
  train = { images = x_train:narrow(1, n_valid + 1, x_train:size(1) - n_valid),
            labels = y_train:narrow(1, n_valid + 1, x_train:size(1) - n_valid) },
  validation = { images = x_train:narrow(1, 1, n_valid), labels = y_train:narrow(1, 1, n_valid) },
  test = { images = x_test, labels = y_test },
}

-- construction
lunet.nn.reset_names()                                           -- reset_graph()
local n_outputs = 10
local n_hidden1 = 300
local n_hidden2 = 100
local learning_rate = 0.01

local hidden1 = tf.layers.Dense(n_hidden1, { activation = selu, name = "hidden1" })
local hidden2 = tf.layers.Dense(n_hidden2, { activation = selu, name = "hidden2" })
local outputs = tf.layers.Dense(n_outputs, { name = "outputs" })
local function logits_of(X) return outputs(hidden2(hidden1(X))) end

local function loss_of(X, y)
  local xentropy = tf.nn.sparse_softmax_cross_entropy_with_logits({ logits = logits_of(X), labels = y })
  return xentropy:mean()                                         -- tf.reduce_mean(xentropy, name="loss")
end
local optimizer = lunet.optim.SGD({ learning_rate = learning_rate })  -- tf.train.GradientDescentOptimizer(learning_rate)
local function accuracy_of(X, y)
  local correct = lunet.no_grad(logits_of, X):argmax(2, { base = 0 }):eq(y)  -- tf.nn.in_top_k(logits, y, k=1)
  return correct:float():mean():item()                           -- tf.reduce_mean(tf.cast(correct, tf.float32))
end

-- execution
local n_epochs = QUICK and 2 or 40
local batch_size = 50
local n = mnist.train.images:size(1)
local params
for epoch = 0, n_epochs - 1 do
  local perm = lunet.randperm(n)
  for iteration = 0, n // batch_size - 1 do
    local idx = perm:narrow(1, iteration * batch_size + 1, batch_size)
    local X_batch, y_batch = mnist.train.images:index_select(1, idx), mnist.train.labels:index_select(1, idx)
    local loss = loss_of(X_batch, y_batch)                       -- sess.run(training_op, feed_dict=...)
    params = params or { hidden1.kernel, hidden1.bias, hidden2.kernel, hidden2.bias, outputs.kernel, outputs.bias }
    for _, p in ipairs(params) do p:zero_grad() end
    loss:backward()
    optimizer:step(params)
  end
  if epoch % 5 == 0 or epoch == n_epochs - 1 then
    local acc_train = accuracy_of(mnist.train.images, mnist.train.labels)
    local acc_val = accuracy_of(mnist.validation.images, mnist.validation.labels)
    print(epoch, "train acc:", acc_train, "val acc:", acc_val)
  end
end
local acc_test = accuracy_of(mnist.test.images, mnist.test.labels)
print("Test acc:", acc_test)
