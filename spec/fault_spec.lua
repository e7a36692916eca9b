-- Saving when the disk fails: model:save, ModelCheckpoint, CSVLogger and
-- lunet.plot raise an error naming the path and the OS reason, leave no
-- temporary file, and keep an older file at the same path as it was.
-- The full-disk cases use a 64 KiB tmpfs (root only; pending otherwise);
-- the others need no root: a file-size limit (ulimit -f, in a child
-- process) makes writes fail, and a directory stands in the way of a rename.
local lunet = require("lunet")
local nn = lunet.nn
local cb = lunet.callbacks
local plot = lunet.plot
local S = require("support")

local function model(seed)
  nn.reset_names()
  lunet.manual_seed(seed)
  return nn.Sequential({ nn.Dense(5, { activation = "selu", input_shape = { 3 } }), nn.Dense(2) })
end

local function exists(path) return os.rename(path, path) ~= nil end

local function data()
  lunet.manual_seed(7)
  return lunet.randn(16, 3), lunet.randn(16, 2)
end

-- The older model file at path still loads, bit for bit.
local function assert_old_model(path, bytes, old)
  assert.are.equal(bytes, S.read_file(path))
  local m = nn.load_model(path)
  local w1, w2 = old:get_weights(), m:get_weights()
  assert.are.equal(#w1, #w2)
  for i = 1, #w1 do assert.is_true(lunet.equal(w1[i], w2[i])) end
end

-- err names the path and the reason, and the .tmp is gone
local function assert_failed(ok, err, path, reason)
  assert.is_false(ok, "expected an error")
  err = tostring(err)
  assert.is_truthy(err:find(path, 1, true), "the error should name " .. path .. ": " .. err)
  assert.is_truthy(err:find(reason, 1, true), "the error should give the reason '" .. reason .. "': " .. err)
  assert.is_false(exists(path .. ".tmp"), "left " .. path .. ".tmp behind")
end

describe("saving on a full disk (64 KiB tmpfs)", function()
  local dir, mounted, why
  setup(function()
    dir = S.tmpdir()
    local uid = S.run("id -u")
    if uid ~= "0\n" then
      why = "needs root to mount a 64 KiB tmpfs"
      return
    end
    local out, code = S.run("mount -t tmpfs -o size=64k tmpfs '" .. dir .. "'", true)
    mounted = code == 0
    if not mounted then why = "cannot mount a tmpfs here: " .. out end
  end)
  teardown(function()
    if mounted then S.run("umount '" .. dir .. "'") end
    S.remove_tmpdir(dir)
  end)

  -- fill what is left of the tmpfs (dd stops at ENOSPC)
  local function fill() S.run("dd if=/dev/zero of='" .. dir .. "/filler' bs=4096 2>/dev/null") end
  local function unfill() os.remove(dir .. "/filler") end
  after_each(function() if mounted then unfill() end end)

  it("model:save raises, keeps the older file and leaves no .tmp", function()
    if not mounted then pending(why) end
    local path = dir .. "/m.safetensors"
    local old = model(1)
    old:save(path)
    local bytes = S.read_file(path)
    fill()
    local new = model(2)
    local ok, err = pcall(function() new:save(path) end)
    assert_failed(ok, err, path, "No space left on device")
    assert.matches("^[^\n]*fault_spec%.lua:%d+: save: cannot write ", err) -- points at the caller
    unfill()
    assert_old_model(path, bytes, old)
  end)

  it("ModelCheckpoint stops fit with the error and keeps the last good checkpoint", function()
    if not mounted then pending(why) end
    local path = dir .. "/ckpt.safetensors"
    local m = model(3)
    m:save(path)
    local bytes = S.read_file(path)
    fill()
    local x, y = data()
    m:compile({ optimizer = "sgd", loss = "mse" })
    local ok, err = pcall(m.fit, m, x, y, { epochs = 2, verbose = 0, callbacks = { cb.ModelCheckpoint(path) } })
    assert_failed(ok, err, path, "No space left on device")
    unfill()
    assert.are.equal(bytes, S.read_file(path))
    nn.load_model(path)
  end)

  it("CSVLogger stops fit with an error naming the log", function()
    if not mounted then pending(why) end
    local path = dir .. "/log.csv"
    fill()
    local m = model(4)
    local x, y = data()
    m:compile({ optimizer = "sgd", loss = "mse" })
    local ok, err = pcall(m.fit, m, x, y, { epochs = 3, verbose = 0, callbacks = { cb.CSVLogger(path) } })
    assert.is_false(ok, "fit should fail")
    assert.are.equal("CSVLogger: cannot write " .. path .. ": No space left on device", err)
  end)

  it("lunet.plot raises, keeps the older SVG and leaves no .tmp", function()
    if not mounted then pending(why) end
    local path = dir .. "/p.svg"
    plot.line({ series = { { y = { 1, 2, 3 } } } }, path)
    local bytes = S.read_file(path)
    fill()
    -- a plot larger than a page: it cannot fit in the last bytes of a block
    local ys = {}
    for i = 1, 2000 do ys[i] = math.sin(i / 50) end
    local ok, err = pcall(function() plot.line({ series = { { y = ys, label = "sin" } } }, path) end)
    assert_failed(ok, err, path, "No space left on device")
    assert.matches("^[^\n]*fault_spec%.lua:%d+: plot.line: cannot write ", err)
    assert.are.equal(bytes, S.read_file(path))
  end)
end)

describe("saving when a write or the rename fails", function()
  local dir
  before_each(function() dir = S.tmpdir() end)
  after_each(function() S.remove_tmpdir(dir) end)

  -- Run `code` in a child lunet whose writes fail past one block (ulimit -f,
  -- SIGXFSZ ignored so write() returns EFBIG); returns what it printed.
  local function with_small_file_limit(code)
    local script = S.write_file(dir .. "/child.lua", 'local lunet = require("lunet")\n' .. code)
    return S.run(string.format("sh -c 'trap \"\" XFSZ; ulimit -f 1; %s %s' 2>&1", S.lunet_bin, script))
  end

  it("model:save checks its writes (a file-size limit makes them fail)", function()
    local path = dir .. "/m.safetensors"
    local old = model(5)
    old:save(path)
    local bytes = S.read_file(path)
    local out = with_small_file_limit(string.format([[
      local nn = lunet.nn
      lunet.manual_seed(6)
      local m = nn.Sequential({ nn.Dense(300, { input_shape = { 3 } }), nn.Dense(2) })
      local ok, err = pcall(m.save, m, %q)
      print(ok, err)]], path))
    assert_failed(out:match("^false") == nil, out, path, "File too large")
    assert_old_model(path, bytes, old)
  end)

  it("model:save never follows a symlink planted at path.tmp", function()
    local path, victim = dir .. "/m.safetensors", dir .. "/victim"
    S.write_file(victim, "keep me")
    S.run(string.format("ln -s '%s' '%s.tmp'", victim, path))
    local m = model(8)
    m:save(path)
    assert.are.equal("keep me", S.read_file(victim))
    assert.is_false(exists(path .. ".tmp"))
    assert_old_model(path, S.read_file(path), m)
  end)

  it("model:save removes its .tmp when the rename fails", function()
    local path = dir .. "/taken"
    S.run("mkdir '" .. path .. "' && touch '" .. path .. "/keep'")
    local m = model(7)
    local ok, err = pcall(m.save, m, path)
    assert_failed(ok, err, path, "Is a directory")
    assert.is_truthy(io.open(path .. "/keep"), "the directory in the way was changed")
  end)

  it("lunet.plot checks its writes and removes its .tmp", function()
    local path = dir .. "/p.svg"
    plot.line({ series = { { y = { 1, 2 } } } }, path)
    local bytes = S.read_file(path)
    local out = with_small_file_limit(string.format([[
      print(pcall(lunet.plot.hist, { series = { { values = { 1, 2, 3 } } } }, %q))]], path))
    assert_failed(out:match("^false") == nil, out, path, "File too large")
    assert.are.equal(bytes, S.read_file(path))
    S.run("mkdir '" .. dir .. "/d.svg'")
    local ok, err = pcall(plot.line, { series = { { y = { 1, 2 } } } }, dir .. "/d.svg")
    assert_failed(ok, err, dir .. "/d.svg", "Is a directory")
  end)

  it("CSVLogger checks each epoch's write (a log on /dev/full)", function()
    local path = dir .. "/log.csv"
    S.run("ln -s /dev/full '" .. path .. "'")
    local m = model(8)
    local x, y = data()
    m:compile({ optimizer = "sgd", loss = "mse" })
    local ok, err = pcall(m.fit, m, x, y, { epochs = 2, verbose = 0, callbacks = { cb.CSVLogger(path) } })
    assert.is_false(ok, "fit should fail")
    assert.are.equal("CSVLogger: cannot write " .. path .. ": No space left on device", err)
  end)

  it("CSVLogger names the path it cannot open", function()
    local path = dir .. "/no/such/log.csv"
    local m = model(9)
    local x, y = data()
    m:compile({ optimizer = "sgd", loss = "mse" })
    local ok, err = pcall(m.fit, m, x, y, { epochs = 1, verbose = 0, callbacks = { cb.CSVLogger(path) } })
    assert.is_false(ok)
    assert.are.equal("CSVLogger: cannot open " .. path .. ": No such file or directory", err)
  end)
end)
