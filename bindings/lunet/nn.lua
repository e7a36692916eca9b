--- The built-in layers, with Keras 2's names and defaults, and
-- `dropout_selu`.  A class is called to make a layer
-- (`nn.Dense(10, {activation = "softmax"})`) and has the protocol of
-- `lunet.layer`'s Layer.  Every layer takes the options of every layer
-- (`name`, `input_shape`, `dtype`, `trainable`: see `Layer:init`) and
-- refuses an option it does not know, as in
-- `"Dense: unknown option 'activaton' (known: activation, bias_constraint, ...)"`.
-- Their call and apply take float32 or float64 input.  A layer with
-- weights creates them when it is built: on first use, or when it is
-- added to a model that knows its input shape.
--
-- This module also re-exports the functions and the Layer class of
-- `lunet.layer`, and, once `lunet.model` is loaded (as `require("lunet").nn`
-- does), `Sequential`, `load_model` and `read_safetensors` of
-- `lunet.model`.  Their doc comments here are short; `lunet.layer` and
-- `lunet.model` have the full ones.
-- @module lunet.nn
-- @alias nn
local core = require("lunet.core")
local autograd = require("lunet.autograd")
local A = require("lunet.activations")
local I = require("lunet.initializers")
local C = require("lunet.constraints")
local utils = require("lunet.utils")
local check = require("lunet.check")

local nn = {}
local fmt = string.format
local is_tensor = core.is_tensor
local record = autograd.record

nn.shape_str = check.shape_str -- (s [, batch]): "(2, 3)", with batch "(None, 2, 3)"
local shape_str = check.shape_str

local L = require("lunet.layer")
local Layer = L.Layer
nn.Layer = Layer
nn.check_shape, nn.reset_names, nn.get_class, nn.register = L.check_shape, L.reset_names, L.get_class, L.register
local check_shape = L.check_shape
local LI = L._internal
local refuse, check_number, check_bool, check_seed = LI.refuse, LI.check_number, LI.check_bool, LI.check_seed
local check_sparse_dims, check_axes, check_opts = LI.check_sparse_dims, LI.check_axes, LI.check_opts
local get_for, serialize_spec, registry, guarded = LI.get_for, LI.serialize_spec, LI.registry, LI.guarded
local got = LI.got


-- ---- Dense ---------------------------------------------------------------------

--- The Dense layer.
-- @section Dense

--- A fully connected layer: `activation(x W + b)` over the last dim of x,
-- W the weight `kernel` (input size, units) and b the weight `bias`
-- (units).  x may have more dims than (batch, features); the others are
-- kept.  An activation of the C table runs fused with the product in one
-- kernel, forward and backward; softmax, log_softmax and functions run
-- after it.
-- @function Dense
-- @param units the output size, a positive integer
-- @param[opt] opts `activation` (a `lunet.activations` name, or a
-- function of the output; "linear"), `use_bias` (true),
-- `kernel_initializer` ("glorot_uniform"), `bias_initializer` ("zeros"),
-- `kernel_constraint` and `bias_constraint` (none), `input_dim` (Keras 2:
-- the same as `input_shape = {input_dim}`), and the options of every
-- layer.  A model whose layer has a function as one of these cannot be
-- saved.  An activation with weights ("prelu", "pelu") is an error that
-- points to its layer.
-- @return a Dense layer
local Dense = Layer:extend("Dense")
Dense.args = { "units" }
nn.Dense = Dense

local dense_opts = { activation = true, use_bias = true, kernel_initializer = true,
  bias_initializer = true, kernel_constraint = true, bias_constraint = true, input_dim = true }

-- the activations that need weights: as a string option they are an error
-- at construction, pointing to their layer
local weighted = { prelu = "PReLU", pelu = "PELU" }
local function check_activation_name(cls_name, act, level)
  if weighted[act] then
    local instead = cls_name == "Dense" and "a linear Dense followed by the %s layer (nn.%s())"
        or "the %s layer (nn.%s())"
    error(fmt("%s: activation '%s' has trainable weights and cannot be named here; use " .. instead,
      cls_name, act, weighted[act], weighted[act]), level + 1)
  end
  get_for(cls_name, A.get, act, level + 1) -- validate the name
end

