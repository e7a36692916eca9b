-- scripts/doc_check.lua - every public function, method and class of lunet's
-- public modules has an LDoc comment that documents its parameters and its
-- results.  `make doc` runs it after LDoc; it lists every fault and exits 1.
--
--   make doc                          (runs LDoc, then this)
--   make doc DOC_CHECK_FLAGS=--strict (PENDING modules fail too)
--
-- The rule:
--
-- * Public modules: bindings/lunet/*.lua except INTERNAL (lunet.check); the
--   module of init.lua is `lunet`.  Each is in config.ld's file list, unless
--   it is PENDING (then it may be left out of the LDoc run).
-- * Public names: the module is required and the table it returns walked.
--   Every key that does not start with "_" whose value is
--     - a Lua function: a function;
--     - a callable table: a class (constructor parameters and results are
--       those of its __call without the first argument); its own function
--       fields are methods;
--     - a table holding Lua functions: a namespace (datasets.mnist,
--       losses.metrics); its function fields are functions.
--   Skipped: C functions (lunet.core's: the tensor API is documented in
--   doc/*.luadoc, checked by LDoc), tables that are modules of their own
--   (package.loaded) and lunet.core's tables (lunet.Tensor, whose Lua
--   methods are documented where they are defined).  A method wrapped by
--   lunet.check.methods, or by lunet.layer's guard of the layer protocol's
--   methods (init, build, call, ...), is checked as the function it wraps.
-- * Documented: a `---` comment block (LDoc's) in one of the module's files
--   (its .lua file, and doc/*.luadoc files saying `@submodule <module>`):
--     1. a block tagged `@function P`, `@table P` or `@type P`, P the name's
--        path inside the module ("get", "mnist.load", "SGD", "Optimizer:step");
--     2. else the block right above the line defining the function, when
--        that line names it (`function M.f(`, `function cls:f(`, `f = function`);
--     3. else the block right above an assignment to it (`M.f = ...`).
-- * Parameters: every formal parameter except `self` and names starting
--   with "_" has `@param name` or `@tparam type name` (the `[opt]` forms
--   too); `...` needs `@param ...`; and no @param names a parameter the
--   function does not have.  A function taking only `...` (a wrapper such as
--   plot's) needs at least one @param, and its names are not compared.
-- * Results: a function with `return <values>` in its own body (not in a
--   nested function) has `@return` or `@treturn`; one without has neither.
-- * Namespaces need a block (1 or 3); their functions are checked as above.
--
-- A signature in prose ("read_idx(path [, opts]) --> tensor") is welcome in
-- the description, but it is not what this script reads: the tags are what
-- LDoc turns into the parameter and result lists of the HTML.

-- paths are compared as realpath gives them
local real_cache = {}
local function realpath(p)
  if real_cache[p] == nil then
    local h = io.popen("realpath -e -- '" .. p:gsub("'", "'\\''") .. "' 2>/dev/null")
    local r = h:read("l")
    h:close()
    real_cache[p] = r or p
  end
  return real_cache[p]
end

local ROOT = realpath((arg and arg[0] or ""):match("^(.*)/scripts/doc_check%.lua$") or ".")
local LIB = ROOT .. "/bindings/lunet"

-- lunet.check is the library's own argument checking, not an API
local INTERNAL = { check = true }

-- TEMPORARY: modules another engineer is restructuring.  Their faults are
-- reported but do not fail `make doc`, and they may be left out of the LDoc
-- run (config.ld's exclude list).  This list must be emptied: remove a
-- module from it (and from config.ld's exclude) once its doc comments pass.
local PENDING = {}

local strict = false
for _, a in ipairs(arg or {}) do
  if a == "--strict" then strict = true
  else
    io.stderr:write("usage: lua5.4 scripts/doc_check.lua [--strict]\n")
    os.exit(2)
  end
end
local pending = {}
if not strict then for _, m in ipairs(PENDING) do pending[m] = true end end

local fmt = string.format

local function read(path)
  local f = io.open(path, "rb")
  if not f then return nil end
  local s = f:read("a")
  f:close()
  return s
end

local function list_dir(dir, pattern)
  local p = io.popen("ls -1 '" .. dir .. "' 2>/dev/null")
  local out = {}
  for name in p:lines() do
    if name:match(pattern) then out[#out + 1] = name end
  end
  p:close()
  table.sort(out)
  return out
end

-- ---- a Lua lexer: just enough to find function bodies and returns ------------

local KEYWORDS = {}
for w in ("and break do else elseif end false for function goto if in local nil not or " ..
  "repeat return then true until while"):gmatch("%a+") do KEYWORDS[w] = true end

-- tokens of src: {type = "name"|"keyword"|"string"|"number"|"op", value =, line =}
local function lex(src)
  local toks, i, line, n = {}, 1, 1, #src
  local function long_bracket(at)
    local eq = src:match("^%[(=*)%[", at)
    if not eq then return nil end
    local close = "]" .. eq .. "]"
    local s, e = src:find(close, at + #eq + 2, true)
    e = e or n
    local body = src:sub(at, e)
    local _, nl = body:gsub("\n", "")
    return e + 1, nl
  end
  while i <= n do
    local c = src:sub(i, i)
    if c == "\n" then
      line, i = line + 1, i + 1
    elseif c:match("%s") then
      i = i + 1
    elseif src:sub(i, i + 1) == "--" then
      local nexti, nl = long_bracket(i + 2)
      if nexti then
        i, line = nexti, line + nl
      else
        local e = src:find("\n", i, true) or n + 1
        i = e
      end
    elseif c == "[" and src:match("^%[=*%[", i) then
      local nexti, nl = long_bracket(i)
      toks[#toks + 1] = { type = "string", line = line }
      i, line = nexti, line + nl
    elseif c == '"' or c == "'" then
      local j = i + 1
      while j <= n do
        local d = src:sub(j, j)
        if d == "\\" then
          if src:sub(j + 1, j + 1) == "\n" then line = line + 1 end
          j = j + 2
        elseif d == c then break
        elseif d == "\n" then break
        else j = j + 1 end
      end
      toks[#toks + 1] = { type = "string", line = line }
      i = j + 1
    elseif c:match("[%a_]") then
      local w = src:match("^[%w_]+", i)
      toks[#toks + 1] = { type = KEYWORDS[w] and "keyword" or "name", value = w, line = line }
      i = i + #w
    elseif c:match("%d") or (c == "." and src:sub(i + 1, i + 1):match("%d")) then
      local num = src:match("^0[xX][%x%.]+[pP][+-]?%d+", i) or src:match("^0[xX][%x%.]*", i)
        or src:match("^[%d%.]+[eE][+-]?%d+", i) or src:match("^[%d%.]+", i)
      toks[#toks + 1] = { type = "number", line = line }
      i = i + #num
    else
      local op = src:match("^%.%.%.", i) or src:match("^[=~<>]=", i) or src:match("^//", i)
        or src:match("^::", i) or src:match("^<<", i) or src:match("^>>", i) or src:match("^%.%.", i) or c
      toks[#toks + 1] = { type = "op", value = op, line = line }
      i = i + #op
    end
  end
  return toks
end

-- For the `function` keyword at toks[k]: the index of its `end`, and
-- whether its own body (nested functions aside) returns values.
local function function_extent(toks, k)
  -- skip to the parameter list's ")"
  local j = k + 1
  while toks[j] and not (toks[j].type == "op" and toks[j].value == ")") do j = j + 1 end
  local stack = { "function" }
  local returns = false
  j = j + 1
  while toks[j] do
    local t = toks[j]
    if t.type == "keyword" then
      local v = t.value
      if v == "function" or v == "do" or v == "if" then
        stack[#stack + 1] = v
        if v == "function" then
          -- a nested function's parameter list
          while toks[j + 1] and not (toks[j + 1].type == "op" and toks[j + 1].value == ")") do j = j + 1 end
        end
      elseif v == "repeat" then
        stack[#stack + 1] = v
      elseif v == "end" or v == "until" then
        stack[#stack] = nil
        if #stack == 0 then return j, returns end
      elseif v == "return" then
        local depth = 0
        for s = 1, #stack do if stack[s] == "function" then depth = depth + 1 end end
        local nx = toks[j + 1]
        local empty = nx == nil or (nx.type == "keyword" and (nx.value == "end" or nx.value == "else"
          or nx.value == "elseif" or nx.value == "until")) or (nx.type == "op" and nx.value == ";")
        if depth == 1 and not empty then returns = true end
      end
    end
    j = j + 1
  end
  return #toks, returns
end

-- ---- doc blocks ---------------------------------------------------------------

-- The `---` blocks of a file: {first =, last = (lines), target = the first
-- line after it, text = the comment lines, tags = {{tag =, arg =}...},
-- params = set, has_return =, names = set of @function/@table/@type names}
local function doc_blocks(src)
  local lines = {}
  for l in (src .. "\n"):gmatch("([^\n]*)\n") do lines[#lines + 1] = l end
  local blocks, i = {}, 1
  while i <= #lines do
    local l = lines[i]
    -- `---` starts a block; a line of dashes only is a banner, not a doc comment
    if l:match("^%s*%-%-%-") and not l:match("^%s*%-%-%-%-+%s*$") and not l:match("^%s*%-%-%-%-") then
      local b = { first = i, text = {}, tags = {}, params = {}, names = {} }
      local j = i
      while j <= #lines and lines[j]:match("^%s*%-%-") and (j == i or not lines[j]:match("^%s*%-%-%-")) do
        b.text[#b.text + 1] = lines[j]:gsub("^%s*%-%-%-?%s?", "", 1)
        j = j + 1
      end
      b.last, b.target = j - 1, j
      for _, t in ipairs(b.text) do
        local tag, rest = t:match("^%s*@([%w_]+)%S*%s*(.-)%s*$")
        if tag then
          local modifier = t:match("^%s*@[%w_]+(%[[^%]]*%])")
          b.tags[#b.tags + 1] = { tag = tag, arg = rest }
          if tag == "param" then
            local name = rest:match("^(%.%.%.)") or rest:match("^([%w_]+)")
            if name then b.params[name] = true end
          elseif tag == "tparam" then
            local name = rest:match("^%S+%s+(%.%.%.)") or rest:match("^%S+%s+([%w_]+)")
            if name then b.params[name] = true end
          elseif tag == "return" or tag == "treturn" then
            b.has_return = true
          elseif tag == "function" or tag == "table" or tag == "type" or tag == "lfunction" then
            local name = rest:match("^([%w_.:]+)")
            if name then b.names[(name:gsub(":", "."))] = true end
          elseif tag == "submodule" or tag == "module" then
            b.module = rest:match("^([%w_.]+)")
          end
          local _ = modifier
        end
      end
      blocks[#blocks + 1] = b
      i = j
    else
      i = i + 1
    end
  end
  return blocks, lines
end

-- ---- the modules --------------------------------------------------------------

local files = {} -- path -> {src =, lines =, blocks =, toks =}
local function file(path)
  path = realpath(path)
  if files[path] == nil then
    local src = read(path)
    if not src then
      files[path] = false
    else
      local blocks, lines = doc_blocks(src)
      files[path] = { path = path, src = src, lines = lines, blocks = blocks }
    end
  end
  return files[path] or nil
end
local function tokens(f)
  f.toks = f.toks or lex(f.src)
  return f.toks
end

local modules = {} -- {short =, name =, path =, docs = {files}}
for _, fname in ipairs(list_dir(LIB, "%.lua$")) do
  local short = fname:gsub("%.lua$", "")
  if not INTERNAL[short] then
    local name = short == "init" and "lunet" or "lunet." .. short
    modules[#modules + 1] = { short = short == "init" and "lunet" or short, name = name,
      path = LIB .. "/" .. fname, docs = { file(LIB .. "/" .. fname) } }
  end
end
local by_name = {}
for _, m in ipairs(modules) do by_name[m.name] = m end
-- doc-only files add to the module they name with @submodule
local doc_only = list_dir(ROOT .. "/doc", "%.luadoc$")
for _, fname in ipairs(doc_only) do
  local f = file(ROOT .. "/doc/" .. fname)
  local target
  for _, b in ipairs(f.blocks) do target = target or b.module end
  if target and by_name[target] then table.insert(by_name[target].docs, f) end
end

local faults, pending_faults = {}, {}
local function fault(m, msg, ...)
  local list = pending[m.short] and pending_faults or faults
  list[#list + 1] = fmt("%s: " .. msg, m.name, ...)
end

-- ---- config.ld covers every public module ----------------------------------------

do
  local env = {}
  local chunk = load(read(ROOT .. "/config.ld") or "", "config.ld", "t", env)
  local ok = chunk and pcall(chunk)
  local listed, excluded = {}, {}
  if not ok or type(env.file) ~= "table" then
    faults[#faults + 1] = "config.ld: cannot be read or has no `file` table"
  else
    for _, p in ipairs(env.file) do listed[p] = true end
    for _, p in ipairs(env.file.exclude or {}) do excluded[p] = true end
  end
  for _, m in ipairs(modules) do
    local rel = m.path:sub(#ROOT + 2)
    local covered = (listed[rel] or listed["bindings/lunet"]) and not excluded[rel]
    if not covered and not pending[m.short] then
      faults[#faults + 1] = fmt("config.ld: the public module %s (%s) is not in the LDoc run", m.name, rel)
    end
  end
  for _, f in ipairs(doc_only) do
    if not (listed["doc"] or listed["doc/" .. f]) then
      faults[#faults + 1] = fmt("config.ld: doc/%s is not in the LDoc run", f)
    end
  end
end

-- ---- checking one name ----------------------------------------------------------

-- the function a wrapper calls: lunet.check.methods' or lunet.layer's
-- guard, each a function(self, ...) holding the method as its upvalue `f`
local function unwrap(f)
  for _ = 1, 4 do
    local info = debug.getinfo(f, "Su")
    if not (info.source:match("/lunet/check%.lua$") or info.source:match("/lunet/layer%.lua$"))
        or info.nparams ~= 1 or not info.isvararg then break end
    local inner
    for i = 1, 32 do
      local n, v = debug.getupvalue(f, i)
      if n == nil then break end
      if n == "f" and type(v) == "function" then inner = v end
    end
    if not inner then break end
    f = inner
  end
  return f
end

local function escape(s) return (s:gsub("%p", "%%%0")) end

-- the block of `m` documenting `path` (last component `key`) whose
-- function (if any) is defined at `def_file`:`def_line`
local function find_block(m, path, key, def_file, def_line)
  for _, f in ipairs(m.docs) do
    for _, b in ipairs(f.blocks) do
      if b.names[path] then return b end
    end
  end
  local k = escape(key)
  local in_module = false
  for _, f in ipairs(m.docs) do if f == def_file then in_module = true end end
  if in_module and def_line then
    local line = def_file.lines[def_line] or ""
    if line:match("function%s+[%w_.:]-%f[%w_]" .. k .. "%s*%(") or line:match("%f[%w_]" .. k .. "%s*=%s*function") then
      for _, b in ipairs(def_file.blocks) do
        if b.target == def_line then return b end
      end
    end
  end
  for _, f in ipairs(m.docs) do
    for _, b in ipairs(f.blocks) do
      local lhs = (f.lines[b.target] or ""):match("^%s*([%w_.]+)%s*=[^=]")
      -- an assignment whose left side ends with the path (M.a.b for a.b)
      if lhs and ("." .. lhs):sub(-(#path + 1)) == "." .. path then return b end
    end
  end
  return nil
end

-- params: list of names; vararg: boolean; returns: boolean or nil (unknown)
local function signature(f)
  local info = debug.getinfo(f, "uS")
  local params = {}
  for i = 1, info.nparams do params[i] = debug.getlocal(f, i) end
  local returns
  local src = info.source:match("^@(.*)$")
  local fl = src and file(src)
  if fl then
    local toks = tokens(fl)
    local best
    for k, t in ipairs(toks) do
      if t.line == info.linedefined and t.type == "keyword" and t.value == "function" then
        local last, r = function_extent(toks, k)
        if toks[last].line == info.lastlinedefined then
          best = best or r
          if best ~= nil then break end
        end
      elseif t.line > info.linedefined then
        break
      end
    end
    returns = best
  end
  return params, info.isvararg, returns, fl, info.linedefined
end

local function check_signature(m, path, b, params, vararg, returns)
  local formal = {}
  for i, p in ipairs(params) do
    if not (i == 1 and p == "self") and not p:match("^_") then formal[#formal + 1] = p end
  end
  if vararg then formal[#formal + 1] = "..." end
  local wrapper = vararg and #params == 0
  if wrapper then
    if next(b.params) == nil then fault(m, "%s takes `...` but no @param says what it takes (line %d)", path, b.first) end
  else
    for _, p in ipairs(formal) do
      if not b.params[p] then fault(m, "%s: parameter '%s' has no @param (line %d)", path, p, b.first) end
    end
    local set = {}
    for _, p in ipairs(formal) do set[p] = true end
    for p in pairs(b.params) do
      if not set[p] then fault(m, "%s: @param '%s' is not a parameter (line %d)", path, p, b.first) end
    end
  end
  if returns == true and not b.has_return then
    fault(m, "%s returns values but has no @return (line %d)", path, b.first)
  elseif returns == false and b.has_return then
    fault(m, "%s has @return but returns nothing (line %d)", path, b.first)
  end
end

local function is_lua_function(v)
  return type(v) == "function" and debug.getinfo(v, "S").what ~= "C"
end

local function callable(v)
  local mt = getmetatable(v)
  return type(mt) == "table" and is_lua_function(rawget(mt, "__call")) and rawget(mt, "__call") or nil
end

local function has_functions(t)
  for k, v in pairs(t) do
    if type(k) == "string" and not k:match("^_") and is_lua_function(v) then return true end
  end
  return false
end

local function check_function(m, path, key, f)
  local inner = unwrap(f)
  local params, vararg, returns, fl, line = signature(inner)
  local b = find_block(m, path, key, fl, line)
  if not b then
    fault(m, "%s has no doc comment (defined at %s:%d)", path,
      fl and fl.path:sub(#ROOT + 2) or "?", line or 0)
    return
  end
  check_signature(m, path, b, params, vararg, returns)
end

local function sorted_keys(t)
  local keys = {}
  for k in pairs(t) do if type(k) == "string" and not k:match("^_") then keys[#keys + 1] = k end end
  table.sort(keys)
  return keys
end

local loaded = {}
for _, m in ipairs(modules) do
  local ok, mod = pcall(require, m.name)
  if not ok then fault(m, "cannot be loaded: %s", tostring(mod)) else loaded[m] = mod end
end

-- tables not walked: modules of their own, and (for the top-level `lunet`,
-- which re-exports) tables another module holds (lunet.core's Tensor, a
-- submodule's namespace)
local skip = {}
for _, v in pairs(package.loaded) do if type(v) == "table" then skip[v] = true end end
local held = {}
local holders = { package.loaded["lunet.core"] }
for _, m in ipairs(modules) do if m.name ~= "lunet" then holders[#holders + 1] = loaded[m] end end
for _, t in ipairs(holders) do
  if type(t) == "table" then
    for _, v in pairs(t) do if type(v) == "table" then held[v] = true end end
  end
end

local checked = 0
for _, m in ipairs(modules) do
  local mod = loaded[m]
  if type(mod) == "table" then
    local seen = { [mod] = true }
    for _, key in ipairs(sorted_keys(mod)) do
      local v = rawget(mod, key)
      if is_lua_function(v) then
        checked = checked + 1
        check_function(m, key, key, v)
      elseif type(v) == "table" and not skip[v] and not seen[v] and not (m.name == "lunet" and held[v]) then
        seen[v] = true
        local call = callable(v)
        if call or has_functions(v) then
          checked = checked + 1
          local b = find_block(m, key, key)
          if not b then
            fault(m, "%s (a %s) has no doc comment", key, call and "class" or "table of functions")
          elseif call then
            local params, vararg, returns = signature(call)
            table.remove(params, 1) -- __call's first argument is the class
            check_signature(m, key, b, params, vararg, returns)
          end
          for _, k in ipairs(sorted_keys(v)) do
            local f = rawget(v, k)
            if is_lua_function(f) then
              checked = checked + 1
              check_function(m, key .. "." .. k, k, f)
            end
          end
        end
      end
    end
  end
end

-- ---- the report -------------------------------------------------------------------

for _, f in ipairs(faults) do print("doc_check: " .. f) end
if #pending_faults > 0 then
  local counts, order = {}, {}
  for _, f in ipairs(pending_faults) do
    local name = f:match("^([%w_.]+):")
    if not counts[name] then order[#order + 1] = name end
    counts[name] = (counts[name] or 0) + 1
  end
  local parts = {}
  for _, n in ipairs(order) do parts[#parts + 1] = fmt("%s %d", n, counts[n]) end
  print(fmt("doc_check: PENDING (allowed for now, to be emptied): %s faults (%s); " ..
    "`make doc DOC_CHECK_FLAGS=--strict` lists them", #pending_faults, table.concat(parts, ", ")))
end
if #faults > 0 then
  print(fmt("doc_check: %d faults in %d public names", #faults, checked))
  os.exit(1)
end
print(fmt("doc_check: %d public names documented", checked))
