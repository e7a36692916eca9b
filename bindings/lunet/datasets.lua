--- Datasets on disk: MNIST and Fashion-MNIST (IDX files) and UCI tables.
-- Files come from `make data` (see the README for sources and licences) or
-- from the user: every loader takes the directory holding the files.
-- Default directory: `$LUNET_DATA`, else data/ in the project.
-- A missing file is an error saying where it was looked for and how to get
-- it; a FIFO, device or directory in its place is refused.
-- @module lunet.datasets
-- @alias DS
local core = require("lunet.core")
local data = require("lunet.data")
local utils = require("lunet.utils")

local DS = {}
local fmt = string.format

local function project_data_dir()
  local src = debug.getinfo(1, "S").source
  local root = src:match("^@(.*)/bindings/lunet/datasets%.lua$")
  if root then return root .. "/data" end
  return "data"
end

--- The default data directory: `$LUNET_DATA` when set and not empty, else
-- data/ in the project that holds this file (or "data" when lunet is
-- installed elsewhere: relative to the current directory).
-- @return the directory name
function DS.data_dir()
  local env = os.getenv("LUNET_DATA")
  if env and env ~= "" then return env end
  return project_data_dir()
end

-- true for a regular file; a FIFO, device or directory of that name is an
-- error (opening it to look could block or read without end)
local function exists(fname, path)
  local kind = core.path_kind(path)
  if kind == nil then return false end
  if kind ~= "file" then error(fmt("%s: %s: not a regular file (a %s)", fname, path, kind), 0) end
  return true
end

local function find(fname, dir, names, hint)
  for _, n in ipairs(names) do
    for _, suffix in ipairs({ "", ".gz" }) do
      local p = dir .. "/" .. n .. suffix
      if exists(fname, p) then return p end
    end
  end
  error(fmt("%s: no %s(.gz) in %s (%s)", fname, names[1], dir, hint), 0)
end

