-- spec/install_spec.lua - installing lunet for plain lua5.4: the rock
-- (lunet-scm-1.rockspec through `luarocks make`) and `make install DESTDIR=`.
-- Both reuse the objects `make test` has just built, so each takes about a second.
local S = require("support")

local fmt = string.format

-- a child process sees none of the spec run's module paths (they point at
-- the checkout, which would hide a broken install)
local CLEAN_ENV = "env -u LUA_PATH -u LUA_CPATH -u LUA_PATH_5_4 -u LUA_CPATH_5_4 "

-- plain lua5.4 from / with these module paths: where lunet and lunet.core
-- were found, a product and an activation
local PROBE = [[
local lunet = require("lunet")
local a = lunet.tensor({{1, 2}, {3, 4}}, "float64")
local b = lunet.tensor({{5}, {6}}, "float64")
local p = lunet.matmul(a, b)
print(package.searchpath("lunet", package.path))
print(package.searchpath("lunet.core", package.cpath))
print(p:get(1, 1), p:get(2, 1))
print(string.format("%.17g", lunet.tensor({1}, "float64"):selu():item()))
]]

local function probe(lua_path, lua_cpath)
  local script = os.tmpname()
  S.write_file(script, PROBE)
  local out, code = S.run(fmt("cd / && %s LUA_PATH='%s' LUA_CPATH='%s' lua5.4 %s", CLEAN_ENV, lua_path,
    lua_cpath, script), true)
  os.remove(script)
  return out, code
end

-- the probe's output for a tree whose modules are in lua_dir and lib_dir
local function expect_probe(out, code, lua_dir, lib_dir)
  assert.are.equal(0, code, out)
  local lines = {}
  for line in out:gmatch("[^\n]+") do lines[#lines + 1] = line end
  assert.are.equal(lua_dir .. "/lunet/init.lua", lines[1])
  assert.are.equal(lib_dir .. "/lunet/core.so", lines[2])
  assert.are.equal("17.0\t39.0", lines[3])
  -- selu(1) = lambda (1.0507009873554805, SEMANTICS.md), to the last digits
  assert.near(1.0507009873554805, tonumber(lines[4]), 1e-15)
end

describe("install", function()
  local tmp
  before_each(function() tmp = S.tmpdir() end)
  after_each(function() S.remove_tmpdir(tmp) end)

  it("luarocks make puts lunet.* and lunet.core in a tree plain lua5.4 loads", function()
    local before = S.run("git -C " .. S.root .. " status --porcelain --untracked-files=all")
    local tree = tmp .. "/tree"
    local out, code = S.run(fmt("cd %s && %s luarocks --lua-version=5.4 make --deps-mode none --tree %s " ..
      "lunet-scm-1.rockspec", S.root, CLEAN_ENV, tree), true)
    assert.are.equal(0, code, out)
    -- the build leaves nothing in the checkout that git sees
    assert.are.equal(before, S.run("git -C " .. S.root .. " status --porcelain --untracked-files=all"))
    local lr = fmt("%s luarocks --lua-version=5.4 path --tree %s ", CLEAN_ENV, tree)
    local lua_path = S.run(lr .. "--lr-path"):gsub("%s+$", "")
    local lua_cpath = S.run(lr .. "--lr-cpath"):gsub("%s+$", "")
    assert.are.equal(tree .. "/share/lua/5.4/?.lua", lua_path:match("^[^;]*"))
    local pout, pcode = probe(lua_path, lua_cpath)
    expect_probe(pout, pcode, tree .. "/share/lua/5.4", tree .. "/lib/lua/5.4")
    -- the launcher is deployed too and finds the tree from its own place
    local lout = S.run(fmt("cd / && %s %s/bin/lunet -e 'print(lunet.ones(3):sum():item())'", CLEAN_ENV, tree))
    assert.are.equal("3.0\n", lout)
  end)

  it("make install DESTDIR= stages the PREFIX layout", function()
    local out, code = S.run(fmt("make -s -C %s install DESTDIR=%s PREFIX=/usr/local", S.root, tmp), true)
    assert.are.equal(0, code, out)
    local prefix = tmp .. "/usr/local"
    local lua_dir, lib_dir = prefix .. "/share/lua/5.4", prefix .. "/lib/lua/5.4"
    local pout, pcode = probe(lua_dir .. "/?.lua;" .. lua_dir .. "/?/init.lua", lib_dir .. "/?.so")
    expect_probe(pout, pcode, lua_dir, lib_dir)
    local lout = S.run(fmt("cd / && %s %s/bin/lunet -e 'print(lunet.ones(2):sum():item())'", CLEAN_ENV, prefix))
    assert.are.equal("2.0\n", lout)
  end)
end)
