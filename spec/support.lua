-- spec/support.lua - helpers shared by the specs (require "support").
local lunet = require("lunet")
local luassert = require("luassert") -- busted's assert (specs see it as `assert`)

local S = {}

--- Fix and print the seed of a randomized test (Torch7's nn.test habit).
function S.seed(n)
  lunet.manual_seed(n)
  math.randomseed(n)
  if os.getenv("LUNET_TEST_VERBOSE") then io.stderr:write(string.format("[seed %d] ", n)) end
  return n
end

--- The project root (the directory holding spec/).
S.root = (debug.getinfo(1, "S").source:match("^@(.*)/spec/support%.lua$")) or "."
S.lunet_bin = S.root .. "/build/lunet"

--- True when this process runs under the sanitizer build (make check).
S.sanitized = (os.getenv("LD_PRELOAD") or ""):find("asan") ~= nil

--- Run a shell command; returns stdout (and stderr when merge), exit code.
-- Child processes do not inherit the sanitizer preload.
function S.run(cmd, merge)
  local f = io.popen("env -u LD_PRELOAD sh -c '" .. cmd:gsub("'", "'\\''") .. "'" ..
                     (merge and " 2>&1" or ""), "r")
  local out = f:read("a")
  local ok, _, code = f:close()
  return out, ok and 0 or code
end

--- Write MNIST-format IDX files into dir/mnist (or dir/<sub>): 10 classes,
-- each with its own stripe pattern (learnable in an epoch), n_train and
-- n_test images.
function S.write_mnist_like(dir, n_train, n_test, sub)
  dir = dir .. "/" .. (sub or "mnist")
  local pattern = lunet.uniform({ 10, 784 }, 0, 1):gt(0.7):float()
  local function digits(n)
    local y = lunet.uniform({ n }, 0, 10):int()
    local x = lunet.uniform({ n, 784 }, 0, 60)
    local stripe = lunet.utils.to_categorical(y, 10):matmul(pattern) * 190
    return (x + stripe):int():byte():reshape(n, 28, 28), y:byte()
  end
  S.run("mkdir -p '" .. dir:gsub("'", "'\\''") .. "'")
  local xtr, ytr = digits(n_train)
  local xte, yte = digits(n_test)
  lunet.data.write_idx(dir .. "/train-images-idx3-ubyte.gz", xtr)
  lunet.data.write_idx(dir .. "/train-labels-idx1-ubyte.gz", ytr)
  lunet.data.write_idx(dir .. "/t10k-images-idx3-ubyte.gz", xte)
  lunet.data.write_idx(dir .. "/t10k-labels-idx1-ubyte.gz", yte)
end

--- Write a Sensorless-format table to path: 48 space-separated features
-- (class c's feature j near (c * j % 7) * scale, plus noise of noise) and
-- the class 1..11 last, rows rows in turn.
function S.write_sensorless_like(path, rows, scale, noise)
  local f = assert(io.open(path, "w"))
  for i = 0, rows - 1 do
    local c = i % 11 + 1
    local row = {}
    for j = 1, 48 do row[j] = string.format("%.6e", (c * j % 7) * scale + math.random() * noise) end
    f:write(table.concat(row, " "), " ", c, "\n")
  end
  f:close()
end

--- Naive triple loop product of two 2-d tensors, in float64.
function S.naive_matmul(a, b)
  local m, k, n = a:size(1), a:size(2), b:size(2)
  local A, B = a:totable(), b:totable()
  local out = {}
  for i = 1, m do
    local row = {}
    for j = 1, n do
      local s = 0
      for p = 1, k do s = s + A[i][p] * B[p][j] end
      row[j] = s
    end
    out[i] = row
  end
  return lunet.tensor(out, "float64")
end

--- Largest |a - b| over all elements (tensors of one shape).
function S.max_abs_diff(a, b)
  return (a:double() - b:double()):abs():max():item()
end

--- Assert that fn(...) raises an error containing `pattern` (plain text); returns the message.
function S.fails(pattern, fn, ...)
  local ok, err = pcall(fn, ...)
  luassert.is_false(ok, "expected an error")
  luassert.is_truthy(tostring(err):find(pattern, 1, true), "expected '" .. pattern .. "' in: " .. tostring(err))
  return err
end

--- Write bytes to a file; returns the path.
function S.write_file(path, bytes)
  local f = assert(io.open(path, "wb"))
  assert(f:write(bytes))
  assert(f:close())
  return path
end

--- The bytes of a file.
function S.read_file(path)
  local f = assert(io.open(path, "rb"))
  local s = f:read("a")
  f:close()
  return s
end

--- A fresh temporary directory (removed by S.remove_tmpdir).
function S.tmpdir()
  return (S.run("mktemp -d"):gsub("%s+$", ""))
end

--- Remove a directory made by S.tmpdir (only ever below /tmp).
function S.remove_tmpdir(dir)
  if dir and dir:match("^/tmp/") then S.run("rm -rf '" .. dir .. "'") end
end

--- A field of /proc/self/status in KiB (e.g. "VmRSS", "VmHWM").
function S.proc_status_kb(field)
  local f = io.open("/proc/self/status")
  if not f then return nil end
  local text = f:read("a")
  f:close()
  return tonumber(text:match(field .. ":%s*(%d+)"))
end

--- Flatten a (nested) table of numbers into a list.
function S.flat(t, out)
  out = out or {}
  if type(t) ~= "table" then
    out[#out + 1] = t
    return out
  end
  for _, v in ipairs(t) do S.flat(v, out) end
  return out
end

--- Error message of fn(...) without the "file:line: " prefix, or nil.
function S.errmsg(fn, ...)
  local ok, err = pcall(fn, ...)
  if ok then return nil end
  return (tostring(err):gsub("^.-:%d+: ", "", 1))
end

local fmt = string.format
local NAMED = { amp = true, lt = true, gt = true, quot = true, apos = true }

--- Strict XML well-formedness (for the SVG files lunet writes).
-- Raises an error naming the first fault of the document s; returns the
-- number of elements.
function S.xml_check(s)
  local pos, stack, roots, elements = 1, {}, 0, 0
  local function bad(msg)
    error(fmt("not well-formed XML at byte %d: %s near %q", pos, msg, s:sub(pos, pos + 40)), 0)
  end
  local function refs(t, where)
    if t:find("<", 1, true) then bad("'<' in " .. where) end
    local i = 1
    while true do
      local a = t:find("&", i, true)
      if not a then break end
      local name = t:match("^&([#%w]+);", a)
      if not (name and (NAMED[name] or name:match("^#%d+$") or name:match("^#x%x+$"))) then
        bad("bad entity reference in " .. where)
      end
      i = a + 1
    end
  end
  if s:sub(1, 5) == "<?xml" then
    local e = s:find("?>", 1, true)
    if not e then bad("unterminated XML declaration") end
    pos = e + 2
  end
  while pos <= #s do
    local lt = s:find("<", pos, true)
    local text = s:sub(pos, (lt or #s + 1) - 1)
    if #stack == 0 then
      if text:find("%S") then bad("text outside the root element") end
    else
      refs(text, "text")
      if text:find(">", 1, true) then bad("unescaped '>' in text") end
    end
    if not lt then break end
    pos = lt
    if s:sub(pos, pos + 3) == "<!--" then
      local e = s:find("-->", pos + 4, true)
      if not e then bad("unterminated comment") end
      pos = e + 3
    elseif s:sub(pos, pos + 1) == "<?" then
      local e = s:find("?>", pos + 2, true)
      if not e then bad("unterminated processing instruction") end
      pos = e + 2
    elseif s:sub(pos, pos + 1) == "<!" then
      bad("unexpected <!")
    elseif s:sub(pos, pos + 1) == "</" then
      local name, e = s:match("^</([%a_][%w_.:-]*)%s*>()", pos)
      if not name then bad("bad end tag") end
      local open = table.remove(stack)
      if open ~= name then bad(fmt("</%s> closes <%s>", name, tostring(open))) end
      pos = e
    else
      local name, p = s:match("^<([%a_][%w_.:-]*)()", pos)
      if not name then bad("bad start tag") end
      if #stack == 0 then
        roots = roots + 1
        if roots > 1 then bad("a second root element") end
      end
      elements = elements + 1
      local seen, empty = {}, false
      while true do
        local ws, p2 = s:match("^(%s*)()", p)
        p = p2
        if s:sub(p, p + 1) == "/>" then
          p, empty = p + 2, true
          break
        elseif s:sub(p, p) == ">" then
          p = p + 1
          break
        end
        if ws == "" then bad("attributes not separated by white space in <" .. name .. ">") end
        local an, q, p3 = s:match("^([%a_][%w_.:-]*)%s*=%s*([\"'])()", p)
        if not an then bad("attribute without a quoted value in <" .. name .. ">") end
        if seen[an] then bad("duplicate attribute " .. an) end
        seen[an] = true
        local close = s:find(q, p3, true)
        if not close then bad("unterminated attribute value") end
        refs(s:sub(p3, close - 1), "attribute " .. an)
        p = close + 1
      end
      if not empty then stack[#stack + 1] = name end
      pos = p
    end
  end
  if #stack > 0 then bad("unclosed <" .. stack[#stack] .. ">") end
  if roots == 0 then bad("no root element") end
  return elements
end

--- S.xml_check as true, or false and the fault.
function S.xml_well_formed(text)
  local ok, err = pcall(S.xml_check, text)
  return ok, err
end

-- n random points in [-4, 4], each at least 0.05 from every point of kinks
-- (for finite differences of a function with kinks there)
function S.points_away_from(kinks, n)
  local xs = {}
  while #xs < n do
    local v = (math.random() * 2 - 1) * 4
    local ok = true
    for _, k in ipairs(kinks) do
      if math.abs(v - k) < 0.05 then ok = false end
    end
    if ok then xs[#xs + 1] = v end
  end
  return xs
end

return S
