--- The safetensors file format: an 8-byte little-endian header length, a
-- JSON header (tensor name -> {dtype=, shape=, `data_offsets`=}, and
-- `"__metadata__"`: string -> string), then the raw little-endian tensor bytes.
-- Writing sorts the header's keys, so the same tensors give the same bytes.
-- Reading treats the file as hostile: the whole header is checked (dtypes,
-- shapes with overflow-checked integer products, offsets that tile the data
-- region exactly) before any tensor is made, so a file never makes lunet
-- allocate more than its own size.  dtypes: F32, F64, I32, I64 and U8
-- (float32, float64, int32, int64, uint8); at most 8 dims.  Models save and load through
-- this module (`model:save`, `nn.load_model`, `nn.read_safetensors`).
-- @module lunet.safetensors
-- @alias ST
local core = require("lunet.core")
local utils = require("lunet.utils")
local check = require("lunet.check")

local ST = {}
local fmt = string.format

local ST_DTYPE = { float32 = "F32", float64 = "F64", int32 = "I32", uint8 = "U8", int64 = "I64" }
local LN_DTYPE = { F32 = "float32", F64 = "float64", I32 = "int32", U8 = "uint8", I64 = "int64" }
local ELEM = { F32 = 4, F64 = 8, I32 = 4, U8 = 1, I64 = 8 }
local MAX_HEADER = 100 * 1024 * 1024
local MAX_ELEMS = 1 << 40
local MAX_DIMS = 8

local function cjson()
  local ok, m = pcall(require, "cjson")
  if not ok then error("safetensors: lua-cjson is needed (make setup installs it)", 3) end
  return m
