--- File loaders: IDX (MNIST's format, raw or .gz) and numeric CSV.
-- Loaders treat files as hostile: every problem is a Lua error naming the
-- function, the file and what is wrong; nothing half-loaded is returned.
-- IDX dtypes: uint8 stays uint8; int8, int16 and int32 load as int32
-- (exact); float32 and float64 as themselves.  Only regular files are
-- opened (a FIFO, a device or a directory is refused before any read).
-- @module lunet.data
-- @alias D
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

--- Read an IDX file, raw or gzip-compressed (recognised by its magic bytes;
-- a name ending in .gz must be gzip).  The header is validated and the
-- declared size compared with the file's before anything is allocated.
-- @param path the file name
-- @param[opt] opts `{max_bytes =}`: the largest data size accepted
-- (default `max_bytes`, 4 GiB)
-- @return a tensor with the file's dims and dtype
function D.read_idx(path, opts)
  check_path("read_idx", path)
  opts = check_opts("read_idx", opts, { max_bytes = true })
  return core.read_idx(path, opts.max_bytes or D.max_bytes)
end

--- The header of an IDX file, without reading the data.
-- @param path the file name
-- @return a table `{type =, dtype =, shape =}`: the file's element type
-- (e.g. "uint8", "int16"), the dtype it loads as, and its dims
function D.idx_header(path)
  check_path("idx_header", path)
  return core.idx_header(path, D.max_bytes)
end

--- Write a tensor as an IDX file (to a temporary name, then renamed);
-- gzip-compressed when path ends in .gz.
-- @param path the file name
-- @param t the tensor
-- @param[opt] opts `type`: the element type written, uint8, int8, int16,
-- int32, float32 or float64 (default: t's dtype; values that do not fit are
-- an error); `level`: the gzip level (6 for a .gz name, else 0: raw)
function D.write_idx(path, t, opts)
  check_path("write_idx", path)
  opts = check_opts("write_idx", opts, { type = true, level = true })
  if not core.is_tensor(t) then error(fmt("write_idx: expected a tensor, got %s", type(t)), 2) end
  local level = opts.level
  if level == nil then level = path:match("%.gz$") and 6 or 0 end
  core.write_idx(path, t, opts.type, level)
end

local seps = { comma = ",", tab = "\t", space = " " }

--- Read a numeric CSV (or whitespace-separated) file into a (rows, cols)
-- tensor.  Blanks around cells, `\r\n` endings, blank lines and
-- double-quoted cells are accepted; numbers are read in the C locale; a
-- ragged row or a bad cell is an error naming its line and column.  Files
-- ending in .gz are decompressed.
-- @param path the file name
-- @param[opt] opts a table of options:
--
-- - `sep` (","): one character (",", "\t", " ", ";"), "whitespace" (any
--   run of spaces and tabs), or the names "comma", "tab", "space"
-- - `header` (false): true reads the first line (after `skip`) as column names
-- - `skip` (0): lines to skip first
-- - `dtype` ("float32"): the result's dtype, "float32" or "float64"
-- - `allow_nonfinite` (false): accept nan and inf (hex is always refused)
-- - `max_bytes` (`max_bytes`): the largest file size accepted
-- @return the tensor, and with `header` the column names (an array of strings)
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
