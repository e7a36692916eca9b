--- Utilities for data: one-hot labels, sklearn's `train_test_split`, standardization;
-- and the helpers the library shares: option checks, atomic file writes,
-- JSON with sorted keys, seeded scopes, script arguments.
-- @module lunet.utils
-- @alias U
local core = require("lunet.core")
local check = require("lunet.check")
local describe = check.describe

local U = {}
local fmt = string.format

--- The one check of an options table.
-- `opts` must be nil or a table whose keys are all in the set `known` (or
-- in the set `extra`); otherwise the error is
-- `"<fname>: unknown option 'k' (known: a, b, ...)"` (or
-- `"<fname>: options must be a table (got ...)"`).
-- @param fname the name of the checking function, for the message
-- @param opts the options table, or nil
-- @param known the known option names as keys (`{sep = true, ...}`); its
-- array part, when there is one, lists the names in the order the message
-- gives them (otherwise they are sorted)
-- @param[opt=2] level what the checking function would pass to `error()`
-- (2: its caller)
-- @param[opt] extra a set of names accepted but not listed in the message
-- @return opts, or a new empty table when opts is nil
function U.check_options(fname, opts, known, level, extra)
  level = (level or 2) + 1
  if type(fname) ~= "string" or type(known) ~= "table" then
    error(fmt("check_options: expected a function name and a table of known options, got %s and %s",
      describe(fname), describe(known)), 2)
  end
  if opts == nil then return {} end
  if type(opts) ~= "table" then
    error(fmt("%s: options must be a table (got %s)", fname, describe(opts)), level)
  end
  for k in pairs(opts) do
    local listed = known[k] ~= nil and math.type(k) ~= "integer"
    if not listed and not (extra and extra[k]) then
      local names = {}
      for n in pairs(known) do
        if math.type(n) ~= "integer" then names[#names + 1] = n end
      end
      table.sort(names)
      if #known > 0 then names = known end -- an ordered list: listed as given
      error(fmt("%s: unknown option '%s' (known: %s)", fname, tostring(k), table.concat(names, ", ")), level)
    end
  end
  return opts
end

-- the global generator seeded, then put back (restored on return, error and yield)
local function seed_enter(seed)
  local saved = core.get_rng_state()
  core.manual_seed(seed)
  return saved
end
local function seed_leave(saved) core.set_rng_state(saved) end

--- Run `fn()` with the global generator seeded by `seed`, then put the
-- generator's state back (on return, on error and across `coroutine.yield`),
-- so seeded work does not disturb the rest of the program.
-- @param seed an integer, or nil to run fn with the generator as it is
-- @param fn a function (or callable table) of no arguments
-- @return what fn returns
function U.with_seed(seed, fn)
  local mt = getmetatable(fn)
  if type(fn) ~= "function" and not (type(mt) == "table" and mt.__call) then
    check.arg_error("with_seed", "fn", "a function", fn, 2)
  end
  if seed == nil then return fn() end
  check.number("with_seed", "seed", seed, 2, { integer = true })
  return require("lunet.autograd").with_scope(seed_enter, seed_leave, seed, fn)
end

local arg_error = check.arg_error
local function check_tensor(fname, what, t) return check.tensor(fname, what, t, 2) end -- a tail call: level 2 is still our caller's caller


-- ---- files -------------------------------------------------------------------

--- Write a file atomically, through a fresh temporary file `<path>.tmp` (a
-- stale or planted file or symlink there is removed, never followed), every write checked,
-- fsync'd, renamed over `path`, then the directory fsync'd.  On any failure
-- the temporary file is removed, a file already at `path` is left as it
-- was, and the error `"<fname>: cannot write <path>: <OS reason>"` is raised.
-- @param path the file name
-- @param data a string, or an array of strings written in order
-- @param[opt="write_file_atomic"] fname the function named in errors
-- @param[opt=2] level what the calling function would pass to `error()`
-- (2: its caller; 0: no position)
-- @return path
function U.write_file_atomic(path, data, fname, level)
  if level ~= 0 then level = (level or 2) + 1 end
  fname = fname or "write_file_atomic"
  if type(fname) ~= "string" or fname == "" then check.arg_error("write_file_atomic", "fname", "a function name", fname, 2) end
  if type(path) ~= "string" or path == "" or path:find("\0", 1, true) then
    error(fmt("%s: path must be a file name (got %s)", fname, describe(path)), level) -- level may be 0
  end
  local chunks = type(data) == "table" and data or { data }
  for i = 1, #chunks do
    if type(chunks[i]) ~= "string" then
      error(fmt("%s: data part %d is a %s, not a string", fname, i, type(chunks[i])), level)
    end
  end
  -- in C: path.tmp made fresh (a planted symlink is removed, never
  -- followed), every write checked, fsync, rename, fsync of the directory
  local ok, err = core.write_file(path, chunks)
  if not ok then error(fmt("%s: cannot write %s: %s", fname, path, err), level) end
  return path
end

-- ---- JSON with sorted keys ---------------------------------------------------------

--- Metatable marking a table as a JSON array for `json_encode` (so an empty
-- one is written `[]`, not `{}`).
U.json_array_mt = { __name = "json array" }

local json_escapes = { ['"'] = '\\"', ["\\"] = "\\\\", ["\b"] = "\\b", ["\f"] = "\\f",
  ["\n"] = "\\n", ["\r"] = "\\r", ["\t"] = "\\t" }

local function json_string(s)
  return '"' .. s:gsub('[%c"\\]', function(c)
    return json_escapes[c] or fmt("\\u%04x", c:byte())
  end) .. '"'
end

-- the shortest of %.15g/%.16g/%.17g that reads back as the same double
local function json_number(v)
  if math.type(v) == "integer" then return fmt("%d", v) end
  if v ~= v or v == math.huge or v == -math.huge then return nil end
  for _, p in ipairs({ "%.15g", "%.16g", "%.17g" }) do
    local s = fmt(p, v)
    if tonumber(s) == v then return s end
  end
end

local function json_value(v, out, depth)
  local t = type(v)
  if t == "string" then
    out[#out + 1] = json_string(v)
  elseif t == "number" then
    local s = json_number(v)
    if not s then error(fmt("json_encode: cannot write %s as JSON", tostring(v)), 0) end
    out[#out + 1] = s
  elseif t == "boolean" then
    out[#out + 1] = tostring(v)
  elseif t == "table" then
    if depth > 64 then error("json_encode: tables nested too deeply (a cycle?)", 0) end
    local n, count = #v, 0
    for _ in pairs(v) do count = count + 1 end
    if (count == n and n > 0) or (count == 0 and getmetatable(v) == U.json_array_mt) then
      out[#out + 1] = "["
      for i = 1, n do
        if i > 1 then out[#out + 1] = "," end
        json_value(v[i], out, depth + 1)
      end
      out[#out + 1] = "]"
    else
      local keys = {}
      for k in pairs(v) do
        if type(k) ~= "string" and math.type(k) ~= "integer" then
          error(fmt("json_encode: a %s key cannot be written as JSON", type(k)), 0)
        end
        keys[#keys + 1] = tostring(k)
      end
      table.sort(keys)
      out[#out + 1] = "{"
      for i, k in ipairs(keys) do
        if i > 1 then out[#out + 1] = "," end
        out[#out + 1] = json_string(k)
        out[#out + 1] = ":"
        local x = v[k]
        if x == nil then x = v[math.tointeger(tonumber(k))] end
        json_value(x, out, depth + 1)
      end
      out[#out + 1] = "}"
    end
  else
    error(fmt("json_encode: a %s cannot be written as JSON", t), 0)
  end
end

--- Compact JSON text with object keys in sorted (byte) order, so equal data
-- always gives the same bytes (lua-cjson follows the table's hash order,
-- which differs between processes).  A table is an array when its keys are
-- exactly 1..n (n > 0), or when it is empty and has `json_array_mt` as
-- metatable; otherwise an object (string and integer keys).  Numbers are
-- written so that they read back exactly; NaN, inf, functions and tables
-- nested deeper than 64 are an error.
-- @param value a string, number, boolean or table
-- @return the JSON text (a string)
function U.json_encode(value)
  local out = {}
  local ok, err = pcall(json_value, value, out, 0)
  if not ok then error(err, 2) end
  return table.concat(out)
end


--- The most classes a one-hot encoding takes: 2^24, the largest range of
-- integers a float32 label holds exactly.  Checked before anything is allocated.
U.MAX_CLASSES = 1 << 24
--- The most elements a one-hot encoding makes: 2^31 (8 GiB of float32).
U.MAX_ONE_HOT = 1 << 31

--- Check that `labels` holds 0-based integer class ids in [0, classes) and
-- that a one-hot of them fits `MAX_CLASSES` and `MAX_ONE_HOT`; errors name
-- `fname` and the bad label.
-- @param fname the function named in errors
-- @param labels a tensor of 0-based labels, any shape
-- @param classes the number of classes, a positive integer
-- @param[opt=2] level where the error points, as `error()` counts it from the caller
function U.check_labels(fname, labels, classes, level)
  level = (level or 2) + 1
  if type(fname) ~= "string" or fname == "" then check.arg_error("check_labels", "fname", "a function name", fname, 2) end
  check.tensor(fname, "labels", labels, level)
  if math.type(classes) ~= "integer" or classes < 1 then
    error(fmt("%s: the number of classes must be a positive integer, got %s", fname, tostring(classes)), level)
  end
  if classes > U.MAX_CLASSES then
    error(fmt("%s: %d classes exceed the limit of %d", fname, classes, U.MAX_CLASSES), level)
  end
  local n = labels:numel()
  if n * classes > U.MAX_ONE_HOT then
    error(fmt("%s: a one-hot of %d labels x %d classes exceeds the limit of %d elements", fname, n,
      classes, U.MAX_ONE_HOT), level)
  end
  if n > 0 then
    local flat = labels:reshape(n):double()
    local lo, hi = flat:min():item(), flat:max():item()
    if not (lo >= 0 and hi < classes) then
      local bad = lo < 0 and lo or hi
      error(fmt("%s: labels must be in [0, %d), got %s", fname, classes,
        math.tointeger(bad) and tostring(math.tointeger(bad)) or tostring(bad)), level)
    end
    if flat:ne(flat:int():double()):sum():item() > 0 then
      error(fmt("%s: labels must be integers", fname), level)
    end
  end
end

-- the row (1, classes) of class ids 0 .. classes-1, made once per size
local class_rows = setmetatable({}, { __mode = "v" })
-- one-hot rows of labels already checked (U.check_labels)
local function one_hot_of(labels, classes, dtype)
  local cls = class_rows[classes]
  if not cls then
    cls = core.arange(0, classes, 1, "float64"):reshape(1, classes)
    class_rows[classes] = cls
  end
  local n = labels:numel()
  return labels:reshape(n, 1):double():eq(cls):astype(dtype or "float32")
end
U._internal = setmetatable({ one_hot_of = one_hot_of }, { __metatable = "internal" })

--- One-hot rows of 0-based integer labels.  Labels outside [0, classes),
-- non-integer labels and sizes past `MAX_CLASSES` or `MAX_ONE_HOT` are
-- errors naming `fname` (and the bad label).
-- @param fname the function named in errors
-- @param labels a tensor of 0-based labels, any shape (flattened to N)
-- @param classes the number of classes, a positive integer
-- @param[opt="float32"] dtype the result's dtype
-- @return an (N, classes) tensor of 0 and 1
function U.one_hot(fname, labels, classes, dtype)
  if type(fname) ~= "string" or fname == "" then check.arg_error("one_hot", "fname", "a function name", fname, 2) end
  check_tensor(fname, "labels", labels)
  U.check_labels(fname, labels, classes, 2)
  return one_hot_of(labels, classes, dtype)
end

--- One-hot encoding of class labels, as Keras' `to_categorical`.
-- @param y a tensor of 0-based integer labels, any shape
-- @param[opt] num_classes the number of classes (default: the largest label + 1;
-- needed when y is empty)
-- @return a float32 tensor of shape y's shape .. {`num_classes`} (a trailing
-- dim of 1 in y is dropped first, as Keras does)
function U.to_categorical(y, num_classes)
  check_tensor("to_categorical", "y", y)
  if num_classes == nil then
    if y:numel() == 0 then error("to_categorical: num_classes is needed for an empty y", 2) end
    local hi = y:max():item()
    if not (hi >= 0 and hi < U.MAX_CLASSES) then
      error(fmt("to_categorical: the largest label %s is outside [0, %d)", tostring(hi), U.MAX_CLASSES), 2)
    end
    num_classes = math.floor(hi) + 1
  end
  local out = U.one_hot("to_categorical", y, num_classes, "float32")
  local shape = y:shape()
  if #shape > 1 and shape[#shape] == 1 then shape[#shape] = nil end
  shape[#shape + 1] = num_classes
  return out:reshape(shape)
end

-- A Lua array of labels (numbers) from a tensor (1-d, or rows of one-hot) or an array.
local function label_list(fname, y, n)
  local list
  if core.is_tensor(y) then
    if y:dim() == 2 and y:size(2) > 1 then y = y:argmax(2) end
    list = y:reshape(y:numel()):double():totable()
    for i = 1, #list do list[i] = math.tointeger(list[i]) or list[i] end
  elseif type(y) == "table" then
    list = y
  else
    error(fmt("%s: stratify must be a tensor or an array of labels, got %s", fname, type(y)), 3)
  end
  if #list ~= n then
    error(fmt("%s: stratify has %d labels for %d samples", fname, #list, n), 3)
  end
  return list
end

-- A random permutation of the Lua array a (Fisher-Yates with lunet's generator).
local function permuted(a)
  local n = #a
  if n == 0 then return {} end
  local p = core.randperm(n):totable()
  local out = {}
  for i = 1, n do out[i] = a[p[i]] end
  return out
end

-- Pick k distinct entries of the array a at random.
local function choose(a, k)
  local p = permuted(a)
  local out = {}
  for i = 1, k do out[i] = p[i] end
  return out
end

-- sklearn's _approximate_mode: split n_draws over the classes in proportion
-- to counts, floors first, then one more for the largest remainders (ties
-- broken at random).
local function approximate_mode(counts, n_draws)
  local total = 0
  for i = 1, #counts do total = total + counts[i] end
  local floored, rem = {}, {}
  local need = n_draws
  for i = 1, #counts do
    local c = counts[i] / total * n_draws
    floored[i] = math.floor(c)
    rem[i] = c - floored[i]
    need = need - floored[i]
  end
  if need > 0 then
    local values, seen = {}, {}
    for i = 1, #rem do
      if not seen[rem[i]] then
        seen[rem[i]] = true
        values[#values + 1] = rem[i]
      end
    end
    table.sort(values, function(a, b) return a > b end)
    for _, v in ipairs(values) do
      local inds = {}
      for i = 1, #rem do if rem[i] == v then inds[#inds + 1] = i end end
      local add = math.min(#inds, need)
      for _, i in ipairs(choose(inds, add)) do floored[i] = floored[i] + 1 end
      need = need - add
      if need == 0 then break end
    end
  end
  return floored
end

--- Split rows into a training and a test set, as sklearn's `train_test_split`
-- (same counts and class allocation).  With a fraction, `n_test` =
-- ceil(`test_size` * n) and `n_train` = floor(`train_size` * n); an integer is a
-- count.  Without either, `test_size` is 0.25; with one, the other is the rest.
-- @param x a tensor whose dim 1 is the samples
-- @param[opt] y a tensor with as many rows (may be left out: then opts
-- can be the second argument)
-- @param[opt] opts a table of options:
--
-- - `test_size`: a fraction in (0, 1) or a count
-- - `train_size`: a fraction in (0, 1) or a count
-- - `stratify`: labels (a tensor, one-hot rows or a Lua array), or `true`
--   for y: keeps the class proportions (sklearn's StratifiedShuffleSplit
--   allocation; every class needs 2 members)
-- - `shuffle` (true): false takes the first rows for training, in order
-- - `seed`: an integer making the split repeatable without touching the
--   global generator
-- @return `x_train`, `x_test`, and with y also `y_train`, `y_test` (sklearn's order)
function U.train_test_split(x, y, opts)
  if type(y) == "table" and not core.is_tensor(y) and opts == nil then y, opts = nil, y end
  opts = U.check_options("train_test_split", opts,
    { test_size = true, train_size = true, stratify = true, shuffle = true, seed = true })
  check_tensor("train_test_split", "x", x)
  if x:dim() < 1 then error(fmt("train_test_split: x must have a dim of samples, got %s", describe(x)), 2) end
  local n = x:size(1)
  if y ~= nil then
    check_tensor("train_test_split", "y", y)
    if y:dim() < 1 then error(fmt("train_test_split: y must have a dim of samples, got %s", describe(y)), 2) end
    if y:size(1) ~= n then
      error(fmt("train_test_split: x has %d rows, y has %d", n, y:size(1)), 2)
    end
  end
  local function count(v, what)
    if math.type(v) == "integer" then
      if v < 1 or v >= n then
        error(fmt("train_test_split: %s=%d must be in [1, %d)", what, v, n), 3)
      end
      return v
    elseif type(v) == "number" then
      if not (v > 0 and v < 1) then
        error(fmt("train_test_split: %s=%s must be in (0, 1) or an integer count", what, tostring(v)), 3)
      end
      return what == "test_size" and math.ceil(v * n) or math.floor(v * n)
    end
    error(fmt("train_test_split: %s must be a number, got %s", what, type(v)), 3)
  end
  local n_test, n_train
  if opts.test_size ~= nil then n_test = count(opts.test_size, "test_size") end
  if opts.train_size ~= nil then n_train = count(opts.train_size, "train_size") end
  if n_test == nil and n_train == nil then n_test = math.ceil(0.25 * n) end
  n_test = n_test or n - n_train
  n_train = n_train or n - n_test
  if n_train + n_test > n or n_train < 1 or n_test < 1 then
    error(fmt("train_test_split: %d train + %d test samples do not fit in %d", n_train, n_test, n), 2)
  end
  local shuffle = opts.shuffle ~= false
  local strat = opts.stratify
  if strat == true then strat = y end
  if strat ~= nil and strat ~= false and not shuffle then
    error("train_test_split: stratify needs shuffle=true (as in sklearn)", 2)
  end

  local train, test = {}, {}
  local function split()
    if not shuffle then
      for i = 1, n_train do train[i] = i end
      for i = 1, n_test do test[i] = n_train + i end
    elseif strat == nil or strat == false then
      local p = core.randperm(n):totable()
      for i = 1, n_test do test[i] = p[i] end
      for i = 1, n_train do train[i] = p[n_test + i] end
    else
      local labels = label_list("train_test_split", strat, n)
      local classes, members = {}, {}
      for i = 1, n do
        local c = labels[i]
        if members[c] == nil then
          members[c] = {}
          classes[#classes + 1] = c
        end
        local m = members[c]
        m[#m + 1] = i
      end
      table.sort(classes)
      local counts = {}
      for i, c in ipairs(classes) do counts[i] = #members[c] end
      for i, c in ipairs(classes) do
        if counts[i] < 2 then
          error(fmt("train_test_split: class %s has only %d member; stratify needs at least 2",
            tostring(c), counts[i]), 3)
        end
      end
      if n_train < #classes or n_test < #classes then
        error(fmt("train_test_split: %d train and %d test samples cannot hold all %d classes",
          n_train, n_test, #classes), 3)
      end
      local n_i = approximate_mode(counts, n_train)
      local left = {}
      for i = 1, #counts do left[i] = counts[i] - n_i[i] end
      local t_i = approximate_mode(left, n_test)
      for i, c in ipairs(classes) do
        local p = permuted(members[c])
        for k = 1, n_i[i] do train[#train + 1] = p[k] end
        for k = n_i[i] + 1, n_i[i] + t_i[i] do test[#test + 1] = p[k] end
      end
      train, test = permuted(train), permuted(test)
    end
  end
  U.with_seed(opts.seed, split)
  local tr, te = core.tensor(train, "int32"), core.tensor(test, "int32")
  local x_train, x_test = x:index_select(1, tr), x:index_select(1, te)
  if y == nil then return x_train, x_test end
  return x_train, x_test, y:index_select(1, tr), y:index_select(1, te)
end

--- Standardize columns: (x - mean) / std with the statistics of the rows
-- (population std, as sklearn's StandardScaler); a column with std 0 is
-- divided by 1.  Pass the training set's mean and std to transform a test
-- set the same way.  Integer tensors are converted to float32 first.
-- @param x a tensor with at least one row
-- @param[opt] opts `{mean =, std =}`: tensors (or numbers) to use instead
-- of computing them
-- @return the standardized tensor, mean, std
function U.standardize(x, opts)
  check_tensor("standardize", "x", x)
  opts = U.check_options("standardize", opts, { mean = true, std = true })
  for _, k in ipairs({ "mean", "std" }) do
    if opts[k] ~= nil and type(opts[k]) ~= "number" and not core.is_tensor(opts[k]) then
      arg_error("standardize", k, "a tensor or a number", opts[k], 2)
    end
  end
  if x:dim() < 1 or x:size(1) == 0 then error("standardize: x must have at least one row", 2) end
  if x:dtype() ~= "float32" and x:dtype() ~= "float64" then x = x:float() end
  local mean = opts.mean or x:mean(1)
  local std = opts.std
  if std == nil then
    std = x:std(1)
    std = core.where(std:eq(0), 1, std)
  end
  return (x - mean) / std, mean, std
end

--- Command-line options for scripts: `--name value`, `--name=value`, and
-- `--flag` for boolean defaults (`--no-flag` sets false).  The default's type
-- converts the value (a number default wants a number).  `--help` or `-h`
-- prints the usage line and the options with their defaults, then exits;
-- an unknown option is an error listing the known ones.
-- @param argv the arguments (the script's `arg`), or nil for none
-- @param spec a table mapping option names (written with `"_"`; "-" on the
-- command line) to their defaults
-- @param[opt] usage the line `--help` prints first
-- @return a table of the options (the defaults, overridden), and a list of
-- the positional arguments
function U.parse_args(argv, spec, usage)
  if argv ~= nil then check.type("parse_args", "argv", argv, "table", 2) end
  check.type("parse_args", "spec", spec, "table", 2)
  if usage ~= nil then check.type("parse_args", "usage", usage, "string", 2) end
  for i = 1, #(argv or {}) do
    if type(argv[i]) ~= "string" then arg_error("parse_args", fmt("argv[%d]", i), "a string", argv[i], 2) end
  end
  local opts, rest = {}, {}
  for k, v in pairs(spec) do opts[k] = v end
  local function key(name) return (name:gsub("-", "_")) end
  local function help()
    if usage then print(usage) end
    local names = {}
    for k in pairs(spec) do names[#names + 1] = k end
    table.sort(names)
    for _, k in ipairs(names) do
      print(fmt("  --%-18s %s", k:gsub("_", "-"), tostring(spec[k])))
    end
  end
  local i = 1
  argv = argv or {}
  while i <= #argv do
    local a = argv[i]
    if a == "--help" or a == "-h" then
      help()
      os.exit(0)
    end
    local name, value = a:match("^%-%-([%w_%-]+)=(.*)$")
    if not name then name = a:match("^%-%-([%w_%-]+)$") end
    if name then
      local k = key(name)
      local negated = spec[k] == nil and k:match("^no_(.*)$")
      if negated and type(spec[negated]) == "boolean" and value == nil then
        opts[negated] = false
      elseif spec[k] == nil then
        local known = {}
        for n in pairs(spec) do known[#known + 1] = "--" .. n:gsub("_", "-") end
        table.sort(known)
        error(fmt("parse_args: unknown option --%s (known: %s)", name, table.concat(known, ", ")), 0)
      elseif type(spec[k]) == "boolean" and value == nil then
        opts[k] = true
      else
        if value == nil then
          i = i + 1
          value = argv[i]
          if value == nil then error(fmt("parse_args: --%s needs a value", name), 0) end
        end
        local d = spec[k]
        if type(d) == "number" then
          local v = math.tointeger(tonumber(value)) or tonumber(value)
          if v == nil then error(fmt("parse_args: --%s expects a number, got '%s'", name, value), 0) end
          opts[k] = v
        elseif type(d) == "boolean" then
          opts[k] = value == "true" or value == "1" or value == "yes"
        else
          opts[k] = value
        end
      end
    else
      rest[#rest + 1] = a
    end
    i = i + 1
  end
  return opts, rest
end

--- Whether this process writes files: true unless it is a rank other than
-- 0 of a lunet.distributed job (where only rank 0 saves, logs and plots).
-- @return a boolean
function U.writes_here()
  local mpi = package.loaded["lunet.mpi"]
  return not (mpi and mpi.initialized() and mpi.rank() ~= 0)
end

return U
