local lunet = require("lunet")
local S = require("support")

local bin = S.lunet_bin

local function tmpfile(content)
  local name = os.tmpname()
  local f = assert(io.open(name, "w"))
  f:write(content)
  f:close()
  return name
end

describe("the lunet launcher", function()
  it("runs a script with its arguments in arg and ...", function()
    local script = tmpfile([[
local lunet = require("lunet")
print(arg[0] ~= nil, arg[1], arg[2], #arg, select("#", ...), ...)
print(lunet.ones(3):sum():item())
]])
    local out, code = S.run(bin .. " " .. script .. " alpha 42")
    os.remove(script)
    assert.are.equal(0, code)
    assert.are.equal("true\talpha\t42\t2\t2\talpha\t42\n3.0\n", out)
  end)

  it("runs -e code with lunet preloaded", function()
    local out, code = S.run(bin .. [[ -e "print(lunet.zeros(2, 2):numel())"]])
    assert.are.equal(0, code)
    assert.are.equal("4\n", out)
  end)

  it("finds lunet from any working directory with no environment", function()
    local out, code = S.run("cd / && env -u LUA_PATH -u LUA_CPATH " .. bin ..
                            [[ -e "print(require('lunet').version)"]])
    assert.are.equal(0, code)
    assert.are.equal(lunet.version .. "\n", out)
  end)

  it("prints its version", function()
    local out, code = S.run(bin .. " --version")
    assert.are.equal(0, code)
    assert.is_truthy(out:find("^lunet " .. lunet.version:gsub("%.", "%%.") .. " %(Lua 5%.4"))
  end)

  it("has an interactive prompt that prints values of expressions", function()
    local input = tmpfile("1 + 1\nx = 3\nx * 2\nfor i = 1, 2 do\nprint('i', i)\nend\n" ..
                          "lunet.tensor({1, 2})\nerror('boom')\nreturn 'still here'\n")
    local out, code = S.run(bin .. " < " .. input, true)
    os.remove(input)
    assert.are.equal(0, code)
    local expected = "2\n6\ni\t1\ni\t2\ntensor([1., 2.], shape=(2,), dtype=float32)\n" ..
                     "lunet: stdin:1: boom\nstack traceback:\n"
    assert.are.equal(expected, out:sub(1, #expected))
    assert.is_truthy(out:find("still here\n$"))
  end)

  it("runs standard input as a script with -", function()
    local input = tmpfile("local x = 20\nprint(x + 1)\n")
    local out, code = S.run(bin .. " - < " .. input)
    os.remove(input)
    assert.are.equal(0, code)
    assert.are.equal("21\n", out)
  end)

  it("reports errors on stderr with a traceback and exits with 1", function()
    local script = tmpfile("local lunet = require('lunet')\nlocal x = lunet.ones(2) + lunet.ones(3)\n")
    local out, code = S.run(bin .. " " .. script .. " 2>&1")
    os.remove(script)
    assert.are.equal(1, code)
    assert.is_truthy(out:find("add: shapes (2,) and (3,) cannot be broadcast", 1, true))
    assert.is_truthy(out:find("stack traceback", 1, true))
    local _, code2 = S.run(bin .. " /nonexistent/script.lua 2>/dev/null")
    assert.are.equal(1, code2)
  end)

  it("installs with make install for the launcher and plain lua5.4", function()
    local prefix = os.tmpname()
    os.remove(prefix)
    local _, code = S.run("make -s -C " .. S.root .. " install PREFIX=" .. prefix .. " >/dev/null 2>&1")
    assert.are.equal(0, code)
    local out = S.run("cd / && " .. prefix .. [[/bin/lunet -e "print(lunet.ones(2):sum():item())"]])
    assert.are.equal("2.0\n", out)
    local env = string.format("LUA_PATH='%s/share/lua/5.4/?.lua;%s/share/lua/5.4/?/init.lua' " ..
                              "LUA_CPATH='%s/lib/lua/5.4/?.so' ", prefix, prefix, prefix)
    local out2 = S.run("cd / && " .. env .. [[lua5.4 -e "print(require('lunet').arange(4):sum():item())"]])
    assert.are.equal("6.0\n", out2)
    S.run("rm -rf " .. prefix)
  end)
end)
