--- The Layer base class of every layer, built-in or custom, with the
-- shape check that layers share and the class registry that `load_model`
-- reads.  `nn.Layer` is this class; `lunet.nn` re-exports this module's
-- functions.
--
-- A layer has the fields `name`, `trainable`, `built`, `input_shape` and
-- `dtype` (as given to init) and `config` (what `get_config` saves).  Its
-- protocol methods (`init`, `build`, `build_for`, `compute_output_shape`,
-- `call`, `apply`, `add_weight`, the weight methods, `get_config`,
-- `ends_in_softmax`) check that self is a layer, as in
-- `"Dense.call: expected a layer as self (call layer:call(...)), got nil"`;
-- `call` and `apply` check that x is a tensor with a batch dim (float32
-- or float64 for the built-in layers, whose kernels need it), and
-- `build`, `build_for` and `compute_output_shape` that the shape is an
-- array of integers >= 0.
-- @module lunet.layer
-- @alias M
local core = require("lunet.core")
local autograd = require("lunet.autograd")
local I = require("lunet.initializers")
local C = require("lunet.constraints")
local utils = require("lunet.utils")
local check = require("lunet.check")

local M = {}
local fmt = string.format
local is_tensor = core.is_tensor
local shape_str = check.shape_str

-- ---- option checks (one message form: "<Layer>: <what> (got <value>)") ----------

local MAX_ELEMS = 1 << 40 -- no sample or weight has more elements

-- a bad value, shortly, for a message
local got = check.describe

local function refuse(cls_name, what, v, level)
  error(fmt("%s: %s (got %s)", cls_name, what, got(v)), level + 1)
end

local function finite(v) return type(v) == "number" and v == v and v > -math.huge and v < math.huge end

-- Each check takes `level` as its caller would pass it to error().
-- a finite number, >= min when given (or > min when open); nil allowed when optional
local function check_number(cls_name, key, v, min, open, optional, level)
  if v == nil and optional then return end
  if not finite(v) or (min and (v < min or (open and v == min))) then
    local what = min and fmt("%s must be a finite number %s %s", key, open and ">" or ">=", tostring(min))
        or fmt("%s must be a finite number", key)
    refuse(cls_name, what, v, level + 1)
  end
end

local function check_bool(cls_name, key, v, level)
  if v ~= nil and type(v) ~= "boolean" then refuse(cls_name, key .. " must be a boolean", v, level + 1) end
end

local function check_seed(cls_name, v, level)
  if v ~= nil and math.type(v) ~= "integer" then refuse(cls_name, "seed must be an integer", v, level + 1) end
end

--- Check a shape: an array (no holes, at most 32 entries) of integers >=
-- `min` whose product is at most 2^40 (checked before each
-- multiplication, so it cannot overflow).  The errors name `fname` and
-- `what`: `"Dense: input_shape must be an array of integers (got 3)"`,
-- `"Dense: input_shape[2] must be an integer >= 1 (got 0)"`,
-- `"Dense: input_shape has more than 2^40 elements (got (1048576, 1048577))"`.
-- @param fname the function named in errors, a non-empty string
-- @param what the name of the shape in errors, e.g. "input_shape"
-- @param shape the value checked
-- @param[opt=2] level the error level, as `check_shape`'s caller would pass it to `error`
-- @param[opt=1] min the smallest size allowed (0 allows empty dims)
-- @return the number of elements (1 for `{}`)
function M.check_shape(fname, what, shape, level, min)
  if type(fname) ~= "string" or type(what) ~= "string" or fname == "" then
    error(fmt("check_shape: expected a function name and what is checked (got %s and %s)", got(fname), got(what)), 2)
  end
  level, min = (level or 2) + 1, min or 1
  local ok = type(shape) == "table" and #shape <= 32
  if ok then
    local count = 0
    for _ in pairs(shape) do count = count + 1 end
    ok = count == #shape
  end
  if not ok then refuse(fname, what .. " must be an array of integers", shape, level) end
  local n = 1
  for i = 1, #shape do
    local d = shape[i]
    if math.type(d) ~= "integer" or d < min then
      refuse(fname, fmt("%s[%d] must be an integer >= %d", what, i, min), d, level)
    end
    if d > 0 and n > MAX_ELEMS // d then
      error(fmt("%s: %s has more than 2^40 elements (got %s)", fname, what, shape_str(shape)), level)
    end
    n = n * d
  end
  return n
