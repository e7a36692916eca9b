-- The README's "Layout" section names every source file of the tree, and
-- names no file that is not there.
local S = require("support")

local function layout_section()
  local readme = S.read_file("README.md")
  local a = readme:find("\n## Layout\n", 1, true)
  assert(a, "README.md has no Layout section")
  local b = readme:find("\n## ", a + 5, true)
  return readme:sub(a, b and b - 1 or #readme)
end

local function ls(dir, pattern)
  local out = {}
  local p = io.popen("ls " .. dir)
  for f in p:lines() do
    if f:match(pattern) then out[#out + 1] = f end
  end
  p:close()
  return out
end

describe("the README's layout section", function()
  local text = layout_section()

  it("names every file of runtime/, bindings/ and bindings/lunet/", function()
    local missing = {}
    for _, d in ipairs({ { "runtime", "%.[ch]$" }, { "bindings", "%.[ch]$" }, { "bindings/lunet", "%.lua$" } }) do
      for _, f in ipairs(ls(d[1], d[2])) do
        local stem = f:match("^(.-)%.[ch]$")
        -- "tensor.c/.h" names both files
        local named = text:find("`" .. f .. "`", 1, true) or (stem and text:find("`" .. stem .. ".c/.h`", 1, true))
        if not named then missing[#missing + 1] = d[1] .. "/" .. f end
      end
    end
    assert(#missing == 0, "not in the README's Layout section: " .. table.concat(missing, ", "))
  end)

  it("names no source file that does not exist", function()
    local stale = {}
    for name in text:gmatch("`([%w_]+%.[%w/.]+)`") do
      local files = {}
      if name:match("%.c/%.h$") then
        local stem = name:match("^(.-)%.c/%.h$")
        files = { stem .. ".c", stem .. ".h" }
      else
        files = { name }
      end
      for _, f in ipairs(files) do
        local found = false
        for _, d in ipairs({ "runtime", "bindings", "bindings/lunet", "spec", "." }) do
          local h = io.open(d .. "/" .. f)
          if h then h:close(); found = true end
        end
        if not found and f:match("%.[chl]u?a?$") then stale[#stale + 1] = f end
      end
    end
    assert(#stale == 0, "the Layout section names missing files: " .. table.concat(stale, ", "))
  end)
end)
