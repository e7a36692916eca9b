--- The Keras-style Sequential model: summary, compile, fit (progress bar,
-- validation, callbacks, History), evaluate, predict, save/load as one
-- .safetensors file.  Loading this module sets `nn.Sequential`,
-- `nn.load_model` and `nn.read_safetensors` in `lunet.nn` (`lunet.nn`
-- reached as `require("lunet").nn` loads it first).
-- @module lunet.model
-- @alias M
local core = require("lunet.core")
local autograd = require("lunet.autograd")
local nn = require("lunet.nn")
local losses = require("lunet.losses")
local optim = require("lunet.optim")
local I = require("lunet.initializers")
local C = require("lunet.constraints")
local utils = require("lunet.utils")
local check = require("lunet.check")
local ST = require("lunet.safetensors")
local progress = require("lunet.progress")

local M = {}
local fmt = string.format
local shape_str = nn.shape_str
local metrics = losses.metrics

local Sequential = {}
Sequential.__index = Sequential
M.Sequential = Sequential
local model_count = 0

-- fn(...) on behalf of compile: its errors read "compile: ..."
-- (a tail call: level 2 is compile's caller)
local function as_part_of(fname, fn, ...) return check.within(fname, 2, fn, ...) end

local function is_layer(v)
  return type(v) == "table" and type(v.call) == "function" and v.class_name ~= nil
end

-- self:add(l) for each layer in turn; returns the first error (its message
-- without a position), or nil
local function add_each(self, layers)
  for _, l in ipairs(layers) do
    local ok, err = pcall(self.add, self, l)
    if not ok then return type(err) == "string" and check.bare(err) or err end
  end
end

-- ---- Input ---------------------------------------------------------------------

local Input = {}
Input.__index = Input
Input.__tostring = function(i)
  if getmetatable(i) ~= Input then check.arg_error("Input.__tostring", "self", "an Input", i, 2) end
  return fmt("Input(shape=%s)", shape_str(i.shape, true))
end

--- Input({shape = {28, 28, 1}}) or Input({28, 28, 1}) (tf.keras 2): the
-- sample shape of a Sequential, given as its first element instead of the
-- first layer's input_shape.  It is no layer: summary and save show the
-- model's input shape, as Keras' Sequential does.
-- @param opts `{shape = {...}, name =}`, or the shape array itself
-- @return an Input, for Sequential's layer list or `add`
function M.Input(opts)
  if type(opts) ~= "table" or core.is_tensor(opts) then
    check.arg_error("Input", "options", "{shape = {...}} or a shape array", opts, 2)
  end
  local shape = opts
  if math.type(opts[1]) ~= "integer" then
    utils.check_options("Input", opts, { shape = true, name = true })
    shape = opts.shape
    if shape == nil then error("Input: shape is required (Input({shape = {784}}))", 2) end
    if opts.name ~= nil and type(opts.name) ~= "string" then check.arg_error("Input", "name", "a string", opts.name, 2) end
  end
  nn.check_shape("Input", "shape", shape, 2)
  local copy = {}
  for i, d in ipairs(shape) do copy[i] = d end
  return setmetatable({ shape = copy, name = opts.name }, Input)
end

--- The Sequential class.  A model holds `layers` (an array) and `name`;
-- once it is built, `input_shape` and `output_shapes` (one sample shape
-- per layer); after compile, its optimizer, loss and metrics; after fit,
-- `history`.  A callback may set `stop_training`.  Every method checks
-- that self is a Sequential, as in
-- `"Sequential.fit: expected a Sequential as self (call obj:fit(...)), got nil"`.
-- @section Sequential

--- A model that applies its layers in order.  Calling it,
-- `model(x, training)`, is `model:call(x, training)`.
-- @function Sequential
-- @param[opt] layers an array of layers (an `nn.Input` may come first), each
-- appended with `Sequential:add`; or Keras' keywords as one table,
-- `Sequential({layers = {...}, name = "..."})`
-- @param[opt] opts `{name =}`; by default the name is `"sequential_1"`,
-- `"sequential_2"`, ... (a count of its own, which `reset_names` leaves alone)
-- @return the model
setmetatable(Sequential, {
  __call = function(_, layers, opts)
    if type(layers) == "table" and getmetatable(layers) == nil and layers[1] == nil and opts == nil
        and next(layers) ~= nil then
      local kw = utils.check_options("Sequential", layers, { layers = true, name = true })
      layers, opts = kw.layers, { name = kw.name }
    elseif opts ~= nil then
      utils.check_options("Sequential", opts, { name = true })
    end
    if opts and opts.name ~= nil and (type(opts.name) ~= "string" or opts.name == "") then
      check.arg_error("Sequential", "name", "a non-empty string", opts.name, 2)
    end
    model_count = model_count + 1
    local self = setmetatable({ layers = {}, name = (opts and opts.name) or ("sequential_" .. model_count) }, Sequential)
    if layers ~= nil then
      if type(layers) ~= "table" or is_layer(layers) or getmetatable(layers) == Input then
        error("Sequential: expected an array of layers", 2)
      end
      local err = add_each(self, layers)
      if err then error(err, 2) end
    end
    return self
  end,
})

--- Append a layer.  When the model knows its input shape (the first
-- layer's `input_shape`, or `build`), the layer is built at once for the
-- previous layer's output shape, so a mismatch shows here with both
-- shapes and the layer is not added, as in
-- `"Sequential.add: layer dense_2 does not accept input of shape (None, 5): ..."`.
-- A layer already in the model, or one with the name of a layer in it,
-- is an error.
-- @param layer a layer
-- @return the model (to chain calls)
function Sequential:add(layer)
  if getmetatable(layer) == Input then
    if #self.layers > 0 or self.input_shape then
      error("Sequential.add: an Input must come first, before any layer and without an input_shape", 2)
    end
    self.input_shape = layer.shape
    return self
  end
  if not is_layer(layer) then error(fmt("Sequential.add: expected a layer, got %s", type(layer)), 2) end
  for _, l in ipairs(self.layers) do
    if l == layer or l.name == layer.name then
      error(fmt("Sequential.add: the model already has a layer named '%s' (names must be unique)", layer.name), 2)
    end
  end
  if #self.layers == 0 and layer.input_shape then
    if self.input_shape and shape_str(self.input_shape) ~= shape_str(layer.input_shape) then
      error(fmt("Sequential.add: layer %s has input_shape %s but the Input is %s", layer.name,
        shape_str(layer.input_shape, true), shape_str(self.input_shape, true)), 2)
    end
    self.input_shape = layer.input_shape
  end
  self.layers[#self.layers + 1] = layer
  if self.input_shape then
    local shape = #self.layers == 1 and self.input_shape or self.output_shapes[#self.layers - 1]
    self.output_shapes = self.output_shapes or {}
    local ok, out = pcall(layer.build_for, layer, shape)
    if not ok then
      table.remove(self.layers)
      error(fmt("Sequential.add: layer %s does not accept input of shape %s: %s", layer.name,
        shape_str(shape, true), tostring(out)), 2)
    end
    self.output_shapes[#self.layers] = out
  end
  return self
end

--- Build every layer for a sample input shape, each for the output
-- shape of the one before (as `add` does).  `call`, `fit`, `evaluate`,
-- `predict` and `train_on_batch` build the model for x's shape when it
-- has no input shape.  A layer that does not accept its input is an
-- error, as in `add`, and the model is left as it was.
-- @param input_shape the sample shape (no batch dim)
function Sequential:build(input_shape)
  nn.check_shape("build", "input_shape", input_shape, 2)
  local layers, outs, shape = self.layers, self.output_shapes, self.input_shape
  self.layers, self.output_shapes, self.input_shape = {}, {}, input_shape
  local err = add_each(self, layers)
  if err then -- the model as it was
    self.layers, self.output_shapes, self.input_shape = layers, outs, shape
    error(err, 2)
  end
end

local function ensure_built(self, x)
  if not self.input_shape then
    local s = x:shape()
    table.remove(s, 1)
    self:build(s)
  end
end

-- x is a tensor of the model's input shape (when built), or has a batch
-- dim; errors name fname and point `level` up, as error() counts it
local function check_input(self, fname, x, level)
  if not core.is_tensor(x) then check.arg_error(fname, "x", "a tensor", x, level + 1) end
  local s = self.input_shape
  if s then
    local ok = x:dim() == #s + 1
    for i = 1, #s do ok = ok and x:size(i + 1) == s[i] end
    if not ok then
      error(fmt("%s: %s expects input of shape %s, got %s", fname, self.name, shape_str(s, true),
        shape_str(x:shape())), level + 1)
    end
  elseif x:dim() < 1 then
    error(fmt("%s: x needs a batch dim (got %s)", fname, check.describe(x)), level + 1)
  end
end

--- The forward pass: each layer's `call` in turn.  When the model has an
-- input shape, x must have it after the batch dim, as in
-- `"sequential_1: sequential_1 expects input of shape (None, 784), got (32, 10)"`;
-- else the model is built for x's shape first.
-- @param x a tensor with a batch dim
-- @param[opt] training true in training (dropout and noise layers act only then)
-- @param[opt] want_logits true to leave out a softmax that ends the last
-- layer (a fused loss takes the logits)
-- @return the output batch
function Sequential:call(x, training, want_logits)
  check_input(self, self.name, x, 2)
  ensure_built(self, x)
  local layers = self.layers
  local n, i = #layers, 1
  while i <= n do
    local l, nxt = layers[i], layers[i + 1]
    -- a layer whose pass can take the next one into it (Conv2D with MaxPooling2D,
    -- Dense with Dropout or AlphaDropout: `fuses_with`)
    if nxt and l.fuses_with and l:fuses_with(nxt) and not (want_logits and i + 1 == n) then
      x = l:call_fused(x, nxt, training)
      i = i + 2
    else
      x = l:call(x, training, want_logits and i == n)
      i = i + 1
    end
  end
  return x
end
Sequential.__tostring = function(self)
  if type(self) ~= "table" then check.arg_error("Sequential.__tostring", "self", "a Sequential", self, 2) end
  return fmt("Sequential %s (%d layers)", tostring(rawget(self, "name")), #(rawget(self, "layers") or {}))
end
Sequential.__call = function(self, x, training)
  if getmetatable(self) ~= Sequential then check.arg_error("Sequential", "the model called", "a Sequential", self, 2) end
  return self:call(x, training)
end

--- The trainable weights of all the layers, in order: what the
-- optimizer steps.
-- @return an array of the weight tensors themselves
function Sequential:parameters()
  local r = {}
  for _, l in ipairs(self.layers) do
    for _, w in ipairs(l.weights_) do
      if w.trainable then r[#r + 1] = w.value end
    end
  end
  return r
end

--- Copies of all the weights, trainable or not, layer after layer (each
-- layer's `get_weights`).
-- @return an array of new tensors
function Sequential:get_weights()
  local r = {}
  for _, l in ipairs(self.layers) do
    for _, w in ipairs(l:get_weights()) do r[#r + 1] = w end
  end
  return r
end

--- Set all the weights from a list as `get_weights` gives it.  Every
-- count and shape is checked before anything is copied, so an error
-- (`"set_weights: the model has 4 weights, got 3"`, or a layer's
-- `check_weights` error) leaves the model as it was.
-- @param list an array of tensors
function Sequential:set_weights(list)
  local k = 0
  for _, l in ipairs(self.layers) do k = k + #l.weights_ end
  if type(list) ~= "table" or #list ~= k then
    error(fmt("set_weights: the model has %d weights, got %s", k, type(list) == "table" and #list or type(list)), 2)
  end
  -- every shape is checked before anything is copied: no half-updated model
  local parts, i = {}, 1
  for li, l in ipairs(self.layers) do
    local part = {}
    for j = 1, #l.weights_ do part[j] = list[i]; i = i + 1 end
    l:check_weights(part, 2)
    parts[li] = part
  end
  for li, l in ipairs(self.layers) do l:set_weights(parts[li]) end
end

local function thousands(n)
  local s = tostring(math.floor(n))
  local r = s:reverse():gsub("(%d%d%d)", "%1,"):reverse()
  return (r:gsub("^,", ""))
end

--- Print the Keras 2 summary (SEMANTICS.md, "summary()"): 65 columns
-- ending at 29, 55 and 65, a row per layer (name and class, output shape,
-- parameter count) and the totals, one line per call of print_fn as Keras
-- does; the text is returned too.  The model must be built:
-- `"summary: the model is not built (give the first layer an input_shape)"`.
-- @param[opt] opts `{print_fn = print}`: a function called with each line
-- @return a string of the lines joined by "\n"
function Sequential:summary(opts)
  opts = utils.check_options("summary", opts, { print_fn = true })
  local print_fn = opts.print_fn == nil and print or opts.print_fn
  if not check.callable(print_fn) then check.arg_error("summary", "print_fn", "a function", print_fn, 2) end
  if not self.input_shape then error("summary: the model is not built (give the first layer an input_shape)", 2) end
  local lines = {}
  local function row(a, b, c)
    local line = ""
    local fields, pos = { a, b, c }, { 29, 55, 65 }
    for i = 1, 3 do
      if i > 1 then line = line:sub(1, -2) .. " " end
      line = (line .. fields[i]):sub(1, pos[i])
      line = line .. string.rep(" ", pos[i] - #line)
    end
    lines[#lines + 1] = (line:gsub("%s+$", ""))
  end
  local bar, dbl = string.rep("_", 65), string.rep("=", 65)
  lines[#lines + 1] = bar
  row("Layer (type)", "Output Shape", "Param #")
  lines[#lines + 1] = dbl
  local total, trainable = 0, 0
  for i, l in ipairs(self.layers) do
    local n, t = l:count_params()
    total, trainable = total + n, trainable + t
    row(fmt("%s (%s)", l.name, l.class_name), shape_str(self.output_shapes[i], true), tostring(n))
    lines[#lines + 1] = i < #self.layers and bar or dbl
  end
  lines[#lines + 1] = "Total params: " .. thousands(total)
  lines[#lines + 1] = "Trainable params: " .. thousands(trainable)
  lines[#lines + 1] = "Non-trainable params: " .. thousands(total - trainable)
  lines[#lines + 1] = bar
  for _, line in ipairs(lines) do print_fn(line) end
  return table.concat(lines, "\n")
end

--- The number of weights (trainable or not), as Keras' count_params().
-- The model must be built.
-- @return an integer
function Sequential:count_params()
  if not self.input_shape then
    error(fmt("count_params: %s is not built (give the first layer an input_shape, or call build)", self.name), 2)
  end
  local total = 0
  for _, l in ipairs(self.layers) do total = total + (l:count_params()) end
  return total
end

-- ---- compile ---------------------------------------------------------------------

--- Set the optimizer, the loss and the metrics of training.  All are
-- checked before the model changes, and an error names compile:
-- `"compile: a loss is required"`,
-- `"compile: losses.get: unknown loss 'mse2' (known: ...)"`.  With the
-- loss `"categorical_crossentropy"` or `"sparse_categorical_crossentropy"`
-- given by name and a last layer that ends in a softmax, training and
-- evaluate compute the loss from the logits (one fused softmax and
-- cross-entropy, as TensorFlow does); the metrics still see probabilities.
-- @param opts `optimizer` (a name, in any case, or an optimizer; default
-- "rmsprop"), `loss` (required: a `lunet.losses` name, or a function
-- `loss(y_true, y_pred)` returning a one-element tensor), `metrics` (an
-- array of `lunet.metrics` names or functions; "accuracy" or "acc" picks
-- the categorical, sparse or binary accuracy from the loss and the
-- shapes, as Keras does).  A metric logs under the name given, a
-- function under `"metric_1"`, `"metric_2"`, ... by position.
-- @return the model
function Sequential:compile(opts)
  if type(opts) ~= "table" then check.arg_error("compile", "options", "{optimizer=, loss=, metrics=}", opts, 2) end
  utils.check_options("compile", opts, { optimizer = true, loss = true, metrics = true })
  if opts.loss == nil then error("compile: a loss is required", 2) end
  if opts.metrics ~= nil and type(opts.metrics) ~= "table" then
    check.arg_error("compile", "metrics", "an array of names or functions", opts.metrics, 2)
  end
  -- everything checked before the model changes
  local optimizer = as_part_of("compile", optim.get, opts.optimizer or "rmsprop")
  local loss_fn = as_part_of("compile", losses.get, opts.loss)
  local metric_list = {}
  for i, m in ipairs(opts.metrics or {}) do
    local name = type(m) == "string" and m or ("metric_" .. i)
    local fn = (m == "accuracy" or m == "acc") and "auto" or as_part_of("compile", metrics.get, m)
    metric_list[i] = { name = name, fn = fn }
  end
  self.optimizer, self.loss_fn, self.metric_list = optimizer, loss_fn, metric_list
  -- a loss object (losses.SparseCategoricalCrossentropy{...}) names its function
  local lname, from_logits = opts.loss, false
  if losses.is_loss_object(opts.loss) then lname, from_logits = opts.loss.loss_name, opts.loss.from_logits end
  self.loss_name = type(lname) == "string" and lname or nil
  self.from_logits = from_logits
  -- a final softmax is fused into the cross-entropy unless the loss takes logits already
  self.fused = not from_logits and (self.loss_name == "categorical_crossentropy"
    or self.loss_name == "sparse_categorical_crossentropy")
  return self
end

local function last_softmax(self)
  local l = self.layers[#self.layers]
  return l and l.ends_in_softmax and l:ends_in_softmax()
end

-- level: as error() counts from check_xy (3: its caller's caller)
local function check_xy(fname, x, y, no_y, level)
  level = level or 3
  if not core.is_tensor(x) then check.arg_error(fname, "x", "a tensor", x, level) end
  if x:dim() < 1 or x:size(1) == 0 then error(fmt("%s: x has no rows (got %s)", fname, check.describe(x)), level) end
  if not no_y then
    if not core.is_tensor(y) then check.arg_error(fname, "y", "a tensor", y, level) end
    if y:dim() < 1 then error(fmt("%s: y needs a dim of rows (got %s)", fname, check.describe(y)), level) end
    if x:size(1) ~= y:size(1) then
      error(fmt("%s: x has %d rows but y has %d", fname, x:size(1), y:size(1)), level)
    end
  end
end

-- the batch_size option of fit/evaluate/predict
local function batch_size(fname, opts, level)
  local bs = opts.batch_size or 32
  if math.type(bs) ~= "integer" or bs < 1 then
    error(fmt("%s: batch_size must be a positive integer, got %s", fname, tostring(bs)), level or 3)
  end
  return bs
end

-- x in the dtype the model computes in (its first layer's, float32 by
-- default): float64 or integer input is cast, as Keras casts to floatx
local function in_model_dtype(self, x)
  local l = self.layers[1]
  local dtype = l and l.dtype or "float32"
  if x:dtype() == dtype then return x end
  return x:astype(dtype)
end

-- loss tensor and predictions for one batch
-- (fname: the method, named in errors from the loss)
local function forward_loss(self, x, y, training, fname, loss_fn)
  local fused = self.fused and last_softmax(self)
  local out = self:call(in_model_dtype(self, x), training, fused)
  local loss = check.within(fname, 0, loss_fn or self.loss_fn, y, out, fused or nil)
  if not core.is_tensor(loss) or loss:numel() ~= 1 then
    error(fmt("%s: the loss must return a one-element tensor (got %s)", fname, check.describe(loss)), 0)
  end
  -- with the fused loss the output is logits: metrics get them as they are
  -- when they only compare argmaxes, else softmax(logits), computed once
  return loss, out:detach(), fused
end

-- the metrics whose value is the same on logits as on their softmax
local argmax_only = { [metrics.categorical_accuracy] = true, [metrics.sparse_categorical_accuracy] = true }

local function batch_metrics(self, y, out, logits, logs, w)
  local probs
  for _, m in ipairs(self.metric_list) do
    local fn = m.fn
    if fn == "auto" then fn = metrics.accuracy_for(self.loss_name, y, out) end
    local pred = out
    if logits and not argmax_only[fn] then
      probs = probs or autograd.with_grad_mode(false, core.softmax, out, -1)
      pred = probs
    end
    local v = fn(y, pred)
    if type(v) ~= "number" then v = v:item() end
    logs[m.name] = (logs[m.name] or 0) + v * w
  end
end

-- One optimizer step (then the constraints) on a batch; returns the loss
-- value and the predictions.
local step_garbage = 0 -- KiB fit's steps made since the last collection they asked for (fit)
local seed_grads = setmetatable({}, { __mode = "k" }) -- model -> the ones its loss backpropagates

local function train_step(self, params, x, y, fname, loss_fn)
  -- the layers' results and gradients go into the buffers of the step before
  local _ <close> = autograd.step_buffers()
  for _, p in ipairs(params) do p:zero_grad() end
  local loss, out, logits = forward_loss(self, x, y, true, fname, loss_fn)
  -- d loss / d loss, made once per shape and dtype
  local seed = seed_grads[self]
  if not (seed and seed:dtype() == loss:dtype() and seed:dim() == loss:dim()) then
    seed = core.ones(loss:shape(), loss:dtype())
    seed_grads[self] = seed
  end
  loss:backward(seed)
  self.optimizer:step(params)
  for _, l in ipairs(self.layers) do l:apply_constraints() end
  return loss:item(), out, logits
end

--- One optimizer step on one batch: the loss and its gradients in
-- training mode, the optimizer's step, then the layers' constraints.
-- The model must be compiled: `"train_on_batch: compile the model first"`.
-- @param x the input batch (an integer tensor is converted to float32)
-- @param y the targets, as many rows as x
-- @return `{loss = number, <metric> = number, ...}`: the batch's values,
-- computed before the step
function Sequential:train_on_batch(x, y)
  if not self.optimizer then error("train_on_batch: compile the model first", 2) end
  check_xy("train_on_batch", x, y)
  check_input(self, "train_on_batch", x, 2)
  local lv, out, logits = train_step(self, self:parameters(), x, y, "train_on_batch")
  local logs = { loss = lv }
  batch_metrics(self, y, out, logits, logs, 1)
  return logs
end

-- rows [i, i+n) of t, or the rows named by an int32 index tensor (in a
-- training step, gathered into the step before's batch)
local function rows(t, idx, i, n)
  if not idx then return t:narrow(1, i, n) end
  local ws = autograd.workspace(rows)
  local b = t:index_select(1, idx:narrow(1, i, n), ws and ws.batch)
  if ws then ws.batch = b end
  return b
end

--- The loss and the metrics on a data set, in inference mode (no dropout
-- or noise, nothing recorded), batch by batch.  The model must be
-- compiled: `"evaluate: compile the model first"`.  The result holds the
-- values twice, as Keras' list and as its dict: `r[1]` is the loss and
-- `r[1 + i]` the i-th compiled metric (Keras' `score[0]`, `score[i]`), and
-- `r.loss`, `r.accuracy`, ... the same by name.
-- @param x the inputs (integer and float64 input is cast to the model's dtype)
-- @param y the targets, as many rows as x
-- @param[opt] opts `batch_size` (32), `return_dict` (false: true gives the
-- names only); `verbose` is accepted and ignored
-- @return `{loss, <metric>, ..., loss = number, <metric> = number, ...}`: means over the rows
function Sequential:evaluate(x, y, opts)
  if not self.loss_fn then error("evaluate: compile the model first", 2) end
  check_xy("evaluate", x, y)
  check_input(self, "evaluate", x, 2)
  opts = utils.check_options("evaluate", opts, { batch_size = true, verbose = true, return_dict = true })
  if opts.return_dict ~= nil and type(opts.return_dict) ~= "boolean" then
    check.arg_error("evaluate", "return_dict", "a boolean", opts.return_dict, 2)
  end
  local bs = batch_size("evaluate", opts)
  local n = x:size(1)
  local logs = { loss = 0 }
  autograd.no_grad(function()
    for i = 1, n, bs do
      local m = math.min(bs, n - i + 1)
      local yb = rows(y, nil, i, m)
      local loss, out, logits = forward_loss(self, rows(x, nil, i, m), yb, false, "evaluate")
      logs.loss = logs.loss + loss:item() * m
      batch_metrics(self, yb, out, logits, logs, m)
    end
  end)
  for k, v in pairs(logs) do logs[k] = v / n end
  if not opts.return_dict then
    logs[1] = logs.loss
    for i, m in ipairs(self.metric_list) do logs[i + 1] = logs[m.name] end
  end
  return logs
end

-- predict on behalf of fname (predict, predict_classes, predict_proba):
-- errors name it and point at its caller
local function predict_as(fname, self, x, opts)
  check_xy(fname, x, nil, true, 4)
  check_input(self, fname, x, 3)
  local bs = batch_size(fname, utils.check_options(fname, opts, { batch_size = true, verbose = true }, 3), 4)
  local n = x:size(1)
  local outs = {}
  autograd.no_grad(function()
    for i = 1, n, bs do
      outs[#outs + 1] = self:call(in_model_dtype(self, rows(x, nil, i, math.min(bs, n - i + 1))), false)
    end
  end)
  if #outs == 1 then return outs[1] end
  return core.cat(outs, 1)
end

--- The outputs for a batch of inputs, in inference mode (no dropout or
-- noise, nothing recorded), computed batch by batch.  The model need not
-- be compiled.  Integer and float64 input is cast to the model's dtype
-- (float32 unless its first layer has another), as Keras casts to floatx.
-- @param x the inputs, with at least one row
-- @param[opt] opts `batch_size` (32); `verbose` is accepted and ignored
-- @return one tensor of all the outputs
function Sequential:predict(x, opts)
  local out = predict_as("predict", self, x, opts)
  return out
end

--- predict_classes(x [, {batch_size=32}]) (Keras 2): the 0-based class id of
-- each sample as an int32 tensor of shape (N): the argmax of the last dim of
-- predict's output, or output > 0.5 when it has one unit (binary).
-- @param x the inputs, with at least one row
-- @param[opt] opts `batch_size` (32)
-- @return an int32 tensor of shape (N)
function Sequential:predict_classes(x, opts)
  local p = predict_as("predict_classes", self, x, opts)
  if p:dim() < 2 then
    error(fmt("predict_classes: the model's output %s has no class dim", shape_str(p:shape())), 2)
  end
  if p:size(-1) > 1 then return p:argmax(-1, { base = 0 }) end
  local s = p:shape()
  s[#s] = nil
  return p:gt(0.5):int():reshape(s)
end

--- predict_proba(x [, opts]) (Keras 2): predict's output.
-- @param x the inputs, with at least one row
-- @param[opt] opts `batch_size` (32)
-- @return one tensor of all the outputs
function Sequential:predict_proba(x, opts)
  local out = predict_as("predict_proba", self, x, opts)
  return out
end

-- the progress bar lives in lunet/progress.lua
M.bar_line = progress.bar_line

-- ---- fit -----------------------------------------------------------------------------

local function call_cbs(cbs, hook, ...)
  for _, cb in ipairs(cbs) do
    if cb[hook] then cb[hook](cb, ...) end
  end
end

--- Train the model (SEMANTICS.md, "Training loop").  Each epoch runs one
-- optimizer step per batch of the training rows (in a new random order
-- when shuffling), as `train_on_batch` does, then computes the loss and
-- metrics of the validation rows in inference mode (the `val_` keys).
-- The epoch's values are the means over its batches, weighted by their
-- sizes.  Unless verbose is 0 it prints "Epoch 1/20" and a progress bar
-- or line.  With `sparse_categorical_crossentropy` the labels are checked
-- against the output size once, before the first epoch.
--
-- Each callback gets `cb.model` (this model) and, when it has them, the
-- calls `on_train_begin(logs)`, `on_epoch_begin(epoch, logs)`,
-- `on_batch_end(batch, {loss =, size =})`, `on_epoch_end(epoch, logs)`
-- and `on_train_end(logs)`, epochs and batches counted from 0.  A
-- callback that sets `model.stop_training = true` stops training after
-- the current batch (that epoch's values then cover the batches run).
-- @param x the training inputs (an integer tensor is converted to float32)
-- @param y the training targets, as many rows as x
-- @param[opt] opts `batch_size` (32), `epochs` (1: the epochs run are
-- `initial_epoch` to `epochs - 1`), `verbose` (1: a bar; 2: one line per
-- epoch; 0: nothing), `shuffle` (true), `validation_split` (0: a
-- fraction in [0, 1) of the rows, the last ones, set apart before
-- shuffling), `validation_data` (`{x_val, y_val}`, used instead of
-- `validation_split`), `callbacks` (an array), `initial_epoch` (0),
-- `distributed` (false; true under lunet.distributed: rank r takes batches
-- r, r + size, ... of rank 0's permutation, every rank the same number, and
-- only rank 0 prints)
-- @return the History, also kept as `model.history`: `history.history`
-- (for loss, each metric and the `val_` keys, an array of one value per
-- epoch), `history.epoch` (the epochs run) and `history.params`
-- (`batch_size`, `epochs`, `steps`, `samples`, `verbose`, `metrics`)
function Sequential:fit(x, y, opts)
  opts = utils.check_options("fit", opts, { batch_size = true, epochs = true, verbose = true, shuffle = true,
    validation_split = true, validation_data = true, callbacks = true, initial_epoch = true, distributed = true })
  if not self.optimizer then error("fit: compile the model first", 2) end
  check_xy("fit", x, y)
  check_input(self, "fit", x, 2)
  local bs = batch_size("fit", opts)
  local epochs = opts.epochs or 1
  local verbose = opts.verbose == nil and 1 or opts.verbose
  if opts.distributed ~= nil and type(opts.distributed) ~= "boolean" then
    check.arg_error("fit", "distributed", "a boolean", opts.distributed, 2)
  end
  -- data-parallel over lunet.distributed's ranks: rank r takes batches r, r + size, ...
  local mpi = opts.distributed and package.loaded["lunet.mpi"]
  if opts.distributed and not (mpi and mpi.initialized()) then
    error("fit: distributed = true needs lunet.distributed.init() first", 2)
  end
  local rank, ranks = mpi and mpi.rank() or 0, mpi and mpi.size() or 1
  local shuffle = opts.shuffle ~= false
  if math.type(epochs) ~= "integer" or epochs < 0 then
    error(fmt("fit: epochs must be a non-negative integer, got %s", tostring(epochs)), 2)
  end
  if verbose ~= 0 and verbose ~= 1 and verbose ~= 2 then
    error(fmt("fit: verbose must be 0, 1 or 2, got %s", tostring(verbose)), 2)
  end
  if opts.validation_split ~= nil and type(opts.validation_split) ~= "number" then
    error(fmt("fit: validation_split must be a number, got %s", type(opts.validation_split)), 2)
  end
  if opts.validation_split ~= nil and not (opts.validation_split >= 0 and opts.validation_split < 1) then
    check.arg_error("fit", "validation_split", "in [0, 1)", opts.validation_split, 2)
  end
  if opts.shuffle ~= nil and type(opts.shuffle) ~= "boolean" then
    check.arg_error("fit", "shuffle", "a boolean", opts.shuffle, 2)
  end
  local initial_epoch = opts.initial_epoch or 0
  if math.type(initial_epoch) ~= "integer" or initial_epoch < 0 then
    check.arg_error("fit", "initial_epoch", "a non-negative integer", initial_epoch, 2)
  end
  if opts.validation_data ~= nil and (type(opts.validation_data) ~= "table" or core.is_tensor(opts.validation_data)) then
    check.arg_error("fit", "validation_data", "{x_val, y_val}", opts.validation_data, 2)
  end
  if opts.validation_data ~= nil and opts.validation_data[3] ~= nil then
    error("fit: validation_data has a third element (sample weights), which lunet does not support; " ..
      "pass {x_val, y_val}", 2)
  end
  local cbs = opts.callbacks or {}
  if type(cbs) ~= "table" or core.is_tensor(cbs) then check.arg_error("fit", "callbacks", "an array of callbacks", cbs, 2) end
  for i = 1, #cbs do
    if type(cbs[i]) ~= "table" or core.is_tensor(cbs[i]) then
      check.arg_error("fit", fmt("callbacks[%d]", i), "a callback table", cbs[i], 2)
    end
  end
  local xv, yv
  if opts.validation_data then
    xv, yv = opts.validation_data[1], opts.validation_data[2]
    check_xy("fit (validation_data)", xv, yv)
  elseif opts.validation_split and opts.validation_split > 0 then
    local s = opts.validation_split
    if s >= 1 then error("fit: validation_split must be in [0, 1)", 2) end
    local n = x:size(1)
    local split_at = math.floor(n * (1 - s)) -- the LAST fraction, before shuffling (Keras)
    if split_at < 1 or split_at >= n then error("fit: validation_split leaves no training or validation rows", 2) end
    xv, yv = x:narrow(1, split_at + 1, n - split_at), y:narrow(1, split_at + 1, n - split_at)
    x, y = x:narrow(1, 1, split_at), y:narrow(1, 1, split_at)
  end
  ensure_built(self, in_model_dtype(self, x:narrow(1, 1, 1)))
  -- sparse labels are checked once here, not again at every step
  local loss_fn
  local out_shape = self.output_shapes[#self.layers]
  -- the function or a loss object of it (compile names both)
  local sparse = self.loss_fn == losses.sparse_categorical_crossentropy
    or self.loss_name == "sparse_categorical_crossentropy"
  if sparse and out_shape and #out_shape >= 1 and y:numel() == y:size(1) then
    check.within("fit", 2, utils.check_labels, "sparse_categorical_crossentropy", y, out_shape[#out_shape])
    local internal, from_logits = losses._internal.sparse_categorical_crossentropy, self.from_logits
    loss_fn = function(y_true, y_pred, logits) return internal(y_true, y_pred, from_logits or logits) end
  end
  local n = x:size(1)
  local batches = (n - 1) // bs + 1 -- n >= 1; no overflow at a huge batch_size
  -- distributed: every rank takes the same number of batches (a round of
  -- `ranks` batches that the data cannot fill is left out), and only rank 0 prints
  local steps = batches // ranks
  if steps < 1 then
    error(fmt("fit: %d samples make %d batches of %d, fewer than the %d ranks", n, batches, bs, ranks), 2)
  end
  if rank ~= 0 then verbose = 0 end
  local keys = { "loss" }
  for _, m in ipairs(self.metric_list) do keys[#keys + 1] = m.name end
  local all_keys = { table.unpack(keys) }
  if xv then for _, k in ipairs(keys) do all_keys[#all_keys + 1] = "val_" .. k end end
  local history = { history = {}, epoch = {},
    params = { batch_size = bs, epochs = epochs, steps = steps, samples = n, verbose = verbose,
      metrics = all_keys } }
  -- (fit_x and fit_y: the training data, for a callback that probes it: LayerStats;
  -- model.history is this fit's History from the start, as in Keras, so a
  -- callback can record into it)
  for _, cb in ipairs(cbs) do cb.model, cb.fit_x, cb.fit_y = self, x, y end
  self.history = history
  self.stop_training = false
  local tty = verbose == 1 and progress.stdout_is_tty()
  local params = self:parameters()
  call_cbs(cbs, "on_train_begin", {})
  for epoch = initial_epoch, epochs - 1 do
    local logs = {}
    call_cbs(cbs, "on_epoch_begin", epoch, logs)
    if verbose > 0 then print(fmt("Epoch %d/%d", epoch + 1, epochs)) end
    local perm = shuffle and core.randperm(n) or nil
    if perm and mpi then mpi.broadcast(perm, 0) end -- rank 0's permutation for all
    local sums, seen = {}, 0
    local bar = progress.Bar(steps, { verbose = verbose, tty = tty, keys = keys })
    for b = 1, steps do
      local i = ((b - 1) * ranks + rank) * bs + 1
      local m = math.min(bs, n - i + 1)
      local lv
      local kb0 = collectgarbage("count")
      do -- one step's buffers: the batch, the step and its metrics (not the callbacks)
        local _ <close> = autograd.step_buffers()
        local xb, yb = rows(x, perm, i, m), rows(y, perm, i, m)
        local out, logits
        lv, out, logits = train_step(self, params, xb, yb, "fit", loss_fn)
        sums.loss = (sums.loss or 0) + lv * m
        batch_metrics(self, yb, out, logits, sums, m)
      end
      -- A step makes no tensors, only its tape's small tables, and those
      -- alone advance the collector too slowly: a cycle counts the data's
      -- bytes as work (marking a 188 MB tensor is 188 MB of it), so the
      -- garbage would grow for epochs, up to the data's size.  A full
      -- collection once the steps (of any fit) have made an eighth of the
      -- heap (at least 8 MiB) bounds it, at the cost of one cycle per that much.
      local made = collectgarbage("count") - kb0
      if made > 0 then
        step_garbage = step_garbage + made
        if step_garbage > math.max(8 * 1024, kb0 / 8) then
          collectgarbage("collect")
          step_garbage = 0
        end
      end
      seen = seen + m
      call_cbs(cbs, "on_batch_end", b - 1, { loss = lv, size = m })
      bar:update(b, sums, seen)
      if self.stop_training then break end
    end
    for k, v in pairs(sums) do logs[k] = v / seen end
    if xv then
      local vl = self:evaluate(xv, yv, { batch_size = bs, return_dict = true })
      for k, v in pairs(vl) do logs["val_" .. k] = v end
    end
    local elapsed = core.clock() - bar.t0
    call_cbs(cbs, "on_epoch_end", epoch, logs)
    bar:finish(logs, all_keys, elapsed)
    history.epoch[#history.epoch + 1] = epoch
    for k, v in pairs(logs) do
      history.history[k] = history.history[k] or {}
      table.insert(history.history[k], v)
    end
    if self.stop_training then break end
  end
  call_cbs(cbs, "on_train_end", {})
  self.history = history
  return history
end

-- ---- save / load (safetensors) ------------------------------------------------------

--- The model's config, data only (`save` writes it as JSON):
-- `{class_name = "Sequential", name =, input_shape =, layers = {{class_name =, config =}, ...}}`,
-- each layer's config from its `get_config`.
-- @return a new table
function Sequential:get_config()
  local layers = setmetatable({}, utils.json_array_mt)
  for i, l in ipairs(self.layers) do
    layers[i] = { class_name = l.class_name, config = l:get_config() }
  end
  return { class_name = "Sequential", name = self.name, input_shape = self.input_shape, layers = layers }
end

-- every weight of the model as {name = "<layer>/<weight>", tensor = its value (detached)}, in order
local function named_weights(model)
  local list = {}
  for _, l in ipairs(model.layers) do
    for _, w in ipairs(l.weights_) do
      list[#list + 1] = { name = l.name .. "/" .. w.name, tensor = w.value:detach() }
    end
  end
  return list
end

--- Write the model to one .safetensors file: weights as `"<layer>/<weight>"`
-- tensors, the config as JSON in `__metadata__.lunet_config`.  JSON keys are
-- sorted, so the same model gives the same bytes in any process.  The file
-- is written to path .. ".tmp" and renamed over path: on any failure (a
-- full disk, say) the error names the path and the OS reason, and a file
-- already at path is left as it was.  The model must be built, and no
-- layer may have a function as an option (activation, initializer,
-- constraint): `"save: layer dense_1 has a function as activation; pass a name"`.
-- Under lunet.distributed only rank 0 writes (the others return at once)
-- unless `all_ranks` is set.
-- @param path the file name
-- @param[opt] opts `{all_ranks = false}`
function Sequential:save(path, opts)
  if type(path) ~= "string" or path == "" then
    error(fmt("save: path must be a file name, got %s", tostring(path)), 2)
  end
  opts = utils.check_options("save", opts, { all_ranks = true })
  if not opts.all_ranks and not utils.writes_here() then return end
  if not self.input_shape then error("save: the model is not built", 2) end
  -- a function (activation, initializer, constraint) cannot be written as data
  for _, l in ipairs(self.layers) do
    local function scan(v, where)
      if type(v) ~= "table" then return end
      if v.class_name == "function" then
        error(fmt("save: layer %s has a function as %s; pass a name or a registered class", l.name, where), 4)
      end
      for k, sub in pairs(v) do scan(sub, k) end
    end
    if l.function_option then
      error(fmt("save: layer %s has a function as %s; pass a name", l.name, l.function_option), 2)
    end
    scan(l:get_config(), "an option")
  end
  local list = named_weights(self)
  local okc, config = pcall(utils.json_encode, self:get_config())
  if not okc then error(fmt("save: the model config cannot be written: %s", tostring(config)), 2) end
  local parts = ST.encode(list, { format = "lunet", lunet_version = core.version, lunet_config = config })
  utils.write_file_atomic(path, parts, "save", 2)
end

--- Write only the weights, as Keras' `model.save_weights`: one
-- .safetensors file of `"<layer>/<weight>"` tensors in the model's weight
-- order (the file `save` writes, without the config), written atomically as
-- `save` writes.  The model must be built.
-- @param path the file name
function Sequential:save_weights(path)
  if type(path) ~= "string" or path == "" then
    error(fmt("save_weights: path must be a file name, got %s", tostring(path)), 2)
  end
  if not self.input_shape then error("save_weights: the model is not built", 2) end
  local list = named_weights(self)
  utils.write_file_atomic(path, ST.encode(list, { format = "lunet_weights", lunet_version = core.version }),
    "save_weights", 2)
end

--- Load weights that `save_weights` (or `save`) wrote into this built
-- model, as Keras' `model.load_weights`: by order, not by name (the layer
-- names of another process may differ), each tensor checked against its
-- weight's shape first.  Any mismatch is an error naming the layer, the
-- weight and both shapes, `"load_weights: w.safetensors: conv2d_1/kernel is
-- (3, 3, 2, 4) in the model but (3, 3, 3, 4) in the file ('conv2d_7/kernel')"`,
-- and leaves every weight as it was.
-- @param path the file name
function Sequential:load_weights(path)
  if type(path) ~= "string" then error("load_weights: expected a file path", 2) end
  if not self.input_shape then error("load_weights: the model is not built", 2) end
  local st = ST.parse(path, "load_weights")
  local mine = named_weights(self)
  if #st.list ~= #mine then
    error(fmt("load_weights: %s: the model has %d weights, the file %d", path, #mine, #st.list), 2)
  end
  local values = {}
  for i, e in ipairs(st.list) do
    local name, v = mine[i].name, mine[i].tensor
    if shape_str(e.shape) ~= shape_str(v:shape()) then
      error(fmt("load_weights: %s: %s is %s in the model but %s in the file ('%s')", path, name,
        shape_str(v:shape()), shape_str(e.shape), e.name), 2)
    end
    values[i] = ST.tensor(st, e)
  end
  self:set_weights(values)
end

local function bad(path, msg, ...)
  error(fmt("load_model: %s: " .. msg, path, ...), 0)
end

-- an error message without the "file:line: " a Lua error() adds
local bare = check.bare

--- Functions of the module.
-- @section functions

--- Read a .safetensors file as hostile input.  The whole header is
-- checked against the file (offsets tiling the data exactly) before any
-- tensor is made; errors name read_safetensors and the path.
-- @param path the file name
-- @return a table of the tensors by name
-- @return the `__metadata__` table (string to string; empty when absent)
function M.read_safetensors(path)
  if type(path) ~= "string" then error("read_safetensors: expected a file path", 2) end
  return ST.read(path, "read_safetensors")
end

-- JSON nulls (cjson.null) back to nil and integral numbers back to
-- integers (cjson decodes every number as a float), recursively
local function denull(v, null)
  if v == null then return nil end
  if type(v) == "number" then return math.tointeger(v) or v end
  if type(v) ~= "table" then return v end
  local r = {}
  for k, x in pairs(v) do r[k] = denull(x, null) end
  return r
end

-- The layers of a config, each made by its class's constructor (so with the
-- same option checks as in a script); nothing is built yet.
local function config_layers(path, config, custom)
  local okc, cerr = pcall(utils.check_options, "the model config", config,
    { class_name = true, name = true, input_shape = true, layers = true }, 1)
  if not okc then bad(path, "%s", bare(cerr)) end
  if config.name ~= nil and type(config.name) ~= "string" then bad(path, "the model name is not a string") end
  if type(config.input_shape) ~= "table" then bad(path, "the model config has no input_shape") end
  local oks, serr = pcall(nn.check_shape, "the model config", "input_shape", config.input_shape, 1)
  if not oks then bad(path, "%s", bare(serr)) end
  local n = 0
  for _ in pairs(config.layers) do n = n + 1 end
  if n ~= #config.layers then bad(path, "the model config's layers are not an array") end
  local layers, names = {}, {}
  for i, lc in ipairs(config.layers) do
    if type(lc) ~= "table" or type(lc.class_name) ~= "string" or type(lc.config) ~= "table" then
      bad(path, "layer %d has no class_name/config", i)
    end
    for k in pairs(lc) do
      if k ~= "class_name" and k ~= "config" then bad(path, "layer %d has an unknown field '%s'", i, tostring(k)) end
    end
    local cls = custom[lc.class_name] or nn.get_class(lc.class_name)
    if not cls then
      bad(path, "unknown layer class '%s' (pass it in custom_objects)", lc.class_name)
    end
    local okl, layer = pcall(cls.from_config or nn.Layer.from_config, cls, lc.config)
    if not okl then bad(path, "cannot rebuild layer %d (%s): %s", i, lc.class_name, bare(layer)) end
    if names[layer.name] then bad(path, "two layers are named '%s'", layer.name) end
    names[layer.name] = true
    layers[i] = layer
  end
  return layers
end

--- Load a model that `save` wrote: rebuild it from the registry of layer
-- classes (never running code from the file) and load its weights; all
-- checks pass before a model is returned.  No initializer runs: each
-- weight a layer's build creates is checked (name, shape, dtype) against
-- the file's header and then taken from the file, so a config can never
-- make lunet allocate more than the file holds.  Errors read like
-- `"load_model: m.safetensors: unknown layer class 'MyLayer' (pass it in custom_objects)"`.
-- @param path the file name
-- @param[opt] opts `{custom_objects = {MyLayer = cls, ...}}`: classes by
-- name, looked up before the registry
-- @return the model, built, with the file's weights (not compiled)
function M.load_model(path, opts)
  if type(path) ~= "string" then error("load_model: expected a file path", 2) end
  opts = utils.check_options("load_model", opts, { custom_objects = true })
  local custom = opts.custom_objects or {}
  if type(custom) ~= "table" then error("load_model: custom_objects must be a table of classes", 2) end
  for k, cls in pairs(custom) do
    if nn._builtin_class(k) and nn._builtin_class(k) ~= cls then
      error(fmt("load_model: custom_objects names the built-in layer '%s'; give your class another name", tostring(k)), 2)
    end
  end
  local json = ST.cjson()
  local st = ST.parse(path, "load_model")
  local meta = st.meta
  if type(meta.lunet_config) ~= "string" then bad(path, "no lunet model config in __metadata__") end
  local ok, config = pcall(json.decode, meta.lunet_config)
  if not ok or type(config) ~= "table" or config.class_name ~= "Sequential" or type(config.layers) ~= "table" then
    bad(path, "the model config is not valid")
  end
  config = denull(config, json.null)
  local layers = config_layers(path, config, custom)

  local taken, ntaken = {}, 0
  -- a layer's weight, from the file, once its name, shape and dtype match
  local function source(layer, wname, shape, dtype)
    local key = layer.name .. "/" .. wname
    local e = st.entries[key]
    if not e then error(fmt("missing tensor '%s'", key), 0) end
    if taken[key] then error(fmt("the layer makes weight '%s' twice", key), 0) end
    if e.dtype ~= dtype or shape_str(e.shape) ~= shape_str(shape) then
      error(fmt("weight '%s' is %s %s by the config but %s %s in the file", key,
        dtype, shape_str(shape), e.dtype, shape_str(e.shape)), 0)
    end
    taken[key] = true
    ntaken = ntaken + 1
    return ST.tensor(st, e)
  end

  local model = Sequential(nil, { name = config.name })
  local shape = config.input_shape
  model.input_shape, model.output_shapes = shape, {}
  for i, l in ipairs(layers) do
    l.weight_source = source
    local okb, out = pcall(l.build_for, l, shape)
    l.weight_source = nil
    if not okb then
      bad(path, "cannot build layer %d (%s) for input of shape %s: %s", i, l.name, shape_str(shape, true), bare(out))
    end
    -- a weight a custom build made without add_weight: the same checks, then a copy
    for _, w in ipairs(l.weights_) do
      if not w.from_source then
        local okw, t = pcall(source, l, w.name, w.value:shape(), w.value:dtype())
        if not okw then bad(path, "%s", t) end
        autograd.no_grad(function() w.value:copy(t) end)
      end
      w.from_source = nil
    end
    model.layers[i], model.output_shapes[i] = l, out
    shape = out
  end
  if #st.list ~= ntaken then bad(path, "%d tensors in the file do not belong to the model", #st.list - ntaken) end
  return model
end

--- One line of fit's progress bar (`lunet.progress.bar_line`, which
-- this module also exports).
-- @function bar_line
-- @param cur the steps done (0 to total)
-- @param total the steps in the epoch (>= 1)
-- @param elapsed the seconds since the epoch began
-- @param logs a table of key -> number (the averages so far)
-- @param keys the log keys to print, in order
-- @param[opt] final true for the epoch's last line (its time and the time
-- per step instead of the ETA)
-- @return the line, a string

-- every method checks its self
check.methods(Sequential, "Sequential")

M.initializers, M.constraints = I, C
nn.Sequential = Sequential
nn.Input = M.Input
nn.load_model = M.load_model
nn.read_safetensors = M.read_safetensors
return M
