-- examples/mnist_selu_distributed.lua - examples/mnist_selu.lua's
-- self-normalizing MLP (seed 000: 784-512-512-10, SELU, lecun_normal,
-- AlphaDropout, RMSprop) trained data-parallel on N ranks with
-- lunet.distributed, in the manner of Horovod: each rank takes its share of
-- every epoch's batches, gradients are averaged before each step, rank 0
-- prints and saves.  `--batch_size` is per rank (the global batch is N times
-- it); the learning rate is not scaled.
--
--   make data
--   OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 \
--   mpirun -np 2 --oversubscribe --mca btl self,vader --mca btl_vader_single_copy_mechanism none \
--     build/lunet examples/mnist_selu_distributed.lua [--epochs 20] [--batch_size 64] [--data DIR]
--
-- With one process (plain `build/lunet examples/mnist_selu_distributed.lua`)
-- it trains as mnist_selu.lua does at the same global batch.
local lunet = require("lunet")
local dist = require("lunet.distributed")
local nn = lunet.nn

dist.init()
local rank, size = dist.rank(), dist.size()
local opts = lunet.utils.parse_args(arg, {
  epochs = 20, batch_size = 64, data = "", out = "out", seed = 1, verbose = 1,
}, "usage: mpirun -np N lunet examples/mnist_selu_distributed.lua [options]")

local x_train, y_train, x_test, y_test = lunet.datasets.mnist.load(opts.data, { flatten = true, normalize = true })
y_train = lunet.utils.to_categorical(y_train, 10)
y_test = lunet.utils.to_categorical(y_test, 10)
if rank == 0 then
  print(string.format("%d train samples, %d test samples; %d ranks at batch %d (global batch %d)",
    x_train:size(1), x_test:size(1), size, opts.batch_size, size * opts.batch_size))
end

lunet.manual_seed(opts.seed)
local model = nn.Sequential({
  nn.Dense(512, { activation = "selu", kernel_initializer = "lecun_normal", input_shape = { 784 } }),
  nn.AlphaDropout(0.1),
  nn.Dense(512, { activation = "selu", kernel_initializer = "lecun_normal" }),
  nn.AlphaDropout(0.1),
  nn.Dense(10, { activation = "softmax" }),
})
if rank == 0 then model:summary() end
model:compile({ loss = "categorical_crossentropy", optimizer = dist.DistributedOptimizer("rmsprop"),
  metrics = { "accuracy" } })

local t0 = lunet.clock()
model:fit(x_train, y_train, {
  batch_size = opts.batch_size, epochs = opts.epochs, verbose = opts.verbose, distributed = true,
  callbacks = { dist.callbacks.BroadcastGlobalVariables(0), dist.callbacks.MetricAverage() },
})
local seconds = lunet.clock() - t0
-- every rank holds the same weights: each evaluates the whole test set, rank 0 reports
local score = model:evaluate(x_test, y_test)
if rank == 0 then
  print(string.format("Test loss: %.4f", score.loss))
  print(string.format("Test accuracy: %.4f  (%d epochs in %.1f s on %d ranks)", score.accuracy, opts.epochs,
    seconds, size))
end
os.execute("mkdir -p '" .. opts.out .. "'")
model:save(opts.out .. "/mnist_selu_distributed.safetensors") -- rank 0 writes
