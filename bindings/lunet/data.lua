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

local csv_options = { sep = true, delim_whitespace = true, header = true, skip = true, nrows = true,
  usecols = true, on_bad_lines = true, dtype = true, allow_nonfinite = true, max_bytes = true }

--- Read a numeric CSV (or whitespace-separated) file into a (rows, cols)
-- tensor, with the options a port of pandas' `read_csv` uses.  Blanks
-- around cells, `\r\n` endings, blank lines and double-quoted cells are
-- accepted; numbers are read in the C locale; a bad cell is an error naming
-- its line and column.  Files ending in .gz are decompressed.
--
-- The table has as many columns as the header, or without a header as the
-- first data line.  A line with more or fewer cells is a "bad line" that
-- `on_bad_lines` decides about.  pandas pads a short line with NaN instead
-- (the seed's Sensorless file ends in one); lunet does not invent values, so
-- such a file is an error naming the line unless on_bad_lines drops it.
-- @param path the file name
-- @param[opt] opts a table of options (any other key is an error listing these):
--
-- - `sep` (","): one character (",", "\t", " ", ";"), "whitespace" (any
--   run of spaces and tabs) or the same written as pandas' regular
--   expression `sep="\s+"` (in Lua source `"\\s+"`), or the names "comma",
--   "tab", "space".  Other strings are errors: there are no regular
--   expressions.  `sep = " "` is one space per separator, as in pandas
--   (two spaces make an empty cell)
-- - `delim_whitespace` (false): true is `sep = "whitespace"` (pandas'
--   `delim_whitespace=True`); giving another `sep` too is an error
-- - `header` (false): true reads the first line (after `skip`) as column
--   names, returned as a second result.  pandas' default (`header="infer"`,
--   i.e. `header=0` when no `names` are given) differs: `pd.read_csv(f)`
--   ports as `read_csv(f, {header = true})`, `header=0` as `header = true`,
--   and `header=None` as leaving it out or `header = false`
-- - `skip` (0): lines to skip first (pandas' `skiprows=n`)
-- - `nrows` (all): read at most this many data rows (after `skip` and the
--   header), an integer >= 0; lines after them are not looked at.
--   `nrows = 0` gives a (0, cols) tensor, and with `header` the names
-- - `usecols` (all): the columns kept, as an array of positions from 1
--   (`{1, 3}`) or, with `header`, of names (`{"a", "c"}`), not both.  As
--   in pandas the columns come in file order whatever the order of the
--   list (`{3, 1}` gives columns 1 then 3, and so do the names), and the
--   returned names match.  Columns not kept are not read as numbers (they
--   may hold text).  A position past the table, a name not in the header,
--   a name found twice in the header and a column given twice are errors
-- - `on_bad_lines` ("error"): what to do with a line that has more or fewer
--   cells than the table: "error" (an error naming the line and both counts),
--   "skip" (drop it) or "warn" (drop it and write
--   `read_csv: <path>: skipping line <n>: expected <cols> columns, saw <m>`
--   to stderr, one line each).  Dropped lines do not count towards `nrows`
-- - `dtype` ("float32"): the result's dtype, "float32" or "float64"
-- - `allow_nonfinite` (false): accept nan and inf cells (hex is always
--   refused)
-- - `max_bytes` (`max_bytes`): the largest file size accepted
-- @return the tensor, and with `header` the column names (an array of strings)
-- @usage
-- -- pd.read_csv("Sensorless_drive_diagnosis.txt", header=None, sep=" ")
-- local t = lunet.data.read_csv("Sensorless_drive_diagnosis.txt", { sep = " " })
-- -- pd.read_csv("a.csv", usecols=["x", "z"], nrows=100)
-- local x, names = lunet.data.read_csv("a.csv", { header = true, usecols = { "x", "z" }, nrows = 100 })
function D.read_csv(path, opts)
  check_path("read_csv", path)
  opts = check_opts("read_csv", opts, csv_options)
  local o = {}
  for k, v in pairs(opts) do o[k] = v end
  if o.sep ~= nil then o.sep = seps[o.sep] or o.sep end
  local dw = o.delim_whitespace
  if dw ~= nil and type(dw) ~= "boolean" then
    error(fmt("read_csv: delim_whitespace must be true or false, got %s", type(dw)), 2)
  end
  if dw then
    if o.sep ~= nil and o.sep ~= "whitespace" and o.sep ~= "\\s+" then
      error(fmt("read_csv: sep = %q and delim_whitespace = true: give only one", tostring(o.sep)), 2)
    end
    o.sep = "whitespace"
  end
  o.delim_whitespace = nil
  o.max_bytes = o.max_bytes or D.max_bytes
  return core.read_csv(path, o)
end

return D