-- The four standard IDX files of an MNIST-format dataset.
-- opts: {flatten = true} gives N x 784 rows; {normalize = true} float32 pixels / 255
local function idx_dataset(fname, default_sub, hint)
  return function(dir, opts)
    if type(dir) == "table" and opts == nil then dir, opts = nil, dir end
    if dir == "" then dir = nil end
    opts = utils.check_options(fname, opts, { flatten = true, normalize = true })
    if dir ~= nil and type(dir) ~= "string" then
      error(fmt("%s: dir must be a string, got %s", fname, type(dir)), 2)
    end
    dir = dir or (DS.data_dir() .. "/" .. default_sub)
    local function load(images_name, labels_name)
      local ip = find(fname, dir, { images_name .. "-idx3-ubyte", images_name .. ".idx3-ubyte" }, hint)
      local lp = find(fname, dir, { labels_name .. "-idx1-ubyte", labels_name .. ".idx1-ubyte" }, hint)
      local hx, hy = data.idx_header(ip), data.idx_header(lp)
      if hx.type ~= "uint8" or #hx.shape ~= 3 then
        error(fmt("%s: %s holds %s of %d dims, expected uint8 images N x rows x cols", fname, ip,
          hx.type, #hx.shape), 0)
      end
      if hy.type ~= "uint8" or #hy.shape ~= 1 then
        error(fmt("%s: %s holds %s of %d dims, expected uint8 labels N", fname, lp, hy.type, #hy.shape), 0)
      end
      if hx.shape[1] ~= hy.shape[1] then
        error(fmt("%s: %s has %d images but %s has %d labels", fname, ip, hx.shape[1], lp, hy.shape[1]), 0)
      end
      local x, y = data.read_idx(ip), data.read_idx(lp)
      if y:numel() > 0 and y:max():item() > 9 then
        error(fmt("%s: %s has a label %d outside 0..9", fname, lp, y:max():item()), 0)
      end
      return x, y
    end
    local x_train, y_train = load("train-images", "train-labels")
    local x_test, y_test = load("t10k-images", "t10k-labels")
    local function prep(x)
      if opts.flatten then x = x:reshape(x:size(1), x:numel() // math.max(1, x:size(1))) end
      if opts.normalize then x = x:float() / 255 end
      return x
    end
    return prep(x_train), y_train, prep(x_test), y_test
  end
end

--- MNIST digits in the four standard IDX files (train-images-idx3-ubyte,
-- train-labels-idx1-ubyte, t10k-...; `.idx3-ubyte` names and `.gz` too).
-- @table mnist
-- @field load `mnist.load([dir] [, opts])`

--- Load MNIST from `dir`, by default the mnist directory of `data_dir()`
-- (`make data` puts 10,000 real digits there).  Images must be uint8 N x rows x cols,
-- labels uint8 in 0..9, as many as the images.
-- @function mnist.load
-- @param[opt] dir the directory of the files (may be left out: then opts
-- can be the first argument)
-- @param[opt] opts `flatten` (N x (rows * cols) rows: 784), `normalize` (float32 pixels / 255)
-- @return `x_train` (uint8 N x 28 x 28), `y_train` (uint8 N), `x_test`, `y_test`
DS.mnist = {
  load = idx_dataset("mnist.load", "mnist",
    "run `make data` for 10,000 real digits, or pass the directory of the full MNIST files"),
}
--- Keras' `mnist.load_data()`: `mnist.load` under Keras' name, with the
-- same four results (Keras' two pairs, flattened: Lua returns values, not tuples).
-- @function mnist.load_data
-- @param[opt] dir the directory of the files
-- @param[opt] opts as for `mnist.load`
-- @return `x_train`, `y_train`, `x_test`, `y_test`
DS.mnist.load_data = idx_dataset("mnist.load_data", "mnist",
  "run `make data` for 10,000 real digits, or pass the directory of the full MNIST files")

--- Fashion-MNIST, in the same four IDX files as MNIST.
-- @table fashion_mnist
-- @field load `fashion_mnist.load([dir] [, opts])`
-- @field class_names the ten class names, label 0 first ("T-shirt/top", ...)

--- Load Fashion-MNIST as `mnist.load` does, by default from the fashion-mnist
-- directory of `data_dir()` (`make data` puts the full 70,000 images there).
-- @function fashion_mnist.load
-- @param[opt] dir the directory of the files (may be left out: then opts
-- can be the first argument)
-- @param[opt] opts `flatten` (N x (rows * cols) rows: 784), `normalize` (float32 pixels / 255)
-- @return `x_train` (uint8 N x 28 x 28), `y_train` (uint8 N), `x_test`, `y_test`
DS.fashion_mnist = {
  load = idx_dataset("fashion_mnist.load", "fashion-mnist", "run `make data`"),
  class_names = { "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt",
    "Sneaker", "Bag", "Ankle boot" },
}
--- Keras' `fashion_mnist.load_data()`: `fashion_mnist.load` under Keras' name.
-- @function fashion_mnist.load_data
-- @param[opt] dir the directory of the files
-- @param[opt] opts as for `fashion_mnist.load`
-- @return `x_train`, `y_train`, `x_test`, `y_test`
DS.fashion_mnist.load_data = idx_dataset("fashion_mnist.load_data", "fashion-mnist", "run `make data`")

-- ---- UCI tables ---------------------------------------------------------------

local function first_line(path)
  local text = core.read_file(path)
  return (text:match("^[^\n]*"):gsub("\r$", ""))
end

local function split_commas(line)
  local out = {}
  for cell in (line .. ","):gmatch("([^,]*),") do out[#out + 1] = cell:gsub('^%s*"?', ""):gsub('"?%s*$', "") end
  return out
end

local breast_cancer_names = {}
for _, group in ipairs({ "mean %s", "%s error", "worst %s" }) do
  for _, base in ipairs({ "radius", "texture", "perimeter", "area", "smoothness", "compactness",
    "concavity", "concave points", "symmetry", "fractal dimension" }) do
    breast_cancer_names[#breast_cancer_names + 1] = fmt(group, base)
  end
end

local digits_names = {}
for r = 0, 7 do for c = 0, 7 do digits_names[#digits_names + 1] = fmt("pixel_%d_%d", r, c) end end

local sensorless_names = {}
for i = 1, 48 do sensorless_names[i] = "f" .. i end

-- file, layout ("sklearn": first line n_samples,n_features,class names...),
-- feature names, class names (when not in the file), source
local tables = {
  wine = { file = "wine_data.csv", layout = "sklearn", source = "UCI Wine (scikit-learn's copy)",
    features = { "alcohol", "malic_acid", "ash", "alcalinity_of_ash", "magnesium", "total_phenols",
      "flavanoids", "nonflavanoid_phenols", "proanthocyanins", "color_intensity", "hue",
      "od280/od315_of_diluted_wines", "proline" } },
  breast_cancer = { file = "breast_cancer.csv", layout = "sklearn", features = breast_cancer_names,
    source = "UCI Breast Cancer Wisconsin (Diagnostic) (scikit-learn's copy)" },
  iris = { file = "iris.csv", layout = "sklearn", source = "UCI Iris (scikit-learn's copy)",
    features = { "sepal length (cm)", "sepal width (cm)", "petal length (cm)", "petal width (cm)" } },
  digits = { file = "digits.csv.gz", layout = "plain", features = digits_names,
    classes = { "0", "1", "2", "3", "4", "5", "6", "7", "8", "9" },
    source = "UCI Optical Recognition of Handwritten Digits, 8x8 (scikit-learn's copy)" },
  boston = { file = "boston_house_prices.csv", layout = "boston", regression = true,
    source = "Boston house prices (scikit-learn's copy)" },
  sensorless = { file = "Sensorless_drive_diagnosis.txt", layout = "sensorless", features = sensorless_names,
    classes = { "1", "2", "3", "4", "5", "6", "7", "8", "9", "10", "11" },
    source = "UCI Dataset for Sensorless Drive Diagnosis (labels 1-11 loaded as 0-10)" },
}

local table_names = {}
for k in pairs(tables) do table_names[#table_names + 1] = k end
table.sort(table_names)

--- UCI tables: `wine`, `breast_cancer`, `iris`, `digits` (8 x 8), `boston` and `sensorless`.
-- @table uci
-- @field load `uci.load(name [, dir])`
DS.uci = {}

--- Load a UCI table, the last column being the target.  The files are those
-- inside scikit-learn (`make data`), and the Sensorless Drive Diagnosis file
-- as UCI publishes it (48 whitespace-separated features and a class 1-11,
-- loaded as 0-10), which `make data` does not ship.
-- @param name `"wine"`, `"breast_cancer"`, `"iris"`, `"digits"`, `"boston"` or `"sensorless"`
-- @param[opt] dir the directory of the file (default `data_dir() .. "/uci"`)
-- @return x (float32 N x F), y (int32 0-based classes; float32 prices for
-- boston), info `{feature_names =, class_names =, source =, file =}`
-- (`class_names` is nil for boston)
-- @function uci.load
function DS.uci.load(name, dir)
  local spec = tables[name]
  if spec == nil then
    error(fmt("uci.load: unknown dataset '%s' (known: %s)", tostring(name), table.concat(table_names, ", ")), 2)
  end
  if dir ~= nil and type(dir) ~= "string" then
    error(fmt("uci.load: dir must be a string, got %s", type(dir)), 2)
  end
  dir = dir or (DS.data_dir() .. "/uci")
  local path = dir .. "/" .. spec.file
  if not exists("uci.load", path) then
    local hint = name == "sensorless"
      and "it is not shipped by `make data`: download it from the UCI repository and pass its directory"
      or "run `make data`, or pass the directory holding it"
    error(fmt("uci.load: no %s in %s (%s)", spec.file, dir, hint), 2)
  end
  local t, names, classes, features
  if spec.layout == "sklearn" then
    local head = split_commas(first_line(path))
    local n, f = tonumber(head[1]), tonumber(head[2])
    if not (n and f) then
      error(fmt("uci.load: %s: first line should be n_samples,n_features,class names...", path), 2)
    end
    t = data.read_csv(path, { skip = 1 })
    if t:size(1) ~= n or t:size(2) ~= f + 1 then
      error(fmt("uci.load: %s: the first line declares %d x %d (+ label), the file has %d x %d", path,
        n, f, t:size(1), t:size(2)), 2)
    end
    classes = {}
    for i = 3, #head do classes[#classes + 1] = head[i] end
    features = spec.features
  elseif spec.layout == "boston" then
    t, names = data.read_csv(path, { skip = 1, header = true })
    features = {}
    for i = 1, #names - 1 do features[i] = names[i] end
  elseif spec.layout == "sensorless" then
    t = data.read_csv(path, { sep = "whitespace" })
    features, classes = spec.features, spec.classes
  else
    t = data.read_csv(path)
    features, classes = spec.features, spec.classes
  end
  local f = t:size(2) - 1
  if features and #features ~= f then
    error(fmt("uci.load: %s has %d feature columns, expected %d", path, f, #features), 2)
  end
  local x = t:narrow(2, 1, f):contiguous()
  local yv = t:select(2, f + 1):contiguous()
  local y
  if spec.regression then
    y = yv
  else
    if spec.layout == "sensorless" then yv = yv - 1 end
    local lo, hi = yv:min():item(), yv:max():item()
    local k = #classes
    if lo < 0 or hi >= k or yv:ne(yv:int():float()):sum():item() > 0 then
      error(fmt("uci.load: %s: labels must be integers in [0, %d), got values in [%s, %s]", path, k,
        lo, hi), 2)
    end
    y = yv:int()
  end
  return x, y, { feature_names = features, class_names = classes, source = spec.source, file = path }
end

return DS
