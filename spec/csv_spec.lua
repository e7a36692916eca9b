-- read_csv's options that a port of pandas' read_csv uses: nrows, usecols,
-- header, sep = "\\s+", delim_whitespace, on_bad_lines, and pandas' NaN
-- padding of short lines.  Each test name quotes the pandas call it mirrors.
local lunet = require("lunet")
local S = require("support")

local D = lunet.data
local fails = S.fails

local dir
local function path(name) return dir .. "/" .. name end
local function write(name, bytes) return S.write_file(path(name), bytes) end

local function is_nan(v) return v ~= v end

setup(function() dir = S.tmpdir() end)
teardown(function() S.remove_tmpdir(dir) end)

describe("lunet.data.read_csv", function()
  describe("nrows", function()
    it("pd.read_csv(f, header=None, nrows=2) reads the first two rows", function()
      local p = write("n.csv", "1,2\n3,4\n5,6\n7,8\n")
      local t = D.read_csv(p, { nrows = 2 })
      assert.are.same({ 2, 2 }, t:shape())
      assert.are.same({ { 1, 2 }, { 3, 4 } }, t:totable())
    end)

    it("pd.read_csv(f, skiprows=1, nrows=2) counts data rows after the skipped lines and the header", function()
      local p = write("nh.csv", "# comment\nx,y\n\n1,2\n3,4\n5,6\n")
      local t, names = D.read_csv(p, { skip = 1, header = true, nrows = 2 })
      assert.are.same({ "x", "y" }, names)
      assert.are.same({ { 1, 2 }, { 3, 4 } }, t:totable())
    end)

    it("pd.read_csv(f, header=None, nrows=2) does not look at the lines after them", function()
      -- line 3 is not a number and line 4 has too many cells: both unread
      local p = write("nt.csv", "1,2\n3,4\nabc,5\n6,7,8\n")
      assert.are.same({ { 1, 2 }, { 3, 4 } }, D.read_csv(p, { nrows = 2 }):totable())
      fails("line 3, column 1: 'abc' is not a number", D.read_csv, p, { nrows = 3 })
    end)

    it("pd.read_csv(f, header=None, nrows=10**18) reads all the rows there are", function()
      local p = write("nb.csv", "1\n2\n3\n")
      assert.are.same({ { 1 }, { 2 }, { 3 } }, D.read_csv(p, { nrows = math.maxinteger }):totable())
      assert.are.same({ { 1 }, { 2 }, { 3 } }, D.read_csv(p, { nrows = 3 }):totable())
    end)

    it("pd.read_csv(f, nrows=0).columns gives the names and no rows", function()
      local t, names = D.read_csv(write("n0.csv", "a,b,c\n1,2,3\n"), { header = true, nrows = 0 })
      assert.are.same({ 0, 3 }, t:shape())
      assert.are.same({ "a", "b", "c" }, names)
      -- a header-only file, and without a header the first line's width
      local h = D.read_csv(write("h0.csv", "a,b\n"), { header = true, nrows = 0 })
      assert.are.same({ 0, 2 }, h:shape())
      assert.are.same({ 0, 4 }, D.read_csv(write("w0.csv", "\n1 2 3 4\n"), { sep = " ", nrows = 0 }):shape())
      -- but a file with no line at all has no width
      fails("no data rows", D.read_csv, write("b0.csv", "\n\n"), { nrows = 0 })
      fails("no data rows", D.read_csv, write("h1.csv", "a,b\n"), { header = true, nrows = 1 })
    end)

    it("refuses a negative, fractional, string or non-finite nrows, naming the value", function()
      local p = write("nx.csv", "1\n")
      fails("read_csv: nrows must be an integer >= 0, got -1", D.read_csv, p, { nrows = -1 })
      fails("read_csv: nrows must be an integer >= 0, got 1.5", D.read_csv, p, { nrows = 1.5 })
      fails("read_csv: nrows must be an integer >= 0, got '2'", D.read_csv, p, { nrows = "2" })
      fails("read_csv: nrows must be an integer >= 0, got inf", D.read_csv, p, { nrows = math.huge })
      fails("read_csv: nrows must be an integer >= 0, got nan", D.read_csv, p, { nrows = 0 / 0 })
      fails("read_csv: nrows must be an integer >= 0, got 1e+300", D.read_csv, p, { nrows = 1e300 })
      fails("read_csv: nrows must be an integer >= 0, got table", D.read_csv, p, { nrows = {} })
      fails("read_csv: skip must be an integer >= 0, got '1'", D.read_csv, p, { skip = "1" })
    end)
  end)

  describe("usecols", function()
    local csv = "a,b,c,d\n1,2,3,4\n5,6,7,8\n"

    it("pd.read_csv(f, header=None, usecols=[0, 2]) keeps columns 1 and 3 (positions from 1)", function()
      local t = D.read_csv(write("u.csv", "1,2,3,4\n5,6,7,8\n"), { usecols = { 1, 3 } })
      assert.are.same({ { 1, 3 }, { 5, 7 } }, t:totable())
    end)

    it("pd.read_csv(f, usecols=[3, 0]) gives the columns in file order, not list order", function()
      local t, names = D.read_csv(write("uo.csv", csv), { header = true, usecols = { 4, 1 } })
      assert.are.same({ "a", "d" }, names)
      assert.are.same({ { 1, 4 }, { 5, 8 } }, t:totable())
    end)

    it("pd.read_csv(f, usecols=['c', 'a']) picks by header name, in file order", function()
      local t, names = D.read_csv(write("un.csv", csv), { header = true, usecols = { "c", "a" } })
      assert.are.same({ "a", "c" }, names)
      assert.are.same({ { 1, 3 }, { 5, 7 } }, t:totable())
      local one, n1 = D.read_csv(write("un.csv", csv), { header = true, usecols = { "d" }, dtype = "float64" })
      assert.are.same({ "d" }, n1)
      assert.are.same({ { 4 }, { 8 } }, one:totable())
    end)

    it("pd.read_csv(f, usecols=['x', 'y']) does not read the other columns, which may hold text", function()
      local p = write("ut.csv", 'id,x,name,y\nr1,1.5,"bob",2\nr2,3,alice,-4e1\n')
      local t, names = D.read_csv(p, { header = true, usecols = { "x", "y" } })
      assert.are.same({ "x", "y" }, names)
      assert.are.same({ { 1.5, 2 }, { 3, -40 } }, t:totable())
      fails("line 2, column 1: 'r1' is not a number", D.read_csv, p, { header = true })
      -- a bad cell in a kept column names its column in the file
      fails("line 3, column 4: 'zz' is not a number", D.read_csv, write("ub.csv", "a,b,c,d\n1,2,3,4\n5,6,7,zz\n"),
        { header = true, usecols = { 2, 4 } })
    end)

    it("pd.read_csv(f, header=None, usecols=[0, 3]) on a short line: an error, not a padded NaN", function()
      local p = write("us.csv", "1,2,3,4\n5,6\n")
      fails("read_csv: " .. p .. ": line 2 has 2 columns, expected 4", D.read_csv, p, { usecols = { 1, 4 } })
      assert.are.same({ { 1, 4 } }, D.read_csv(p, { usecols = { 1, 4 }, on_bad_lines = "skip" }):totable())
    end)

    it("refuses positions past the table, unknown or doubled names, repeats and mixtures, naming the value", function()
      local p = write("ue.csv", csv)
      fails("read_csv: usecols[2] = 5 is out of range: the table has 4 columns", D.read_csv, p,
        { header = true, usecols = { 1, 5 } })
      fails("read_csv: usecols[2] = 'z' is not a column name of the header", D.read_csv, p,
        { header = true, usecols = { "a", "z" } })
      fails("read_csv: usecols gives column 3 twice", D.read_csv, p, { header = true, usecols = { 3, 1, 3 } })
      fails("read_csv: usecols gives column 1 twice", D.read_csv, p, { header = true, usecols = { "a", "a" } })
      fails("read_csv: usecols[1] = 'x' names columns 1 and 3 of the header", D.read_csv,
        write("ud.csv", "x,y,x\n1,2,3\n"), { header = true, usecols = { "x" } })
      fails("read_csv: usecols must hold only positions or only names, usecols[2] is 'b'", D.read_csv, p,
        { header = true, usecols = { 1, "b" } })
      fails("read_csv: usecols[1] = 0 is not a column position (they start at 1)", D.read_csv, p,
        { usecols = { 0 } })
      fails("read_csv: usecols[1] = -1 is not a column position", D.read_csv, p, { usecols = { -1 } })
      fails("read_csv: usecols[2] must be a column position (an integer from 1) or a name, got 1.5",
        D.read_csv, p, { usecols = { 1, 1.5 } })
      fails("read_csv: usecols[1] must be a column position (an integer from 1) or a name, got table",
        D.read_csv, p, { usecols = { {} } })
      fails("read_csv: usecols[1] = 'a' names a column, which needs header = true", D.read_csv, p,
        { usecols = { "a" } })
      fails("read_csv: usecols must be an array of column positions (from 1) or names, got 2", D.read_csv, p,
        { usecols = 2 })
      fails("read_csv: usecols must be an array of column positions (from 1) or names, got 'a'", D.read_csv, p,
        { usecols = "a" })
      fails("read_csv: usecols must list at least one column", D.read_csv, p, { usecols = {} })
      fails("read_csv: usecols must be an array (keys 1..n), got other keys", D.read_csv, p,
        { usecols = { 1, x = 2 } })
      fails("read_csv: usecols must be an array (keys 1..n), got other keys", D.read_csv, p,
        { usecols = { [1] = 1, [3] = 3 } })
    end)
  end)

  describe("header", function()
    local p

    setup(function() p = write("hd.csv", "1,2\n3,4\n") end)

    it("pd.read_csv(f, header=None) ports as no header option or header = false: line 1 is data", function()
      local t, names = D.read_csv(p)
      assert.are.same({ { 1, 2 }, { 3, 4 } }, t:totable())
      assert.is_nil(names)
      local f, fnames = D.read_csv(p, { header = false })
      assert.are.same({ { 1, 2 }, { 3, 4 } }, f:totable())
      assert.is_nil(fnames)
      assert.are.same({ { 1, 2 }, { 3, 4 } }, D.read_csv(p, { header = nil }):totable())
    end)

    it("pd.read_csv(f, header=0) ports as header = true: line 1 gives the names", function()
      local t, names = D.read_csv(p, { header = true })
      assert.are.same({ "1", "2" }, names)
      assert.are.same({ { 3, 4 } }, t:totable())
    end)

    it("refuses a header that is not a boolean, saying how pandas' values port", function()
      fails("read_csv: header must be true or false, got 0 (pandas' header=0 is header = true, " ..
        "header=None is header = false)", D.read_csv, p, { header = 0 })
      fails("read_csv: header must be true or false, got 'infer'", D.read_csv, p, { header = "infer" })
      fails("read_csv: allow_nonfinite must be true or false, got 1", D.read_csv, p, { allow_nonfinite = 1 })
    end)
  end)

  describe("sep", function()
    local text = " 1   2\t3\n4 5  6 \n"

    it('pd.read_csv(f, header=None, sep="\\s+") splits at runs of spaces and tabs', function()
      local want = { { 1, 2, 3 }, { 4, 5, 6 } }
      local p = write("ws.txt", text)
      assert.are.same(want, D.read_csv(p, { sep = "\\s+" }):totable())
      assert.are.same(want, D.read_csv(p, { sep = "whitespace" }):totable())
    end)

    it("pd.read_csv(f, header=None, delim_whitespace=True) is the same", function()
      local p = write("dw.txt", text)
      assert.are.same({ { 1, 2, 3 }, { 4, 5, 6 } }, D.read_csv(p, { delim_whitespace = true }):totable())
      assert.are.same({ { 1, 2, 3 }, { 4, 5, 6 } },
        D.read_csv(p, { delim_whitespace = true, sep = "\\s+" }):totable())
      -- false leaves the default comma: one cell per line, not a number
      fails("line 1, column 1: '1   2", D.read_csv, p, { delim_whitespace = false })
      fails('read_csv: sep = "," and delim_whitespace = true: give only one', D.read_csv, p,
        { delim_whitespace = true, sep = "," })
      fails("read_csv: delim_whitespace must be true or false, got number", D.read_csv, p,
        { delim_whitespace = 1 })
    end)

    it('pd.read_csv(f, header=None, sep=" ") is one space per separator, as in pandas', function()
      local p = write("sp.txt", "1 2 3\n4 5 6\n")
      assert.are.same({ { 1, 2, 3 }, { 4, 5, 6 } }, D.read_csv(p, { sep = " " }):totable())
      -- two spaces make an empty cell, which is not a number
      fails("line 1, column 2: '' empty cell", D.read_csv, write("sp2.txt", "1  2\n"), { sep = " " })
    end)

    it("refuses other multi-character separators, listing the accepted ones", function()
      local p = write("sx.csv", "1,2\n")
      local msg = "read_csv: sep must be one character (',', '\\t', ' ', ';'), 'whitespace' or '\\\\s+' " ..
        "(any run of spaces and tabs), got "
      fails(msg .. "'\\s*'", D.read_csv, p, { sep = "\\s*" })
      fails(msg .. "',,'", D.read_csv, p, { sep = ",," })
      fails(msg .. "''", D.read_csv, p, { sep = "" })
      fails(msg .. "3", D.read_csv, p, { sep = 3 })
    end)
  end)

  describe("lines with the wrong number of cells", function()
    it("pd.read_csv(f, header=None) pads a short last line with NaN; lunet refuses it, or drops it on request", function()
      local p = write("short.txt", "1 2 3 1\n4 5 6 2\n7 8\n")
      fails("read_csv: " .. p .. ": line 3 has 2 columns, expected 4 (as line 1; on_bad_lines = \"skip\" drops such lines)",
        D.read_csv, p, { sep = " " })
      local t = D.read_csv(p, { sep = " ", on_bad_lines = "skip" })
      assert.are.same({ { 1, 2, 3, 1 }, { 4, 5, 6, 2 } }, t:totable())
      -- a short line in the middle, with a header: the header sets the width
      local q = write("shorth.csv", "a,b,c\n1\n2,3,4\n")
      fails("line 2 has 1 columns, expected 3 (as the header, line 1;", D.read_csv, q, { header = true })
      local d, names = D.read_csv(q, { header = true, dtype = "float64", on_bad_lines = "skip" })
      assert.are.same({ "a", "b", "c" }, names)
      assert.are.same({ { 2, 3, 4 } }, d:totable())
    end)

    it("pd.read_csv(f, header=None) takes the width from line 1, so a later longer line is bad", function()
      local p = write("long.csv", "1,2\n3,4,5\n6,7\n")
      fails('read_csv: ' .. p .. ': line 2 has 3 columns, expected 2 (as line 1; on_bad_lines = "skip" ' ..
        "drops such lines)", D.read_csv, p)
      fails('read_csv: ' .. p .. ': line 2 has 3 columns, expected 2 (as line 1;', D.read_csv, p,
        { on_bad_lines = "error" })
    end)

    it('pd.read_csv(f, header=None, on_bad_lines="skip") drops lines with too many cells (and too few)', function()
      local p = write("skip.csv", "1,2\n3,4,5\n6,7\n8,x,9\n10\n")
      local t = D.read_csv(p, { on_bad_lines = "skip" })
      assert.are.same({ { 1, 2 }, { 6, 7 } }, t:totable())
      -- dropped lines do not count towards nrows
      assert.are.same({ { 1, 2 }, { 6, 7 } }, D.read_csv(p, { on_bad_lines = "skip", nrows = 2 }):totable())
      -- with a header, its width decides
      local h = D.read_csv(write("skiph.csv", "a,b\n1,2,3\n4,5\n"), { header = true, on_bad_lines = "skip" })
      assert.are.same({ { 4, 5 } }, h:totable())
    end)

    it('pd.read_csv(f, on_bad_lines="skip") with every data line dropped has no data rows', function()
      fails("no data rows (3 lines read, 2 dropped by on_bad_lines)", D.read_csv,
        write("alldrop.csv", "a\n1,2\n3,4\n"), { header = true, on_bad_lines = "skip" })
    end)

    it('pd.read_csv(f, header=None, on_bad_lines="warn") drops them and writes one stderr line each', function()
      local p = write("warn.csv", "1,2\n3,4,5\n6,7\n8,9,10,11\n")
      local script = write("warn.lua", string.format([[
local lunet = require("lunet")
local t = lunet.data.read_csv(%q, { on_bad_lines = "warn" })
io.stdout:write(table.concat(t:reshape(t:numel()):totable(), " "))
]], p))
      local out, code = S.run(S.lunet_bin .. " " .. script .. " 2>" .. path("warn.err"))
      assert.are.equal(0, code)
      assert.are.equal("1.0 2.0 6.0 7.0", out)
      assert.are.equal("read_csv: " .. p .. ": skipping line 2: expected 2 columns, saw 3\n" ..
        "read_csv: " .. p .. ": skipping line 4: expected 2 columns, saw 4\n", S.read_file(path("warn.err")))
      -- "skip" is silent
      local script2 = write("skip.lua", string.format("require('lunet').data.read_csv(%q, { on_bad_lines = 'skip' })", p))
      local out2, code2 = S.run(S.lunet_bin .. " " .. script2 .. " 2>&1")
      assert.are.equal(0, code2)
      assert.are.equal("", out2)
    end)

    it("refuses other on_bad_lines values, listing the accepted ones", function()
      local p = write("ob.csv", "1\n")
      fails("read_csv: on_bad_lines must be 'error', 'skip' or 'warn', got 'ignore'", D.read_csv, p,
        { on_bad_lines = "ignore" })
      fails("read_csv: on_bad_lines must be 'error', 'skip' or 'warn', got function", D.read_csv, p,
        { on_bad_lines = print })
      fails("read_csv: on_bad_lines must be 'error', 'skip' or 'warn', got true", D.read_csv, p,
        { on_bad_lines = true })
    end)
  end)

  it("refuses unknown options, listing the known ones", function()
    fails("read_csv: unknown option 'names' (known: allow_nonfinite, delim_whitespace, dtype, header, " ..
      "max_bytes, nrows, on_bad_lines, sep, skip, usecols)", D.read_csv, write("k.csv", "1\n"), { names = { "a" } })
  end)

  it("answers every bad value of every option with an error naming read_csv, or a table", function()
    local p = write("sweep.csv", "a,b,c\n1,2,3\n4,5\n")
    local values = { false, true, "", "x", "\\s+", {}, { 1, { 2 } }, { "a" }, { 1 }, print, 0 / 0, math.huge,
      -math.huge, 0, -1, 1.5, math.maxinteger, math.mininteger, 1e300, coroutine.create(print) }
    local keys = { "sep", "delim_whitespace", "header", "skip", "nrows", "usecols", "on_bad_lines", "dtype",
      "allow_nonfinite", "max_bytes" }
    local calls = 0
    for _, k in ipairs(keys) do
      for _, v in ipairs(values) do
        for _, header in ipairs({ false, true }) do
          local opts = { [k] = v }
          if k ~= "header" then opts.header = header end
          local ok, r = pcall(D.read_csv, p, opts)
          calls = calls + 1
          if ok then
            assert.is_true(lunet.is_tensor(r), k)
          else
            assert.are.equal("string", type(r))
            assert.is_truthy(r:find("^read_csv: "), r)
          end
        end
      end
    end
    assert.are.equal(#keys * #values * 2, calls)
  end)

  it("checks every option before opening the file", function()
    fails("read_csv: nrows must be an integer >= 0, got -1", D.read_csv, path("missing.csv"), { nrows = -1 })
    fails("read_csv: usecols[1] = 0 is not a column position", D.read_csv, path("missing.csv"), { usecols = { 0 } })
  end)
end)
