-- lunet.plot: SVG line charts, histograms and training curves.
local lunet = require("lunet")
local S = require("support")

local plot = lunet.plot
local fmt = string.format
local NaN, inf = 0 / 0, math.huge


local xml_check = S.xml_check

local has_xmllint = select(2, S.run("command -v xmllint")) == 0

local dir
setup(function()
  dir = S.tmpdir()
end)
teardown(function()
  S.remove_tmpdir(dir)
end)

local read = S.read_file

-- Well-formed by our checker, by xmllint when present, and an SVG 1.1 root.
local function valid(svg)
  xml_check(svg)
  assert.is_truthy(svg:find('<svg xmlns="http://www.w3.org/2000/svg" version="1.1"', 1, true))
  assert.is_nil(svg:find("<script", 1, true))
  assert.is_nil(svg:find("href", 1, true))
  assert.is_nil(svg:lower():find("nan", 1, true), "NaN in the SVG")
  assert.is_nil(svg:lower():find("inf", 1, true), "inf in the SVG")
  if has_xmllint then
    local p = dir .. "/check.svg"
    local f = assert(io.open(p, "wb"))
    f:write(svg)
    f:close()
    local out, code = S.run("xmllint --noout " .. p, true)
    assert.are.equal(0, code, out)
  end
  return svg
end

local function count(svg, tag)
  return select(2, svg:gsub("<" .. tag .. "[%s/>]", ""))
end

local function unescape(s)
  return (s:gsub("&(%a+);", { amp = "&", lt = "<", gt = ">", quot = '"', apos = "'" }))
end

