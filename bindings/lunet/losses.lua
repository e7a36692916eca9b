--- Losses and metrics (SEMANTICS.md, "Losses and metrics").  A loss is
-- `loss(y_true, y_pred)` returning a 0-d tensor (mean over the batch) that
-- autograd differentiates; a metric returns a Lua number.
-- @module lunet.losses
local core = require("lunet.core")
local A = require("lunet.activations")
local utils = require("lunet.utils")
local check = require("lunet.check")

local L = {}
local fmt = string.format
local EPS = 1e-7

local shape_str = check.shape_str

-- y_true any tensor, y_pred a float tensor, both with the batch as dim 1 and
-- the same number of rows; from_logits nil or a boolean
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

--- One-hot float rows from 0-based labels (N) or (N, 1); errors name bad
-- labels (lunet.utils.one_hot, with its limits).
L.one_hot = utils.one_hot

local function mean_rows(t) -- mean over the batch of per-row values
  return t:mean()
end

--- categorical_crossentropy(y_true, y_pred [, from_logits])
function L.categorical_crossentropy(y_true, y_pred, from_logits)
  check_pair("categorical_crossentropy", y_true, y_pred, from_logits)
  if y_true:numel() ~= y_pred:numel() then
    error(fmt("categorical_crossentropy: y_true of shape %s does not match y_pred of shape %s",
      shape_str(y_true:shape()), shape_str(y_pred:shape())), 2)
  end
  local y = y_true:astype(y_pred:dtype())
  if from_logits then
    return mean_rows(-(y * A.log_softmax(y_pred, -1)):sum(-1))
  end
  local p = y_pred / y_pred:sum(-1, true)
  p = p:clamp(EPS, 1 - EPS)
  return mean_rows(-(y * p:log()):sum(-1))
end

--- sparse_categorical_crossentropy(labels, y_pred [, from_logits]): 0-based integer labels
function L.sparse_categorical_crossentropy(y_true, y_pred, from_logits)
  check_pair("sparse_categorical_crossentropy", y_true, y_pred, from_logits)
  if y_true:numel() ~= y_true:size(1) then
    error(fmt("sparse_categorical_crossentropy: y_true must hold one label per row, (N) or (N, 1), got %s",
      shape_str(y_true:shape())), 2)
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
    return L.categorical_crossentropy(one_hot_of(y_true, y_pred:size(-1), y_pred:dtype()), y_pred, from_logits)
  end,
}, { __metatable = "internal" })

--- binary_crossentropy(y_true, y_pred [, from_logits])
function L.binary_crossentropy(y_true, y_pred, from_logits)
  check_pair("binary_crossentropy", y_true, y_pred, from_logits)
  if y_true:numel() ~= y_pred:numel() then
    error(fmt("binary_crossentropy: y_true of shape %s does not match y_pred of shape %s",
      shape_str(y_true:shape()), shape_str(y_pred:shape())), 2)
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
    error(fmt("%s: y_true of shape %s does not match y_pred of shape %s", fname,
      shape_str(y_true:shape()), shape_str(y_pred:shape())), 3)
  end
  return y_pred - y_true:astype(y_pred:dtype()):reshape(y_pred:shape())
end

-- each under its long and short name, errors naming the one called
for _, names in ipairs({ { "mean_squared_error", "mse" }, { "mean_absolute_error", "mae" } }) do
  local square = names[2] == "mse"
  for _, fname in ipairs(names) do
    --- mean_squared_error (mse), mean_absolute_error (mae)
    L[fname] = function(y_true, y_pred)
      check_pair(fname, y_true, y_pred)
      local d = difference(fname, y_true, y_pred)
      return per_row(square and d * d or d:abs())
    end
  end
end

local names = { "binary_crossentropy", "categorical_crossentropy", "mae", "mean_absolute_error",
  "mean_squared_error", "mse", "sparse_categorical_crossentropy" }

--- The loss function for a name (or a function as is); unknown names list the known ones.
function L.get(spec)
  if type(spec) == "function" then return spec end
  local f = type(spec) == "string" and L[spec]
  if not f or spec == "get" or spec == "one_hot" then
    error(fmt("losses.get: unknown loss '%s' (known: %s)", tostring(spec), table.concat(names, ", ")), 2)
  end
  return f
end

-- ---- metrics ---------------------------------------------------------------

local M = {}
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

--- categorical_accuracy: argmax(pred) == argmax(true)
metric("categorical_accuracy", function(fname, y_true, y_pred)
  if y_true:dim() ~= y_pred:dim() or y_true:size(-1) ~= y_pred:size(-1) then
    error(fmt("%s: y_true of shape %s does not match y_pred of shape %s", fname,
      shape_str(y_true:shape()), shape_str(y_pred:shape())), 3)
  end
  return rows_equal(y_true:argmax(-1), y_pred:argmax(-1))
end)
--- sparse_categorical_accuracy: argmax(pred) == label (0-based)
metric("sparse_categorical_accuracy", function(fname, y_true, y_pred)
  if y_true:numel() ~= y_true:size(1) then
    error(fmt("%s: y_true must hold one label per row, got shape %s", fname, shape_str(y_true:shape())), 3)
  end
  local lab = y_true:reshape(y_true:numel()):double() + 1
  return rows_equal(lab, y_pred:argmax(-1):double():reshape(y_true:numel()))
end)
--- binary_accuracy: (pred > 0.5) == true
metric("binary_accuracy", function(fname, y_true, y_pred)
  if y_true:numel() ~= y_pred:numel() then
    error(fmt("%s: y_true of shape %s does not match y_pred of shape %s", fname,
      shape_str(y_true:shape()), shape_str(y_pred:shape())), 3)
  end
  local t = y_true:astype("float64"):reshape(y_pred:shape())
  return rows_equal(y_pred:gt(0.5):astype("float64"), t)
end)
for _, fname in ipairs({ "mean_squared_error", "mse", "mean_absolute_error", "mae" }) do
  metric(fname, function(_, y_true, y_pred) return L[fname](y_true, y_pred):item() end)
end

--- accuracy as Keras picks it from the loss and the shapes
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
for _, fname in ipairs({ "accuracy", "acc" }) do
  metric(fname, function(_, y_true, y_pred) return M.accuracy_for(nil, y_true, y_pred)(y_true, y_pred) end)
end

--- The metric for a name; "accuracy"/"acc" return nil here (resolved per loss by the model).
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
