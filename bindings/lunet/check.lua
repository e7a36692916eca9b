--- Argument checks for the library (internal: not part of the public API).
-- Each raises "<fname>: <what> must be <kind> (got <value>)" at `level`, as
-- error() counts it (default 2: the caller of the function that checks).
-- @module lunet.check
local core = require("lunet.core")

local K = {}
local fmt = string.format
local luatype = type

--- shape_str(s [, batch]): "(2, 3)", "(4,)", "()"; with batch a leading
-- "None" (Keras' summary form).
function K.shape_str(s, batch)
  if luatype(s) ~= "table" then
    error(fmt("shape_str: s must be a shape table (got %s)", K.describe(s)), 2)
  end
  local parts = {}
  if batch then parts[1] = "None" end
  for i = 1, #s do parts[#parts + 1] = tostring(s[i]) end
  if #parts == 1 then return "(" .. parts[1] .. ",)" end
  return "(" .. table.concat(parts, ", ") .. ")"
end
local shape_text = K.shape_str

--- A value as error messages show it: nil, true, 1.5, nan, "text", a
-- float32 tensor of shape (2, 3), a table, a function.
function K.describe(v)
  local t = luatype(v)
  if t == "number" then
    if v ~= v then return "nan" end -- never "-nan"
    return tostring(v) -- 2.0 stays a float: "must be an integer (got 2.0)" says why
  elseif t == "string" then
    return fmt("%q", #v > 40 and v:sub(1, 40) .. "..." or v)
  elseif core.is_tensor(v) then
    return fmt("%s %s tensor of shape %s", v:dtype() == "int32" and "an" or "a", v:dtype(), shape_text(v:shape()))
  elseif t == "nil" or t == "boolean" then
    return tostring(v)
  end
  return "a " .. t
end
local describe = K.describe

local function arg_error(fname, what, kind, v, level)
  error(fmt("%s: %s must be %s (got %s)", fname, what, kind, describe(v)), level + 1)
end
K.arg_error = arg_error

--- tensor(fname, what, v [, level]): v is a tensor (level as for error(), default 2).
function K.tensor(fname, what, v, level)
  if not core.is_tensor(v) then arg_error(fname, what, "a tensor", v, (level or 2) + 1) end
  return v
end

--- float_tensor(fname, what, v [, level]): a float32 or float64 tensor.
function K.float_tensor(fname, what, v, level)
  level = (level or 2) + 1
  if not core.is_tensor(v) then arg_error(fname, what, "a tensor", v, level) end
  local dt = v:dtype()
  if dt ~= "float32" and dt ~= "float64" then
    error(fmt("%s: %s must be a float32 or float64 tensor (got %s; convert with :float())", fname, what,
      describe(v)), level)
  end
  return v
end

--- number(fname, what, v [, level [, {integer=, min=, max=, finite=}]]):
-- a number (never NaN) within the bounds given.
function K.number(fname, what, v, level, opts)
  level = (level or 2) + 1
  opts = opts or {}
  if opts.integer then
    if math.type(v) ~= "integer" and not (luatype(v) == "number" and math.tointeger(v)) then
      arg_error(fname, what, "an integer", v, level)
    end
    v = math.tointeger(v)
  elseif luatype(v) ~= "number" or v ~= v then
    arg_error(fname, what, "a number", v, level)
  end
  if opts.finite and (v == math.huge or v == -math.huge) then arg_error(fname, what, "finite", v, level) end
  if opts.min and v < opts.min then arg_error(fname, what, ">= " .. describe(opts.min), v, level) end
  if opts.max and v > opts.max then arg_error(fname, what, "<= " .. describe(opts.max), v, level) end
  return v
end

--- callable(v): v is a function, or a table or userdata with __call.
function K.callable(v)
  if luatype(v) == "function" then return true end
  local mt = getmetatable(v)
  return luatype(mt) == "table" and mt.__call ~= nil
end

--- type(fname, what, v, lua_type [, level]): type(v) == lua_type.
function K.type(fname, what, v, lua_type, level)
  if luatype(v) ~= lua_type then
    arg_error(fname, what, (lua_type:match("^[aeiou]") and "an " or "a ") .. lua_type, v, (level or 2) + 1)
  end
  return v
end

--- bare(err): an error message without the "file:line: " Lua put first
-- when that position is inside lunet's own Lua files (a position in the
-- user's code is kept: it says where their error is).
function K.bare(err)
  local msg = tostring(err)
  local file, rest = msg:match("^([^\n]-):%d+: (.*)$")
  if file and file:find("/lunet/[%w_]+%.lua$") then return rest end
  return msg
end

--- within(fname, level, fn, ...) --> fn's first result; an error inside fn
-- is re-raised as "<fname>: <message>" at `level`, as error() counts it (0:
-- no position).  For work done on behalf of fname: a getter, a loss, a
-- save.  An error value that is not a string is re-raised as it is.
function K.within(fname, level, fn, ...)
  local ok, r = pcall(fn, ...)
  if not ok then
    if luatype(r) ~= "string" then error(r, 0) end
    error(fname .. ": " .. K.bare(r), level == 0 and 0 or level + 1)
  end
  return r
end

--- path(fname, what, v [, level]): a file name (a non-empty string with no NUL byte).
function K.path(fname, what, v, level)
  if luatype(v) ~= "string" or v == "" or v:find("\0", 1, true) then
    arg_error(fname, what, "a file name", v, (level or 2) + 1)
  end
  return v
end

--- methods(cls, label [, is_instance]): wrap every method of cls so that a
-- call on anything but an instance raises "<label>.<method>: expected a
-- <label> as self (call obj:<method>(...)), got <value>".  is_instance
-- defaults to getmetatable(v) == cls.  The wrapper tail-calls the method,
-- so error levels inside it are unchanged.
-- v is cls's instance, or a table that inherits from one through __index
local function inherits(v, cls)
  for _ = 1, 8 do
    local mt = getmetatable(v)
    if mt == cls then return true end
    if luatype(mt) ~= "table" or luatype(mt.__index) ~= "table" then return false end
    v = mt.__index
  end
  return false
end

function K.methods(cls, label, is_instance)
  is_instance = is_instance or function(v) return inherits(v, cls) end
  for k, f in pairs(cls) do
    if luatype(f) == "function" and luatype(k) == "string" and not k:match("^__") then
      cls[k] = function(self, ...)
        if not is_instance(self) then
          error(fmt("%s.%s: expected a %s as self (call obj:%s(...)), got %s", label, k, label, k,
            describe(self)), 2)
        end
        return f(self, ...)
      end
    end
  end
  return cls
end

return K