-- The options Dense and Conv2D share (activation, use_bias, the kernel's and
-- bias' initializers and constraints), checked and kept on self; returns
-- their config entries.  Errors point at the caller of init.
local function kernel_options(self, cn, opts)
  self.activation = opts.activation or "linear"
  local at = type(self.activation)
  if at ~= "string" and at ~= "function" then refuse(cn, "activation must be a name or a function", self.activation, 4) end
  if at == "string" then check_activation_name(cn, self.activation, 4) end
  if at == "function" then self.function_option = "activation" end
  check_bool(cn, "use_bias", opts.use_bias, 4)
  self.use_bias = opts.use_bias ~= false
  self.kernel_initializer = get_for(cn, I.get, opts.kernel_initializer or "glorot_uniform", 4)
  self.bias_initializer = get_for(cn, I.get, opts.bias_initializer or "zeros", 4)
  self.kernel_constraint = get_for(cn, C.get, opts.kernel_constraint, 4)
  self.bias_constraint = get_for(cn, C.get, opts.bias_constraint, 4)
  return {
    activation = at == "string" and self.activation or nil, use_bias = self.use_bias,
    kernel_initializer = serialize_spec(opts.kernel_initializer or "glorot_uniform", I),
    bias_initializer = serialize_spec(opts.bias_initializer or "zeros", I),
    kernel_constraint = serialize_spec(opts.kernel_constraint, C),
    bias_constraint = serialize_spec(opts.bias_constraint, C),
  }
end

--- Dense's constructor body, which `Dense(units, opts)` runs.
-- @param units the output size
-- @param[opt] opts the options
function Dense:init(units, opts)
  if math.type(units) ~= "integer" or units < 1 then refuse(Dense.class_name, "units must be a positive integer", units, 3) end
  opts = check_opts(Dense.class_name, opts, dense_opts)
  if opts.input_dim ~= nil then -- Keras 2: input_dim = d is input_shape = {d}
    if math.type(opts.input_dim) ~= "integer" or opts.input_dim < 1 then
      refuse(Dense.class_name, "input_dim must be a positive integer", opts.input_dim, 3)
    end
    local s = opts.input_shape
    if s ~= nil and not (type(s) == "table" and #s == 1 and s[1] == opts.input_dim) then
      refuse(Dense.class_name, fmt("input_dim = %d disagrees with input_shape", opts.input_dim), s, 3)
    end
    local o = {}
    for k, v in pairs(opts) do o[k] = v end
    o.input_dim, o.input_shape = nil, { opts.input_dim }
    opts = o
  end
  Layer.init(self, opts)
  self.units = units
  self.config = kernel_options(self, Dense.class_name, opts)
  self.config.units = units
end

--- Create `kernel` (d, units) and, with `use_bias`, `bias` (units), d
-- the last dim of the sample shape, which must have one.
-- @param input_shape the sample shape (no batch dim)
function Dense:build(input_shape)
  if #input_shape < 1 then error(fmt("Dense: input needs at least 1 dim per sample (got %s)", shape_str(input_shape, true)), 2) end
  local d = input_shape[#input_shape]
  self.input_dim = d
  self.kernel = self:add_weight({ name = "kernel", shape = { d, self.units },
    initializer = self.kernel_initializer, constraint = self.kernel_constraint })
  if self.use_bias then
    self.bias = self:add_weight({ name = "bias", shape = { self.units },
      initializer = self.bias_initializer, constraint = self.bias_constraint })
  end
end

--- The sample shape with its last dim replaced by `units`.
-- @param input_shape the sample shape
-- @return the output sample shape
function Dense:compute_output_shape(input_shape)
  local s = {}
  for i = 1, #input_shape - 1 do s[i] = input_shape[i] end
  s[#s + 1] = self.units
  return s
end

-- the activations Dense fuses into its C call: every row of the C table,
-- with its parameters (read from the table once; saves_y: backward reads y)
local table_act = {}
for _, name in ipairs(core.activation_names()) do table_act[name] = core.activation_info(name) end

-- (ws: the layer's workspace in a training step, else nil)
local function dense_node(x, W, b, act, ws)
  local saves_y = table_act[act].saves_y
  local track = autograd.is_tracked(x) or autograd.is_tracked(W) or (b and autograd.is_tracked(b))
  local need_z = track and not saves_y and act ~= "linear"
  local y, z = core.dense(x, W, b, act, need_z, ws)
  if track then
    record("dense", y, { x, W, b }, function(g)
      local dx, dW, db = core.dense_backward(x, W, act, saves_y and y or z or nil, g, x:is_grad_tracked(),
        W:is_grad_tracked(), b and b:is_grad_tracked(), ws)
      return dx or nil, dW or nil, db or nil
    end, 3, true)
  end
  return y
end

-- An activation layer's fn(x), its C-table activation writing into the
-- layer's step buffers (activations.for_layer: the call takes the layer as
-- it starts; a function that is not a table activation leaves it, so it is
-- cleared after)
local function layer_activation(layer, x)
  A.for_layer(layer)
  local y = layer.fn(x)
  A.for_layer(nil)
  return y
end

-- Sequential asks each layer whether it `fuses_with` the next and then
-- runs the pair with `call_fused`: a Dense with the Dropout or AlphaDropout
-- after it, a Conv2D with the MaxPooling2D after it (below).
local fusion = true

--- Turn the fusion of layers in Sequential off (or on again): off, every
-- layer runs its own `call` (for comparing, or for reading each layer's
-- output).  On by default.
-- @param on a boolean
-- @return the previous setting
function nn.set_layer_fusion(on)
  if type(on) ~= "boolean" then check.arg_error("set_layer_fusion", "on", "a boolean", on, 2) end
  local was = fusion
  fusion = on
  return was
end

-- x (n, k) @ W + b, then the layer's activation: fused into the C pass
-- when the C table has it, else applied after (a softmax left out when
-- want_logits: the loss takes the logits)
local function affine_activation(layer, x, W, want_logits)
  local act = layer.activation
  local ws = autograd.workspace(layer)
  if type(act) == "string" and table_act[act] then return dense_node(x, W, layer.bias, act, ws) end
  local y = dense_node(x, W, layer.bias, "linear", ws)
  if want_logits and act == "softmax" then return y end
  return A.get(act)(y)
end

--- The forward pass on a built layer (`apply` builds), called as
-- `call(x, training, want_logits)`; training makes no difference to
-- Dense.  x's last dim must be the input size the layer was built for:
-- `"Dense: expected input with last dim 784, got (32, 10)"`.
-- @function Dense:call
-- @param x a float tensor with a batch dim
-- @param[opt] want_logits (the third argument) true to leave a softmax
-- activation out, for a loss that takes logits
-- @return the output: x's shape with the last dim `units`
function Dense:call(x, _, want_logits)
  if not self.input_dim then error(fmt("%s: Dense.call: the layer is not built (call it, or build_for(shape))", self.name), 2) end
  local s = x:shape()
  if s[#s] ~= self.input_dim then
    error(fmt("Dense: expected input with last dim %d, got %s", self.input_dim, shape_str(s)), 3)
  end
  local lead
  if #s ~= 2 then
    lead = s
    x = x:reshape(-1, self.input_dim)
  end
  local y = affine_activation(self, x, self.kernel, want_logits)
  if lead then
    local o = {}
    for i = 1, #lead - 1 do o[i] = lead[i] end
    o[#o + 1] = self.units
    y = y:reshape(o)
  end
  return y
end

--- Whether the activation is softmax, which `call` leaves out when asked
-- for logits.
-- @return a boolean
function Dense:ends_in_softmax() return self.activation == "softmax" end

-- ---- activation layers ---------------------------------------------------------

--- Activation layers.  They keep the input's shape; PReLU and PELU have
-- weights (the activations' parameters), the others none.
-- @section activations

--- A layer that applies an activation function: a `lunet.activations`
-- name (with the function's default parameters) or any function of x.
-- @function Activation
-- @param[opt] act the name (nil: "linear") or the function; a model with
-- a function here cannot be saved
-- @param[opt] opts the options of every layer
-- @return an Activation layer
local Activation = Layer:extend("Activation")
Activation.args = { "activation" }
nn.Activation = Activation
--- Activation's constructor body, which `Activation(act, opts)` runs.
-- @param[opt] act the activation
-- @param[opt] opts the options
function Activation:init(act, opts)
  if act ~= nil and type(act) ~= "string" and type(act) ~= "function" then
    refuse(Activation.class_name, "activation must be a name or a function", act, 3)
  end
  Layer.init(self, check_opts(Activation.class_name, opts, {}))
  if type(act) == "string" then check_activation_name(Activation.class_name, act, 3) end
  self.fn = get_for(Activation.class_name, A.get, act)
  self.activation = act
  if type(act) == "function" then self.function_option = "activation" end
  self.config = { activation = type(act) == "string" and act or nil }
end
-- the output shape of a layer that keeps its input's shape (no forward pass
-- on a zero sample, which for a large input_shape would allocate it)
local function same_shape(_, input_shape)
  local s = {}
  for i = 1, #input_shape do s[i] = input_shape[i] end
  return s
end
--- The output sample shape: the input's (a copy).
-- @function Activation:compute_output_shape
-- @param input_shape the sample shape
-- @return a copy of input_shape
Activation.compute_output_shape = same_shape

--- Apply the activation, called as `call(x, training, want_logits)`;
-- training makes no difference.
-- @function Activation:call
-- @param x a float tensor with a batch dim
-- @param[opt] want_logits (the third argument) true to return x as it is
-- when the activation is softmax, for a loss that takes logits
-- @return the output
function Activation:call(x, _, want_logits)
  if want_logits and self.activation == "softmax" then return x end
  if type(self.activation) ~= "string" then return self.fn(x) end
  return layer_activation(self, x)
end

--- Whether the activation is softmax, which `call` leaves out when asked
-- for logits.
-- @return a boolean
function Activation:ends_in_softmax() return self.activation == "softmax" end

-- The options of a layer whose options may come positionally first, in the
-- order of `args` as Keras takes them (`ReLU(50)` is max_value 50), then an
-- options table: (v1, v2, ..., opts) with opts last, or only opts.
local function positional_opts(name, args, ...)
  local n = select("#", ...)
  local last = n > 0 and select(n, ...) or nil
  local opts, np = nil, n
  if type(last) == "table" then opts, np = last, n - 1 end
  if np == 0 then return opts end
  if np > #args then
    error(fmt("%s: takes at most %d positional argument%s (%s) before the options, got %d", name, #args,
      #args == 1 and "" or "s", table.concat(args, ", "), np), 4)
  end
  local o = {}
  for k, v in pairs(opts or {}) do o[k] = v end
  for i = 1, np do
    local v = select(i, ...)
    if v ~= nil then
      if o[args[i]] ~= nil then
        error(fmt("%s: %s is given twice (positionally and in the options)", name, args[i]), 4)
      end
      o[args[i]] = v
    end
  end
  return o
end

-- A layer with the options of one activation function (`known`; each
-- checked by `check(opts, level)`) that applies `make(opts)`; `args` lists
-- the options that may also come positionally, in Keras' order.
local function simple_activation(name, known, check, make, args)
  local cls = Layer:extend(name)
  nn[name] = cls
  cls.compute_output_shape = same_shape
  cls.args = args
  function cls:init(...)
    local opts = check_opts(name, positional_opts(name, args, ...), known)
    check(opts, 3)
    Layer.init(self, opts)
    self.config = {}
    for k in pairs(known) do self.config[k] = opts[k] end
    self.fn = make(opts)
  end
  function cls:call(x) return layer_activation(self, x) end
  return cls
end

--- The rectifier `lunet.activations.relu` as a layer, with its options.
-- @function ReLU
-- @param[opt] ... max_value, negative_slope, threshold positionally (Keras' order), or none
-- @param[opt] opts `max_value` (none), `negative_slope` (0), `threshold` (0): finite
-- numbers, `max_value` and `negative_slope` >= 0, and the options of every layer
-- @return a ReLU layer

--- ReLU's constructor body, which `ReLU(...)` runs: options given
-- positionally first, in Keras' order (max_value, negative_slope, threshold), then the options table
-- (one given both ways is an error).
-- @function ReLU:init
-- @param ... the positional options, then the options table

--- Apply relu with the layer's options.
-- @function ReLU:call
-- @param x a float tensor with a batch dim
-- @return a new tensor of x's shape

--- The output sample shape: the input's (a copy).
-- @function ReLU:compute_output_shape
-- @param input_shape the sample shape
-- @return a copy of input_shape

--- `lunet.activations.leaky_relu` as a layer.
-- @function LeakyReLU
-- @param[opt] ... alpha positionally (Keras' order), or none
-- @param[opt] opts `alpha` (0.3): a finite number >= 0, and the options of every layer
-- @return a LeakyReLU layer

--- LeakyReLU's constructor body, which `LeakyReLU(...)` runs: options given
-- positionally first, in Keras' order (alpha), then the options table
-- (one given both ways is an error).
-- @function LeakyReLU:init
-- @param ... the positional options, then the options table

--- Apply leaky_relu with the layer's alpha.
-- @function LeakyReLU:call
-- @param x a float tensor with a batch dim
-- @return a new tensor of x's shape

--- The output sample shape: the input's (a copy).
-- @function LeakyReLU:compute_output_shape
-- @param input_shape the sample shape
-- @return a copy of input_shape

--- `lunet.activations.elu` as a layer.
-- @function ELU
-- @param[opt] ... alpha positionally (Keras' order), or none
-- @param[opt] opts `alpha` (1): a finite number, and the options of every layer
-- @return an ELU layer

--- ELU's constructor body, which `ELU(...)` runs: options given
-- positionally first, in Keras' order (alpha), then the options table
-- (one given both ways is an error).
-- @function ELU:init
-- @param ... the positional options, then the options table

--- Apply elu with the layer's alpha.
-- @function ELU:call
-- @param x a float tensor with a batch dim
-- @return a new tensor of x's shape

--- The output sample shape: the input's (a copy).
-- @function ELU:compute_output_shape
-- @param input_shape the sample shape
-- @return a copy of input_shape

--- `lunet.activations.thresholded_relu` as a layer.
-- @function ThresholdedReLU
-- @param[opt] ... theta positionally (Keras' order), or none
-- @param[opt] opts `theta` (1): a finite number >= 0, and the options of every layer
-- @return a ThresholdedReLU layer

--- ThresholdedReLU's constructor body, which `ThresholdedReLU(...)` runs: options given
-- positionally first, in Keras' order (theta), then the options table
-- (one given both ways is an error).
-- @function ThresholdedReLU:init
-- @param ... the positional options, then the options table

--- Apply thresholded_relu with the layer's theta.
-- @function ThresholdedReLU:call
-- @param x a float tensor with a batch dim
-- @return a new tensor of x's shape

--- The output sample shape: the input's (a copy).
-- @function ThresholdedReLU:compute_output_shape
-- @param input_shape the sample shape
-- @return a copy of input_shape

-- The layers of Keras' advanced activations whose options are a C table
-- row's parameters (names and defaults from the table): the layer, its
-- activation, and the lower bound of each option that has one (Keras'
-- checks); options are finite numbers, max_value may be left out.
-- Each takes its options positionally too, as Keras: ReLU(max_value,
-- negative_slope, threshold), LeakyReLU(alpha), ELU(alpha), ThresholdedReLU(theta).
for _, row in ipairs({
  { "ReLU", "relu", { max_value = 0, negative_slope = 0 }, { "max_value", "negative_slope", "threshold" } },
  { "LeakyReLU", "leaky_relu", { alpha = 0 }, { "alpha" } },
  { "ELU", "elu", {}, { "alpha" } },
  { "ThresholdedReLU", "thresholded_relu", { theta = 0 }, { "theta" } },
}) do
  local cls_name, act, mins, args = row[1], row[2], row[3], row[4]
  local known = {}
  for _, p in ipairs(table_act[act].params) do known[p] = true end
  local fn = A[act]
  simple_activation(cls_name, known, function(o, level)
    for p in pairs(known) do check_number(cls_name, p, o[p], mins[p], false, true, level + 1) end
  end, function(o)
    local opts = {}
    for p in pairs(known) do opts[p] = o[p] end
    return function(x) return fn(x, opts) end
  end, args)
end
--- `lunet.activations.softmax` as a layer.
-- @function Softmax
-- @param[opt] ... axis positionally (Keras' order), or none
-- @param[opt] opts `axis` (-1: the last; a non-zero integer, counting the
-- batch dim), and the options of every layer
-- @return a Softmax layer

--- Softmax's constructor body, which `Softmax(...)` runs: options given
-- positionally first, in Keras' order (axis), then the options table
-- (one given both ways is an error).
-- @function Softmax:init
-- @param ... the positional options, then the options table
local Softmax = simple_activation("Softmax", { axis = true }, function(o, level)
  if o.axis ~= nil and (math.type(o.axis) ~= "integer" or o.axis == 0) then
    refuse("Softmax", "axis must be a non-zero integer", o.axis, level + 1)
  end
end, function(o)
  return function(x) return A.softmax(x, o.axis or -1) end
end, { "axis" })
--- Apply softmax along the axis, called as `call(x, training, want_logits)`;
-- training makes no difference.
-- @function Softmax:call
-- @param x a float tensor with a batch dim
-- @param[opt] want_logits (the third argument) true to return x as it is
-- when the axis is the last, for a loss that takes logits
-- @return the output, x's shape

function Softmax:call(x, _, want_logits)
  if want_logits and (self.config.axis or -1) == -1 then return x end
  return self.fn(x)
end

--- Whether the softmax is over the last dim (what a fused loss computes).
-- @return a boolean
function Softmax:ends_in_softmax() return (self.config.axis or -1) == -1 end

--- The output sample shape, the input's; an axis out of range for the
-- input (batch dim included) is an error:
-- `"Softmax: axis 3 out of range for input of shape (None, 4)"`.
-- @param input_shape the sample shape
-- @return a copy of input_shape
function Softmax:compute_output_shape(input_shape)
  local axis, nd = self.config.axis or -1, #input_shape + 1 -- the batch dim counts
  if axis < -nd or axis > nd then
    error(fmt("Softmax: axis %d out of range for input of shape %s", axis, shape_str(input_shape, true)), 0)
  end
  return same_shape(self, input_shape)
end

-- the weight shape of PReLU/PELU: the sample shape with shared axes set to 1
local function param_shape(cls_name, input_shape, shared_axes, per_unit)
  local s = {}
  if per_unit then
    s = { input_shape[#input_shape] }
    return s
  end
  for i = 1, #input_shape do s[i] = input_shape[i] end
  for _, a in ipairs(shared_axes or {}) do
    if math.type(a) ~= "integer" or a < 1 or a > #s then
      error(fmt("%s: shared axis %s out of range for input shape %s", cls_name, tostring(a),
        shape_str(input_shape, true)), 4)
    end
    s[a] = 1
  end
  return s
end

--- The parametric rectifier `lunet.activations.prelu` as a layer, whose
-- weight `alpha` has the sample shape (one value per element), with 1 on
-- the shared axes.
-- @function PReLU
-- @param[opt] opts `alpha_initializer` ("zeros"), `alpha_constraint`
-- (none), `shared_axes` (none: a positive integer or an array of them,
-- the sample's axes from 1, so the same numbers as Keras'), and the
-- options of every layer
-- @return a PReLU layer
local PReLU = Layer:extend("PReLU")
nn.PReLU = PReLU
--- PReLU's constructor body, which `PReLU(opts)` runs.
-- @param[opt] opts the options
function PReLU:init(opts)
  opts = check_opts(PReLU.class_name, opts, { alpha_initializer = true, alpha_constraint = true, shared_axes = true })
  local axes = check_axes(PReLU.class_name, opts.shared_axes, 3)
  Layer.init(self, opts)
  self.alpha_initializer = get_for(PReLU.class_name, I.get, opts.alpha_initializer or "zeros")
  self.alpha_constraint = get_for(PReLU.class_name, C.get, opts.alpha_constraint)
  self.shared_axes = axes
  self.config = { alpha_initializer = serialize_spec(opts.alpha_initializer or "zeros", I),
    alpha_constraint = serialize_spec(opts.alpha_constraint, C), shared_axes = axes }
end
--- The output sample shape: the input's (a copy).
-- @function PReLU:compute_output_shape
-- @param input_shape the sample shape
-- @return a copy of input_shape
PReLU.compute_output_shape = same_shape

--- Create `alpha`: the sample shape with 1 on the shared axes; a shared
-- axis beyond the sample's dims is an error:
-- `"PReLU: shared axis 3 out of range for input shape (None, 4)"`.
-- @param input_shape the sample shape
function PReLU:build(input_shape)
  self.alpha = self:add_weight({ name = "alpha", shape = param_shape(PReLU.class_name, input_shape, self.shared_axes),
    initializer = self.alpha_initializer, constraint = self.alpha_constraint })
end
--- Apply prelu with the layer's alpha.
-- @param x a float tensor with a batch dim
-- @return a new tensor of x's shape
function PReLU:call(x) return A.prelu(x, self.alpha) end

--- The parametric ELU `lunet.activations.pelu` as a layer, with the
-- weights `alpha` (a) and `beta` (b): one of each per unit of the last
-- dim, or, with shared_axes, of the sample shape with 1 on the shared axes.
-- @function PELU
-- @param[opt] opts `alpha_initializer` and `beta_initializer` ("ones"),
-- `alpha_constraint` and `beta_constraint` (MinValue(0.1), which keeps a
-- and b away from 0), `shared_axes` (as PReLU's), `tutorial_init` (false;
-- true, as the Keras PELU tutorial: an initializer left at "ones"
-- becomes RandomUniform(0, 1), a constraint not given NonNeg), and the
-- options of every layer
-- @return a PELU layer
local PELU = Layer:extend("PELU")
nn.PELU = PELU
--- PELU's constructor body, which `PELU(opts)` runs.
-- @param[opt] opts the options
function PELU:init(opts)
  opts = check_opts(PELU.class_name, opts, { alpha_initializer = true, beta_initializer = true,
    alpha_constraint = true, beta_constraint = true, shared_axes = true, tutorial_init = true })
  opts.shared_axes = check_axes(PELU.class_name, opts.shared_axes, 3)
  check_bool(PELU.class_name, "tutorial_init", opts.tutorial_init, 3)
  Layer.init(self, opts)
  local ai, bi = opts.alpha_initializer or "ones", opts.beta_initializer or "ones"
  local ac, bc = opts.alpha_constraint, opts.beta_constraint
  if opts.tutorial_init then
    ai = ai ~= "ones" and ai or { class_name = "RandomUniform", config = { minval = 0, maxval = 1 } }
    bi = bi ~= "ones" and bi or { class_name = "RandomUniform", config = { minval = 0, maxval = 1 } }
    ac, bc = ac or C.NonNeg(), bc or C.NonNeg()
  end
  ac = ac or C.MinValue(0.1)
  bc = bc or C.MinValue(0.1)
  self.ai, self.bi = get_for(PELU.class_name, I.get, ai), get_for(PELU.class_name, I.get, bi)
  self.ac, self.bc = get_for(PELU.class_name, C.get, ac), get_for(PELU.class_name, C.get, bc)
  self.shared_axes = opts.shared_axes
  self.config = { alpha_initializer = serialize_spec(ai, I), beta_initializer = serialize_spec(bi, I),
    alpha_constraint = serialize_spec(self.ac, C), beta_constraint = serialize_spec(self.bc, C),
    shared_axes = opts.shared_axes }
end
--- The output sample shape: the input's (a copy).
-- @function PELU:compute_output_shape
-- @param input_shape the sample shape
-- @return a copy of input_shape
PELU.compute_output_shape = same_shape

--- Create `alpha` and `beta`, of the shape the constructor describes.
-- @param input_shape the sample shape
function PELU:build(input_shape)
  local s = param_shape(PELU.class_name, input_shape, self.shared_axes, self.shared_axes == nil)
  self.a = self:add_weight({ name = "alpha", shape = s, initializer = self.ai, constraint = self.ac })
  self.b = self:add_weight({ name = "beta", shape = s, initializer = self.bi, constraint = self.bc })
end
--- Apply pelu with the layer's a and b.
-- @param x a float tensor with a batch dim
-- @return a new tensor of x's shape
function PELU:call(x) return A.pelu(x, self.a, self.b) end

-- ---- the dropout family --------------------------------------------------------

--- Dropout and noise.  These layers act only in training (`training`
-- true, as in `fit` and `train_on_batch`) and return x itself otherwise;
-- they keep the input's shape and have no weights.  With a `seed`
-- option a layer draws from a generator of its own, seeded at its first
-- draw and continued from there, and leaves lunet's global generator as
-- it was; without one it draws from the global generator.  A
-- `noise_shape` option is the shape of the mask, over x's dims with the
-- batch first: a missing entry takes x's size, a 1 shares the mask along
-- that dim.
-- @section dropout

local ALPHA_P = -1.7580993408473766

-- Draw with the layer's own generator when it has a seed.
-- the layer's generator swapped in, and the global one put back on every way
-- out (return, error, yield: autograd.with_scope)
local function rng_enter(layer)
  local saved = core.get_rng_state()
  if layer.rng_state == nil then core.manual_seed(layer.seed) else core.set_rng_state(layer.rng_state) end
  return saved
end
local function rng_leave(saved, layer)
  layer.rng_state = core.get_rng_state()
  core.set_rng_state(saved)
end
local function with_layer_rng(layer, fn)
  if layer.seed == nil then return fn() end
  return autograd.with_scope(rng_enter, rng_leave, layer, fn)
end

-- a uint8 keep mask of x's shape from a noise_shape (nil entries = x's)
local function broadcast_mask(x, noise_shape, rate)
  local xs = x:shape()
  local ns = {}
  for i = 1, #xs do
    local v = noise_shape[i]
    ns[i] = type(v) == "number" and v or xs[i]
  end
  local keep = core.rand(ns, "float64"):ge(rate)
  return core.where(keep, core.ones(xs), 0):byte()
end

-- y = keep ? a*x + b : a*alpha + b as one node, gradient a*keep
local function dropout_node(layer, x, rate, a, b, alpha)
  local ws = autograd.workspace(layer)
  local y, keep = with_layer_rng(layer, function()
    if layer.noise_shape then
      local mask = broadcast_mask(x, layer.noise_shape, rate)
      return core.dropout(x, rate, a, b, alpha, mask, ws)
    end
    return core.dropout(x, rate, a, b, alpha, nil, ws)
  end)
  if autograd.is_tracked(x) then
    record("dropout", y, { x }, function(g) return core.dropout_backward(g, keep, a, ws) end, 1, true)
  end
  return y
end

-- level: as check_rate's caller would pass it to error() (3 from a layer's init)
local function check_rate(cls_name, rate, level)
  if type(rate) ~= "number" or not (rate >= 0 and rate < 1) then
    refuse(cls_name, "rate must be a number in [0, 1)", rate, (level or 3) + 1)
  end
end

-- noise_shape and seed of the dropout layers (levels as check_rate)
local function check_noise_opts(cls_name, opts)
  check_sparse_dims(cls_name, "noise_shape", opts.noise_shape, 4)
  check_seed(cls_name, opts.seed, 4)
end

--- Drop each element with probability `rate` and scale the kept ones by
-- 1 / (1 - rate).
-- @function Dropout
-- @param rate a number in [0, 1)
-- @param[opt] opts `noise_shape`, `seed` (an integer), and the options of
-- every layer
-- @return a Dropout layer
local Dropout = Layer:extend("Dropout")
Dropout.args = { "rate" }
nn.Dropout = Dropout
--- Dropout's constructor body, which `Dropout(rate, opts)` runs.
-- @param rate the rate
-- @param[opt] opts the options
function Dropout:init(rate, opts)
  check_rate(Dropout.class_name, rate)
  opts = check_opts(Dropout.class_name, opts, { noise_shape = true, seed = true })
  check_noise_opts(Dropout.class_name, opts)
  Layer.init(self, opts)
  self.rate, self.noise_shape, self.seed = rate, opts.noise_shape, opts.seed
  self.config = { rate = rate, noise_shape = opts.noise_shape, seed = opts.seed }
end
--- The output sample shape: the input's (a copy).
-- @function Dropout:compute_output_shape
-- @param input_shape the sample shape
-- @return a copy of input_shape
Dropout.compute_output_shape = same_shape

--- Apply dropout in training.
-- @param x a float tensor with a batch dim
-- @param[opt] training true in training; else (or with rate 0) x is returned
-- @return the output
function Dropout:call(x, training)
  if not training or self.rate == 0 then return x end
  return dropout_node(self, x, self.rate, 1 / (1 - self.rate), 0, 0)
end

--- The constants of the SNN authors' dropout_selu (SEMANTICS.md): with
-- q = 1 - rate, `a = sqrt(var / (q * ((1 - q) * (alpha - mean)^2 + var)))`
-- and `b = mean - a * (q * mean + (1 - q) * alpha)`; a dropped unit is
-- `a * alpha + b`.  With mean 0 and var 1 they are AlphaDropout's.
-- @param rate the drop rate, a number in [0, 1)
-- @param[opt=-1.7580993408473766] alpha the value a dropped unit takes
-- before the affine map (SELU's -scale * alpha)
-- @param[opt=0] mean the fixed-point mean, a finite number
-- @param[opt=1] var the fixed-point variance, a finite number > 0
-- @return a
-- @return b
-- @return alpha (its default when nil was given)
function nn.dropout_selu_constants(rate, alpha, mean, var)
  alpha, mean, var = alpha or ALPHA_P, mean or 0, var or 1
  check_number("dropout_selu_constants", "rate", rate, 0, false, false, 2)
  if not (rate < 1) then refuse("dropout_selu_constants", "rate must be < 1", rate, 2) end
  check_number("dropout_selu_constants", "alpha", alpha, nil, false, false, 2)
  check_number("dropout_selu_constants", "fixed_point_mean", mean, nil, false, false, 2)
  check_number("dropout_selu_constants", "fixed_point_var", var, 0, true, false, 2)
  local q = 1 - rate
  local a = math.sqrt(var / (q * ((1 - q) * (alpha - mean) ^ 2 + var)))
  local b = mean - a * (q * mean + (1 - q) * alpha)
  return a, b, alpha
end

-- dropout_selu's options: lunet's names, and the SNN authors' TensorFlow
-- names (seed 000) as aliases
local dropout_selu_opts = { alpha = true, fixed_point_mean = true, fixed_point_var = true,
  noise_shape = true, seed = true, training = true, name = true }
local dropout_selu_aliases = { fixedPointMean = "fixed_point_mean", fixedPointVar = "fixed_point_var" }

--- The SNN authors' dropout_selu (seed 000): keep each element with
-- probability 1 - rate, set the dropped ones to alpha, then apply
-- `a * y + b`, a and b from `dropout_selu_constants`; the gradient is a
-- where kept, 0 where dropped.  As in their signature it is the identity
-- unless `training = true`; while it is not, rate 1 is accepted too (the
-- seed feeds 1 for testing).  `rate` is the drop rate, as their
-- implementation uses its second argument (`keep_prob = 1 - rate` inside
-- dropout_selu_impl), whatever the argument's name there.  Their option
-- names fixedPointMean and fixedPointVar are accepted too; `name` is
-- accepted and ignored (a TensorFlow graph name); other keys are an error.
-- With a seed, the same seed gives the same mask on every call.
-- @param x a float tensor
-- @param rate the drop rate, a number in [0, 1)
-- @param[opt] opts `alpha` (-1.7580993408473766), `fixed_point_mean` (0),
-- `fixed_point_var` (1), `noise_shape`, `seed`, `training` (false), `name`
-- @return the output, x's shape
function nn.dropout_selu(x, rate, opts)
  check.float_tensor("dropout_selu", "x", x, 2)
  -- rate 1 is the identity when not training (the seed feeds 1 for testing)
  if rate ~= 1 or (type(opts) == "table" and opts.training == true) then check_rate("dropout_selu", rate, 2) end
  local o = {}
  for k, v in pairs(utils.check_options("dropout_selu", opts, dropout_selu_opts, 2, dropout_selu_aliases)) do
    local key = dropout_selu_aliases[k] or k
    if o[key] ~= nil then
      error(fmt("dropout_selu: %s is given twice (as %s and %s)", key, key, k == key and "its alias" or k), 2)
    end
    o[key] = v
  end
  check_bool("dropout_selu", "training", o.training, 2)
  check_sparse_dims("dropout_selu", "noise_shape", o.noise_shape, 2)
  check_seed("dropout_selu", o.seed, 2)
  if o.name ~= nil and type(o.name) ~= "string" then refuse("dropout_selu", "name must be a string", o.name, 2) end
  local a, b, alpha
  if rate < 1 then a, b, alpha = nn.dropout_selu_constants(rate, o.alpha, o.fixed_point_mean, o.fixed_point_var) end
  if o.training ~= true or rate == 0 then return x end
  return dropout_node({ noise_shape = o.noise_shape, seed = o.seed }, x, rate, a, b, alpha)
end

--- Dropout for SELU networks (SEMANTICS.md): an input of mean 0 and
-- variance 1 keeps them.  A dropped element becomes alpha' =
-- -1.7580993408473766, then every element `a * y + b`, with a and b
-- `dropout_selu_constants(rate, alpha', mean, var)`; with the default
-- mean 0 and var 1 they are Keras' AlphaDropout's,
-- `a = ((1 - rate) * (1 + rate * alpha'^2))^(-1/2)` and `b = -a * alpha' * rate`.
-- @function AlphaDropout
-- @param rate a number in [0, 1)
-- @param[opt] opts `noise_shape`, `seed` (an integer), `fixed_point_mean`
-- (0; a finite number) and `fixed_point_var` (1; a finite number > 0),
-- and the options of every layer
-- @return an AlphaDropout layer
local AlphaDropout = Layer:extend("AlphaDropout")
AlphaDropout.args = { "rate" }
nn.AlphaDropout = AlphaDropout
--- AlphaDropout's constructor body, which `AlphaDropout(rate, opts)` runs.
-- @param rate the rate
-- @param[opt] opts the options
function AlphaDropout:init(rate, opts)
  check_rate(AlphaDropout.class_name, rate)
  opts = check_opts(AlphaDropout.class_name, opts,
    { noise_shape = true, seed = true, fixed_point_mean = true, fixed_point_var = true })
  check_noise_opts(AlphaDropout.class_name, opts)
  check_number(AlphaDropout.class_name, "fixed_point_mean", opts.fixed_point_mean, nil, false, true, 3)
  check_number(AlphaDropout.class_name, "fixed_point_var", opts.fixed_point_var, 0, true, true, 3)
  Layer.init(self, opts)
  self.rate, self.noise_shape, self.seed = rate, opts.noise_shape, opts.seed
  self.a, self.b, self.alpha = nn.dropout_selu_constants(rate, ALPHA_P, opts.fixed_point_mean, opts.fixed_point_var)
  self.config = { rate = rate, noise_shape = opts.noise_shape, seed = opts.seed,
    fixed_point_mean = opts.fixed_point_mean, fixed_point_var = opts.fixed_point_var }
end
--- The output sample shape: the input's (a copy).
-- @function AlphaDropout:compute_output_shape
-- @param input_shape the sample shape
-- @return a copy of input_shape
AlphaDropout.compute_output_shape = same_shape

--- Apply alpha dropout in training.
-- @param x a float tensor with a batch dim
-- @param[opt] training true in training; else (or with rate 0) x is returned
-- @return the output
function AlphaDropout:call(x, training)
  if not training or self.rate == 0 then return x end
  return dropout_node(self, x, self.rate, self.a, self.b, self.alpha)
end

-- ---- a Dense and the Dropout or AlphaDropout after it as one pass -----------------
-- In training core.dense_dropout applies the mask to each block of the
-- Dense's output while it is in cache, and the backward starts from the
-- masked gradient in the same pass as the activation's derivative and the
-- bias gradient: one node instead of two, the same numbers to the bit.

-- rate, a, b and the dropped unit's alpha of a dropout layer that fuses
-- (its own class, no noise_shape), else nil
local function fusable_dropout(l)
  if type(l) ~= "table" or l.noise_shape ~= nil then return nil end
  local mt = getmetatable(l)
  if mt == Dropout then return l.rate, 1 / (1 - l.rate), 0, 0 end
  if mt == AlphaDropout then return l.rate, l.a, l.b, l.alpha end
  return nil
end

local function dense_dropout_node(layer, drop, x, act)
  local rate, a, b, alpha = fusable_dropout(drop)
  local W, bias = layer.kernel, layer.bias
  local track = autograd.is_tracked(x) or autograd.is_tracked(W) or (bias and autograd.is_tracked(bias))
  local ws = autograd.workspace(layer)
  local y, z, keep = with_layer_rng(drop, function()
    return core.dense_dropout(x, W, bias, act, track and act ~= "linear", ws, rate, a, b, alpha)
  end)
  if track then
    record("dense_dropout", y, { x, W, bias }, function(g)
      local dx, dW, db = core.dense_backward(x, W, act, z or nil, g, x:is_grad_tracked(), W:is_grad_tracked(),
        bias and bias:is_grad_tracked(), ws, keep, a)
      return dx or nil, dW or nil, db or nil
    end, 3, true)
  end
  return y
end

--- Whether `call_fused` can run this layer and `nxt` (the layer after it
-- in a Sequential) as one pass: `nxt` a Dropout or AlphaDropout without
-- noise_shape, this layer's activation linear or one of the C table whose
-- derivative reads its input (relu, selu, elu, ...: not sigmoid or tanh,
-- whose derivative reads the output the dropout replaces), neither class
-- changed, and fusion on (`nn.set_layer_fusion`).
-- @param nxt the next layer
-- @return a boolean
function Dense:fuses_with(nxt)
  local act = self.activation
  return fusion and getmetatable(self) == Dense and self.kernel ~= nil and fusable_dropout(nxt) ~= nil
    and type(act) == "string" and (act == "linear" or (table_act[act] ~= nil and not table_act[act].saves_y))
end

--- This layer, then `nxt` (see `fuses_with`), in one pass in training:
-- `nxt:call(self:call(x, training), training)` to the bit.  At inference
-- (the dropout is the identity), on input of rank > 2, or with rate 0 the
-- two calls themselves.
-- @param x a float tensor with a batch dim
-- @param nxt the dropout layer after this one
-- @param[opt] training true in training
-- @return the output
function Dense:call_fused(x, nxt, training)
  if not self:fuses_with(nxt) then
    error(fmt("%s: Dense.call_fused: cannot fuse with %s", self.name, tostring(nxt)), 2)
  end
  if not training or nxt.rate == 0 or x:dim() ~= 2 or x:size(2) ~= self.input_dim then
    return nxt:call(self:call(x, training), training)
  end
  return dense_dropout_node(self, nxt, x, self.activation)
end

--- Multiply x by noise drawn from a normal distribution of mean 1 and
-- standard deviation `sqrt(rate / (1 - rate))`.
-- @function GaussianDropout
-- @param rate a number in [0, 1)
-- @param[opt] opts `seed` (an integer), and the options of every layer
-- @return a GaussianDropout layer
local GaussianDropout = Layer:extend("GaussianDropout")
GaussianDropout.args = { "rate" }
nn.GaussianDropout = GaussianDropout
--- GaussianDropout's constructor body, which `GaussianDropout(rate, opts)` runs.
-- @param rate the rate
-- @param[opt] opts the options
function GaussianDropout:init(rate, opts)
  check_rate(GaussianDropout.class_name, rate)
  opts = check_opts(GaussianDropout.class_name, opts, { seed = true })
  check_seed(GaussianDropout.class_name, opts.seed, 3)
  Layer.init(self, opts)
  self.rate, self.seed = rate, (opts or {}).seed
  self.config = { rate = rate, seed = self.seed }
end
--- The output sample shape: the input's (a copy).
-- @function GaussianDropout:compute_output_shape
-- @param input_shape the sample shape
-- @return a copy of input_shape
GaussianDropout.compute_output_shape = same_shape

--- Apply the multiplicative noise in training.
-- @param x a float tensor with a batch dim
-- @param[opt] training true in training; else (or with rate 0) x is returned
-- @return the output
function GaussianDropout:call(x, training)
  if not training or self.rate == 0 then return x end
  local std = math.sqrt(self.rate / (1 - self.rate))
  local noise = with_layer_rng(self, function() return core.normal(x:shape(), 1, std, x:dtype()) end)
  return x * noise
end

--- Add noise drawn from a normal distribution of mean 0 and standard
-- deviation `stddev`.
-- @function GaussianNoise
-- @param stddev a finite number >= 0
-- @param[opt] opts `seed` (an integer), and the options of every layer
-- @return a GaussianNoise layer
local GaussianNoise = Layer:extend("GaussianNoise")
GaussianNoise.args = { "stddev" }
nn.GaussianNoise = GaussianNoise
--- GaussianNoise's constructor body, which `GaussianNoise(stddev, opts)` runs.
-- @param stddev the standard deviation
-- @param[opt] opts the options
function GaussianNoise:init(stddev, opts)
  check_number(GaussianNoise.class_name, "stddev", stddev, 0, false, false, 3)
  opts = check_opts(GaussianNoise.class_name, opts, { seed = true })
  check_seed(GaussianNoise.class_name, opts.seed, 3)
  Layer.init(self, opts)
  self.stddev, self.seed = stddev, (opts or {}).seed
  self.config = { stddev = stddev, seed = self.seed }
end
--- The output sample shape: the input's (a copy).
-- @function GaussianNoise:compute_output_shape
-- @param input_shape the sample shape
-- @return a copy of input_shape
GaussianNoise.compute_output_shape = same_shape

--- Add the noise in training.
-- @param x a float tensor with a batch dim
-- @param[opt] training true in training; else (or with stddev 0) x is returned
-- @return the output
function GaussianNoise:call(x, training)
  if not training or self.stddev == 0 then return x end
  local noise = with_layer_rng(self, function() return core.normal(x:shape(), 0, self.stddev, x:dtype()) end)
  return x + noise
end

-- ---- convolution and pooling (NHWC, as Keras' channels_last) -------------------

-- an int or a pair of positive ints (Keras' kernel_size, strides, pool_size)
local function pair(cls_name, key, given, level)
  local v = math.type(given) == "integer" and { given, given } or given
  if type(v) ~= "table" or #v ~= 2 or math.type(v[1]) ~= "integer" or math.type(v[2]) ~= "integer"
      or v[1] < 1 or v[2] < 1 then
    refuse(cls_name, key .. " must be a positive integer or a pair of them", given, level + 1)
  end
  return { v[1], v[2] }
end

local function check_padding(cls_name, v, level)
  if v ~= nil and v ~= "valid" and v ~= "same" then
    refuse(cls_name, 'padding must be "valid" or "same"', v, level + 1)
  end
  return v or "valid"
end

local function check_channels_last(cls_name, v, level)
  if v ~= nil and v ~= "channels_last" then
    refuse(cls_name, 'data_format must be "channels_last" (lunet is NHWC, as Keras\' default)', v, level + 1)
  end
end

-- the output size of a window over n cells, as TensorFlow ("same": ceil(n / s))
local function out_size(n, k, s, d, padding)
  if padding == "same" then return (n + s - 1) // s end
  return (n - ((k - 1) * d + 1)) // s + 1
end

-- a sample shape (h, w, c) for a layer that takes images
local function image_shape(layer, input_shape, level)
  if #input_shape ~= 3 then
    error(fmt("%s (%s): expected input (batch, height, width, channels), got %s", layer.name, layer.class_name,
      shape_str(input_shape, true)), level + 1)
  end
  return input_shape[1], input_shape[2], input_shape[3]
end

-- x must be a 4-d (batch, height, width, channels) tensor; errors name the
-- layer and point at the caller of its call (level 3 from here)
local function check_image_input(layer, x)
  if x:dim() ~= 4 then
    error(fmt("%s (%s): expected input (batch, height, width, channels), got %s", layer.name, layer.class_name,
      shape_str(x:shape())), 4)
  end
end

--- A 2-d convolution over NHWC images, as Keras' Conv2D: `filters` kernels
-- of `kernel_size` (the weight `kernel`, (kh, kw, channels, filters) as
-- Keras stores it) and the weight `bias` (filters).  im2col, then one GEMM
-- with the bias and the activation fused, as Dense.
-- @function Conv2D
-- @param filters the number of output channels, a positive integer
-- @param kernel_size an integer or {kh, kw}
-- @param[opt] opts `strides` (1), `padding` ("valid" or "same", as
-- TensorFlow pads), `dilation_rate` (1; not with strides > 1),
-- `activation` ("linear"), `use_bias` (true), `kernel_initializer`
-- ("glorot_uniform", fans from the receptive field), `bias_initializer`
-- ("zeros"), `kernel_constraint`, `bias_constraint`, `data_format` (only
-- "channels_last"), and the options of every layer
-- @return a Conv2D layer
local Conv2D = Layer:extend("Conv2D")
Conv2D.args = { "filters", "kernel_size" }
nn.Conv2D = Conv2D

local conv_opts = { strides = true, padding = true, dilation_rate = true, activation = true, use_bias = true,
  kernel_initializer = true, bias_initializer = true, kernel_constraint = true, bias_constraint = true,
  data_format = true }

--- Conv2D's constructor body, which `Conv2D(filters, kernel_size, opts)` runs.
-- @param filters the number of output channels
-- @param kernel_size an integer or {kh, kw}
-- @param[opt] opts the options
function Conv2D:init(filters, kernel_size, opts)
  local cn = Conv2D.class_name
  if math.type(filters) ~= "integer" or filters < 1 then refuse(cn, "filters must be a positive integer", filters, 3) end
  local k = pair(cn, "kernel_size", kernel_size, 3)
  opts = check_opts(cn, opts, conv_opts)
  check_channels_last(cn, opts.data_format, 3)
  local strides = pair(cn, "strides", opts.strides or 1, 3)
  local dilation = pair(cn, "dilation_rate", opts.dilation_rate or 1, 3)
  if (strides[1] > 1 or strides[2] > 1) and (dilation[1] > 1 or dilation[2] > 1) then
    refuse(cn, "strides > 1 with dilation_rate > 1 is not supported (as in Keras)", opts.strides, 3)
  end
  local padding = check_padding(cn, opts.padding, 3)
  Layer.init(self, opts)
  self.filters, self.kernel_size, self.strides, self.dilation_rate, self.padding = filters, k, strides, dilation, padding
  local config = kernel_options(self, cn, opts)
  config.filters, config.kernel_size, config.strides, config.padding, config.dilation_rate =
    filters, k, strides, padding, dilation
  self.config = config
end

--- Make the kernel (kh, kw, channels, filters), as Keras stores it, and the bias (filters).
-- @param input_shape the sample shape (height, width, channels)
function Conv2D:build(input_shape)
  local _, _, c = image_shape(self, input_shape, 2)
  self.channels = c
  self.kernel = self:add_weight({ name = "kernel", shape = { self.kernel_size[1], self.kernel_size[2], c, self.filters },
    initializer = self.kernel_initializer, constraint = self.kernel_constraint })
  if self.use_bias then
    self.bias = self:add_weight({ name = "bias", shape = { self.filters },
      initializer = self.bias_initializer, constraint = self.bias_constraint })
  end
end

--- The output sample shape (oh, ow, filters); a window that does not fit a
-- "valid" input is an error naming both sizes.
-- @param input_shape the sample shape (height, width, channels)
-- @return the output sample shape
function Conv2D:compute_output_shape(input_shape)
  local h, w = image_shape(self, input_shape, 2)
  local k, s, d = self.kernel_size, self.strides, self.dilation_rate
  local oh, ow = out_size(h, k[1], s[1], d[1], self.padding), out_size(w, k[2], s[2], d[2], self.padding)
  if oh < 1 or ow < 1 then
    error(fmt("%s (Conv2D): a %dx%d kernel (dilation %dx%d) does not fit an input of %dx%d with padding \"valid\"",
      self.name, k[1], k[2], d[1], d[2], h, w), 0)
  end
  return { oh, ow, self.filters }
end

-- act(conv(x, kernel) + bias) as one autograd node: core.conv2d runs im2col,
-- the GEMM and the fused bias-activation pass chunk by chunk, and its backward
-- the activation derivative, the bias and kernel gradients and col2im.  The
-- workspace both use is kept on the layer and reused from step to step.
-- The workspace argument of core.conv2d and core.conv2d_pool: in a
-- training step the layer's buffers (bufs, from autograd.workspace) with
-- the im2col workspace in them as `col`, else that workspace alone.
local function conv_ws(layer, bufs)
  if not bufs then return layer.workspace end
  bufs.col = layer.workspace
  return bufs
end

local function conv_node(layer, x, act)
  local W, b, s, d, pad = layer.kernel, layer.bias, layer.strides, layer.dilation_rate, layer.padding
  local saves_y = act ~= "linear" and table_act[act].saves_y
  local track = autograd.is_tracked(x) or autograd.is_tracked(W) or (b and autograd.is_tracked(b))
  local need_z = track and act ~= "linear" and not saves_y
  -- in a training step the results and gradients go into the step before's
  -- buffers, a table that also holds the im2col workspace as `col`
  local bufs = autograd.workspace(layer)
  local y, z, col = core.conv2d(x, W, b, act, s[1], s[2], d[1], d[2], pad, need_z, conv_ws(layer, bufs))
  layer.workspace = col
  if track then
    record("conv2d", y, { x, W, b }, function(g)
      local dx, dW, db
      dx, dW, db, layer.workspace = core.conv2d_backward(x, W, act, saves_y and y or z or nil, g,
        s[1], s[2], d[1], d[2], pad, x:is_grad_tracked(), W:is_grad_tracked(), b and b:is_grad_tracked(),
        conv_ws(layer, bufs))
      return dx or nil, dW or nil, db or nil
    end, 3, true)
  end
  return y
end

--- Apply: the convolution with the bias and the activation fused (one
-- autograd node; an activation outside the C table, or softmax, after it).
-- @function Conv2D:call
-- @param x a float tensor (batch, height, width, channels)
-- @param[opt] want_logits (the third argument) true to leave out a softmax activation
-- @return the output (batch, oh, ow, filters)
function Conv2D:call(x, _, want_logits)
  if not self.kernel then error(fmt("%s: Conv2D.call: the layer is not built", self.name), 2) end
  if x:dim() ~= 4 or x:size(4) ~= self.channels then
    error(fmt("%s (Conv2D): expected input (batch, height, width, %d), got %s", self.name, self.channels,
      shape_str(x:shape())), 3)
  end
  local act = self.activation
  if type(act) == "string" and table_act[act] then return conv_node(self, x, act) end
  local y = conv_node(self, x, "linear")
  if want_logits and act == "softmax" then return y end
  return A.get(act)(y)
end

--- Whether the activation is softmax, which `call` leaves out when asked for logits.
-- @return a boolean
function Conv2D:ends_in_softmax() return self.activation == "softmax" end

-- ---- a Conv2D and the MaxPooling2D after it as one pass -------------------------
-- Sequential asks each layer whether it `fuses_with` the next; a Conv2D
-- with a C-table activation does with a MaxPooling2D (neither subclassed):
-- core.conv2d_pool pools each chunk of the convolution's output while it is
-- in cache, so the full output (seed 003's first: 11 MB a batch) is never
-- written, read back, or scattered into by the pooling's backward.  The
-- results are the two layers' to the bit (a spec checks).


local function conv_pool_node(layer, pool, x, act)
  local W, b, s, d, pad = layer.kernel, layer.bias, layer.strides, layer.dilation_rate, layer.padding
  local p, ps, ppad = pool.pool_size, pool.strides, pool.padding
  local track = autograd.is_tracked(x) or autograd.is_tracked(W) or (b and autograd.is_tracked(b))
  local bufs = autograd.workspace(layer)
  local y, arg, saved, col = core.conv2d_pool(x, W, b, act, s[1], s[2], d[1], d[2], pad,
    p[1], p[2], ps[1], ps[2], ppad, conv_ws(layer, bufs))
  layer.workspace = col
  if track then
    record("conv2d_max_pooling2d", y, { x, W, b }, function(g)
      local dx, dW, db
      dx, dW, db, layer.workspace = core.conv2d_pool_backward(x, W, act, saved or nil, arg, g,
        s[1], s[2], d[1], d[2], pad, p[1], p[2], ps[1], ps[2], ppad,
        x:is_grad_tracked(), W:is_grad_tracked(), b and b:is_grad_tracked(), conv_ws(layer, bufs))
      return dx or nil, dW or nil, db or nil
    end, 3, true)
  end
  return y
end

--- Whether `call_fused` can run this layer and `nxt` (the layer after it
-- in a Sequential) as one pass: `nxt` a MaxPooling2D whose windows do not
-- overlap (strides >= pool_size), the activation one of the C table (not
-- softmax), neither layer's class changed, and fusion on
-- (`nn.set_layer_fusion`).
-- @param nxt the next layer
-- @return a boolean
function Conv2D:fuses_with(nxt)
  local act = self.activation
  if not (fusion and type(nxt) == "table" and getmetatable(nxt) == nn.MaxPooling2D
      and getmetatable(self) == Conv2D and nxt.built == true and self.kernel ~= nil
      and type(act) == "string" and (table_act[act] ~= nil or act == "linear")) then
    return false
  end
  -- windows that do not overlap: a cell is the max of one window at most, so
  -- the derivative scales one gradient, as the layers one by one compute it
  local p, s = nxt.pool_size, nxt.strides
  return s[1] >= p[1] and s[2] >= p[2]
end

--- This layer, then `nxt` (see `fuses_with`), in one pass: the pooled
-- output, as `nxt:call(self:call(x))` gives it.
-- @param x a float tensor (batch, height, width, channels)
-- @param nxt the MaxPooling2D after this layer
-- @return the pooled output
function Conv2D:call_fused(x, nxt)
  if not self:fuses_with(nxt) then
    error(fmt("%s: Conv2D.call_fused: cannot fuse with %s", self.name, tostring(nxt)), 2)
  end
  if x:dim() ~= 4 or x:size(4) ~= self.channels then
    error(fmt("%s (Conv2D): expected input (batch, height, width, %d), got %s", self.name, self.channels,
      shape_str(x:shape())), 3)
  end
  return conv_pool_node(self, nxt, x, self.activation)
end

local pool_opts = { strides = true, padding = true, data_format = true }

-- the pooling layers: the window, strides (default: the window) and padding
local function pool_init(self, cn, pool_size, opts)
  local p = pair(cn, "pool_size", pool_size == nil and 2 or pool_size, 4)
  opts = check_opts(cn, opts, pool_opts)
  check_channels_last(cn, opts.data_format, 4)
  local strides = opts.strides == nil and p or pair(cn, "strides", opts.strides, 4)
  local padding = check_padding(cn, opts.padding, 4)
  Layer.init(self, opts)
  self.pool_size, self.strides, self.padding = p, strides, padding
  self.config = { pool_size = p, strides = strides, padding = padding }
end

local function pool_output_shape(self, input_shape)
  local h, w, c = image_shape(self, input_shape, 2)
  local p, s = self.pool_size, self.strides
  local oh, ow = out_size(h, p[1], s[1], 1, self.padding), out_size(w, p[2], s[2], 1, self.padding)
  if oh < 1 or ow < 1 then
    error(fmt("%s (%s): a %dx%d pool does not fit an input of %dx%d with padding \"valid\"", self.name,
      self.class_name, p[1], p[2], h, w), 0)
  end
  return { oh, ow, c }
end

-- A pooling layer class: pool_size, strides and padding as Keras takes
-- them (pool_init), its output shape (pool_output_shape), and
-- pool(self, x) on a checked 4-d input
local function pool_class(name, pool)
  local cls = Layer:extend(name)
  cls.args = { "pool_size" }
  nn[name] = cls
  function cls:init(pool_size, opts) pool_init(self, name, pool_size, opts) end
  cls.compute_output_shape = pool_output_shape
  function cls:call(x)
    check_image_input(self, x)
    return pool(self, x)
  end
  return cls
end

--- Max pooling over NHWC images, as Keras' MaxPooling2D: the max over each
-- window per channel; the gradient goes to the max (the first of ties).
-- @function MaxPooling2D
-- @param[opt] pool_size an integer or {ph, pw} (2)
-- @param[opt] opts `strides` (pool_size), `padding` ("valid" or "same"),
-- `data_format` (only "channels_last"), and the options of every layer
-- @return a MaxPooling2D layer

--- Average pooling over NHWC images, as Keras' AveragePooling2D; with
-- "same" padding the average is over the cells inside the input, as
-- TensorFlow does.
-- @function AveragePooling2D
-- @param[opt] pool_size an integer or {ph, pw} (2)
-- @param[opt] opts `strides` (pool_size), `padding` ("valid" or "same"),
-- `data_format` (only "channels_last"), and the options of every layer
-- @return an AveragePooling2D layer

--- MaxPooling2D's constructor body, which `MaxPooling2D(pool_size, opts)` runs.
-- @function MaxPooling2D:init
-- @param[opt] pool_size an integer or {ph, pw} (2)
-- @param[opt] opts the options

--- The output sample shape (oh, ow, channels); a pool that does not fit a
-- "valid" input is an error naming both sizes.
-- @function MaxPooling2D:compute_output_shape
-- @param input_shape the sample shape (height, width, channels)
-- @return the output sample shape

--- Apply: the max of each window per channel.
-- @function MaxPooling2D:call
-- @param x a float tensor (batch, height, width, channels)
-- @return the output (batch, oh, ow, channels)

--- AveragePooling2D's constructor body, which `AveragePooling2D(pool_size, opts)` runs.
-- @function AveragePooling2D:init
-- @param[opt] pool_size an integer or {ph, pw} (2)
-- @param[opt] opts the options

--- The output sample shape (oh, ow, channels); a pool that does not fit a
-- "valid" input is an error naming both sizes.
-- @function AveragePooling2D:compute_output_shape
-- @param input_shape the sample shape (height, width, channels)
-- @return the output sample shape

--- Apply: the mean of each window per channel, over the cells inside the input.
-- @function AveragePooling2D:call
-- @param x a float tensor (batch, height, width, channels)
-- @return the output (batch, oh, ow, channels)

pool_class("MaxPooling2D", function(self, x)
  local p, s, padding = self.pool_size, self.strides, self.padding
  local ws = autograd.workspace(self)
  local y, arg = core.maxpool(x, p[1], p[2], s[1], s[2], padding, ws)
  if autograd.is_tracked(x) then
    local shape = x:shape()
    record("max_pooling2d", y, { x }, function(g)
      return core.maxpool_backward(g, arg, shape, p[1], p[2], s[1], s[2], padding, ws)
    end, 1, true)
  end
  return y
end)

-- one autograd node over the C kernel: each window's cells inside the
-- input, summed, divided by their count; the backward spreads each output's
-- gradient evenly over its cells
pool_class("AveragePooling2D", function(self, x)
  local p, s, padding = self.pool_size, self.strides, self.padding
  local ws = autograd.workspace(self)
  local y = core.avgpool(x, p[1], p[2], s[1], s[2], padding, ws)
  if autograd.is_tracked(x) then
    local shape = x:shape()
    record("avgpool", y, { x }, function(g)
      return core.avgpool_backward(g, shape, p[1], p[2], s[1], s[2], padding, ws)
    end, 1, true)
  end
  return y
end)

-- ZeroPadding2D's padding: an int, {ph, pw} or {{top, bottom}, {left, right}}
local function padding4(cn, v, level)
  if math.type(v) == "integer" then v = { v, v } end
  local ok = type(v) == "table" and #v == 2
  local r = {}
  if ok then
    for i = 1, 2 do
      local e = v[i]
      if math.type(e) == "integer" then e = { e, e } end
      ok = ok and type(e) == "table" and #e == 2 and math.type(e[1]) == "integer" and math.type(e[2]) == "integer"
        and e[1] >= 0 and e[2] >= 0
      if ok then r[i] = { e[1], e[2] } end
    end
  end
  if not ok then refuse(cn, "padding must be an integer >= 0, {ph, pw} or {{top, bottom}, {left, right}}", v, level + 1) end
  return r
end

--- Zero rows and columns around NHWC images, as Keras' ZeroPadding2D.
-- @function ZeroPadding2D
-- @param[opt] padding an integer, {ph, pw} or {{top, bottom}, {left, right}} (1)
-- @param[opt] opts `data_format` (only "channels_last"), and the options of every layer
-- @return a ZeroPadding2D layer
local ZeroPadding2D = Layer:extend("ZeroPadding2D")
ZeroPadding2D.args = { "padding" }
nn.ZeroPadding2D = ZeroPadding2D
--- ZeroPadding2D's constructor body, which `ZeroPadding2D(padding, opts)` runs.
-- @param[opt] padding the padding (1)
-- @param[opt] opts the options
function ZeroPadding2D:init(padding, opts)
  local cn = ZeroPadding2D.class_name
  self.padding = padding4(cn, padding == nil and 1 or padding, 3)
  opts = check_opts(cn, opts, { data_format = true })
  check_channels_last(cn, opts.data_format, 3)
  Layer.init(self, opts)
  self.config = { padding = self.padding }
end
--- The output sample shape (h + top + bottom, w + left + right, channels).
-- @param input_shape the sample shape (height, width, channels)
-- @return the output sample shape
function ZeroPadding2D:compute_output_shape(input_shape)
  local h, w, c = image_shape(self, input_shape, 2)
  local p = self.padding
  return { h + p[1][1] + p[1][2], w + p[2][1] + p[2][2], c }
end
--- Pad with zeros (the gradient is the inner part of the output's).
-- @param x a float tensor (batch, height, width, channels)
-- @return the padded tensor
function ZeroPadding2D:call(x)
  check_image_input(self, x)
  local p = self.padding
  local function pad(t, dim, before, after)
    local parts = {}
    local s = t:shape()
    if before > 0 then s[dim] = before; parts[#parts + 1] = core.zeros(s, t:dtype()) end
    parts[#parts + 1] = t
    if after > 0 then s = t:shape(); s[dim] = after; parts[#parts + 1] = core.zeros(s, t:dtype()) end
    if #parts == 1 then return t end
    return core.cat(parts, dim)
  end
  return pad(pad(x, 2, p[1][1], p[1][2]), 3, p[2][1], p[2][2])
end

-- the global poolings: (n, h, w, c) -> (n, c) by mean or max over h and w
local function global_pool(name, reduce)
  local cls = Layer:extend(name)
  nn[name] = cls
  function cls:init(opts)
    opts = check_opts(name, opts, { data_format = true })
    check_channels_last(name, opts.data_format, 3)
    Layer.init(self, opts)
    self.config = {}
  end
  function cls:compute_output_shape(input_shape)
    local _, _, c = image_shape(self, input_shape, 2)
    return { c }
  end
  function cls:call(x)
    check_image_input(self, x)
    return reduce(x:reshape(x:size(1), x:size(2) * x:size(3), x:size(4)))
  end
  return cls
end
--- The mean of each channel over the image, as Keras' GlobalAveragePooling2D: (n, h, w, c) -> (n, c).
-- @function GlobalAveragePooling2D
-- @param[opt] opts `data_format` (only "channels_last"), and the options of every layer
-- @return a GlobalAveragePooling2D layer
global_pool("GlobalAveragePooling2D", function(x) return x:mean(2) end)
--- The max of each channel over the image, as Keras' GlobalMaxPooling2D: (n, h, w, c) -> (n, c).
-- @function GlobalMaxPooling2D
-- @param[opt] opts `data_format` (only "channels_last"), and the options of every layer
-- @return a GlobalMaxPooling2D layer
global_pool("GlobalMaxPooling2D", function(x) return x:max(2) end)

--- GlobalAveragePooling2D's constructor body, which `GlobalAveragePooling2D(opts)` runs.
-- @function GlobalAveragePooling2D:init
-- @param[opt] opts the options

--- The output sample shape: (channels).
-- @function GlobalAveragePooling2D:compute_output_shape
-- @param input_shape the sample shape (height, width, channels)
-- @return {channels}

--- The mean of each channel over height and width.
-- @function GlobalAveragePooling2D:call
-- @param x a float tensor (batch, height, width, channels)
-- @return the output (batch, channels)

--- GlobalMaxPooling2D's constructor body, which `GlobalMaxPooling2D(opts)` runs.
-- @function GlobalMaxPooling2D:init
-- @param[opt] opts the options

--- The output sample shape: (channels).
-- @function GlobalMaxPooling2D:compute_output_shape
-- @param input_shape the sample shape (height, width, channels)
-- @return {channels}

--- The max of each channel over height and width.
-- @function GlobalMaxPooling2D:call
-- @param x a float tensor (batch, height, width, channels)
-- @return the output (batch, channels)

-- ---- BatchNormalization ------------------------------------------------------------

local bn_opts = { axis = true, momentum = true, epsilon = true, center = true, scale = true,
  beta_initializer = true, gamma_initializer = true, moving_mean_initializer = true,
  moving_variance_initializer = true, beta_constraint = true, gamma_constraint = true }

--- Batch normalization over the last axis, as Keras 2's
-- BatchNormalization: in training, each feature is normalized by the
-- batch's mean and (population) variance over every other axis, and the
-- moving statistics follow `moving = moving * momentum + batch * (1 -
-- momentum)` (the variance corrected by n / (n - (1 + epsilon)), as Keras 2
-- does); in inference the moving statistics are used.  Weights, in Keras'
-- order: gamma, beta (trainable), moving_mean, moving_variance (not
-- trainable: summary counts them as such; they are saved).
-- @function BatchNormalization
-- @param[opt] opts `axis` (-1: only the last axis), `momentum` (0.99),
-- `epsilon` (1e-3), `center` (true: beta), `scale` (true: gamma), the
-- initializers `beta_initializer` ("zeros"), `gamma_initializer` ("ones"),
-- `moving_mean_initializer` ("zeros"), `moving_variance_initializer`
-- ("ones"), `beta_constraint`, `gamma_constraint`, and the options of every layer
-- @return a BatchNormalization layer
local BatchNormalization = Layer:extend("BatchNormalization")
nn.BatchNormalization = BatchNormalization

--- BatchNormalization's constructor body, which `BatchNormalization(opts)` runs.
-- @param[opt] opts the options
function BatchNormalization:init(opts)
  local cn = BatchNormalization.class_name
  opts = check_opts(cn, opts, bn_opts)
  if opts.axis ~= nil and opts.axis ~= -1 then
    refuse(cn, "axis must be -1 (the channels of channels_last data; lunet normalizes the last axis)", opts.axis, 3)
  end
  check_number(cn, "momentum", opts.momentum, 0, false, true, 3)
  if opts.momentum and opts.momentum > 1 then refuse(cn, "momentum must be in [0, 1]", opts.momentum, 3) end
  check_number(cn, "epsilon", opts.epsilon, 0, true, true, 3)
  check_bool(cn, "center", opts.center, 3)
  check_bool(cn, "scale", opts.scale, 3)
  Layer.init(self, opts)
  self.momentum, self.epsilon = opts.momentum or 0.99, opts.epsilon or 1e-3
  self.center, self.scale = opts.center ~= false, opts.scale ~= false
  local spec = {}
  for _, k in ipairs({ "beta_initializer", "gamma_initializer", "moving_mean_initializer", "moving_variance_initializer" }) do
    local default = (k == "gamma_initializer" or k == "moving_variance_initializer") and "ones" or "zeros"
    spec[k] = opts[k] or default
    self[k] = get_for(cn, I.get, spec[k])
  end
  self.beta_constraint = get_for(cn, C.get, opts.beta_constraint)
  self.gamma_constraint = get_for(cn, C.get, opts.gamma_constraint)
  self.config = { axis = -1, momentum = self.momentum, epsilon = self.epsilon, center = self.center,
    scale = self.scale, beta_constraint = serialize_spec(opts.beta_constraint, C),
    gamma_constraint = serialize_spec(opts.gamma_constraint, C) }
  for k, v in pairs(spec) do self.config[k] = serialize_spec(v, I) end
end

--- Make gamma, beta, moving_mean and moving_variance, one per feature of the last axis.
-- @param input_shape the sample shape
function BatchNormalization:build(input_shape)
  if #input_shape < 1 then
    error(fmt("%s (BatchNormalization): input needs at least 1 dim per sample", self.name), 2)
  end
  local c = input_shape[#input_shape]
  self.features = c
  if self.scale then
    self.gamma = self:add_weight({ name = "gamma", shape = { c }, initializer = self.gamma_initializer,
      constraint = self.gamma_constraint })
  end
  if self.center then
    self.beta = self:add_weight({ name = "beta", shape = { c }, initializer = self.beta_initializer,
      constraint = self.beta_constraint })
  end
  self.moving_mean = self:add_weight({ name = "moving_mean", shape = { c },
    initializer = self.moving_mean_initializer, trainable = false })
  self.moving_variance = self:add_weight({ name = "moving_variance", shape = { c },
    initializer = self.moving_variance_initializer, trainable = false })
end
--- The output sample shape: the input's (a copy).
-- @function BatchNormalization:compute_output_shape
-- @param input_shape the sample shape
-- @return a copy of input_shape
BatchNormalization.compute_output_shape = same_shape

--- Normalize (batch statistics in training, and update the moving ones;
-- the moving statistics in inference), then scale by gamma and shift by beta.
-- @param x a float tensor whose last dim is the layer's features
-- @param[opt] training true in training
-- @return the output, x's shape
function BatchNormalization:call(x, training)
  local s = x:shape()
  if s[#s] ~= self.features then
    error(fmt("%s (BatchNormalization): expected input with last dim %d, got %s", self.name, self.features,
      shape_str(s)), 3)
  end
  local x2 = x:reshape(-1, self.features)
  local gamma, beta, eps = self.gamma, self.beta, self.epsilon
  local ws = autograd.workspace(self)
  local y, mean, var, invstd = core.batchnorm(x2, gamma, beta, eps, training, self.moving_mean,
    self.moving_variance, ws)
  local n = x2:size(1)
  if training and n > 0 then -- an empty batch has no statistics to move towards
    -- Keras' momentum rule, in place: mm*m + mean*(1-m), mv*m + var*(unbiased*(1-m))
    core.batchnorm_moving(self.moving_mean, self.moving_variance, mean, var, self.momentum, n / (n - (1 + eps)))
  end
  if autograd.is_tracked(x2) or (gamma and autograd.is_tracked(gamma)) or (beta and autograd.is_tracked(beta)) then
    record("batchnorm", y, { x2, gamma, beta }, function(g)
      local dx, dg, db = core.batchnorm_backward(x2, gamma, mean, invstd, training, g, x2:is_grad_tracked(),
        gamma and gamma:is_grad_tracked(), beta and beta:is_grad_tracked(), ws)
      return dx or nil, dg or nil, db or nil
    end, 3, true)
  end
  return y:reshape(s)
end

-- ---- Normalization (Keras' preprocessing layer) ------------------------------------

--- Keras' preprocessing Normalization: `(x - mean) / max(sqrt(variance),
-- 1e-7)` per feature of the last axis, with mean and variance fixed weights
-- (not trainable, saved) that `adapt(x)` computes from data (0 and 1 until
-- then, or given as options), and `count`, the samples adapt saw, as Keras
-- keeps them.
-- @function Normalization
-- @param[opt] opts `axis` (-1: only the last axis), `mean` and `variance`
-- (numbers or arrays, one per feature), and the options of every layer
-- @return a Normalization layer
local Normalization = Layer:extend("Normalization")
nn.Normalization = Normalization

-- a number or an array of finite numbers (per feature), or nil
local function per_feature(cn, key, v, min)
  if v == nil then return nil end
  local list = type(v) == "number" and { v } or v
  if type(list) ~= "table" or #list == 0 then refuse(cn, key .. " must be a number or an array of numbers", v, 4) end
  for i, e in ipairs(list) do check_number(cn, fmt("%s[%d]", key, i), e, min, false, false, 4) end
  return list
end

--- Normalization's constructor body, which `Normalization(opts)` runs.
-- @param[opt] opts the options
function Normalization:init(opts)
  local cn = Normalization.class_name
  opts = check_opts(cn, opts, { axis = true, mean = true, variance = true })
  if opts.axis ~= nil and opts.axis ~= -1 then refuse(cn, "axis must be -1 (the last axis)", opts.axis, 3) end
  self.given_mean = per_feature(cn, "mean", opts.mean)
  self.given_variance = per_feature(cn, "variance", opts.variance, 0)
  Layer.init(self, opts)
  self.config = { axis = -1 }
end

-- a weight of c values from a list given as an option (one value broadcasts)
local function feature_values(list, c, default, dtype)
  if not list then return core.full({ c }, default, dtype) end
  if #list ~= 1 and #list ~= c then return nil end
  local t = core.zeros({ c }, dtype)
  for i = 1, c do t:set(i, list[#list == 1 and 1 or i]) end
  return t
end

--- Make the mean and variance weights, one per feature of the last axis.
-- @param input_shape the sample shape
function Normalization:build(input_shape)
  if #input_shape < 1 then error(fmt("%s (Normalization): input needs at least 1 dim per sample", self.name), 2) end
  local c = input_shape[#input_shape]
  self.features = c
  local dtype = self.dtype or "float32"
  local m = feature_values(self.given_mean, c, 0, dtype)
  local v = feature_values(self.given_variance, c, 1, dtype)
  if not m or not v then
    error(fmt("%s (Normalization): mean and variance need 1 or %d values", self.name, c), 2)
  end
  self.mean = self:add_weight({ name = "mean", shape = { c }, initializer = function() return m end, trainable = false })
  self.variance = self:add_weight({ name = "variance", shape = { c }, initializer = function() return v end,
    trainable = false })
  -- the number of samples adapt saw, as Keras keeps it (its summary counts it)
  -- (float64 here: lunet's weights are float; it holds integers exactly to 2^53)
  self.count = self:add_weight({ name = "count", shape = {}, dtype = "float64", initializer = "zeros",
    trainable = false })
end
--- The output sample shape: the input's (a copy).
-- @function Normalization:compute_output_shape
-- @param input_shape the sample shape
-- @return a copy of input_shape
Normalization.compute_output_shape = same_shape

--- Compute the mean and the (population) variance of each feature of x
-- over every other axis and keep them (Keras' `adapt`).  Builds the layer
-- for x's sample shape when it is not built.
-- @param x a float tensor with a batch dim, features last
function Normalization:adapt(x)
  check.float_tensor("Normalization.adapt", "x", x, 2)
  if x:dim() < 2 or x:size(1) == 0 then
    error(fmt("%s (Normalization).adapt: x needs a batch dim and rows, got %s", self.name, shape_str(x:shape())), 2)
  end
  local s = x:shape()
  table.remove(s, 1)
  if not self.built then self:build_for(s) end
  if s[#s] ~= self.features then
    error(fmt("%s (Normalization).adapt: expected last dim %d, got %s", self.name, self.features,
      shape_str(x:shape())), 2)
  end
  autograd.no_grad(function()
    local x2 = x:detach():double():reshape(-1, self.features)
    self.mean:copy(x2:mean(1))
    self.variance:copy(x2:var(1))
    self.count:fill(x2:size(1))
  end)
end

--- `(x - mean) / max(sqrt(variance), 1e-7)` per feature.
-- @param x a float tensor whose last dim is the layer's features
-- @return the output, x's shape
function Normalization:call(x)
  local s = x:shape()
  if s[#s] ~= self.features then
    error(fmt("%s (Normalization): expected input with last dim %d, got %s", self.name, self.features,
      shape_str(s)), 3)
  end
  -- one autograd node: the statistics are fixed, so dx = g / std
  local std, y = autograd.no_grad(function()
    local sd = core.maximum(self.variance:detach():sqrt(), 1e-7)
    return sd, (x:detach() - self.mean:detach()) / sd
  end)
  if autograd.is_tracked(x) then record("normalization", y, { x }, function(g) return g / std end, 1, true) end
  return y
end

-- ---- shape layers --------------------------------------------------------------

--- Shape layers.  They change the sample shape only (the batch dim is
-- kept) and have no weights.
-- @section shape

--- Flatten each sample: (N, d1, d2, ...) to (N, d1 * d2 * ...).
-- @function Flatten
-- @param[opt] opts the options of every layer
-- @return a Flatten layer
local Flatten = Layer:extend("Flatten")
nn.Flatten = Flatten
--- Flatten's constructor body, which `Flatten(opts)` runs.
-- @param[opt] opts the options
function Flatten:init(opts) Layer.init(self, check_opts(Flatten.class_name, opts, {})) end

--- x reshaped to (N, the product of its other dims).
-- @param x a float tensor with a batch dim
-- @return the output (a view when x is contiguous)
function Flatten:call(x) return x:reshape(x:size(1), -1) end

--- The output sample shape: `{d1 * d2 * ...}`.
-- @param s the sample shape
-- @return a new table of one size
function Flatten:compute_output_shape(s)
  local n = 1
  for i = 1, #s do n = n * s[i] end
  return { n }
end

--- Reshape each sample to a target shape.
-- @function Reshape
-- @param shape the target sample shape (no batch dim): positive integers,
-- and at most one -1, which takes the size that keeps the element count
-- (`"Reshape: target_shape[2] must be a positive integer or -1 (got 0)"`)
-- @param[opt] opts the options of every layer
-- @return a Reshape layer
local Reshape = Layer:extend("Reshape")
Reshape.args = { "target_shape" }
nn.Reshape = Reshape
--- Reshape's constructor body, which `Reshape(shape, opts)` runs.
-- @param shape the target shape
-- @param[opt] opts the options
function Reshape:init(shape, opts)
  if type(shape) ~= "table" or #shape == 0 then refuse(Reshape.class_name, "expected a target shape table", shape, 3) end
  local free = 0
  for i, v in pairs(shape) do
    if math.type(i) ~= "integer" or i < 1 or i > #shape or math.type(v) ~= "integer" or (v < 1 and v ~= -1) then
      refuse(Reshape.class_name, fmt("target_shape[%s] must be a positive integer or -1", tostring(i)), v, 3)
    end
    if v == -1 then free = free + 1 end
  end
  if free > 1 then error(fmt("Reshape: target_shape may hold one -1 only (got %s)", shape_str(shape)), 3) end
  Layer.init(self, check_opts(Reshape.class_name, opts, {}))
  self.target_shape = shape
  self.config = { target_shape = shape }
end
--- The target shape with its -1 resolved; an element count that does not
-- match is an error:
-- `"Reshape: cannot reshape input of shape (None, 3) into (None, -1, 2)"`.
-- @param s the sample shape
-- @return a new table
function Reshape:compute_output_shape(s)
  local n, known, free = 1, 1, nil
  for i = 1, #s do n = n * s[i] end
  local out = {}
  for i, v in ipairs(self.target_shape) do
    out[i] = v
    if v == -1 then free = i else known = known * v end
  end
  if free then out[free] = n // known end
  local m = 1
  for i = 1, #out do m = m * out[i] end
  if m ~= n then
    error(fmt("Reshape: cannot reshape input of shape %s into %s", shape_str(s, true),
      shape_str(self.target_shape, true)), 0)
  end
  return out
end
--- x reshaped to (N, the target shape).
-- @param x a float tensor with a batch dim
-- @return the output (a view when x is contiguous)
function Reshape:call(x)
  local shape = { x:size(1) }
  for i, v in ipairs(self.target_shape) do shape[i + 1] = v end
  return x:reshape(shape)
end

-- methods redefined after extend (simple_activation's, then Softmax's own)
-- bypass __newindex: guard every built-in class once more; their kernels
-- need float input
for _, cls in pairs(registry) do
  for k, f in pairs(cls) do rawset(cls, k, guarded(cls, k, f)) end
  rawset(cls, "float_input", true)
  LI.builtin[cls.class_name] = cls -- a user class may not take its name
end

nn.snake_case = L.snake_case
-- the built-in class of a name, or nil (load_model's custom_objects check)
function nn._builtin_class(name) return LI.builtin[name] end
return nn
