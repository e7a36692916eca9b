-- examples/custom_layer.lua - a PELU layer written in Lua (trainable a and
-- b per unit, NonNeg constraints), trained, saved and loaded back with
-- custom_objects.  Its gradient comes from autograd; lunet's built-in
-- nn.PELU does the same in C.
--
--   build/lunet examples/custom_layer.lua [--epochs 40] [--out out]
local lunet = require("lunet")
local nn = lunet.nn

local opts = lunet.utils.parse_args(arg, { epochs = 40, out = "out", seed = 3 },
  "usage: lunet examples/custom_layer.lua [options]")

-- the Keras tutorial's PELU, line for line
local MyPELU = nn.Layer:extend("MyPELU")
function MyPELU:init(opts_)
  nn.Layer.init(self, opts_)
  self.units = opts_ and opts_.units -- kept in the saved config
  self.config = { units = self.units }
end
function MyPELU:build(input_shape)
  local units = input_shape[#input_shape]
  local init = lunet.initializers.RandomUniform({ minval = 0, maxval = 1 })
  self.alpha = self:add_weight({ name = "alpha", shape = { units }, initializer = init,
                                 constraint = lunet.constraints.NonNeg() })
  self.beta = self:add_weight({ name = "beta", shape = { units }, initializer = init,
                                constraint = lunet.constraints.NonNeg() })
end
function MyPELU:call(x, training)
  local pos = (self.alpha / self.beta) * x:relu()
  local neg = self.alpha * ((-(-x):relu() / self.beta):exp() - 1)
  return pos + neg
end

-- a 3-class problem: which of three directions a point is closest to
lunet.manual_seed(opts.seed)
local x = lunet.randn(2000, 8)
local centers = lunet.randn(8, 3)
local y = lunet.utils.to_categorical(x:matmul(centers):argmax(2):double() - 1, 3)

local model = nn.Sequential({
  nn.Dense(32, { input_shape = { 8 } }),
  MyPELU({ units = 32 }),
  nn.Dense(3, { activation = "softmax" }),
})
model:summary()
model:compile({ optimizer = lunet.optim.Adam({ learning_rate = 0.01 }), loss = "categorical_crossentropy",
  metrics = { "accuracy" } })
local history = model:fit(x, y, { epochs = opts.epochs, batch_size = 64, validation_split = 0.2, verbose = 0 })
local h = history.history
print(string.format("after %d epochs: loss %.4f accuracy %.4f, val_loss %.4f val_accuracy %.4f", opts.epochs,
  h.loss[#h.loss], h.accuracy[#h.accuracy], h.val_loss[#h.val_loss], h.val_accuracy[#h.val_accuracy]))
local a = model.layers[2].alpha
print(string.format("alpha after training: min %.4f max %.4f (NonNeg keeps it >= 0)", a:min():item(), a:max():item()))

os.execute("mkdir -p '" .. opts.out .. "'")
local path = opts.out .. "/custom_pelu.safetensors"
model:save(path)
-- nn.Layer:extend registers MyPELU in this process; a script that loads the
-- file elsewhere defines the class and passes it in custom_objects.  A
-- file naming a class nobody registered is refused:
local ok, err = pcall(nn.load_model, path, { custom_objects = { Unused = MyPELU } })
assert(ok, err)
local loaded = nn.load_model(path, { custom_objects = { MyPELU = MyPELU } })
print("loaded with custom_objects: " .. loaded.layers[2].name .. ", units = " .. tostring(loaded.layers[2].units))
print("same predictions: " .. tostring(lunet.equal(loaded:predict(x), model:predict(x))))
