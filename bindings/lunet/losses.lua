--- Losses and metrics (SEMANTICS.md, "Losses and metrics").  A loss is
-- `loss(y_true, y_pred)` returning a 0-d tensor (mean over the batch) that
-- autograd differentiates; a metric returns a Lua number.
-- @module lunet.losses
local core = require("lunet.core")
local A = require("lunet.activations")

local L = {}
local fmt = string.format
local EPS = 1e-7

local function shape_str(s)
  if #s == 1 then return "(" .. s[1] .. ",)" end
  return "(" .. table.concat(s, ", ") .. ")"
end

local function check_pair(fname, y_true, y_pred)
  if not (core.is_tensor(y_true) and core.is_tensor(y_pred)) then
    error(fmt("%s: expected tensors y_true and y_pred", fname), 3)
  end
  if y_true:size(1) ~= y_pred:size(1) then
    error(fmt("%s: y_true has %d rows but y_pred has %d (shapes %s and %s)", fname, y_true:size(1),
      y_pred:size(1), shape_str(y_true:shape()), shape_str(y_pred:shape())), 3)
  end
end

--- One-hot float rows from 0-based labels (N) or (N, 1); errors name bad labels.
function L.one_hot(fname, labels, classes, dtype)
  local flat = labels:reshape(labels:numel()):double()
  local n = flat:numel()
  local lo, hi = flat:min():item(), flat:max():item()
  if n > 0 and (lo < 0 or hi >= classes) then
    error(fmt("%s: labels must be in [0, %d), got %s", fname, classes,
      lo < 0 and tostring(math.floor(lo)) or tostring(math.floor(hi))), 3)
  end
  if n > 0 and flat:ne(flat:int():double()):sum():item() > 0 then
    error(fmt("%s: labels must be integers", fname), 3)
  end
  local cls = core.arange(0, classes, 1, "float64"):reshape(1, classes)
  return flat:reshape(n, 1):eq(cls):astype(dtype or "float32")
end

local function mean_rows(t) -- mean over the batch of per-row values
  return t:mean()
end

--- categorical_crossentropy(y_true, y_pred [, from_logits])
function L.categorical_crossentropy(y_true, y_pred, from_logits)
  check_pair("categorical_crossentropy", y_true, y_pred)
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
  check_pair("sparse_categorical_crossentropy", y_true, y_pred)
  local y = L.one_hot("sparse_categorical_crossentropy", y_true, y_pred:size(-1), y_pred:dtype())
  return L.categorical_crossentropy(y, y_pred, from_logits)
end

--- binary_crossentropy(y_true, y_pred [, from_logits])
function L.binary_crossentropy(y_true, y_pred, from_logits)
  check_pair("binary_crossentropy", y_true, y_pred)
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

--- mean_squared_error (mse)
function L.mean_squared_error(y_true, y_pred)
  check_pair("mean_squared_error", y_true, y_pred)
  local d = y_pred - y_true:astype(y_pred:dtype()):reshape(y_pred:shape())
  return per_row(d * d)
end
--- mean_absolute_error (mae)
function L.mean_absolute_error(y_true, y_pred)
  check_pair("mean_absolute_error", y_true, y_pred)
  return per_row((y_pred - y_true:astype(y_pred:dtype()):reshape(y_pred:shape())):abs())
end
L.mse, L.mae = L.mean_squared_error, L.mean_absolute_error

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

--- categorical_accuracy: argmax(pred) == argmax(true)
function M.categorical_accuracy(y_true, y_pred)
  return rows_equal(y_true:argmax(-1), y_pred:argmax(-1))
end
--- sparse_categorical_accuracy: argmax(pred) == label (0-based)
function M.sparse_categorical_accuracy(y_true, y_pred)
  local lab = y_true:reshape(y_true:numel()):double() + 1
  return rows_equal(lab, y_pred:argmax(-1):double())
end
--- binary_accuracy: (pred > 0.5) == true
function M.binary_accuracy(y_true, y_pred)
  local t = y_true:astype("float64"):reshape(y_pred:shape())
  return rows_equal(y_pred:gt(0.5):astype("float64"), t)
end
function M.mean_squared_error(y_true, y_pred) return L.mean_squared_error(y_true, y_pred):item() end
function M.mean_absolute_error(y_true, y_pred) return L.mean_absolute_error(y_true, y_pred):item() end
M.mse, M.mae = M.mean_squared_error, M.mean_absolute_error

--- accuracy as Keras picks it from the loss and the shapes
function M.accuracy_for(loss_name, y_true, y_pred)
  if loss_name == "binary_crossentropy" or y_pred:dim() == 1 or y_pred:size(-1) == 1 then
    return M.binary_accuracy
  end
  if loss_name == "sparse_categorical_crossentropy" or y_true:dim() == 1 or y_true:size(-1) == 1 then
    return M.sparse_categorical_accuracy
  end
  return M.categorical_accuracy
end
function M.accuracy(y_true, y_pred)
  return M.accuracy_for(nil, y_true, y_pred)(y_true, y_pred)
end
M.acc = M.accuracy

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
