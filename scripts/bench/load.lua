-- scripts/bench/load.lua - loading Fashion-MNIST's 60,000 training images
-- (the .gz from `make data`): lunet.data.read_idx's time as a ratio to
-- `gzip -dc file > /dev/null` on the same file in the same run (target
-- <= 1.2: the loader should be zlib-bound), and the peak RSS growth while
-- loading as a ratio to the decompressed size (target <= 1.2).
-- Run: build/lunet scripts/bench/load.lua [file.gz]
local lunet = require("lunet")
local core = lunet.core

local file = arg and arg[1] or (lunet.datasets.data_dir() .. "/fashion-mnist/train-images-idx3-ubyte.gz")
local f = io.open(file, "rb")
if not f then
  print("load: " .. file .. " not found (run `make data`)")
  return
end
f:close()

local function status_kb(field)
  local s = io.open("/proc/self/status"):read("a")
  return tonumber(s:match(field .. ":%s*(%d+)"))
end

-- peak RSS of one load: reset the high-water mark first (Linux clear_refs 5)
collectgarbage("collect")
local reset = io.open("/proc/self/clear_refs", "w")
if reset then reset:write("5"); reset:close() end
local rss0 = status_kb("VmRSS")
local x = lunet.data.read_idx(file)
local hwm = status_kb("VmHWM")
local bytes = x:numel() * 1 + 16
x = nil
collectgarbage("collect")

local peer = dofile(((debug.getinfo(1, "S").source:match("^@(.*)/[^/]*$")) or ".") .. "/peer.lua")
local best_of = peer.best_of

local t_lunet = best_of(5, function()
  local t = lunet.data.read_idx(file)
  assert(t:numel() > 0)
end)
local t_gzip = best_of(5, function()
  assert(os.execute("gzip -dc '" .. file .. "' > /dev/null"))
end)

print(string.format("read_idx %s (%.1f MB decompressed)", file, bytes / 1e6))
print(string.format("lunet read_idx: %.3f s   gzip -dc > /dev/null: %.3f s   ratio %.2f (target <= 1.2)",
  t_lunet, t_gzip, t_lunet / t_gzip))
print(string.format("peak RSS growth while loading: %.1f MB = %.2fx the decompressed size (target <= 1.2)",
  (hwm - rss0) * 1024 / 1e6, (hwm - rss0) * 1024 / bytes))
