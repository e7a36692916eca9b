--- The Layer base class of every layer, built-in or custom, with the
-- option checks that layers share and the class registry that load_model
-- reads.  `nn.Layer` is this class; `lunet.nn` re-exports its functions.
-- @module lunet.layer
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

--- check_shape(fname, what, shape [, level [, min]]): shape must be an array
-- of integers >= min (default 1) whose product is at most 2^40 (checked
-- before each multiplication); returns the number of elements.
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

-- Keras 2's to_snake_case, rule for rule: "AlphaDropout" -> "alpha_dropout",
-- "PReLU" -> "p_re_lu", "Conv2D" -> "conv2d"; a name starting with "_"
-- gets "private" in front
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

--- Forget the automatic names given so far (the next Dense is dense_1 again).
function M.reset_names() name_counts = {} end

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
  get_config = true, ends_in_softmax = true }
local SHAPE_ARG = { build = true, build_for = true, compute_output_shape = true }

-- getter(spec) with its error re-raised as "<cls_name>: <message>" at
-- `level` (as the caller of get_for would pass it to error())
local function get_for(cls_name, getter, spec, level) return check.within(cls_name, level or 3, getter, spec) end

local function is_layer(v) return type(v) == "table" and rawget(v, "weights_") ~= nil and v.class_name ~= nil end
local is_guard = setmetatable({}, { __mode = "k" }) -- the wrappers made so far
local unguarded = setmetatable({}, { __mode = "k" }) -- wrapper -> the function it wraps
local function guarded(cls, k, f)
  if type(f) ~= "function" or not PROTOCOL[k] or is_guard[f] then return f end
  local label = cls.class_name
  local takes_x, takes_shape = k == "call" or k == "apply", SHAPE_ARG[k]
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
  is_guard[g] = true
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

--- A new layer class: `local MyLayer = nn.Layer:extend("MyLayer")`; define
-- `init(opts)`, `build(input_shape)`, `call(x, training)`, `get_config()`.
-- The class registers itself under `name` (for load_model); calling the
-- class makes an instance; calling an instance applies it.
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

--- The class registered under a name (custom layers register themselves).
function M.get_class(name) return registry[name] end
--- Register a class under a name (e.g. an alias).
function M.register(name, cls)
  if type(name) ~= "string" or name == "" then check.arg_error("register", "name", "a class name", name, 2) end
  if type(cls) ~= "table" or type(cls.call) ~= "function" then check.arg_error("register", "cls", "a layer class", cls, 2) end
  check_not_builtin("register", name, cls, 2)
  registry[name] = cls
end

--- Base constructor: opts.name, opts.input_shape, opts.trainable.
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

--- Create a weight: opts.name, shape, initializer ("glorot_uniform"),
-- constraint, trainable (true), dtype ("float32").  Returns the tensor.
-- While a model is loaded, `self.weight_source(layer, name, shape, dtype)`
-- is set: the tensor then comes from the file (after its shape and dtype
-- are checked against the file's header) and no initializer runs.
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

function Layer:build(_) end

--- Build (once) for a sample shape (no batch dim) and return the output sample shape.
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

--- Output sample shape, by default from a forward pass on one zero sample.
function Layer:compute_output_shape(input_shape)
  local shape = { 1 }
  for i = 1, #input_shape do shape[i + 1] = input_shape[i] end
  local y = autograd.no_grad(function() return self:call(core.zeros(shape, self.dtype), false) end)
  local s = y:shape()
  table.remove(s, 1)
  return s
end

--- Apply the layer (building it on first use).
function Layer:apply(x, training)
  if not self.built then
    local s = x:shape()
    table.remove(s, 1)
    self:build_for(s)
  end
  return self:call(x, training)
end

function Layer:call(x) return x end

--- All weight tensors (trainable or not), in creation order.
function Layer:get_weight_tensors()
  local r = {}
  for i, w in ipairs(self.weights_) do r[i] = w.value end
  return r
end

--- Copies of the weights.
function Layer:get_weights()
  local r = {}
  for i, w in ipairs(self.weights_) do r[i] = w.value:detach():clone() end
  return r
end

--- Set the weights from a list of tensors of the same shapes.
-- Raise (at `level`, as error() counts from the caller) unless list holds
-- one tensor of the right shape per weight.
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

function Layer:set_weights(list)
  self:check_weights(list, 2)
  autograd.no_grad(function()
    for i, w in ipairs(self.weights_) do w.value:copy(list[i]) end
  end)
end

--- Project each constrained weight (after an optimizer step).
function Layer:apply_constraints()
  for _, w in ipairs(self.weights_) do
    if w.constraint then
      autograd.no_grad(function() w.value:copy(w.constraint(w.value:detach())) end)
    end
  end
end

function Layer:count_params()
  local n, t = 0, 0
  for _, w in ipairs(self.weights_) do
    n = n + w.value:numel()
    if w.trainable then t = t + w.value:numel() end
  end
  return n, t
end

--- The constructor options (serializable) plus the name.
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

--- Rebuild from a config: the keys init takes positionally (cls.args, or
-- init's own parameter names, e.g. `units` of `function PELU:init(units,
-- opts)`) in order, then the other keys as one options table.
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
