local lunet = require("lunet")
local S = require("support")

describe("lunet memory", function()
  local function loop(n, make)
    local peak = 0
    for _ = 1, n do
      local t = make()
      local c = collectgarbage("count")
      if c > peak then peak = c end
      assert.is_true(t:numel() > 0)
    end
    return peak / 1024 -- MiB counted by the GC
  end

  it("3000 temporaries of 1000x1000 run in bounded memory", function()
    collectgarbage()
    local rss0 = S.proc_status_kb("VmRSS")
    local a = lunet.ones(1000, 1000)
    local peak = loop(3000, function() return a + 1 end)
    collectgarbage()
    local rss1 = S.proc_status_kb("VmRSS")
    -- 3000 x 4 MiB = 11.7 GiB allocated in all; the GC counts each tensor's
    -- storage, so only a few are alive at any time (steady state ~24 MiB;
    -- the first cycle after a busy suite can span ~16 allocations)
    assert.is_true(peak < 128, "GC-counted peak " .. peak .. " MiB")
    if rss0 and rss1 and not S.sanitized then -- ASan's quarantine holds freed memory
      assert.is_true(rss1 - rss0 < 256 * 1024, "RSS grew by " .. (rss1 - rss0) .. " KiB")
    end
  end)

  it("stays bounded under Lua's default GC settings too", function()
    -- Lua 5.4's defaults (pause 200, step multiplier 100), then the suite's own settings back
    local pause, stepmul = collectgarbage("setpause", 200), collectgarbage("setstepmul", 100)
    local ok, peak = pcall(loop, 1000, function() return lunet.zeros(1000, 1000) end)
    collectgarbage("setpause", pause)
    collectgarbage("setstepmul", stepmul)
    assert.is_true(ok, tostring(peak))
    assert.is_true(peak < 128, "GC-counted peak " .. peak .. " MiB")
  end)

  it("views are small: the storage is counted once", function()
    collectgarbage()
    local base = lunet.zeros(1000, 1000)
    local before = collectgarbage("count")
    local views = {}
    for i = 1, 1000 do views[i] = base:narrow(1, i, 1) end
    local grown = collectgarbage("count") - before
    assert.is_true(grown < 1024, "1000 views took " .. grown .. " KiB")
  end)
end)