-- The texts of <text class="CLASS" ...> elements, unescaped.
local function texts(svg, class)
  local out = {}
  for t in svg:gmatch('<text class="' .. class:gsub("%-", "%%-") .. '"[^>]*>([^<]*)</text>') do
    out[#out + 1] = unescape(t)
  end
  return out
end

local function tick_values(svg, axis)
  local v = {}
  for i, t in ipairs(texts(svg, "tick " .. axis)) do v[i] = assert(tonumber(t), t) end
  return v
end

local function legend_labels(svg)
  local g = assert(svg:match('<g class="legend"[^>]*>(.-)</g>'), "no legend")
  return texts(g, "legend-label")
end

-- Ticks evenly spaced by 1, 2 or 5 x 10^k; when lo/hi are given, covering them.
local function assert_nice(ticks, lo, hi)
  assert.is_true(#ticks >= 2, "fewer than 2 ticks")
  local step = ticks[2] - ticks[1]
  assert.is_true(step > 0)
  for i = 2, #ticks do
    assert.near(step, ticks[i] - ticks[i - 1], step * 1e-6)
  end
  local m = step / 10 ^ math.floor(math.log(step, 10) + 1e-9)
  local ok = false
  for _, want in ipairs({ 1, 2, 5, 10 }) do
    if math.abs(m - want) < 1e-6 then ok = true end
  end
  assert.is_true(ok, "step " .. step .. " is not 1, 2 or 5 x 10^k")
  if lo then
    assert.is_true(ticks[1] <= lo + step * 1e-9, fmt("first tick %s above %s", ticks[1], lo))
    assert.is_true(ticks[#ticks] >= hi - step * 1e-9, fmt("last tick %s below %s", ticks[#ticks], hi))
  end
  return step
end

local fails = S.fails

local function range(n, f)
  local t = {}
  for i = 1, n do t[i] = f(i) end
  return t
end

---------------------------------------------------------------------------

describe("the spec's XML checker", function()
  it("accepts well-formed and rejects broken documents", function()
    assert.are.equal(2, xml_check('<?xml version="1.0"?>\n<a x="1" y=\'&lt;&#38;&#x26;\'><b/>t &amp; u</a>\n'))
    for _, doc in ipairs({ "<a><b></a></b>", "<a x=1/>", "<a>&foo;</a>", "<a>x & y</a>", "<a>1 > 0</a>",
      '<a x="1"y="2"/>', '<a x="<"/>', '<a x="1" x="2"/>', "<a>", "<a/><b/>", "text<a/>" }) do
      assert.is_false(pcall(xml_check, doc), doc)
    end
  end)
end)

describe("lunet.plot.line", function()
  local function two_series()
    local xs = range(94, function(i) return (i - 1) / 10 end) -- 0 .. 9.3
    return {
      { x = xs, y = range(94, function(i) return math.sin(xs[i]) end), label = "sin" },
      { x = xs, y = range(94, function(i) return xs[i] / 2 end), label = "half <&> \"q\"" },
    }
  end

  it("loads lazily as lunet.plot", function()
    assert.are.equal(require("lunet.plot"), lunet.plot)
    assert.are.equal(10, #plot.palette)
  end)

  it("draws one path per series, escapes labels in the legend and has a title and axis labels", function()
    local svg = valid(plot.svg_line({ series = two_series(), title = "T & <t>", xlabel = "x <in>", ylabel = "y" }))
    assert.are.equal(2, count(svg, "path"))
    assert.are.equal(0, count(svg, "polyline"))
    assert.are.same({ "sin", 'half <&> "q"' }, legend_labels(svg))
    assert.is_truthy(svg:find("half &lt;&amp;&gt; &quot;q&quot;", 1, true))
    assert.is_nil(svg:find("<&>", 1, true))
    assert.are.same({ "T & <t>" }, texts(svg, "title"))
    assert.are.same({ "x <in>" }, texts(svg, "xlabel"))
    assert.are.same({ "y" }, texts(svg, "ylabel"))
    assert.is_truthy(svg:find('fill="#ffffff"', 1, true))
    -- the two colours are the palette's first two
    assert.is_truthy(svg:find('class="series"[^>]*stroke="' .. plot.palette[1] .. '"'))
    assert.is_truthy(svg:find('class="series"[^>]*stroke="' .. plot.palette[2] .. '"'))
  end)

  it("has nice ticks covering the data on both axes", function()
    local svg = plot.svg_line({ series = two_series() })
    local xt, yt = tick_values(svg, "x"), tick_values(svg, "y")
    assert_nice(xt, 0, 9.3)
    assert_nice(yt, -1, 4.65)
    assert.is_true(#xt >= 4 and #xt <= 11)
    assert.is_true(xt[#xt] <= 10 + 1e-9, "x axis wider than needed")
    for _, case in ipairs({ { 0, 9.3 }, { -0.0031, 0.0072 }, { 1e6, 3.3e7 }, { -250, -3 }, { 0.5, 0.52 },
      { 123456.5, 123457.25 } }) do
      local ticks, labels, step = plot.ticks(case[1], case[2])
      assert.near(step, assert_nice(ticks, case[1], case[2]), step * 1e-9)
      for i, l in ipairs(labels) do assert.near(ticks[i], tonumber(l), step * 1e-6) end
    end
    assert.are.same({ "0", "2", "4", "6", "8", "10" }, select(2, plot.ticks(0, 9.3)))
  end)

  it("breaks the line at NaN and inf, ignores them for the range and writes no nan", function()
    local y = { 1, 2, NaN, 4, 5, inf, 7, -inf, 9, 10 }
    local svg = valid(plot.svg_line({ series = { { y = y, label = "gappy" } }, markers = true }))
    assert.are.equal(1, count(svg, "path"))
    local d = svg:match('<path class="series" d="([^"]*)"')
    assert.are.equal(4, select(2, d:gsub("M", ""))) -- 1-2, 4-5, 7, 9-10
    assert.is_truthy(d:find("h0", 1, true))         -- the lone point 7 is a dot
    assert.are.equal(7, count(svg, "circle"))
    local yt = tick_values(svg, "y")
    assert_nice(yt, 1, 10)
    assert.is_true(yt[#yt] <= 10 and yt[1] >= 0)
  end)

  it("pads constant data and takes tensors and a default x", function()
    for _, c in ipairs({ 0, 5, -3e-7, 1e12 }) do
      local svg = valid(plot.svg_line({ series = { { y = lunet.full({ 6 }, c) } } }))
      local yt = tick_values(svg, "y")
      assert_nice(yt, c, c)
      assert_nice(tick_values(svg, "x"), 1, 6)
    end
    local svg = valid(plot.svg_line({ series = { { x = lunet.arange(0, 5), y = lunet.tensor({ 3, 1, 4, 1, 5 }) } } }))
    assert.are.equal(1, count(svg, "path"))
    assert.are.same({ "series 1" }, legend_labels(svg))
    valid(plot.svg_line({ series = { { y = { 42 } } } })) -- one point
  end)

  it("shades lo/hi bands behind the lines", function()
    local y = range(20, function(i) return i end)
    local lo = range(20, function(i) return i - 1 end)
    local hi = range(20, function(i) return i + 1 end)
    hi[10] = NaN
    local svg = valid(plot.svg_line({ series = { { y = y, lo = lo, hi = hi, label = "m" }, { y = y } } }))
    assert.are.equal(2, count(svg, "polygon")) -- split at the NaN
    assert.are.equal(2, count(svg, "path"))
    assert.is_truthy(svg:find('<polygon class="band"[^>]*fill="' .. plot.palette[1] .. '" fill%-opacity="0.2"'))
    assert.is_true(svg:find("<polygon", 1, true) < svg:find("<path", 1, true))
    assert_nice(tick_values(svg, "y"), 0, 21)
  end)

  it("has a log10 y axis with ylog and keeps xmin..ymax overrides", function()
    local svg = valid(plot.svg_line({ series = { { y = { 0.02, 1, 30, 0, -5, 4000 } } }, ylog = true }))
    local yt = tick_values(svg, "y")
    assert.is_true(yt[1] <= 0.02 and yt[#yt] >= 4000)
    for _, v in ipairs(yt) do
      local e = math.log(v, 10)
      assert.near(math.floor(e + 0.5), e, 1e-9)
    end
    local d = svg:match('<path class="series" d="([^"]*)"')
    assert.are.equal(2, select(2, d:gsub("M", ""))) -- 0 and -5 break the line
    svg = valid(plot.svg_line({ series = { { y = { 1, 2, 3, 40 } } }, xmin = 1.5, xmax = 3.5, ymin = 0, ymax = 5 }))
    local xt, yt2 = tick_values(svg, "x"), tick_values(svg, "y")
    assert.is_true(xt[1] >= 1.5 and xt[#xt] <= 3.5)
    assert.are.equal(0, yt2[1])
    assert.are.equal(5, yt2[#yt2])
  end)

  it("keeps the XML well-formed with odd labels and many series", function()
    local series = {}
    for i = 1, 12 do series[i] = { y = { i, i + 1, i * 2 }, label = i == 1 and "bad\1\255utf8 ]]> '\"" or i } end
    local svg = valid(plot.svg_line({ series = series, title = string.rep("long title ", 30), width = 300, height = 200 }))
    assert.are.equal(12, count(svg, "path"))
    local colours = {}
    for c in svg:gmatch('class="series"[^>]*stroke="(#%x+)"') do colours[c] = true end
    local n = 0
    for _ in pairs(colours) do n = n + 1 end
    assert.are.equal(10, n)
  end)

  it("writes the file through a .tmp and returns the path", function()
    local spec = { series = two_series(), title = "f" }
    local p = dir .. "/line.svg"
    assert.are.equal(p, plot.line(spec, p))
    assert.are.equal(plot.svg_line(spec), read(p))
    assert.is_nil(io.open(p .. ".tmp", "rb"))
    local err = fails("plot.line: cannot write", function() plot.line(spec, dir .. "/no/such/dir/x.svg") end)
    assert.is_truthy(err:find("plot_spec.lua", 1, true), "error should point at the caller: " .. err)
  end)

  it("raises errors naming the function and the bad value", function()
    local line = plot.svg_line
    fails("plot.svg_line: spec.series is missing", line, {})
    fails("plot.svg_line: spec.series is empty", line, { series = {} })
    fails("plot.line: spec.series is empty", plot.line, { series = {} }, dir .. "/e.svg")
    fails("plot.svg_line: series 1: x has 3 values but y has 2", line, { series = { { x = { 1, 2, 3 }, y = { 1, 2 } } } })
    fails("plot.svg_line: series 2 y[2] must be a number, got \"a\"", line,
      { series = { { y = { 1 } }, { y = { 1, "a" } } } })
    fails("plot.svg_line: series 1 y must be an array of numbers or a tensor", line, { series = { { y = 3 } } })
    fails("plot.svg_line: series 1 y must be a 1-d tensor", line, { series = { { y = lunet.zeros(2, 3) } } })
    fails("plot.svg_line: series 1: y is empty", line, { series = { { y = {} } } })
    fails("plot.svg_line: series 1: lo and hi go together", line, { series = { { y = { 1 }, lo = { 0 } } } })
    fails("plot.svg_line: ymin must be positive with ylog", line, { series = { { y = { 1 } } }, ylog = true, ymin = 0 })
    fails("plot.svg_line: xmin (2) must be less than xmax (1)", line, { series = { { y = { 1 } } }, xmin = 2, xmax = 1 })
    fails("plot.svg_line: width must be a finite number", line, { series = { { y = { 1 } } }, width = "wide" })
    fails("plot.line: path must be a file name", plot.line, { series = { { y = { 1 } } } })
  end)
end)

describe("lunet.plot.histogram", function()
  it("counts like numpy.histogram", function()
    local v = range(10, function(i) return i - 1 end) -- 0 .. 9
    local counts, edges = plot.histogram(v, 5, { 0, 10 })
    assert.are.same({ 2, 2, 2, 2, 2 }, counts)
    assert.are.same({ 0, 2, 4, 6, 8, 10 }, edges)
    -- default range min..max: the max goes in the last bin
    counts, edges = plot.histogram(v, 5)
    assert.are.same({ 2, 2, 2, 2, 2 }, counts)
    assert.are.equal(0, edges[1])
    assert.are.equal(9, edges[6])
    assert.are.same({ 1, 0, 0, 1 }, (plot.histogram({ 0, 1 }, 4)))
    -- NaN, inf and values outside the range are not counted
    counts = plot.histogram({ 0.5, NaN, inf, -inf, 1.5, 10, -1, 2 }, 2, { 0, 2 })
    assert.are.same({ 1, 2 }, counts)
    -- all equal: numpy's range value +- 0.5
    counts, edges = plot.histogram({ 3, 3, 3 }, 2)
    assert.are.same({ 0, 3 }, counts)
    assert.are.same({ 2.5, 3, 3.5 }, edges)
    assert.are.same({ 0, 0, 0 }, (plot.histogram({}, 3)))
    assert.are.equal(50, #plot.histogram({ 1, 2 }))
  end)

  it("puts values on an edge in the upper bin despite rounding", function()
    local counts = plot.histogram({ 0.1, 0.2, 0.3, 0.7 }, 10, { 0, 1 })
    local _, edges = plot.histogram({}, 10, { 0, 1 })
    local want = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 }
    for _, v in ipairs({ 0.1, 0.2, 0.3, 0.7 }) do
      for i = 1, 10 do
        if v >= edges[i] and v < edges[i + 1] then want[i] = want[i] + 1 end
      end
    end
    assert.are.same(want, counts)
  end)

  it("flattens tensors of any shape", function()
    local t = lunet.tensor({ { 0, 1, 2 }, { 3, NaN, 5 } })
    assert.are.same({ 2, 2, 1 }, (plot.histogram(t, 3, { 0, 6 })))
    assert.are.same({ 1, 1 }, (plot.histogram(lunet.tensor({ 1, 2 }):int(), 2)))
  end)

  it("rejects bad bins and ranges", function()
    for _, b in ipairs({ 0, -1, 2.5, "5", true }) do
      fails("plot.histogram: bins must be a positive integer", plot.histogram, { 1 }, b)
    end
    fails("plot.histogram: range must be {lo, hi}", plot.histogram, { 1 }, 3, { 2, 1 })
    fails("plot.histogram: range must be {lo, hi}", plot.histogram, { 1 }, 3, { 0, inf })
    fails("plot.histogram: values[2] must be a number", plot.histogram, { 1, {} })
  end)
end)

describe("lunet.plot.hist", function()
  local function bar_counts(svg)
    local total, by_label = 0, {}
    for label, n in svg:gmatch('<rect class="bar"[^>]*><title>([^<]-): [^<]- n=(%d+)</title>') do
      label = unescape(label)
      total = total + tonumber(n)
      by_label[label] = (by_label[label] or 0) + tonumber(n)
    end
    return total, by_label
  end

  it("overlays series on common bins; bar counts sum to the finite values", function()
    S.seed(71)
    local a = lunet.randn(500)
    local b = (lunet.randn(10, 30) + 1):totable()
    local flat = {}
    for _, row in ipairs(b) do for _, v in ipairs(row) do flat[#flat + 1] = v end end
    flat[3], flat[7] = NaN, inf
    local svg = valid(plot.svg_hist({ series = { { values = a, label = "a <1>" }, { values = flat, label = "b" } },
      bins = 30, title = "h" }))
    local total, by = bar_counts(svg)
    assert.are.equal(500 + 298, total)
    assert.are.same({ ["a <1>"] = 500, b = 298 }, by)
    assert.are.same({ "a <1>", "b" }, legend_labels(svg))
    assert.are.equal(2, count(svg, "path")) -- one step outline per series
    assert.is_truthy(svg:find('class="bars" fill="' .. plot.palette[2] .. '" fill%-opacity="0.3"'))
    assert.are.same({ "count" }, texts(svg, "ylabel"))
    local yt = tick_values(svg, "y")
    assert.are.equal(0, yt[1])
    assert_nice(yt)
    -- common edges: same bar widths in both series
    local widths = {}
    for wd in svg:gmatch('<rect class="bar"[^>]*width="([%d.]+)"') do widths[wd] = true end
    local n = 0
    for _ in pairs(widths) do n = n + 1 end
    assert.is_true(n <= 3, "bars of " .. n .. " widths")
  end)

  it("keeps to the range option and ignores values outside it", function()
    local svg = valid(plot.svg_hist({ series = { { values = { -5, 0, 1, 2, 3, 50 } } }, bins = 4, range = { 0, 4 } }))
    assert.are.equal(4, (bar_counts(svg)))
    local xt = tick_values(svg, "x")
    assert.is_true(xt[1] >= 0 and xt[#xt] <= 4)
    assert_nice(xt)
  end)

  it("normalizes to area 1 with density", function()
    S.seed(72)
    local svg = valid(plot.svg_hist({ series = { { values = lunet.rand(400) * 3 } }, bins = 12, range = { 0, 3 },
      density = true }))
    assert.are.same({ "density" }, texts(svg, "ylabel"))
    -- pixel scale from the y tick labels and their positions
    local ys = {}
    for y in svg:gmatch('<text class="tick y" x="[^"]*" y="([^"]*)"') do ys[#ys + 1] = tonumber(y) end
    local yt = tick_values(svg, "y")
    local per_unit = (ys[1] - ys[#ys]) / (yt[#yt] - yt[1])
    local area = 0
    for h in svg:gmatch('<rect class="bar"[^>]*height="([^"]*)"') do area = area + tonumber(h) / per_unit * 0.25 end
    assert.near(1, area, 0.01)
  end)

  it("draws small multiples with layout = \"grid\"", function()
    local series = {}
    for i = 1, 6 do series[i] = { values = range(50, function(j) return j * i end), label = "layer " .. i } end
    local svg = valid(plot.svg_hist({ series = series, layout = "grid", cols = 4, bins = 10, title = "weights" }))
    assert.are.equal(6, count(svg, 'g class="panel"'))
    assert.are.same({ "layer 1", "layer 2", "layer 3", "layer 4", "layer 5", "layer 6" }, texts(svg, "panel-title"))
    assert.are.equal(300, (bar_counts(svg)))
    -- shared x range: every panel has the same x ticks
    local xt = texts(svg, "tick x")
    assert.are.equal(0, #xt % 6)
    local per = #xt // 6
    for i = per + 1, #xt do assert.are.equal(xt[i - per], xt[i]) end
    -- panels in 2 rows of up to 4
    local pos = {}
    for y in svg:gmatch('<text class="panel%-title" x="[^"]*" y="([^"]*)"') do pos[y] = true end
    local rows = 0
    for _ in pairs(pos) do rows = rows + 1 end
    assert.are.equal(2, rows)
  end)

  it("raises errors naming the function", function()
    fails("plot.svg_hist: spec.series is missing", plot.svg_hist, {})
    fails("plot.hist: spec.series is empty", plot.hist, { series = {} }, dir .. "/h.svg")
    fails("plot.svg_hist: bins must be a positive integer, got 0", plot.svg_hist, { series = { { values = { 1 } } }, bins = 0 })
    fails("plot.svg_hist: bins must be a positive integer, got 1.5", plot.svg_hist,
      { series = { { values = { 1 } } }, bins = 1.5 })
    fails("plot.svg_hist: series 1 values[1] must be a number", plot.svg_hist, { series = { { values = { "x" } } } })
    fails("plot.svg_hist: series 1 has no values", plot.svg_hist, { series = { { label = "x" } } })
    fails("plot.svg_hist: layout must be", plot.svg_hist, { series = { { values = { 1 } } }, layout = "stack" })
    fails("plot.hist: cannot write", plot.hist, { series = { { values = { 1 } } } }, dir .. "/nope/h.svg")
  end)

  it("writes the file", function()
    local spec = { series = { { values = { 1, 2, 2, 3 } } }, bins = 3 }
    local p = dir .. "/hist.svg"
    assert.are.equal(p, plot.hist(spec, p))
    assert.are.equal(valid(plot.svg_hist(spec)), read(p))
  end)
end)

describe("lunet.plot.history", function()
  local h = {
    history = {
      loss = { 1.2, 0.8, 0.6, 0.5 }, val_loss = { 1.3, 0.9, NaN, 0.7 },
      accuracy = { 0.5, 0.7, 0.8, 0.85 }, val_accuracy = { 0.45, 0.65, 0.7, 0.72 },
      mae = { 3, 2, 1.5, 1.2 }, lr = { 0.1, 0.1, 0.01, 0.01 },
    },
    epoch = { 0, 1, 2, 3 },
  }

  it("draws one panel per metric, loss first, train and val, no lr", function()
    local svg = valid(plot.svg_history(h, { title = "run 1" }))
    assert.are.equal(3, count(svg, 'g class="panel"'))
    assert.are.same({ "loss", "accuracy", "mae" }, texts(svg, "panel-title"))
    assert.are.same({ "run 1" }, texts(svg, "title"))
    assert.are.equal(5, count(svg, "path")) -- 2 + 2 + 1
    assert.are.same({ "epoch", "epoch", "epoch" }, texts(svg, "xlabel"))
    assert.is_nil(svg:find(">lr<", 1, true))
    local legends = {}
    for g in svg:gmatch('<g class="legend"[^>]*>(.-)</g>') do legends[#legends + 1] = texts(g, "legend-label") end
    assert.are.same({ { "train", "val" }, { "train", "val" }, { "train" } }, legends)
    -- 1-based epochs, whole numbers
    for _, v in ipairs(tick_values(svg, "x")) do
      assert.are.equal(math.floor(v), v)
      assert.is_true(v >= 1 and v <= 4)
    end
  end)

  it("accepts a plain table of metric arrays and uses history.epoch", function()
    local svg = valid(plot.svg_history({ loss = { 3, 2 }, val_acc = { 0.5, 0.6 } }))
    assert.are.same({ "loss", "acc" }, texts(svg, "panel-title"))
    local svg2 = valid(plot.svg_history({ history = { loss = { 3, 2, 1 } }, epoch = { 10, 11, 12 } }))
    local xt = tick_values(svg2, "x")
    assert.is_true(xt[1] >= 11 and xt[#xt] == 13)
  end)

  it("plots what model:fit returns and writes the file", function()
    S.seed(73)
    local nn = lunet.nn
    local m = nn.Sequential({ nn.Dense(4, { activation = "relu", input_shape = { 3 } }),
      nn.Dense(2, { activation = "softmax" }) })
    m:compile({ optimizer = "sgd", loss = "categorical_crossentropy", metrics = { "accuracy" } })
    local x = lunet.randn(40, 3)
    local y = lunet.losses.one_hot("t", x:narrow(2, 1, 1):reshape(40):gt(0):double(), 2)
    local hist = m:fit(x, y, { epochs = 3, batch_size = 10, verbose = 0, validation_split = 0.25 })
    local p = dir .. "/history.svg"
    assert.are.equal(p, plot.history(hist, p))
    local svg = valid(read(p))
    assert.are.equal(2, count(svg, 'g class="panel"'))
    assert.are.equal(4, count(svg, "path"))
  end)

  it("raises errors naming the function", function()
    fails("plot.svg_history: history must be a table", plot.svg_history, 3)
    fails("plot.svg_history: no metrics to plot", plot.svg_history, { lr = { 1 } })
    fails("plot.svg_history: no metrics to plot", plot.svg_history, { history = {} })
    fails("plot.svg_history: metric \"loss\"[2] must be a number", plot.svg_history, { loss = { 1, "x" } })
    fails("plot.history: path must be a file name", plot.history, h, nil)
    fails("plot.history: cannot write", plot.history, h, dir .. "/nope/x.svg")
  end)
end)
