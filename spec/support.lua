-- spec/support.lua - helpers shared by the specs (require "support").
local lunet = require("lunet")

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

return S
