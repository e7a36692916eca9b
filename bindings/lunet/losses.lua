--- Losses and metrics (SEMANTICS.md, "Losses and metrics").  A loss is
-- `loss(y_true, y_pred)` returning a 0-d tensor (mean over the batch) that
-- autograd differentiates; a metric returns a Lua number.  `y_true` and
-- `y_pred` have the batch as dim 1 and the same number of rows; `y_pred` is
-- a float32 or float64 tensor.  `lunet.metrics` is `losses.metrics`.
-- @module lunet.losses
-- @alias L
local core = require("lunet.core")
local A = require("lunet.activations")
local autograd = require("lunet.autograd")
local utils = require("lunet.utils")
local check = require("lunet.check")

local L = {}
local fmt = string.format
local EPS = 1e-7

local shape_str = check.shape_str

-- y_true any tensor, y_pred a float tensor, both with the batch as dim 1 and
-- the same number of rows; from_logits nil or a boolean
-- raises "y_true of shape .. does not match y_pred of shape .."; level as error's
local function mismatch(fname, y_true, y_pred, level)
  error(fmt("%s: y_true of shape %s does not match y_pred of shape %s", fname,
    shape_str(y_true:shape()), shape_str(y_pred:shape())), level + 1)
end

local function check_pair(fname, y_true, y_pred, from_logits)
  check.tensor(fname, "y_true", y_true, 3)
  check.float_tensor(fname, "y_pred", y_pred, 3)
  if y_true:dim() == 0 or y_pred:dim() == 0 then
    error(fmt("%s: y_true and y_pred need a batch dim, got shapes %s and %s", fname,
      shape_str(y_true:shape()), shape_str(y_pred:shape())), 3)
  end
  if from_logits ~= nil and type(from_logits) ~= "boolean" then
    check.arg_error(fname, "from_logits", "a boolean", from_logits, 3)
  end
  if y_true:size(1) ~= y_pred:size(1) then
    error(fmt("%s: y_true has %d rows but y_pred has %d (shapes %s and %s)", fname, y_true:size(1),
      y_pred:size(1), shape_str(y_true:shape()), shape_str(y_pred:shape())), 3)
  end
end

--- One-hot rows of 0-based integer labels (`lunet.utils.one_hot`, with its
-- limits); errors name `fname` and the bad label.
-- @function one_hot
-- @param fname the function named in errors
-- @param labels a tensor of 0-based labels, any shape (flattened to N)
-- @param classes the number of classes
-- @param[opt="float32"] dtype the result's dtype
-- @return an (N, classes) tensor of 0 and 1
L.one_hot = utils.one_hot

local function mean_rows(t) -- mean over the batch of per-row values
  return t:mean()
end

-- The cross-entropy of each row of softmax(z) against y, as one C kernel
-- (core.softmax_cross_entropy: log-sum-exp with the max subtracted, so
-- large logits do not overflow) and one backward (p - y): z (..., C), y
-- targets of z's shape or integer class ids of z's leading shape, already
-- checked.  Returns a tensor of z's leading shape, recorded for autograd.
local function is_float(t) local dt = t:dtype() return dt == "float32" or dt == "float64" end

-- class ids for the kernel: any integer tensor as it is (the binding takes
-- every integer dtype); checked integral floats as int32
local function ids_of(t) return is_float(t) and t:int() or t end