end
local check_shape = M.check_shape

-- an array of positive integers with holes allowed (noise_shape: nil = the input's)
local function check_sparse_dims(cls_name, key, v, level)
  if v == nil then return end
  if type(v) ~= "table" then refuse(cls_name, key .. " must be an array of positive integers", v, level + 1) end
  for k, d in pairs(v) do
    if math.type(k) ~= "integer" or k < 1 or k > 32 or math.type(d) ~= "integer" or d < 1 then
      refuse(cls_name, fmt("%s[%s] must be a positive integer", key, tostring(k)), d, level + 1)
    end
  end
end

-- shared_axes: nil, a positive integer, or an array of them (1-based sample axes)
local function check_axes(cls_name, v, level)
  if v == nil then return nil end
  if math.type(v) == "integer" then v = { v } end
  if type(v) ~= "table" then refuse(cls_name, "shared_axes must be an array of positive integers", v, level + 1) end
  local count = 0
  for _ in pairs(v) do count = count + 1 end
  if count ~= #v then refuse(cls_name, "shared_axes must be an array of positive integers", v, level + 1) end
  for i, a in ipairs(v) do
    if math.type(a) ~= "integer" or a < 1 then
      refuse(cls_name, fmt("shared_axes[%d] must be a positive integer", i), a, level + 1)
    end
  end
  return v
end

-- ---- the Layer base class ------------------------------------------------------

local registry = {}
local builtin = {} -- name -> class, for the layers lunet.nn defines
local name_counts = {}

--- A class name in snake case, by Keras 2's `to_snake_case` rule for rule:
-- `"AlphaDropout"` gives `"alpha_dropout"`, `"PReLU"` gives `"p_re_lu"`,
-- `"Conv2D"` gives `"conv2d"`; a name starting with "_" gets "private" in
-- front.  An automatic layer name is this, an underscore and a count
-- (`"dense_1"`).
-- @function snake_case
-- @param name a string (anything else is an error)
-- @return the name in snake case
local function snake(name)
  if type(name) ~= "string" then check.arg_error("snake_case", "name", "a string", name, 2) end
  local s = name:gsub("(.)(%u[%l%d]+)", "%1_%2")
  s = s:gsub("(%l)(%u)", "%1_%2"):lower()
  if s:sub(1, 1) == "_" then s = "private" .. s end
  return s
end

-- a user class may not take a built-in layer's name (it would shadow it on load)
local function check_not_builtin(fname, name, cls, level)
  if builtin[name] and builtin[name] ~= cls then
    error(fmt("%s: '%s' is the name of a built-in layer; give your class another name", fname, name), level + 1)
  end
end

--- Forget the automatic names given so far (the next Dense is `dense_1` again).
function M.reset_names() name_counts = {} end

--- The class registered under a name: the classes `Layer:extend` made
-- (the built-in ones too) and the ones given to `register`.
-- @function get_class
-- @param name a class name
-- @return the class, or nil

--- Register a class under a name (an alias, or a class made some other
-- way), for `load_model`; a class already registered under that name is
-- replaced.
-- @function register
-- @param name a non-empty string
-- @param cls a layer class (a table with a `call` function)

--- The Layer class.  Its methods are the layer protocol, which every
-- class made by `Layer:extend` inherits.
-- @section Layer

--- A plain layer, whose `call` returns its input as it is.  Layer itself
-- is the base of `Layer:extend`; an instance of it has no `__call` or
-- `__tostring` (apply it with `layer:apply(x)`) and no class in the
-- registry.
-- @function Layer
-- @param[opt] opts the options of every layer (see `Layer:init`)
-- @return a layer, named `"layer_1"`, `"layer_2"`, ... unless `opts.name`

local Layer = { class_name = "Layer" }
Layer.__index = Layer
M.Layer = Layer

-- The layer protocol's methods check their self (a layer instance) and
-- their arguments: call and apply an input tensor with a batch dim (a float
-- one for the built-in layers, whose kernels need it; custom layers may take
-- integer ids), build, build_for and compute_output_shape a sample shape.
-- Other functions a class holds (helpers, function fields) are left alone.
local PROTOCOL = { init = true, build = true, build_for = true, compute_output_shape = true,
  call = true, apply = true, add_weight = true, get_weight_tensors = true, get_weights = true,
  check_weights = true, set_weights = true, apply_constraints = true, count_params = true,
  get_config = true, ends_in_softmax = true, fuses_with = true, call_fused = true }
local SHAPE_ARG = { build = true, build_for = true, compute_output_shape = true }

-- getter(spec) with its error re-raised as "<cls_name>: <message>" at
-- `level` (as the caller of get_for would pass it to error())
local function get_for(cls_name, getter, spec, level) return check.within(cls_name, level or 3, getter, spec) end

local function is_layer(v) return type(v) == "table" and rawget(v, "weights_") ~= nil and v.class_name ~= nil end
local unguarded = setmetatable({}, { __mode = "k" }) -- the wrappers made so far -> the functions they wrap
local function guarded(cls, k, f)
  if type(f) ~= "function" or not PROTOCOL[k] or unguarded[f] then return f end
  local label = cls.class_name
  local takes_x, takes_shape = k == "call" or k == "apply" or k == "call_fused", SHAPE_ARG[k]
  local function g(self, ...)
    if not is_layer(self) then
      error(fmt("%s.%s: expected a layer as self (call layer:%s(...)), got %s", label, k, k, got(self)), 2)
    end
    if takes_shape then
      check_shape(fmt("%s (%s).%s", self.name, self.class_name, k), "input_shape", (...), 2, 0)
    elseif takes_x then
      local x = ...
      local dt = is_tensor(x) and x:dtype()
      if not dt or x:dim() == 0 or (self.float_input and dt ~= "float32" and dt ~= "float64") then
        error(fmt("%s (%s).%s: x must be a %stensor with a batch dim (got %s)", self.name, self.class_name, k,
          self.float_input and "float32 or float64 " or "", got(x)), 2)
      end
    end
    return f(self, ...)
  end
  unguarded[g] = f
  return g
end
-- a class table whose methods are guarded as they are defined
local function guard_class(cls, call)
  local mt = getmetatable(cls) or { __call = call }
  mt.__newindex = function(t, k, v) rawset(t, k, guarded(t, k, v)) end
  return setmetatable(cls, mt)
end

local function instantiate(cls, ...)
  local self = setmetatable({}, cls)
  self.weights_ = {}
  self.built = false
  self.trainable = true
  self:init(...)
  if self.name == nil then
    local base = snake(cls.class_name)
    name_counts[base] = (name_counts[base] or 0) + 1
    self.name = base .. "_" .. name_counts[base]
  end
  return self
end

--- A new layer class: `local MyLayer = nn.Layer:extend("MyLayer")`.
-- Define on it what differs: `init(...)` (which calls
-- `nn.Layer.init(self, opts)`), `build(input_shape)` (which creates the
-- weights with `add_weight`), `call(x, training)` and, when init takes
-- options worth saving, `self.config` or `get_config()`; the rest is
-- inherited from the class extended (self, which is `cls.super`).  The
-- protocol methods defined on the class check their arguments as the
-- module's description says.  The class registers itself under `name`
-- for `load_model`, replacing a class of that name.  Calling the class
-- makes an instance: init runs with the arguments, and the layer is named
-- from the class (`"my_layer_1"`) unless init set a name.  Calling an
-- instance, `layer(x, training)`, is `layer:apply(x, training)`, and
-- `tostring(layer)` is like `"my_layer_1 (MyLayer)"`.
-- @param name the class name, a non-empty string
-- @return the class
function Layer:extend(name)
  if type(name) ~= "string" or name == "" then error("Layer:extend: expected a class name", 2) end
  check_not_builtin("Layer:extend", name, nil, 2)
  local cls = guard_class(setmetatable({ class_name = name, super = self }, {
    __index = self,
    __call = instantiate,
  }))
  cls.__index = cls
  cls.__call = function(layer, x, training)
    if not is_layer(layer) then
      error(fmt("%s: expected a %s layer to call (got %s)", name, name, got(layer)), 2)
    end
    return layer:apply(x, training)
  end
  cls.__tostring = function(layer) return fmt("%s (%s)", type(layer) == "table" and layer.name, name) end
  registry[name] = cls
  return cls
end

-- get_class and register: documented above, with the module's functions
function M.get_class(name) return registry[name] end
function M.register(name, cls)
  if type(name) ~= "string" or name == "" then check.arg_error("register", "name", "a class name", name, 2) end
  if type(cls) ~= "table" or type(cls.call) ~= "function" then check.arg_error("register", "cls", "a layer class", cls, 2) end
  check_not_builtin("register", name, cls, 2)
  registry[name] = cls
end

--- The base constructor, which a class's init calls as
-- `nn.Layer.init(self, opts)`: checks and stores the options every layer
-- takes.  Other keys are not looked at here (each built-in layer refuses
-- options it does not know).  A bad option is an error naming the class,
-- as `"Dense: name must be a non-empty string (got 3)"`.
-- @param[opt] opts a table: `name` (a non-empty string; by default one
-- made from the class name, `"dense_1"`), `input_shape` (the sample
-- shape, no batch dim, integers >= 1: lets the first layer of a
-- Sequential build at once), `dtype` ("float32" or "float64": the
-- default dtype of `add_weight` and of `compute_output_shape`'s zero
-- sample; float32 when not given), `trainable` (a boolean; false makes
-- the weights the layer creates non-trainable)
function Layer:init(opts)
  opts = opts or {}
  local cn = self.class_name
  if type(opts) ~= "table" then error(fmt("%s: options must be a table", cn), 3) end
  -- levels: this check, Layer.init, the class's init, instantiate, the caller
  if opts.name ~= nil and (type(opts.name) ~= "string" or opts.name == "") then
    refuse(cn, "name must be a non-empty string", opts.name, 4)
  end
  if opts.input_shape ~= nil then check_shape(cn, "input_shape", opts.input_shape, 4) end
  if opts.dtype ~= nil and opts.dtype ~= "float32" and opts.dtype ~= "float64" then
    refuse(cn, 'dtype must be "float32" or "float64"', opts.dtype, 4)
  end
  check_bool(cn, "trainable", opts.trainable, 4)
  self.name = opts.name
  self.input_shape = opts.input_shape
  self.dtype = opts.dtype
  if opts.trainable == false then self.trainable = false end
  self.config = self.config or {}
end

--- Create a weight of the layer (from build).  The layer keeps it, in
-- creation order, for the weight methods, `count_params`, the optimizer
-- (when trainable) and `save` (which names it `"dense_1/kernel"`: layer
-- name, slash, weight name).  While a model is loaded,
-- `self.weight_source(layer, name, shape, dtype)` is set: the tensor then
-- comes from the file (after its shape and dtype are checked against the
-- file's header) and no initializer runs.
-- @param opts a table: `shape` (required; integers >= 0), `name`
-- (`"weight_1"`, `"weight_2"`, ... by position), `initializer` (anything
-- `lunet.initializers.get` takes; "glorot_uniform"), `constraint`
-- (anything `lunet.constraints.get` takes; none), `trainable` (true; a
-- weight of a non-trainable layer is never trainable), `dtype` (the
-- layer's dtype, else "float32")
-- @return the weight tensor, tracked for gradients when trainable
function Layer:add_weight(opts)
  local fname = self.class_name .. ".add_weight"
  if type(opts) ~= "table" or type(opts.shape) ~= "table" then
    error(fmt("%s: expected {name=, shape={...}, ...}", fname), 2)
  end
  check_shape(fname, "shape", opts.shape, 2, 0)
  local name = opts.name or ("weight_" .. (#self.weights_ + 1))
  if type(name) ~= "string" then refuse(fname, "name must be a string", name, 2) end
  local dtype = opts.dtype or self.dtype or "float32"
  local init = get_for(fname, I.get, opts.initializer or "glorot_uniform", 2)
  local constraint = get_for(fname, C.get, opts.constraint, 2)
  local w
  if self.weight_source then
    w = self.weight_source(self, name, opts.shape, dtype)
  else
    w = init(opts.shape, dtype)
  end
  local trainable = opts.trainable ~= false and self.trainable
  if trainable then w:requires_grad() end
  self.weights_[#self.weights_ + 1] = {
    name = name, value = w, constraint = constraint, trainable = trainable,
    from_source = self.weight_source ~= nil,
  }
  return w
end

--- Create the layer's weights for a sample shape: a class overrides it
-- as `build(input_shape)` (no batch dim) and calls `add_weight`; the base
-- class's creates none.  `build_for` calls it once, before the first
-- forward pass.
-- @function Layer:build
function Layer:build(_) end

--- Build the layer once for a sample shape and return its output sample
-- shape.  Called again with another shape it is an error:
-- `"dense_1 was built for input of shape (None, 784), got (None, 10)"`.
-- @param input_shape the sample shape (no batch dim)
-- @return the output sample shape (`compute_output_shape`'s)
function Layer:build_for(input_shape)
  if self.built and shape_str(self.built_input_shape) ~= shape_str(input_shape) then
    error(fmt("%s was built for input of shape %s, got %s", self.name, shape_str(self.built_input_shape, true),
      shape_str(input_shape, true)), 2)
  end
  if not self.built then
    self:build(input_shape)
    self.built = true
    self.built_input_shape = input_shape
  end
  return self:compute_output_shape(input_shape)
end

--- The output sample shape for an input sample shape.  The base class's
-- runs `call` on one sample of zeros (of the layer's dtype; not training,
-- nothing recorded), so the layer must be built; a class whose output
-- shape is known without a forward pass overrides it.
-- @param input_shape the sample shape (no batch dim)
-- @return the output sample shape, a new table
function Layer:compute_output_shape(input_shape)
  local shape = { 1 }
  for i = 1, #input_shape do shape[i + 1] = input_shape[i] end
  local y = autograd.no_grad(function() return self:call(core.zeros(shape, self.dtype), false) end)
  local s = y:shape()
  table.remove(s, 1)
  return s
end

--- Apply the layer to a batch, building it first (`build_for` x's shape
-- without the batch dim) when it is not built.  Calling a layer,
-- `layer(x, training)`, does this.
-- @param x a tensor with a batch dim
-- @param[opt] training true in training (dropout and noise layers act only then)
-- @return the output batch
function Layer:apply(x, training)
  if not self.built then
    local s = x:shape()
    table.remove(s, 1)
    -- a shape the layer cannot take is reported at the caller, not here
    local ok, err = pcall(self.build_for, self, s)
    if not ok then error(type(err) == "string" and check.bare(err) or err, 2) end
  end
  return self:call(x, training)
end

--- The forward pass on a batch, on a built layer (`apply` builds); the
-- base class's returns x as it is.  A class overrides it as
-- `call(x, training)`.  Sequential passes a third argument, true for the
-- last layer when the loss takes logits (a softmax activation is then
-- left out: see `ends_in_softmax`), which a custom layer may ignore.
-- @param x a tensor with a batch dim
-- @return the output batch
function Layer:call(x) return x end

--- The weight tensors themselves (trainable or not), in creation order:
-- changing one in place changes the layer.
-- @return an array of tensors
function Layer:get_weight_tensors()
  local r = {}
  for i, w in ipairs(self.weights_) do r[i] = w.value end
  return r
end

--- Copies of the weights (detached from autograd), in creation order.
-- @return an array of new tensors
function Layer:get_weights()
  local r = {}
  for i, w in ipairs(self.weights_) do r[i] = w.value:detach():clone() end
  return r
end

--- Check a list for `set_weights`, changing nothing: it must hold one
-- tensor per weight, in creation order, each of its weight's shape.
-- Else it raises `"dense_1.set_weights: expected 2 tensors, got 1"` or
-- `"dense_1.set_weights: weight 1 (kernel) has shape (3, 2), got (2, 3)"`.
-- @param list the value checked
-- @param[opt=1] level the error level, as `check_weights`' caller would pass it to `error`
function Layer:check_weights(list, level)
  level = math.type(level) == "integer" and level or 1
  if type(list) ~= "table" or #list ~= #self.weights_ then
    error(fmt("%s.set_weights: expected %d tensors, got %s", self.name, #self.weights_,
      type(list) == "table" and tostring(#list) or type(list)), level + 1)
  end
  for i, w in ipairs(self.weights_) do
    local v = list[i]
    local a, b = w.value:shape(), is_tensor(v) and v:shape() or nil
    if not b or shape_str(a) ~= shape_str(b) then
      error(fmt("%s.set_weights: weight %d (%s) has shape %s, got %s", self.name, i, w.name,
        shape_str(a), b and shape_str(b) or type(v)), level + 1)
    end
  end
end

--- Set the weights from a list of tensors, one per weight in creation
-- order, each of its weight's shape (all checked first, by
-- `check_weights`: after an error no weight has changed).  The values
-- are copied into the weights, converted to their dtype; nothing is
-- recorded for autograd.
-- @param list an array of tensors, as `get_weights` returns
function Layer:set_weights(list)
  self:check_weights(list, 2)
  autograd.no_grad(function()
    for i, w in ipairs(self.weights_) do w.value:copy(list[i]) end
  end)
end

--- Replace each weight that has a constraint by its projection, in
-- place (`fit` and `train_on_batch` call it after every optimizer step).
function Layer:apply_constraints()
  for _, w in ipairs(self.weights_) do
    if w.constraint then
      autograd.no_grad(function() w.value:copy(w.constraint(w.value:detach())) end)
    end
  end
end

--- The number of weight elements, as `summary` shows them.
-- @return the number of elements of all the weights
-- @return how many of them are in trainable weights
function Layer:count_params()
  local n, t = 0, 0
  for _, w in ipairs(self.weights_) do
    n = n + w.value:numel()
    if w.trainable then t = t + w.value:numel() end
  end
  return n, t
end

--- The layer's config, which `from_config` turns back into the layer:
-- the options init kept in `self.config` (data only), plus `name`,
-- `input_shape` and `dtype` when set, and `trainable = false` for a
-- frozen layer.
-- @return a new table (a shallow copy: nested tables are `self.config`'s)
function Layer:get_config()
  local c = { name = self.name }
  for k, v in pairs(self.config or {}) do c[k] = v end
  if self.input_shape then c.input_shape = self.input_shape end
  if self.dtype then c.dtype = self.dtype end
  if not self.trainable then c.trainable = false end
  return c
end

-- The config keys init takes positionally, as Keras' cls(**config) maps
-- keys to parameters: cls.args when the class declares it, else the names of
-- init's parameters after self (debug.getlocal reads them), except a last
-- one that is no config key: that one gets the options table.
local function positional_args(cls, config)
  if cls.args then return cls.args end
  local init = unguarded[cls.init] or cls.init
  local info = type(init) == "function" and debug.getinfo(init, "u")
  if not info or info.nparams < 2 then return {} end
  local names = {}
  for i = 2, info.nparams do names[#names + 1] = debug.getlocal(init, i) end
  if config[names[#names]] == nil then names[#names] = nil end
  return names
end

--- Make a layer of class cls from a config as `get_config` gives it, as
-- Keras' `cls(**config)`: the keys init takes positionally are passed in
-- order, then the other keys as the options table.  Those keys are
-- `cls.args` when the class declares it (`Dense.args = {"units"}`), else
-- the names of init's own parameters after self (`units` of `function
-- PELU:init(units, opts)`), except a last one that is no config key.
-- `load_model` calls it as `cls.from_config(cls, config)`.
-- @param cls a layer class
-- @param config a table
-- @return the new layer (not built)
function Layer.from_config(cls, config)
  if type(cls) ~= "table" or getmetatable(cls) == nil or type(cls.class_name) ~= "string" then
    check.arg_error("from_config", "cls", "a layer class", cls, 2)
  end
  if type(config) ~= "table" then check.arg_error(cls.class_name .. ".from_config", "config", "a table", config, 2) end
  local names = positional_args(cls, config)
  local args = {}
  for i, k in ipairs(names) do args[i] = config[k] end
  local opts = {}
  for k, v in pairs(config) do opts[k] = v end
  for _, k in ipairs(names) do opts[k] = nil end
  args[#names + 1] = opts
  return cls(table.unpack(args, 1, #names + 1))
end

-- the base class's methods check their self too
for k, f in pairs(Layer) do Layer[k] = guarded(Layer, k, f) end
guard_class(Layer, instantiate) -- nn.Layer() makes a plain (identity) layer

-- every layer also takes these
local common_opts = { name = true, input_shape = true, trainable = true, dtype = true }
local function check_opts(cls_name, opts, known)
  return (utils.check_options(cls_name, opts, known, 4, common_opts)) -- not a tail call: keeps the level
end

-- an initializer/constraint option as data: a name stays a name; an object,
-- or a {class_name=, config=} table, is written as its resolved class and config
local function serialize_spec(v, mod)
  if v == nil or type(v) == "string" then return v end
  -- a function, or a user's callable object with no registered name: save refuses it
  if type(v) == "function" or (getmetatable(v) and type(v.name) ~= "string") then
    return { class_name = "function" }
  end
  if type(v) == "table" and getmetatable(v) == nil then v = mod.get(v) end
  return mod.serialize(v)
end

-- for the built-in layers (lunet.nn): not part of the public API
M._internal = {
  refuse = refuse, check_number = check_number, check_bool = check_bool, check_seed = check_seed,
  check_sparse_dims = check_sparse_dims, check_axes = check_axes, check_opts = check_opts,
  get_for = get_for, serialize_spec = serialize_spec, registry = registry, guarded = guarded, got = got,
  builtin = builtin,
}
M.snake_case = snake

return M
