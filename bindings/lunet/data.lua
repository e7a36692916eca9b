--- File loaders: IDX (MNIST's format, raw or .gz) and numeric CSV.
-- Loaders treat files as hostile: every problem is a Lua error naming the
-- function, the file and what is wrong; nothing half-loaded is returned.
-- IDX dtypes: uint8 stays uint8; int8, int16 and int32 load as int32
-- (exact); float32 and float64 as themselves.
-- @module lunet.data
local core = require("lunet.core")
local utils = require("lunet.utils")

local D = {}
local fmt = string.format

--- Largest decompressed size a loader accepts (bytes); change it to allow more.
D.max_bytes = 4 * 1024 ^ 3 // 1

local function check_opts(fname, opts, known)
  return (utils.check_options(fname, opts, known, 3)) -- not a tail call: keeps the level
end

local function check_path(fname, path)
  if type(path) ~= "string" then error(fmt("%s: path must be a string, got %s", fname, type(path)), 3) end
end

--- read_idx(path [, {max_bytes=}]) --> tensor with the file's dims
function D.read_idx(path, opts)
  check_path("read_idx", path)
  opts = check_opts("read_idx", opts, { max_bytes = true })
  return core.read_idx(path, opts.max_bytes or D.max_bytes)
end

--- idx_header(path) --> {type=, dtype=, shape=} without reading the data
function D.idx_header(path)
  check_path("idx_header", path)
  return core.idx_header(path, D.max_bytes)
end

--- write_idx(path, t [, {type=, level=}]): gzip-compressed when path ends in
-- .gz (level 6 unless given).  type: uint8, int8, int16, int32, float32 or
-- float64 (default from t's dtype); values that do not fit are an error.
function D.write_idx(path, t, opts)
  check_path("write_idx", path)
  opts = check_opts("write_idx", opts, { type = true, level = true })
  if not core.is_tensor(t) then error(fmt("write_idx: expected a tensor, got %s", type(t)), 2) end
  local level = opts.level
  if level == nil then level = path:match("%.gz$") and 6 or 0 end
  core.write_idx(path, t, opts.type, level)
end

local seps = { comma = ",", tab = "\t", space = " " }

--- read_csv(path [, {sep=",", header=false, skip=0, dtype="float32",
-- allow_nonfinite=false, max_bytes=}]) --> tensor (rows x cols) [, header names]
-- sep: one character (",", "\t", " ", ";") or "whitespace" (any run of
-- spaces and tabs).  Files ending in .gz are decompressed.
function D.read_csv(path, opts)
  check_path("read_csv", path)
  opts = check_opts("read_csv", opts,
    { sep = true, header = true, skip = true, dtype = true, allow_nonfinite = true, max_bytes = true })
  local o = {}
  for k, v in pairs(opts) do o[k] = v end
  if o.sep ~= nil then o.sep = seps[o.sep] or o.sep end
  o.max_bytes = o.max_bytes or D.max_bytes
  return core.read_csv(path, o)
end

return D