-- With `mean`, the mean over the rows as a 0-d tensor, from the same kernel.
local function xent_rows(z, y, mean)
  local s = z:shape()
  local c = s[#s]
  s[#s] = nil
  local z2 = z:dim() == 2 and z or z:reshape(-1, c)
  local y2 = is_float(y) and y:reshape(z2:shape()) or y:reshape(z2:size(1))
  local ws = autograd.workspace(xent_rows)
  local rows, p = core.softmax_cross_entropy(z2, y2, ws, mean)
  if autograd.is_tracked(z) then
    autograd.record("softmax_cross_entropy", rows, { z }, function(g)
      return core.softmax_cross_entropy_backward(p, y2, g, ws, mean):reshape(z:shape())
    end, 1, true)
  end
  if not mean and #s ~= 1 then rows = rows:reshape(#s == 0 and {} or s) end
  return rows
end

--- Categorical cross-entropy: the mean over the rows of -sum(`y_true` * log p).
-- Without `from_logits`, p is `y_pred` divided by its row sums and clipped to
-- [1e-7, 1 - 1e-7], as Keras does; with it, p = softmax(`y_pred`) (through a
-- log-softmax).
-- @param y_true one-hot (or soft) targets, as many elements as `y_pred`
-- @param y_pred (N, C) probabilities, or logits with `from_logits`
-- @param[opt=false] from_logits whether `y_pred` holds logits
-- @return a 0-d tensor (differentiable)
function L.categorical_crossentropy(y_true, y_pred, from_logits)
  check_pair("categorical_crossentropy", y_true, y_pred, from_logits)
  if y_true:numel() ~= y_pred:numel() then
    mismatch("categorical_crossentropy", y_true, y_pred, 2)
  end
  local y = y_true:astype(y_pred:dtype())
  if from_logits then return xent_rows(y_pred, y, true) end
  local p = y_pred / y_pred:sum(-1, true)
  p = p:clamp(EPS, 1 - EPS)
  return mean_rows(-(y * p:log()):sum(-1))
end

--- Categorical cross-entropy with integer labels: `y_true` one-hot encoded
-- to `y_pred`'s last dim, then `categorical_crossentropy`.
-- @param y_true 0-based integer labels, (N) or (N, 1)
-- @param y_pred (N, C) probabilities, or logits with `from_logits`
-- @param[opt=false] from_logits whether `y_pred` holds logits
-- @return a 0-d tensor (differentiable)
function L.sparse_categorical_crossentropy(y_true, y_pred, from_logits)
  check_pair("sparse_categorical_crossentropy", y_true, y_pred, from_logits)
  if y_true:numel() ~= y_true:size(1) then
    error(fmt("sparse_categorical_crossentropy: y_true must hold one label per row, (N) or (N, 1), got %s",
      shape_str(y_true:shape())), 2)
  end
  if from_logits then
    utils.check_labels("sparse_categorical_crossentropy", y_true, y_pred:size(-1), 2)
    return xent_rows(y_pred, ids_of(y_true), true)
  end
  local y = L.one_hot("sparse_categorical_crossentropy", y_true, y_pred:size(-1), y_pred:dtype())
  return L.categorical_crossentropy(y, y_pred, from_logits)
end

-- for fit, which checks all the labels once (utils.check_labels) before
-- its first step: the same loss without the per-step label checks
local one_hot_of = utils._internal.one_hot_of
L._internal = setmetatable({
  sparse_categorical_crossentropy = function(y_true, y_pred, from_logits)
    check_pair("sparse_categorical_crossentropy", y_true, y_pred, from_logits)
    if from_logits then return xent_rows(y_pred, ids_of(y_true), true) end
    return L.categorical_crossentropy(one_hot_of(y_true, y_pred:size(-1), y_pred:dtype()), y_pred, from_logits)
  end,
}, { __metatable = "internal" })

--- Binary cross-entropy: -(y log p + (1 - y) log(1 - p)) with p clipped to
-- [1e-7, 1 - 1e-7], or its stable form from logits; averaged over the last
-- dim (of a tensor of 2 dims or more), then over the batch.
-- @param y_true targets in [0, 1], as many elements as `y_pred`
-- @param y_pred probabilities, or logits with `from_logits`
-- @param[opt=false] from_logits whether `y_pred` holds logits
-- @return a 0-d tensor (differentiable)
function L.binary_crossentropy(y_true, y_pred, from_logits)
  check_pair("binary_crossentropy", y_true, y_pred, from_logits)
  if y_true:numel() ~= y_pred:numel() then
    mismatch("binary_crossentropy", y_true, y_pred, 2)
  end
  local y = y_true:astype(y_pred:dtype()):reshape(y_pred:shape())
  local per
  if from_logits then
    per = y_pred:relu() - y_pred * y + A.softplus(-y_pred:abs())
  else
    local p = y_pred:clamp(EPS, 1 - EPS)
    per = -(y * p:log() + (1 - y) * (1 - p):log())
  end
  if per:dim() > 1 then per = per:mean(-1) end
  return per:mean()
end

local function per_row(t)
  if t:dim() > 1 then t = t:mean(-1) end
  return t:mean()
end

-- y_pred - y_true, y_true in y_pred's dtype and shape
local function difference(fname, y_true, y_pred)
  if y_true:numel() ~= y_pred:numel() then
    mismatch(fname, y_true, y_pred, 3)
  end
  return y_pred - y_true:astype(y_pred:dtype()):reshape(y_pred:shape())
end

--- Mean squared error: the mean of (`y_pred` - `y_true`)^2 over the last dim,
-- then over the batch.
-- @function mean_squared_error
-- @param y_true targets, as many elements as `y_pred`
-- @param y_pred predictions
-- @return a 0-d tensor (differentiable)

--- `mean_squared_error` under its short name.
-- @function mse
-- @param y_true targets, as many elements as `y_pred`
-- @param y_pred predictions
-- @return a 0-d tensor (differentiable)

--- Mean absolute error: the mean of |`y_pred` - `y_true`| over the last dim,
-- then over the batch.
-- @function mean_absolute_error
-- @param y_true targets, as many elements as `y_pred`
-- @param y_pred predictions
-- @return a 0-d tensor (differentiable)

--- `mean_absolute_error` under its short name.
-- @function mae
-- @param y_true targets, as many elements as `y_pred`
-- @param y_pred predictions
-- @return a 0-d tensor (differentiable)

-- each under its long and short name, errors naming the one called
for _, names in ipairs({ { "mean_squared_error", "mse" }, { "mean_absolute_error", "mae" } }) do
  local square = names[2] == "mse"
  for _, fname in ipairs(names) do
    L[fname] = function(y_true, y_pred)
      check_pair(fname, y_true, y_pred)
      local d = difference(fname, y_true, y_pred)
      return per_row(square and d * d or d:abs())
    end
  end
end

-- ---- TensorFlow's per-example cross-entropies ----------------------------------

-- (labels, logits) given positionally or as TensorFlow's keywords
-- {labels =, logits =}; both checked
local function labels_logits(fname, labels, logits)
  if type(labels) == "table" and not core.is_tensor(labels) and logits == nil then
    local o = utils.check_options(fname, labels, { "labels", "logits", labels = true, logits = true }, 3)
    labels, logits = o.labels, o.logits
  end
  check.tensor(fname, "labels", labels, 3)
  check.float_tensor(fname, "logits", logits, 3)
  if logits:dim() == 0 then error(fmt("%s: logits need a class dim, got shape ()", fname), 3) end
  return labels, logits
end

--- TensorFlow's `tf.nn.sparse_softmax_cross_entropy_with_logits(labels=, logits=)`:
-- the cross-entropy of each row of softmax(`logits`) against a class id, one
-- value per row (not averaged; `reduce_mean` it as the seed does).  The
-- softmax and the log run as one stable C kernel, and so does the gradient
-- (softmax - one_hot).  Called as `(labels, logits)`, or with TensorFlow's
-- keywords as one table `{labels = y, logits = z}`.
-- @param labels 0-based integer class ids of `logits`' leading shape (a
-- float tensor holding integers is accepted); an id outside [0, C) is an error
-- @param[opt] logits scores (..., C), float32 or float64
-- @return a tensor of `logits`' leading shape (differentiable in `logits`)
function L.sparse_softmax_cross_entropy_with_logits(labels, logits)
  local fname = "sparse_softmax_cross_entropy_with_logits"
  labels, logits = labels_logits(fname, labels, logits)
  local s = logits:shape()
  local lead = 1
  for i = 1, #s - 1 do lead = lead * s[i] end
  if labels:numel() ~= lead then
    error(fmt("%s: labels of shape %s do not match logits of shape %s", fname, shape_str(labels:shape()),
      shape_str(s)), 2)
  end
  utils.check_labels(fname, labels, s[#s], 2)
  return xent_rows(logits, ids_of(labels))
end

--- TensorFlow's `tf.nn.softmax_cross_entropy_with_logits(labels=, logits=)`:
-- -sum(labels * log softmax(logits)) of each row, one value per row, from one
-- stable C kernel.  No gradient flows into `labels` (as TensorFlow 1's
-- function; its `_v2` differs there).  Called as `(labels, logits)` or
-- `{labels = y, logits = z}`.
-- @param labels targets (one-hot or soft) of `logits`' shape
-- @param[opt] logits scores (..., C), float32 or float64
-- @return a tensor of `logits`' leading shape (differentiable in `logits`)
function L.softmax_cross_entropy_with_logits(labels, logits)
  local fname = "softmax_cross_entropy_with_logits"
  labels, logits = labels_logits(fname, labels, logits)
  if labels:numel() ~= logits:numel() then mismatch(fname, labels, logits, 2) end
  return xent_rows(logits, labels:astype(logits:dtype()))
end

-- ---- loss objects (tf.keras 2: losses.SparseCategoricalCrossentropy(...)) ------

local names = { "binary_crossentropy", "categorical_crossentropy", "mae", "mean_absolute_error",
  "mean_squared_error", "mse", "sparse_categorical_crossentropy" }

local Loss = {}
Loss.__index = Loss
local function check_loss(fname, self)
  if getmetatable(self) ~= Loss then check.arg_error(fname, "self", "a loss object", self, 3) end
end
Loss.__tostring = function(self)
  check_loss("Loss.__tostring", self)
  return fmt("%s(from_logits=%s)", self.class_name, tostring(self.from_logits))
end
Loss.__call = function(self, y_true, y_pred, logits)
  check_loss("Loss.__call", self)
  local v = self.fn(y_true, y_pred, self.from_logits or logits or nil)
  return v
end

-- Loss classes as tf.keras 2 has them: calling the class with
-- {from_logits =, name =} makes a loss object; calling the object
-- (y_true, y_pred) gives the loss function's value; compile takes it.
local function loss_class(class_name, fn_name, has_logits)
  local known = { name = true }
  if has_logits then known.from_logits = true end
  local cls = setmetatable({ class_name = class_name }, {
    __call = function(_, opts)
      opts = utils.check_options(class_name, opts, known, 2)
      if opts.from_logits ~= nil and type(opts.from_logits) ~= "boolean" then
        check.arg_error(class_name, "from_logits", "a boolean", opts.from_logits, 2)
      end
      if opts.name ~= nil and type(opts.name) ~= "string" then check.arg_error(class_name, "name", "a string", opts.name, 2) end
      return setmetatable({ class_name = class_name, loss_name = fn_name, fn = L[fn_name],
        from_logits = opts.from_logits == true, name = opts.name or fn_name }, Loss)
    end,
  })
  L[class_name] = cls
end
--- `tf.keras.losses.SparseCategoricalCrossentropy(from_logits=)`: a loss
-- object; `L(y_true, y_pred)` is `sparse_categorical_crossentropy(y_true,
-- y_pred, from_logits)`, and compile accepts it as its loss.  With
-- from_logits = true the model's last layer is linear and the softmax and
-- cross-entropy run fused.
-- @function SparseCategoricalCrossentropy
-- @param[opt] opts `{from_logits = false, name = "sparse_categorical_crossentropy"}`
-- @return a callable loss object

--- `tf.keras.losses.CategoricalCrossentropy(from_logits=)`: a loss object
-- computing `categorical_crossentropy` (see SparseCategoricalCrossentropy).
-- @function CategoricalCrossentropy
-- @param[opt] opts `{from_logits = false, name =}`
-- @return a callable loss object

--- `tf.keras.losses.BinaryCrossentropy(from_logits=)`: a loss object
-- computing `binary_crossentropy`.
-- @function BinaryCrossentropy
-- @param[opt] opts `{from_logits = false, name =}`
-- @return a callable loss object

--- `tf.keras.losses.MeanSquaredError()`: a loss object computing
-- `mean_squared_error`.
-- @function MeanSquaredError
-- @param[opt] opts `{name =}`
-- @return a callable loss object

--- `tf.keras.losses.MeanAbsoluteError()`: a loss object computing
-- `mean_absolute_error`.
-- @function MeanAbsoluteError
-- @param[opt] opts `{name =}`
-- @return a callable loss object
loss_class("SparseCategoricalCrossentropy", "sparse_categorical_crossentropy", true)
loss_class("CategoricalCrossentropy", "categorical_crossentropy", true)
loss_class("BinaryCrossentropy", "binary_crossentropy", true)
loss_class("MeanSquaredError", "mean_squared_error", false)
loss_class("MeanAbsoluteError", "mean_absolute_error", false)

--- Whether v is a loss object (made by a loss class such as SparseCategoricalCrossentropy).
-- @param v any value
-- @return a boolean
function L.is_loss_object(v) return getmetatable(v) == Loss end

local loss_names = {}
for _, n in ipairs(names) do loss_names[n] = true end

--- The loss function for a name; a function or a loss object is returned as it is.
-- @param spec a loss name (`binary_crossentropy`, `categorical_crossentropy`,
-- `mae`, `mean_absolute_error`, `mean_squared_error`, `mse`,
-- `sparse_categorical_crossentropy`), a function or a loss object
-- @return the loss function; an unknown name is an error listing the known ones
function L.get(spec)
  if type(spec) == "function" or getmetatable(spec) == Loss then return spec end
  local f = type(spec) == "string" and loss_names[spec] and L[spec]
  if not f then
    error(fmt("losses.get: unknown loss '%s' (known: %s)", tostring(spec), table.concat(names, ", ")), 2)
  end
  return f
end

-- ---- metrics ---------------------------------------------------------------

local M = {}
--- Metrics: `metric(y_true, y_pred)` returns a Lua number (not differentiated).
L.metrics = M

local function rows_equal(a, b) return a:eq(b):astype("float64"):mean():item() end

-- a metric: the pair checked (errors name the metric), then fn
local function metric(fname, fn)
  M[fname] = function(y_true, y_pred)
    check_pair(fname, y_true, y_pred)
    local v = fn(fname, y_true, y_pred) -- not a tail call: fn raises at level 3, our caller
    return v
  end
end

--- The fraction of rows whose argmax matches `y_true`'s argmax.
-- @function metrics.categorical_accuracy
-- @param y_true one-hot targets, `y_pred`'s shape
-- @param y_pred (N, C) scores
-- @return a number in [0, 1]
metric("categorical_accuracy", function(fname, y_true, y_pred)
  if y_true:dim() ~= y_pred:dim() or y_true:size(-1) ~= y_pred:size(-1) then
    mismatch(fname, y_true, y_pred, 3)
  end
  if y_pred:dim() == 2 and y_true:dim() == 2 then return core.argmax_count(y_pred, y_true) / y_pred:size(1) end
  return rows_equal(y_true:argmax(-1), y_pred:argmax(-1))
end)
--- The fraction of rows whose argmax is the 0-based label.
-- @function metrics.sparse_categorical_accuracy
-- @param y_true 0-based integer labels, (N) or (N, 1)
-- @param y_pred (N, C) scores
-- @return a number in [0, 1]
metric("sparse_categorical_accuracy", function(fname, y_true, y_pred)
  if y_true:numel() ~= y_true:size(1) then
    error(fmt("%s: y_true must hold one label per row, got shape %s", fname, shape_str(y_true:shape())), 3)
  end
  if y_pred:dim() == 2 and y_pred:size(1) == y_true:size(1) then
    return core.argmax_count(y_pred, y_true) / y_pred:size(1)
  end
  local lab = y_true:reshape(y_true:numel()):double() + 1
  return rows_equal(lab, y_pred:argmax(-1):double():reshape(y_true:numel()))
end)
--- The fraction of elements where (`y_pred` > 0.5) equals `y_true`.
-- @function metrics.binary_accuracy
-- @param y_true 0/1 targets, as many elements as `y_pred`
-- @param y_pred probabilities
-- @return a number in [0, 1]
metric("binary_accuracy", function(fname, y_true, y_pred)
  if y_true:numel() ~= y_pred:numel() then
    mismatch(fname, y_true, y_pred, 3)
  end
  local t = y_true:astype("float64"):reshape(y_pred:shape())
  return rows_equal(y_pred:gt(0.5):astype("float64"), t)
end)
--- The loss `mean_squared_error` as a number.
-- @function metrics.mean_squared_error
-- @param y_true targets
-- @param y_pred predictions
-- @return a number

--- The loss `mse` as a number.
-- @function metrics.mse
-- @param y_true targets
-- @param y_pred predictions
-- @return a number

--- The loss `mean_absolute_error` as a number.
-- @function metrics.mean_absolute_error
-- @param y_true targets
-- @param y_pred predictions
-- @return a number

--- The loss `mae` as a number.
-- @function metrics.mae
-- @param y_true targets
-- @param y_pred predictions
-- @return a number
for _, fname in ipairs({ "mean_squared_error", "mse", "mean_absolute_error", "mae" }) do
  metric(fname, function(_, y_true, y_pred) return L[fname](y_true, y_pred):item() end)
end

--- The accuracy metric Keras picks for a loss and the shapes: binary for
-- `binary_crossentropy` or a `y_pred` with one column (or one dim), sparse
-- categorical for `sparse_categorical_crossentropy` or labels of one column,
-- categorical otherwise.
-- @function metrics.accuracy_for
-- @param loss_name the loss's name, or nil to decide from the shapes only
-- @param y_true targets
-- @param y_pred predictions
-- @return the metric function
function M.accuracy_for(loss_name, y_true, y_pred)
  if loss_name ~= nil and type(loss_name) ~= "string" then
    check.arg_error("accuracy_for", "loss_name", "nil or a string", loss_name, 2)
  end
  check_pair("accuracy_for", y_true, y_pred)
  if loss_name == "binary_crossentropy" or y_pred:dim() == 1 or y_pred:size(-1) == 1 then
    return M.binary_accuracy
  end
  if loss_name == "sparse_categorical_crossentropy" or y_true:dim() == 1 or y_true:size(-1) == 1 then
    return M.sparse_categorical_accuracy
  end
  return M.categorical_accuracy
end
-- t as one class id per row (a float64 tensor): an integer tensor holds the
-- ids; a float one with several columns gives its argmax (one-hot rows or
-- probabilities); a float one of one column holds ids as values (y_true) or
-- probabilities of class 1 (y_pred, binary: > 0.5)
local function class_ids(t, is_pred)
  local n = t:size(1)
  if is_float(t) and t:dim() > 1 and t:size(-1) > 1 then
    return t:argmax(-1, { base = 0 }):reshape(n, -1):double()
  end
  if is_float(t) and is_pred then return t:gt(0.5):reshape(n, -1):double() end
  return t:reshape(n, -1):double()
end

--- Accuracy.  With two float tensors, the kind `accuracy_for` picks from the
-- shapes (a model picks it from its loss as well): categorical, sparse, or
-- binary when `y_pred` has one column.  When either side is an integer
-- tensor, both are read as 0-based class ids (an integer tensor as it is,
-- one-hot rows or probabilities through their argmax, a float `y_pred` of
-- one column as `> 0.5`) and the fraction of equal ids is returned, so
-- `accuracy(y_test, model:predict_classes(x_test))` and
-- `accuracy(labels, model:predict(x))` both work.
-- @function metrics.accuracy
-- @param y_true targets: 0-based ids, one-hot rows, or 0/1 values
-- @param y_pred predictions: ids, probabilities or scores
-- @return a number in [0, 1]

--- `accuracy` under its short name.
-- @function metrics.acc
-- @param y_true targets: 0-based ids, one-hot rows, or 0/1 values
-- @param y_pred predictions: ids, probabilities or scores
-- @return a number in [0, 1]
for _, fname in ipairs({ "accuracy", "acc" }) do
  M[fname] = function(y_true, y_pred)
    check.tensor(fname, "y_true", y_true, 2)
    check.tensor(fname, "y_pred", y_pred, 2)
    if is_float(y_pred) and is_float(y_true) then
      check_pair(fname, y_true, y_pred)
      return M.accuracy_for(nil, y_true, y_pred)(y_true, y_pred)
    end
    if y_true:dim() == 0 or y_pred:dim() == 0 or y_true:size(1) ~= y_pred:size(1) then
      mismatch(fname, y_true, y_pred, 2)
    end
    local a, b = class_ids(y_true, false), class_ids(y_pred, true)
    if a:numel() ~= b:numel() then mismatch(fname, y_true, y_pred, 2) end
    return rows_equal(a, b)
  end
end

--- The metric function for a name; a function is returned as it is.
-- @function metrics.get
-- @param spec a metric name (`accuracy`, `acc`, `binary_accuracy`,
-- `categorical_accuracy`, `mae`, `mse`, `mean_absolute_error`, `mean_squared_error`,
-- `sparse_categorical_accuracy`) or a function
-- @return the metric function; an unknown name is an error listing the known ones
function M.get(spec)
  if type(spec) == "function" then return spec end
  local f = type(spec) == "string" and M[spec]
  if not f or spec == "get" or spec == "accuracy_for" then
    error(fmt("metrics.get: unknown metric '%s' (known: accuracy, acc, binary_accuracy, " ..
      "categorical_accuracy, mae, mse, mean_absolute_error, mean_squared_error, " ..
      "sparse_categorical_accuracy)", tostring(spec)), 2)
  end
  return f
end

return L