end
--- The lua-cjson module (Debian's lua-cjson), loaded on first use; an error
-- saying how to install it when it is missing.
-- @function cjson
-- @return the cjson module
ST.cjson = cjson

--- The bytes of a safetensors file.  The header's keys are sorted and padded
-- with spaces so the data starts 8-byte aligned.
-- @param list an array of `{name =, tensor =}`, stored in this order (names
-- unique, not `"__metadata__"`; dtypes float32, float64, int32, int64 or uint8)
-- @param[opt] metadata a table of string -> string (safetensors allows
-- nothing else there)
-- @return an array of strings, the file's bytes in order (for
-- `utils.write_file_atomic`)
function ST.encode(list, metadata)
  check.type("safetensors.encode", "list", list, "table", 2)
  if metadata ~= nil then check.type("safetensors.encode", "metadata", metadata, "table", 2) end
  local header, blobs, offset = {}, {}, 0
  for i, e in ipairs(list) do
    if type(e) ~= "table" or not core.is_tensor(e.tensor) then
      check.arg_error("safetensors.encode", fmt("list[%d]", i), "{name=, tensor=}", e, 2)
    end
    if type(e.name) ~= "string" or e.name == "__metadata__" or header[e.name] then
      error(fmt("safetensors.encode: tensor %d has a bad or repeated name %s", i, tostring(e.name)), 2)
    end
    local t = e.tensor
    local dt = ST_DTYPE[t:dtype()]
    if not dt then error(fmt("safetensors.encode: dtype %s cannot be stored", t:dtype()), 2) end
    local bytes = core.tobytes(t)
    header[e.name] = { dtype = dt, shape = setmetatable(t:shape(), utils.json_array_mt),
      data_offsets = { offset, offset + #bytes } }
    blobs[#blobs + 1] = bytes
    offset = offset + #bytes
  end
  if metadata ~= nil then
    for k, v in pairs(metadata) do
      if type(k) ~= "string" or type(v) ~= "string" then
        error(fmt("safetensors.encode: __metadata__ must map strings to strings (%s = %s)", tostring(k),
          tostring(v)), 2)
      end
    end
    header.__metadata__ = metadata
  end
  local h = utils.json_encode(header)
  h = h .. string.rep(" ", (8 - #h % 8) % 8) -- the data starts 8-byte aligned
  local parts = { string.pack("<I8", #h), h }
  for _, b in ipairs(blobs) do parts[#parts + 1] = b end
  return parts
end

-- an array of integers (JSON numbers come back as floats) or nil
local function int_array(v)
  if type(v) ~= "table" then return nil end
  local n, count = #v, 0
  for _ in pairs(v) do count = count + 1 end
  if count ~= n then return nil end
  local r = {}
  for i = 1, n do
    r[i] = type(v[i]) == "number" and math.tointeger(v[i]) or nil
    if r[i] == nil then return nil end
  end
  return r
end

--- Read and check a safetensors file without making any tensor: the whole
-- header (dtypes, shapes, offsets that tile the data exactly) is validated
-- before this returns.  Errors read `"<fname>: <path>: <what is wrong>"`.
-- @param path the file name (a regular file)
-- @param[opt="safetensors.parse"] fname the function named in errors
-- @return `{data =, entries =, list =, meta =}`: the file's bytes, the
-- entries by name, the entries sorted by offset, and the `__metadata__`
-- table (empty when absent); an entry is `{name =, dtype =, shape =,
-- first =, last =, offset =}` (first and last: byte range in the data
-- region; offset: 0-based byte in data)
function ST.parse(path, fname)
  fname = fname or "safetensors.parse"
  if type(fname) ~= "string" or fname == "" then check.arg_error("safetensors.parse", "fname", "a function name", fname, 2) end
  if type(path) ~= "string" then check.arg_error(fname, "path", "a file path", path, 2) end
  local function bad(msg, ...) error(fmt("%s: %s: " .. msg, fname, path, ...), 0) end
  local json = cjson()
  -- a regular file only (never a FIFO or a device), read up to the size fstat gives
  local okr, data = pcall(core.read_file, path)
  if not okr then bad("%s", (tostring(data):gsub("^read_file: [^\n]-: ", ""))) end
  if #data < 8 then bad("file too short for a safetensors header (%d bytes)", #data) end
  local hlen = string.unpack("<i8", data)
  if hlen < 2 or hlen > #data - 8 or hlen > MAX_HEADER then
    bad("header length %d does not fit the file (%d bytes)", hlen, #data)
  end
  local hjson = data:sub(9, 8 + hlen)
  if hjson:sub(1, 1) ~= "{" then bad("header is not a JSON object") end
  local ok, header = pcall(json.decode, hjson)
  if not ok or type(header) ~= "table" then bad("header is not valid JSON") end
  local base = 8 + hlen
  local data_len = #data - base
  local entries, list = {}, {}
  for name, e in pairs(header) do
    if name ~= "__metadata__" then
      if type(name) ~= "string" or type(e) ~= "table" then bad("bad header entry") end
      local dt = LN_DTYPE[e.dtype]
      if not dt then bad("tensor '%s' has unsupported dtype %s", name, tostring(e.dtype)) end
      local shape = int_array(e.shape)
      if not shape or #shape > MAX_DIMS then bad("tensor '%s' has a bad shape", name) end
      -- integer product, checked before each multiplication
      local numel, zero = 1, false
      for _, d in ipairs(shape) do
        if d < 0 then bad("tensor '%s' has a bad dimension %d", name, d) end
        if d == 0 then
          zero = true
        else
          if numel > MAX_ELEMS // d then bad("tensor '%s' is too large (shape %s)", name, table.concat(shape, "x")) end
          numel = numel * d
        end
      end
      if zero then numel = 0 end
      local o = int_array(e.data_offsets)
      if not o or #o ~= 2 or o[1] < 0 or o[2] < o[1] or o[2] > data_len then
        bad("tensor '%s' has data offsets outside the file", name)
      end
      if o[2] - o[1] ~= numel * ELEM[e.dtype] then
        bad("tensor '%s': %d bytes for shape (%s) of %s", name, o[2] - o[1], table.concat(shape, ", "), dt)
      end
      local entry = { name = name, dtype = dt, shape = shape, first = o[1], last = o[2], offset = base + o[1] }
      entries[name] = entry
      list[#list + 1] = entry
    end
  end
  -- the entries must tile the data region exactly: no overlap, no gap, no tail
  table.sort(list, function(a, b)
    if a.first ~= b.first then return a.first < b.first end
    if a.last ~= b.last then return a.last < b.last end
    return a.name < b.name
  end)
  local pos, prev = 0, nil
  for _, e in ipairs(list) do
    if e.first < pos then
      bad("tensor '%s' (bytes %d..%d) overlaps tensor '%s' (bytes %d..%d)", e.name, e.first, e.last,
        prev.name, prev.first, prev.last)
    elseif e.first > pos then
      bad("%d bytes before tensor '%s' belong to no tensor", e.first - pos, e.name)
    end
    pos, prev = e.last, e
  end
  if pos ~= data_len then bad("%d bytes after the last tensor belong to no tensor", data_len - pos) end
  local meta = header.__metadata__
  if meta ~= nil then
    if type(meta) ~= "table" then bad("__metadata__ is not an object") end
    for k, v in pairs(meta) do
      if type(k) ~= "string" or type(v) ~= "string" then
        bad("__metadata__ values must be strings ('%s' is a %s)", tostring(k), type(v))
      end
    end
  end
  return { data = data, entries = entries, list = list, meta = meta or {} }
end

--- The tensor of one entry of a parsed file.
-- @param st what `parse` returns
-- @param entry one of st.list (or st.entries)
-- @return a new tensor (a copy of the bytes)
function ST.tensor(st, entry)
  if type(st) ~= "table" or type(st.data) ~= "string" then check.arg_error("safetensors.tensor", "st", "a parsed file", st, 2) end
  if type(entry) ~= "table" or math.type(entry.offset) ~= "integer" then
    check.arg_error("safetensors.tensor", "entry", "an entry of st.list", entry, 2)
  end
  return core.frombytes(st.data, entry.offset, entry.dtype, entry.shape)
end

--- Read a whole safetensors file (checked as `parse` does).
-- @param path the file name
-- @param[opt="safetensors.read"] fname the function named in errors
-- @return a table name -> tensor, and the metadata table
function ST.read(path, fname)
  fname = fname or "safetensors.read"
  if type(fname) ~= "string" or fname == "" then check.arg_error("safetensors.read", "fname", "a function name", fname, 2) end
  local st = ST.parse(path, fname)
  local tensors = {}
  for _, e in ipairs(st.list) do tensors[e.name] = ST.tensor(st, e) end
  return tensors, st.meta
end

return ST
