-- spec/ports/seed000_tf_dropout_selu.lua - seed 000's TensorFlow blocks: the
-- SNN authors' selu and dropout_selu, and their MNIST MLP (four SELU layers
-- of 512, dropout_selu, softmax cross-entropy from logits, Adam).  A
-- TensorFlow graph runs eagerly in Lua: placeholders become function
-- arguments, sess.run a call, minimize a backward and a step.
local QUICK = os.getenv("LUNET_QUICK") ~= nil
local lunet = require("lunet")
local tf_nn = lunet.activations
local dropout_selu = lunet.nn.dropout_selu                       -- the seed's dropout_selu (training=False default)

local function selu(x)
  local alpha = 1.6732632423543772848170429916717
  local scale = 1.0507009873554804934193349852946
  return scale * lunet.where(x:ge(0.0), x, alpha * tf_nn.elu(x)) -- scale*tf.where(x>=0.0, x, alpha*tf.nn.elu(x))
end

-- (for the port spec: the seed's selu is lunet's)
local probe = lunet.linspace(-4, 4, 101, "float64")
print("selu matches lunet.activations.selu:", lunet.allclose(selu(probe), tf_nn.selu(probe), 1e-12, 1e-15))

-- mnist = input_data.read_data_sets("MNIST_data/", one_hot=True): lunet's
-- loader and a next_batch over a shuffled copy (the tutorial helper)
local x_all, y_all = lunet.datasets.mnist.load({ flatten = true, normalize = true })
if QUICK then x_all, y_all = x_all:narrow(1, 1, 400), y_all:narrow(1, 1, 400) end
local mnist = { train = { images = x_all, labels = lunet.utils.to_categorical(y_all, 10),
  num_examples = x_all:size(1), pos = 1 } }
function mnist.train.next_batch(batch_size)
  local t = mnist.train
  if t.pos == 1 then t.perm = lunet.randperm(t.num_examples) end
  local idx = t.perm:narrow(1, t.pos, batch_size)
  t.pos = t.pos + batch_size
  if t.pos + batch_size - 1 > t.num_examples then t.pos = 1 end
  return t.images:index_select(1, idx), t.labels:index_select(1, idx)
end

-- parameters
local learning_rate = 0.001
local training_epochs = QUICK and 2 or 50
local batch_size = 100

-- weights & bias for nn layers (xavier_initializer is glorot_uniform)
local xavier = lunet.initializers.get("glorot_uniform")
local W1 = xavier({ 784, 512 }):requires_grad()                  -- tf.get_variable("W1", shape=[784, 512], ...)
local b1 = lunet.randn(512):requires_grad()                      -- tf.Variable(tf.random_normal([512]))
local W2 = xavier({ 512, 512 }):requires_grad()
local b2 = lunet.randn(512):requires_grad()
local W3 = xavier({ 512, 512 }):requires_grad()
local b3 = lunet.randn(512):requires_grad()
local W4 = xavier({ 512, 512 }):requires_grad()
local b4 = lunet.randn(512):requires_grad()
local W5 = xavier({ 512, 10 }):requires_grad()
local b5 = lunet.randn(10):requires_grad()

-- the graph from X to hypothesis; keep_prob fed 0.7 as in the seed (its
-- dropout_selu has training=False, so it leaves L1..L4 as they are)
local function hypothesis_of(X, keep_prob)
  local L1 = selu(X:matmul(W1) + b1)
  L1 = dropout_selu(L1, keep_prob)                               -- dropout_selu(L1, keep_prob=keep_prob)
  local L2 = selu(L1:matmul(W2) + b2)
  L2 = dropout_selu(L2, keep_prob)
  local L3 = selu(L2:matmul(W3) + b3)
  L3 = dropout_selu(L3, keep_prob)
  local L4 = selu(L3:matmul(W4) + b4)
  L4 = dropout_selu(L4, keep_prob)
  return L4:matmul(W5) + b5
end

-- define cost/loss & optimizer
local function cost_of(X, Y, keep_prob)                          -- tf.reduce_mean(tf.nn.softmax_cross_entropy_with_logits(...))
  return lunet.losses.softmax_cross_entropy_with_logits({ logits = hypothesis_of(X, keep_prob), labels = Y }):mean()
end
local params = { W1, b1, W2, b2, W3, b3, W4, b4, W5, b5 }
local optimizer = lunet.optim.Adam({ learning_rate = learning_rate })  -- tf.train.AdamOptimizer(...).minimize(cost)

-- train my model
local first_cost
for epoch = 0, training_epochs - 1 do                            -- for epoch in range(training_epochs)
  local avg_cost = 0
  local total_batch = math.floor(mnist.train.num_examples / batch_size)
  for _ = 0, total_batch - 1 do
    local batch_xs, batch_ys = mnist.train.next_batch(batch_size)
    for _, p in ipairs(params) do p:zero_grad() end              -- c, _ = sess.run([cost, optimizer], feed_dict=...)
    local c = cost_of(batch_xs, batch_ys, 0.7)
    c:backward()
    optimizer:step(params)
    avg_cost = avg_cost + c:item() / total_batch
  end
  first_cost = first_cost or avg_cost
  print("Epoch:", string.format("%04d", epoch + 1), "cost =", string.format("%.9f", avg_cost))
end
print("Learning Finished!")

-- Test model and check accuracy
local hypothesis = lunet.no_grad(hypothesis_of, mnist.train.images, 1.0)
local correct_prediction = hypothesis:argmax(2):eq(mnist.train.labels:argmax(2))  -- tf.equal(tf.argmax(hypothesis, 1), tf.argmax(Y, 1))
local accuracy = correct_prediction:float():mean()                -- tf.reduce_mean(tf.cast(correct_prediction, tf.float32))
print("first cost:", first_cost)
print("Accuracy:", accuracy:item())
