-- IDX and CSV loaders, hostile files, datasets and data utilities.
local lunet = require("lunet")
local S = require("support")

local D = lunet.data
local core = lunet.core

local dir
local function path(name) return dir .. "/" .. name end

local function write(name, bytes) return S.write_file(path(name), bytes) end

local read = S.read_file

local function gzip(name, bytes)
  local p = write(name .. ".raw", bytes)
  S.run("gzip -c " .. p .. " > " .. path(name))
  return path(name)
end

-- IDX header bytes: type byte, dims
local function header(ty, dims)
  local h = string.pack(">BBBB", 0, 0, ty, #dims)
  for _, d in ipairs(dims) do h = h .. string.pack(">I4", d) end
  return h
end

local fails = S.fails

setup(function()
  dir = S.tmpdir()
end)

teardown(function()
  S.remove_tmpdir(dir)
end)

describe("lunet.data IDX", function()
  it("round-trips every IDX type, raw and gzip, into the documented dtypes", function()
    S.seed(31)
    local vals = lunet.tensor({ { { 0, 1, 127 }, { 5, 100, 2 } }, { { 3, 4, 9 }, { 11, 12, 13 } } }, "int32")
    local want = { uint8 = "uint8", int8 = "int32", int16 = "int32", int32 = "int32", float32 = "float32",
      float64 = "float64" }
    for ty, dtype in pairs(want) do
      for _, gz in ipairs({ false, true }) do
        local p = path("rt_" .. ty .. (gz and ".idx.gz" or ".idx"))
        D.write_idx(p, vals, { type = ty })
        local back = D.read_idx(p)
        assert.are.equal(dtype, back:dtype())
        assert.are.same({ 2, 2, 3 }, back:shape())
        assert.is_true(lunet.equal(back:double(), vals:double()))
        local magic = gz and read(p):sub(1, 2) or read(p):sub(1, 4)
        if gz then assert.are.equal("\31\139", magic) else assert.are.equal(header(({
          uint8 = 8, int8 = 9, int16 = 11, int32 = 12, float32 = 13, float64 = 14 })[ty], {}):sub(1, 3),
          magic:sub(1, 3)) end
      end
    end
    -- negative and large values, float bits exactly
    local neg = lunet.tensor({ -32768, -1, 32767 }, "int32")
    D.write_idx(path("neg.idx"), neg, { type = "int16" })
    assert.are.same({ -32768, -1, 32767 }, D.read_idx(path("neg.idx")):totable())
    local r = lunet.randn(7, 5, "float64") * 1e10
    D.write_idx(path("f64.idx.gz"), r)
    assert.is_true(lunet.equal(D.read_idx(path("f64.idx.gz")), r))
    local r32 = lunet.randn(3, 4)
    D.write_idx(path("f32.idx"), r32)
    assert.is_true(lunet.equal(D.read_idx(path("f32.idx")), r32))
  end)

  it("writes big-endian data exactly as the format says", function()
    D.write_idx(path("be.idx"), lunet.tensor({ 1, -2 }, "int32"), { type = "int16" })
    assert.are.equal(header(11, { 2 }) .. "\0\1\255\254", read(path("be.idx")))
    D.write_idx(path("bef.idx"), lunet.tensor({ 1.5 }, "float32"))
    assert.are.equal(header(13, { 1 }) .. string.pack(">f", 1.5), read(path("bef.idx")))
  end)

  it("refuses values that do not fit the requested type, and leaves no file", function()
    fails("does not fit int8", D.write_idx, path("bad.idx"), lunet.tensor({ 1, 200 }, "int32"), { type = "int8" })
    fails("does not fit uint8", D.write_idx, path("bad.idx"), lunet.tensor({ 0.5 }), { type = "uint8" })
    assert.is_nil(io.open(path("bad.idx"), "rb"))
    assert.is_nil(io.open(path("bad.idx.tmp"), "rb"))
    fails("unknown IDX type 'int64'", D.write_idx, path("bad.idx"), lunet.zeros(2), { type = "int64" })
    fails("1 to 8 dims", D.write_idx, path("bad.idx"), lunet.tensor(3))
  end)

  describe("hostile files", function()
    local cases = {
      { "empty file", function() return write("empty.idx", "") end },
      { "header shorter than 4 bytes", function() return write("short.idx", "\0\0\8") end },
      { "wrong magic", function() return write("magic.idx", "\1\0\8\1\0\0\0\1x") end },
      { "unknown type byte 0x07", function() return write("type.idx", "\0\0\7\1\0\0\0\1x") end },
      { "0 dims", function() return write("dims0.idx", "\0\0\8\0x") end },
      { "9 dims", function() return write("dims9.idx", header(8, { 1, 1, 1, 1, 1, 1, 1, 1, 1 }) .. "x") end },
      { "shorter than its 3 dims need", function() return write("dimsmissing.idx", "\0\0\8\3\0\0\0\1") end },
      { "exceed the cap", function()
        return write("overflow.idx", header(14, { 0xFFFFFFFF, 0xFFFFFFFF, 0xFFFFFFFF, 0xFFFFFFFF, 0xFFFFFFFF }))
      end },
      { "exceed the cap", function() return write("cap.idx", header(8, { 70000, 70000 })) end },
      { "truncated: the header declares 1000000000 data bytes", function()
        return write("huge.idx", header(8, { 1000, 1000, 1000 }) .. "abc")
      end },
      { "truncated: the header declares 12 data bytes, the file has 11", function()
        return write("trunc.idx", header(12, { 3 }) .. string.rep("\0", 11))
      end },
      { "1 trailing bytes", function() return write("trail.idx", header(8, { 2 }) .. "abc") end },
      { "not a gzip file", function() return write("plain.idx.gz", header(8, { 1 }) .. "a") end },
      { "cannot hold", function() return gzip("claims.idx.gz", header(8, { 5000, 5000 }) .. "abc") end },
      { "truncated gzip data", function()
        S.seed(32)
        local body = lunet.uniform({ 4000 }, 0, 256):int():byte()
        local full = gzip("full.idx.gz", header(8, { 4000 }) .. core.tobytes(body))
        local s = read(full)
        return write("cut.idx.gz", s:sub(1, #s // 2))
      end },
      { "trailing data", function() return gzip("trail.idx.gz", header(8, { 2 }) .. "abcdef") end },
      { "cannot open", function() return path("missing.idx") end },
      { "is a directory", function() return dir end },
    }
    for _, c in ipairs(cases) do
      it("reports " .. c[1], function()
        local p = c[2]()
        local err = fails(c[1], D.read_idx, p)
        assert.is_truthy(err:find("read_idx: ", 1, true))
        assert.is_truthy(err:find(p, 1, true), "the message names the file")
      end)
    end

    it("honours a smaller max_bytes", function()
      local p = path("small.idx")
      D.write_idx(p, lunet.zeros({ 100, 100 }, "uint8"))
      assert.are.equal(10000, D.read_idx(p, { max_bytes = 10000 }):numel())
      fails("exceed the cap of 9999 bytes", D.read_idx, p, { max_bytes = 9999 })
    end)

    it("stops a gzip bomb at the declared size", function()
      local p = path("bomb.idx.gz")
      -- a 4-byte image followed by 400 MiB of zeros (about 400 KiB compressed)
      S.run(string.format("{ printf '\\000\\000\\010\\001\\000\\000\\000\\004abcd'; head -c 419430400 /dev/zero; } " ..
        "| gzip -1 > %s", p))
      local t0 = os.clock()
      fails("trailing data", D.read_idx, p)
      assert.is_true(os.clock() - t0 < 0.5, "read only what the header declares")
    end)

    it("fails quickly without allocating what a raw header claims", function()
      local before = S.proc_status_kb("VmRSS")
      local t0 = os.clock()
      fails("truncated", D.read_idx, write("claim.idx", header(13, { 1000, 1000, 500 }) .. "abcd"))
      assert.is_true(os.clock() - t0 < 0.1)
      local after = S.proc_status_kb("VmRSS")
      if before and after then assert.is_true(after - before < 100 * 1024) end
    end)
  end)

  it("loads MNIST-format directories (raw or .gz) with the datasets loaders", function()
    S.seed(33)
    local mdir = path("mnist")
    S.run("mkdir -p " .. mdir)
    local xtr = lunet.uniform({ 50, 28, 28 }, 0, 256):int():byte()
    local ytr = lunet.uniform({ 50 }, 0, 10):int():byte()
    local xte = lunet.uniform({ 20, 28, 28 }, 0, 256):int():byte()
    local yte = lunet.uniform({ 20 }, 0, 10):int():byte()
    D.write_idx(mdir .. "/train-images-idx3-ubyte.gz", xtr)
    D.write_idx(mdir .. "/train-labels-idx1-ubyte", ytr)
    D.write_idx(mdir .. "/t10k-images-idx3-ubyte", xte)
    D.write_idx(mdir .. "/t10k-labels-idx1-ubyte.gz", yte)
    local a, b, c, d = lunet.datasets.mnist.load(mdir)
    assert.are.equal("uint8", a:dtype())
    assert.are.same({ 50, 28, 28 }, a:shape())
    assert.is_true(lunet.equal(a, xtr) and lunet.equal(b, ytr) and lunet.equal(c, xte) and lunet.equal(d, yte))
    local fa = lunet.datasets.fashion_mnist.load(mdir)
    assert.is_true(lunet.equal(fa, xtr))
    -- labels that do not match the images
    D.write_idx(mdir .. "/t10k-labels-idx1-ubyte.gz", lunet.zeros({ 19 }, "uint8"))
    fails("has 20 images but", lunet.datasets.mnist.load, mdir)
    fails("no train-images-idx3-ubyte(.gz) in " .. path("nothing"), lunet.datasets.mnist.load, path("nothing"))
  end)
end)

describe("lunet.data CSV", function()
  it("reads comma, tab, space and whitespace tables, header names, skipped lines", function()
    local p = write("a.csv", "# a comment line\nx,y,\"z\"\n1,2.5,-3e2\n 4 , 5 ,6\r\n\n7,8,9\n")
    local t, names = D.read_csv(p, { skip = 1, header = true })
    assert.are.same({ "x", "y", "z" }, names)
    assert.are.same({ { 1, 2.5, -300 }, { 4, 5, 6 }, { 7, 8, 9 } }, t:totable())
    assert.are.equal("float32", t:dtype())
    local tab = D.read_csv(write("t.tsv", "1\t2\n3\t4\n"), { sep = "\t", dtype = "float64" })
    assert.are.equal("float64", tab:dtype())
    assert.are.same({ { 1, 2 }, { 3, 4 } }, tab:totable())
    assert.are.same({ { 1, 2 }, { 3, 4 } }, D.read_csv(write("s.txt", "1 2\n3 4\n"), { sep = " " }):totable())
    local ws = D.read_csv(write("w.txt", "  1   2\t 3\n4 5 6  \n"), { sep = "whitespace" })
    assert.are.same({ { 1, 2, 3 }, { 4, 5, 6 } }, ws:totable())
    assert.are.same({ { 1.25, 2 } }, D.read_csv(write("q.csv", '"1.25","2"\n')):totable())
    assert.are.same({ { 1, 2 } }, D.read_csv(gzip("g.csv.gz", "1,2\n")):totable())
    -- float64 keeps every digit; float32 rounds once
    local d = D.read_csv(write("p.csv", "0.1,123456789.123456789\n"), { dtype = "float64" })
    assert.are.equal(0.1, d:get(1, 1))
    assert.are.equal(123456789.123456789, d:get(1, 2))
  end)

  local bad = {
    { "a long row", "1,2\n3,4,5\n", "line 2 has 3 columns, expected 2 (as line 1; on_bad_lines" },
    { "ragged after header", "a,b\n1,2\n3,4,5\n", "line 3 has 3 columns, expected 2 (as the header, line 1;", { header = true } },
    { "non-numeric", "1,2\n3,abc\n", "line 2, column 2: 'abc' is not a number" },
    { "nan", "1,nan\n", "line 1, column 2: 'nan' is not finite" },
    { "inf", "-Inf,1\n", "line 1, column 1: '-Inf' is not finite" },
    { "hex", "0x1A,1\n", "'0x1A' is a hex number" },
    { "empty cell", "1,,2\n", "line 1, column 2: '' empty cell" },
    { "overflow", "1e400\n", "overflows float64" },
    { "float32 overflow", "1e39\n", "overflows float32" },
    { "half a number", "1e\n", "'1e' is not a number" },
    { "two points", "1.2.3\n", "'1.2.3' is not a number" },
    { "header only", "a,b\n", "no data rows", { header = true } },
    { "blank", "\n \n", "no data rows" },
  }
  for _, c in ipairs(bad) do
    it("reports " .. c[1] .. " with its line and column", function()
      local p = write("bad.csv", c[2])
      local err = fails(c[3], D.read_csv, p, c[4])
      assert.is_truthy(err:find("read_csv: " .. p, 1, true))
    end)
  end

  it("accepts nan and inf when asked", function()
    local t = D.read_csv(write("nf.csv", "nan,-inf,Infinity\n"), { allow_nonfinite = true, dtype = "float64" })
    local v = t:totable()[1]
    assert.is_true(v[1] ~= v[1])
    assert.are.equal(-math.huge, v[2])
    assert.are.equal(math.huge, v[3])
  end)

  it("reports missing, empty, directory and bad-option inputs", function()
    fails("cannot open", D.read_csv, path("none.csv"))
    fails("empty file", D.read_csv, write("e.csv", ""))
    fails("is a directory", D.read_csv, dir)
    fails("not a gzip file", D.read_csv, write("n.csv.gz", "1,2\n"))
    fails("unknown option 'delimiter'", D.read_csv, path("a.csv"), { delimiter = ";" })
    fails("sep must be one character", D.read_csv, path("a.csv"), { sep = ";;" })
    fails("dtype must be float32 or float64", D.read_csv, path("a.csv"), { dtype = "int32" })
    fails("exceed the cap", D.read_csv, write("big.csv", string.rep("1,2\n", 100)), { max_bytes = 100 })
  end)
end)

describe("lunet.datasets.uci", function()
  local function fixture(name, text)
    S.run("mkdir -p " .. path("uci"))
    local f = assert(io.open(path("uci/" .. name), "wb"))
    f:write(text)
    f:close()
  end

  it("loads the scikit-learn CSV layouts and the sensorless table", function()
    fixture("iris.csv", "4,4,setosa,versicolor,virginica\n5.1,3.5,1.4,0.2,0\n7.0,3.2,4.7,1.4,1\n" ..
      "6.3,3.3,6.0,2.5,2\n4.9,3.0,1.4,0.2,0\n")
    local x, y, info = lunet.datasets.uci.load("iris", path("uci"))
    assert.are.same({ 4, 4 }, x:shape())
    assert.are.equal("float32", x:dtype())
    assert.are.same({ 0, 1, 2, 0 }, y:totable())
    assert.are.equal("int32", y:dtype())
    assert.are.same({ "setosa", "versicolor", "virginica" }, info.class_names)
    assert.are.equal("sepal length (cm)", info.feature_names[1])
    fixture("boston_house_prices.csv", "2,13,,,,,,,,,,,,\n" ..
      '"CRIM","ZN","INDUS","CHAS","NOX","RM","AGE","DIS","RAD","TAX","PTRATIO","B","LSTAT","MEDV"\n' ..
      "0.00632,18,2.31,0,0.538,6.575,65.2,4.09,1,296,15.3,396.9,4.98,24\n" ..
      "0.02731,0,7.07,0,0.469,6.421,78.9,4.9671,2,242,17.8,396.9,9.14,21.6\n")
    local bx, by, binfo = lunet.datasets.uci.load("boston", path("uci"))
    assert.are.same({ 2, 13 }, bx:shape())
    assert.are.equal("float32", by:dtype())
    assert.is_true(math.abs(by:get(2) - 21.6) < 1e-5)
    assert.are.equal("LSTAT", binfo.feature_names[13])
    local rows = {}
    for i = 1, 3 do
      local r = {}
      for j = 1, 48 do r[j] = string.format("%.6e", (i * 48 + j) * 1e-3) end
      rows[i] = table.concat(r, " ") .. " " .. ({ 1, 11, 5 })[i]
    end
    fixture("Sensorless_drive_diagnosis.txt", table.concat(rows, "\n") .. "\n")
    local sx, sy = lunet.datasets.uci.load("sensorless", path("uci"))
    assert.are.same({ 3, 48 }, sx:shape())
    assert.are.same({ 0, 10, 4 }, sy:totable())
    local digits = {}
    for i = 1, 3 do
      local r = {}
      for j = 1, 64 do r[j] = tostring((i + j) % 17) end
      digits[i] = table.concat(r, ",") .. "," .. (i + 6)
    end
    fixture("digits.csv", table.concat(digits, "\n") .. "\n")
    S.run("gzip -f " .. path("uci/digits.csv"))
    local dx, dy = lunet.datasets.uci.load("digits", path("uci"))
    assert.are.same({ 3, 64 }, dx:shape())
    assert.are.same({ 7, 8, 9 }, dy:totable())
  end)

  it("refuses files that contradict their own first line, and bad labels", function()
    fixture("wine_data.csv", "3,13,class_0,class_1,class_2\n" .. string.rep("1,", 13) .. "0\n")
    fails("declares 3 x 13", lunet.datasets.uci.load, "wine", path("uci"))
    fixture("wine_data.csv", "1,13,class_0,class_1,class_2\n" .. string.rep("1,", 13) .. "3\n")
    fails("labels must be integers in [0, 3)", lunet.datasets.uci.load, "wine", path("uci"))
    fails("unknown dataset 'mushroom' (known: boston", lunet.datasets.uci.load, "mushroom")
    fails("no breast_cancer.csv in", lunet.datasets.uci.load, "breast_cancer", path("uci"))
  end)

  it("refuses a truncated table: read_csv names its short last line (pandas would pad it with NaN)", function()
    local rows = {}
    for i = 1, 3 do
      local r = {}
      for j = 1, 48 do r[j] = string.format("%.4f", i + j / 100) end
      rows[i] = table.concat(r, " ") .. " " .. i
    end
    rows[3] = rows[3]:sub(1, 100) -- cut inside the third row: 15 features and no label
    fixture("Sensorless_drive_diagnosis.txt", table.concat(rows, "\n"))
    fails(path("uci/Sensorless_drive_diagnosis.txt") .. ": line 3 has 15 columns, expected 49",
      lunet.datasets.uci.load, "sensorless", path("uci"))
    -- a regression target (boston) would otherwise load the NaN silently
    fixture("boston_house_prices.csv", "1,13,,,,,,,,,,,,\n" .. string.rep("a,", 13) .. "MEDV\n" ..
      string.rep("1,", 13) .. "24\n" .. string.rep("1,", 12) .. "1\n")
    fails("has 13 columns, expected 14", lunet.datasets.uci.load, "boston", path("uci"))
  end)
end)

describe("lunet.utils", function()
  local U = lunet.utils

  it("to_categorical makes one-hot rows and checks labels", function()
    local y = U.to_categorical(lunet.tensor({ 2, 0, 1 }, "int32"))
    assert.are.same({ { 0, 0, 1 }, { 1, 0, 0 }, { 0, 1, 0 } }, y:totable())
    assert.are.equal("float32", y:dtype())
    assert.are.same({ 2, 5 }, U.to_categorical(lunet.tensor({ { 1 }, { 4 } }), 5):shape())
    fails("labels must be in [0, 3)", U.to_categorical, lunet.tensor({ 0, 3 }), 3)
    fails("labels must be in [0, 3)", U.to_categorical, lunet.tensor({ -1, 2 }), 3)
    fails("labels must be integers", U.to_categorical, lunet.tensor({ 0.5 }), 3)
  end)

  -- sklearn's allocation, computed here independently: floors of the
  -- proportional share, then +1 for the largest remainders.
  local function expected_counts(counts, n_draws)
    local total, out, rem, need = 0, {}, {}, n_draws
    for _, c in ipairs(counts) do total = total + c end
    for i, c in ipairs(counts) do
      out[i] = math.floor(c * n_draws / total)
      rem[i] = c * n_draws / total - out[i]
      need = need - out[i]
    end
    local order = {}
    for i = 1, #counts do order[i] = i end
    table.sort(order, function(a, b) return rem[a] > rem[b] end)
    for k = 1, need do out[order[k]] = out[order[k]] + 1 end
    return out
  end

  it("train_test_split stratifies with sklearn's class counts and return order", function()
    local counts = { 59, 71, 48 } -- the wine classes (no remainder ties)
    local labels = {}
    for c, k in ipairs(counts) do for _ = 1, k do labels[#labels + 1] = c - 1 end end
    local n = #labels
    local y = lunet.tensor(labels, "int32")
    local x = lunet.arange(0, n, 1, "float64"):reshape(n, 1) -- x holds the row number
    for _, ts in ipairs({ 0.2, 0.25, 0.3, 30 }) do
      local xtr, xte, ytr, yte = U.train_test_split(x, y, { test_size = ts, stratify = y, seed = 5 })
      local n_test = math.type(ts) == "integer" and ts or math.ceil(ts * n)
      assert.are.equal(n_test, xte:size(1))
      assert.are.equal(n - n_test, xtr:size(1))
      local want_train = expected_counts(counts, n - n_test)
      local left = {}
      for i = 1, 3 do left[i] = counts[i] - want_train[i] end
      local want_test = expected_counts(left, n_test)
      for c = 1, 3 do
        assert.are.equal(want_train[c], ytr:eq(c - 1):sum():item())
        assert.are.equal(want_test[c], yte:eq(c - 1):sum():item())
      end
      -- y follows x, and the two parts partition the rows
      local seen = {}
      for part, pair in ipairs({ { xtr, ytr }, { xte, yte } }) do
        local rows, ys = pair[1]:totable(), pair[2]:totable()
        for i = 1, #rows do
          local r = rows[i][1]
          assert.are.equal(labels[r + 1], ys[i])
          assert.is_nil(seen[r], "row in both parts " .. part)
          seen[r] = true
        end
      end
    end
    -- a tie in the remainders (59.5 / 35.5 / 24 of 89) is broken at random: either class may get it
    local _, _, ytr = U.train_test_split(x, y, { test_size = 0.5, stratify = y, seed = 6 })
    local c1, c2, c3 = ytr:eq(0):sum():item(), ytr:eq(1):sum():item(), ytr:eq(2):sum():item()
    assert.are.equal(89, c1 + c2 + c3)
    assert.are.equal(24, c3)
    assert.is_true((c1 == 30 and c2 == 35) or (c1 == 29 and c2 == 36))
    -- the same seed gives the same split; the global generator is left alone
    lunet.manual_seed(9)
    local before = lunet.rand(1):item()
    lunet.manual_seed(9)
    local a = select(2, U.train_test_split(x, y, { stratify = y, seed = 1 }))
    local b = select(2, U.train_test_split(x, y, { stratify = y, seed = 1 }))
    assert.is_true(lunet.equal(a, b))
    assert.are.equal(before, lunet.rand(1):item())
  end)

  it("train_test_split without shuffle takes the last rows as the test set", function()
    local x = lunet.arange(0, 10, 1):reshape(10, 1)
    local xtr, xte = U.train_test_split(x, { test_size = 0.3, shuffle = false })
    assert.are.same({ { 7 }, { 8 }, { 9 } }, xte:totable())
    assert.are.equal(7, xtr:size(1))
    fails("x has 10 rows, y has 9", U.train_test_split, x, lunet.zeros(9))
    fails("class 1 has only 1 member", U.train_test_split, x, lunet.tensor({ 0, 0, 0, 0, 0, 0, 0, 0, 0, 1 }),
      { stratify = true })
    fails("stratify needs shuffle=true", U.train_test_split, x, lunet.zeros(10), { stratify = true, shuffle = false })
  end)

  it("check_options accepts known keys and lists the known ones for the rest", function()
    local o = { a = 1 }
    assert.are.equal(o, U.check_options("f", o, { a = true, b = false }))
    assert.are.same({}, U.check_options("f", nil, { a = true }))
    assert.are.same({ lr = 1 }, U.check_options("f", { lr = 1 }, { a = true }, 2, { lr = true }))
    fails("f: unknown option 'c' (known: a, b)", U.check_options, "f", { c = 1 }, { b = true, a = true })
    fails("f: unknown option 'c' (known: z, a)", U.check_options, "f", { c = 1 }, { "z", "a", z = true, a = true })
    fails("f: unknown option '1' (known: z)", U.check_options, "f", { 5 }, { "z", z = true })
    fails("f: options must be a table (got 3)", U.check_options, "f", 3, {})
  end)

  it("with_seed repeats seeded draws and leaves the global generator where it was", function()
    lunet.manual_seed(11)
    local a = U.with_seed(5, function() return lunet.rand(3) end)
    local next_global = lunet.rand(2)
    lunet.manual_seed(11)
    local b = U.with_seed(5, function() return lunet.rand(3) end)
    assert.is_true(lunet.equal(a, b))
    assert.is_true(lunet.equal(next_global, lunet.rand(2)))
    assert.is_false(lunet.equal(a, U.with_seed(6, function() return lunet.rand(3) end)))
    fails("boom", U.with_seed, 1, function() error("boom") end)
  end)

  it("parse_args reads --name value, --name=value, flags and converts by the default's type", function()
    local o, rest = U.parse_args({ "--epochs", "5", "--out=dir", "--tutorial-init", "file.txt", "--no-shuffle",
      "--rate", "0.5" }, { epochs = 20, out = "out", tutorial_init = false, shuffle = true, rate = 0.1, data = "" })
    assert.are.same({ epochs = 5, out = "dir", tutorial_init = true, shuffle = false, rate = 0.5, data = "" }, o)
    assert.are.equal("integer", math.type(o.epochs))
    assert.are.same({ "file.txt" }, rest)
    fails("unknown option --epoch", U.parse_args, { "--epoch", "3" }, { epochs = 1 })
    fails("--epochs expects a number, got 'x'", U.parse_args, { "--epochs", "x" }, { epochs = 1 })
    fails("--out needs a value", U.parse_args, { "--out" }, { out = "o" })
  end)

  it("standardize gives zero-mean unit-std columns and reuses given statistics", function()
    S.seed(34)
    local x = lunet.randn(200, 3, "float64") * lunet.tensor({ 1, 100, 0 }, "float64") + 7
    local z, mean, std = U.standardize(x)
    assert.is_true(z:mean(1):abs():max():item() < 1e-12)
    local s = z:std(1):totable()
    assert.is_true(math.abs(s[1] - 1) < 1e-12 and math.abs(s[2] - 1) < 1e-12)
    assert.are.equal(0, s[3]) -- a constant column is only centred
    assert.are.equal(1, std:get(3))
    local z2 = U.standardize(x, { mean = mean, std = std })
    assert.is_true(lunet.equal(z, z2))
  end)
end)
