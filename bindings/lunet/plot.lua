--- Plots as self-contained SVG files: line charts, histograms and training curves.
-- No dependency, no script, no external font or stylesheet: each file is plain
-- SVG 1.1 with a white background, axes with 1/2/5 x 10^k ticks, a title, axis
-- labels and a legend, in a fixed palette of 10 colours.
--
--    local plot = require("lunet").plot
--    plot.line({series = {{x = xs, y = ys, label = "selu"}}, title = "activations"}, "act.svg")
--    plot.hist({series = {{values = w, label = "dense_1"}}, bins = 50}, "w.svg")
--    plot.history(model:fit(x, y, {validation_split = 0.1}), "history.svg")
--
-- `svg_line`, `svg_hist` and `svg_history` return the SVG text without writing
-- a file; `histogram` and `ticks` are the binning and tick rules they use.
-- @module lunet.plot
local core = require("lunet.core")
local utils = require("lunet.utils")

local plot = {}
local fmt = string.format
local concat = table.concat
local floor, ceil, huge = math.floor, math.ceil, math.huge

--- The series colours, in order (series 11 reuses the first colour).
plot.palette = {
  "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
  "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf",
}

local CHAR = 0.6    -- average glyph width of a sans-serif font, in font sizes
local TICK_FONT, TEXT_FONT = 11, 12

-- -------------------------------------------------------------------------
-- Errors
-- -------------------------------------------------------------------------

-- Errors found deep inside a plot are thrown as PlotError objects; the public
-- wrapper re-raises their message with level 2, so it points at the caller.
local PlotError = {}

local function fail(name, msg, ...)
  error(setmetatable({ msg = name .. ": " .. fmt(msg, ...) }, PlotError), 0)
end

local function public(name, impl)
  return function(...)
    local res = table.pack(pcall(impl, name, ...))
    if res[1] then return table.unpack(res, 2, res.n) end
    local e = res[2]
    if getmetatable(e) == PlotError then error(e.msg, 2) end
    error(e, 0)
  end
end

-- A short description of a bad value for an error message.
local describe = require("lunet.check").describe

-- -------------------------------------------------------------------------
-- Values and options
-- -------------------------------------------------------------------------

local function finite(v)
  return v == v and v < huge and v > -huge
end

local function log10(v)
  if v > 0 then return math.log(v, 10) end
  return 0 / 0
end

-- A Lua array of numbers from an array or a tensor; tensors must be vectors
-- (at most one dimension above 1) unless flatten is set.
local function numbers(name, what, v, flatten)
  if core.is_tensor(v) then
    if not flatten then
      local shape, big = v:shape(), 0
      for _, d in ipairs(shape) do
        if d > 1 then big = big + 1 end
      end
      if big > 1 then
        fail(name, "%s must be a 1-d tensor, got shape {%s}", what, concat(shape, ", "))
      end
    end
    local n = v:numel()
    if n == 0 then return {} end
    return v:reshape(n):double():totable()
  end
  if type(v) ~= "table" then
    fail(name, "%s must be an array of numbers or a tensor, got %s", what, describe(v))
  end
  for i = 1, #v do
    if type(v[i]) ~= "number" then
      fail(name, "%s[%d] must be a number, got %s", what, i, describe(v[i]))
    end
  end
  return v
end

local function check_table(name, what, v)
  if type(v) ~= "table" then fail(name, "%s must be a table, got %s", what, describe(v)) end
  return v
end

local function opt_text(name, what, v, default)
  if v == nil then return default end
  if type(v) ~= "string" and type(v) ~= "number" then
    fail(name, "%s must be a string, got %s", what, describe(v))
  end
  return tostring(v)
end

local function opt_num(name, spec, key, default, min)
  local v = spec[key]
  if v == nil then return default end
  if type(v) ~= "number" or not finite(v) or (min and v < min) then
    fail(name, "%s must be a finite number%s, got %s", key, min and fmt(" >= %s", min) or "", describe(v))
  end
  return v
end

local function opt_int(name, spec, key, default)
  local v = spec[key]
  if v == nil then return default end
  local i = type(v) == "number" and math.tointeger(v)
  if not i or i < 1 then fail(name, "%s must be a positive integer, got %s", key, describe(v)) end
  return i
end

local function opt_bool(name, spec, key)
  local v = spec[key]
  if v ~= nil and type(v) ~= "boolean" then
    fail(name, "%s must be a boolean, got %s", key, describe(v))
  end
  return v == true
end

local function opt_color(name, what, v, i)
  if v == nil then return plot.palette[(i - 1) % #plot.palette + 1] end
  if type(v) ~= "string" or not (v:match("^#%x+$") or v:match("^%a+$")) then
    fail(name, "%s must be a colour like \"#1f77b4\" or \"red\", got %s", what, describe(v))
  end
  return v
end

-- -------------------------------------------------------------------------
-- Text and numbers in SVG
-- -------------------------------------------------------------------------

local ENTITIES = { ["&"] = "&amp;", ["<"] = "&lt;", [">"] = "&gt;", ['"'] = "&quot;", ["'"] = "&apos;" }

-- Text that XML 1.0 accepts: valid UTF-8 (else bytes >= 128 become "?") and
-- no control characters.
local function clean(s)
  s = tostring(s)
  if not utf8.len(s) then s = s:gsub("[\128-\255]", "?") end
  return (s:gsub("[%z\1-\8\11\12\14-\31\127]", ""))
end

local function esc(s)
  return (s:gsub("[&<>\"']", ENTITIES))
end

local function text_len(s)
  return utf8.len(s) or #s
end

local function truncate(s, maxc)
  if text_len(s) <= maxc then return s end
  return s:sub(1, utf8.offset(s, maxc) - 1) .. "\u{2026}"
end

-- A pixel coordinate: 2 decimals at most, clamped, never "nan" or "inf".
local function cn(v)
  if v ~= v then v = 0 end
  if v > 1e6 then v = 1e6 elseif v < -1e6 then v = -1e6 end
  local s = fmt("%.2f", v):gsub("0+$", ""):gsub("%.$", "")
  if s == "-0" then s = "0" end
  return s
end

local function put(b, f, ...)
  b[#b + 1] = fmt(f, ...)
end

-- -------------------------------------------------------------------------
-- Ticks
-- -------------------------------------------------------------------------

-- A step m * 10^e with m in {1, 2, 5} close to span / target.
local function nice_step(span, target)
  local raw = span / target
  local e = floor(math.log(raw, 10))
  local norm = raw / 10 ^ e
  local m
  if norm <= 1 then m = 1 elseif norm <= 2 then m = 2 elseif norm <= 5 then m = 5 else m, e = 1, e + 1 end
  return m, e
end

local function scaled(i, m, e)
  if e >= 0 then return i * m * 10 ^ e end
  return i * m / 10 ^ -e
end

local function tick_label(v, e, maxabs, log)
  if log then return fmt("%g", 10 ^ v) end
  local s
  if maxabs >= 1e6 or e < -5 then
    local sig = floor(math.log(maxabs, 10)) - e + 1
    sig = math.max(1, math.min(17, sig))
    s = fmt("%." .. sig .. "g", v)
  else
    s = fmt("%." .. math.max(0, -e) .. "f", v)
  end
  if s:match("^%-0%.?0*$") then s = s:sub(2) end
  return s
end

-- An axis over the data extent lo..hi (nil: no finite data).
-- o.min / o.max: fixed ends; o.expand (default true): widen the free ends to
-- whole steps; o.integer: steps of at least 1; o.log: values are log10 and
-- labels show 10^v; o.spacing: about that many pixels between ticks.
-- Returns {lo, hi, ticks, labels, step}.
local function make_axis(lo, hi, length, o)
  o = o or {}
  -- in floats: integer ends (math.mininteger) would wrap in the padding below
  local fixlo, fixhi = o.min and o.min + 0.0, o.max and o.max + 0.0
  if lo == nil then lo, hi = 0, 1 end
  lo, hi = lo + 0.0, hi + 0.0
  if fixlo then
    lo = fixlo
    if hi < lo then hi = lo end
  end
  if fixhi then
    hi = fixhi
    if lo > hi then lo = hi end
  end
  if hi - lo <= math.max(math.abs(lo), math.abs(hi)) * 1e-9 then
    -- constant data: pad the range so that nothing divides by zero
    local pad = lo == 0 and 1 or math.abs(lo) * 0.1
    if o.log or o.integer then pad = math.max(pad, 0.5) end
    if fixlo and not fixhi then
      hi = lo + pad
    elseif fixhi and not fixlo then
      lo = hi - pad
    else
      lo, hi = lo - pad, hi + pad
    end
  end
  local span = hi - lo
  if not finite(span) then
    -- values near the largest double: two plain ticks
    return { lo = lo, hi = hi, ticks = { lo, hi }, labels = { fmt("%.3g", lo), fmt("%.3g", hi) } }
  end
  local target = math.max(2, math.min(10, length / (o.spacing or 80)))
  local m, e = nice_step(span, target)
  if (o.integer or o.log) and e < 0 then m, e = 1, 0 end
  local step = scaled(1, m, e)
  local expand = o.expand ~= false
  local i0 = (fixlo or not expand) and ceil(lo / step - 1e-9) or floor(lo / step + 1e-9)
  local i1 = (fixhi or not expand) and floor(hi / step + 1e-9) or ceil(hi / step - 1e-9)
  if expand then
    if not fixlo then lo = scaled(i0, m, e) end
    if not fixhi then hi = scaled(i1, m, e) end
  end
  if not (i1 - i0 <= 1000) then -- steps below the resolution of doubles this far out
    return { lo = lo, hi = hi, ticks = { lo, hi }, labels = { fmt("%.3g", lo), fmt("%.3g", hi) } }
  end
  local ticks, labels = {}, {}
  local maxabs = math.max(math.abs(lo), math.abs(hi))
  for i = i0, i1 do
    local v = scaled(i, m, e)
    ticks[#ticks + 1] = v
    labels[#labels + 1] = tick_label(v, e, maxabs, o.log)
  end
  return { lo = lo, hi = hi, ticks = ticks, labels = labels, step = step }
end

-- -------------------------------------------------------------------------
-- Document and panels
-- -------------------------------------------------------------------------

local function new_doc(w, h, title)
  local b = {}
  put(b, '<?xml version="1.0" encoding="UTF-8" standalone="no"?>\n')
  put(b, '<svg xmlns="http://www.w3.org/2000/svg" version="1.1" width="%s" height="%s" ' ..
    'viewBox="0 0 %s %s" font-family="Helvetica, Arial, sans-serif" font-size="%d">\n',
    cn(w), cn(h), cn(w), cn(h), TEXT_FONT)
  if title then put(b, "<title>%s</title>\n", esc(title)) end
  put(b, '<rect class="background" x="0" y="0" width="%s" height="%s" fill="#ffffff"/>\n', cn(w), cn(h))
  local doc = { b = b, w = w, h = h, top = 0, nclip = 0 }
  if title then
    put(b, '<text class="title" x="%s" y="24" text-anchor="middle" font-size="16" font-weight="bold" ' ..
      'fill="#222222">%s</text>\n', cn(w / 2), esc(truncate(title, floor((w - 20) / (16 * CHAR)))))
    doc.top = 34
  end
  return doc
end

local function finish(doc)
  doc.b[#doc.b + 1] = "</svg>\n"
  return concat(doc.b)
end

local function mapper(d0, d1, p0, p1)
  local k = (p1 - p0) / (d1 - d0)
  return function(v) return p0 + (v - d0) * k end
end

-- Legend entries {label, color, kind = "line" | "box"}, in a column from
-- (x, y) (pos "right") or in a row (pos "top").
local function draw_legend(b, entries, x, y, pos, maxc)
  put(b, '<g class="legend" font-size="%d" fill="#222222">\n', TEXT_FONT)
  for i, e in ipairs(entries) do
    local label = truncate(e.label, maxc)
    local ly = pos == "right" and y + (i - 1) * 18 or y
    if e.kind == "box" then
      put(b, '<rect x="%s" y="%s" width="18" height="10" fill="%s" fill-opacity="0.4" stroke="%s"/>\n',
        cn(x), cn(ly - 5), e.color, e.color)
    else
      put(b, '<line x1="%s" y1="%s" x2="%s" y2="%s" stroke="%s" stroke-width="2"/>\n',
        cn(x), cn(ly), cn(x + 18), cn(ly), e.color)
    end
    put(b, '<text class="legend-label" x="%s" y="%s" dy="0.35em">%s</text>\n', cn(x + 24), cn(ly), esc(label))
    if pos == "top" then x = x + 24 + text_len(label) * TEXT_FONT * CHAR + 16 end
  end
  b[#b + 1] = "</g>\n"
end

-- Draw one panel (axes, grid, ticks, labels, legend) in the cell {x, y, w, h}.
-- p: title, xlabel, ylabel, xlo/xhi and ylo/yhi (finite data extent or nil),
-- xaxis/yaxis (make_axis options), legend (entries), legend_pos ("right" or
-- "top"), draw(b, sx, sy) which draws the data, clipped to the plot area.
local function panel(doc, cell, p)
  local b = doc.b
  local legend = p.legend and #p.legend > 0 and p.legend or nil
  local top = cell.y + (p.title and 28 or 12)
  if legend and p.legend_pos == "top" then top = top + 20 end
  local bottom = cell.y + cell.h - (p.xlabel and 44 or 28)
  local right = cell.x + cell.w - 14
  local maxc = 40
  if legend and p.legend_pos == "right" then
    local longest = 0
    for _, e in ipairs(legend) do longest = math.max(longest, text_len(e.label)) end
    local lw = math.min(cell.w * 0.35, 26 + longest * TEXT_FONT * CHAR)
    maxc = math.max(3, floor((lw - 26) / (TEXT_FONT * CHAR)))
    right = right - lw - 12
  elseif legend then
    maxc = math.max(3, floor((cell.w / #legend - 50) / (TEXT_FONT * CHAR)))
  end
  if bottom - top < 20 then bottom = top + 20 end
  local ay = make_axis(p.ylo, p.yhi, bottom - top, p.yaxis or { spacing = 45 })
  local widest = 0
  for _, l in ipairs(ay.labels) do widest = math.max(widest, #l) end
  local left = cell.x + 8 + (p.ylabel and 18 or 0) + widest * TICK_FONT * CHAR + 8
  if right - left < 20 then right = left + 20 end
  local ax = make_axis(p.xlo, p.xhi, right - left, p.xaxis)
  local sx, sy = mapper(ax.lo, ax.hi, left, right), mapper(ay.lo, ay.hi, bottom, top)

  b[#b + 1] = '<g class="panel">\n'
  -- grid
  b[#b + 1] = '<g class="grid" stroke="#e5e5e5" stroke-width="1">\n'
  for _, t in ipairs(ax.ticks) do
    put(b, '<line x1="%s" y1="%s" x2="%s" y2="%s"/>\n', cn(sx(t)), cn(top), cn(sx(t)), cn(bottom))
  end
  for _, t in ipairs(ay.ticks) do
    put(b, '<line x1="%s" y1="%s" x2="%s" y2="%s"/>\n', cn(left), cn(sy(t)), cn(right), cn(sy(t)))
  end
  b[#b + 1] = "</g>\n"
  -- data, clipped to the plot area (3 px of slack for line ends and markers)
  doc.nclip = doc.nclip + 1
  local id = "clip" .. doc.nclip
  put(b, '<defs><clipPath id="%s"><rect x="%s" y="%s" width="%s" height="%s"/></clipPath></defs>\n',
    id, cn(left - 3), cn(top - 3), cn(right - left + 6), cn(bottom - top + 6))
  put(b, '<g class="data" clip-path="url(#%s)">\n', id)
  if p.draw then p.draw(b, sx, sy) end
  b[#b + 1] = "</g>\n"
  -- frame and ticks
  put(b, '<rect class="frame" x="%s" y="%s" width="%s" height="%s" fill="none" stroke="#333333"/>\n',
    cn(left), cn(top), cn(right - left), cn(bottom - top))
  b[#b + 1] = '<g class="ticks" stroke="#333333">\n'
  for _, t in ipairs(ax.ticks) do
    put(b, '<line x1="%s" y1="%s" x2="%s" y2="%s"/>\n', cn(sx(t)), cn(bottom), cn(sx(t)), cn(bottom + 4))
  end
  for _, t in ipairs(ay.ticks) do
    put(b, '<line x1="%s" y1="%s" x2="%s" y2="%s"/>\n', cn(left - 4), cn(sy(t)), cn(left), cn(sy(t)))
  end
  b[#b + 1] = "</g>\n"
  put(b, '<g class="ticklabels" font-size="%d" fill="#333333">\n', TICK_FONT)
  for i, t in ipairs(ax.ticks) do
    put(b, '<text class="tick x" x="%s" y="%s" text-anchor="middle">%s</text>\n',
      cn(sx(t)), cn(bottom + 16), esc(ax.labels[i]))
  end
  for i, t in ipairs(ay.ticks) do
    put(b, '<text class="tick y" x="%s" y="%s" dy="0.35em" text-anchor="end">%s</text>\n',
      cn(left - 7), cn(sy(t)), esc(ay.labels[i]))
  end
  b[#b + 1] = "</g>\n"
  -- labels, title, legend
  local cx = (left + right) / 2
  if p.xlabel then
    put(b, '<text class="xlabel" x="%s" y="%s" text-anchor="middle" fill="#222222">%s</text>\n',
      cn(cx), cn(bottom + 36), esc(truncate(p.xlabel, floor((right - left) / (TEXT_FONT * CHAR)))))
  end
  if p.ylabel then
    local lx, ly = cell.x + 8 + 12, (top + bottom) / 2
    put(b, '<text class="ylabel" x="%s" y="%s" transform="rotate(-90 %s %s)" text-anchor="middle" ' ..
      'fill="#222222">%s</text>\n', cn(lx), cn(ly), cn(lx), cn(ly),
      esc(truncate(p.ylabel, floor((bottom - top) / (TEXT_FONT * CHAR)))))
  end
  if p.title then
    put(b, '<text class="panel-title" x="%s" y="%s" text-anchor="middle" font-size="13" ' ..
      'font-weight="bold" fill="#222222">%s</text>\n', cn(cx), cn(cell.y + 18),
      esc(truncate(p.title, floor(cell.w / (13 * CHAR)))))
  end
  if legend and p.legend_pos == "right" then
    draw_legend(b, legend, right + 12, top + 8, "right", maxc)
  elseif legend then
    draw_legend(b, legend, left + 4, top - 12, "top", maxc)
  end
  b[#b + 1] = "</g>\n"
end

-- -------------------------------------------------------------------------
-- Line series
-- -------------------------------------------------------------------------

-- Widen the extent r = {lo, hi} with v when v is finite.
local function extend(r, v)
  if finite(v) then
    if r.lo == nil or v < r.lo then r.lo = v end
    if r.hi == nil or v > r.hi then r.hi = v end
  end
end

local function series_extent(series, xr, yr)
  for _, s in ipairs(series) do
    for j = 1, #s.y do
      local x = s.x[j]
      if finite(x) then
        if finite(s.y[j]) then
          extend(xr, x)
          extend(yr, s.y[j])
        end
        if s.lo and finite(s.lo[j]) and finite(s.hi[j]) then
          extend(xr, x)
          extend(yr, s.lo[j])
          extend(yr, s.hi[j])
        end
      end
    end
  end
end

local function draw_band(b, s, sx, sy)
  local j, n = 1, #s.y
  while j <= n do
    while j <= n and not (finite(s.x[j]) and finite(s.lo[j]) and finite(s.hi[j])) do j = j + 1 end
    local a = j
    while j <= n and finite(s.x[j]) and finite(s.lo[j]) and finite(s.hi[j]) do j = j + 1 end
    if j - a >= 2 then
      local pts = {}
      for k = a, j - 1 do pts[#pts + 1] = cn(sx(s.x[k])) .. "," .. cn(sy(s.hi[k])) end
      for k = j - 1, a, -1 do pts[#pts + 1] = cn(sx(s.x[k])) .. "," .. cn(sy(s.lo[k])) end
      put(b, '<polygon class="band" points="%s" fill="%s" fill-opacity="0.2" stroke="none"/>\n',
        concat(pts, " "), s.color)
    end
  end
end

local function draw_series(b, s, sx, sy, markers)
  local d, seg = {}, 0
  for j = 1, #s.y do
    local x, y = s.x[j], s.y[j]
    if finite(x) and finite(y) then
      d[#d + 1] = (seg == 0 and "M" or "L") .. cn(sx(x)) .. "," .. cn(sy(y))
      seg = seg + 1
    else
      -- a lone point between gaps: a dot (zero-length segment, round cap)
      if seg == 1 then d[#d + 1] = "h0" end
      seg = 0
    end
  end
  if seg == 1 then d[#d + 1] = "h0" end
  if #d == 0 then return end
  put(b, '<path class="series" d="%s" fill="none" stroke="%s" stroke-width="%s" ' ..
    'stroke-linecap="round" stroke-linejoin="round"/>\n', concat(d, " "), s.color, s.width or 2)
  if markers then
    put(b, '<g class="markers" fill="%s">\n', s.color)
    for j = 1, #s.y do
      if finite(s.x[j]) and finite(s.y[j]) then
        put(b, '<circle cx="%s" cy="%s" r="2.5"/>\n', cn(sx(s.x[j])), cn(sy(s.y[j])))
      end
    end
    b[#b + 1] = "</g>\n"
  end
end

local function draw_lines(series, markers)
  return function(b, sx, sy)
    for _, s in ipairs(series) do
      if s.lo then draw_band(b, s, sx, sy) end
    end
    for _, s in ipairs(series) do draw_series(b, s, sx, sy, markers) end
  end
end

local function parse_line_series(name, list)
  if list == nil then fail(name, "spec.series is missing") end
  if type(list) ~= "table" then fail(name, "spec.series must be an array of series, got %s", describe(list)) end
  if #list == 0 then fail(name, "spec.series is empty") end
  local out = {}
  for i = 1, #list do
    local s = list[i]
    local what = "series " .. i
    if type(s) ~= "table" then fail(name, "%s must be a table {x=, y=, label=}, got %s", what, describe(s)) end
    if s.y == nil then fail(name, "%s has no y", what) end
    local y = numbers(name, what .. " y", s.y)
    if #y == 0 then fail(name, "%s: y is empty", what) end
    local x
    if s.x ~= nil then
      x = numbers(name, what .. " x", s.x)
      if #x ~= #y then fail(name, "%s: x has %d values but y has %d", what, #x, #y) end
    else
      x = {}
      for j = 1, #y do x[j] = j end
    end
    local lo, hi
    if (s.lo == nil) ~= (s.hi == nil) then
      fail(name, "%s: lo and hi go together, got only %s", what, s.lo ~= nil and "lo" or "hi")
    end
    if s.lo ~= nil then
      lo, hi = numbers(name, what .. " lo", s.lo), numbers(name, what .. " hi", s.hi)
      if #lo ~= #y then fail(name, "%s: lo has %d values but y has %d", what, #lo, #y) end
      if #hi ~= #y then fail(name, "%s: hi has %d values but y has %d", what, #hi, #y) end
    end
    out[i] = { x = x, y = y, lo = lo, hi = hi,
      label = clean(opt_text(name, what .. " label", s.label, "series " .. i)),
      color = opt_color(name, what .. " color", s.color, i) }
  end
  return out
end

local function map_log(a)
  local out = {}
  for j = 1, #a do out[j] = log10(a[j]) end
  return out
end

local function text_opt(name, spec, key)
  local v = opt_text(name, key, spec[key])
  return v and clean(v)
end

local function line_impl(name, spec)
  check_table(name, "spec", spec)
  local series = parse_line_series(name, spec.series)
  local w = opt_num(name, spec, "width", 720, 100)
  local h = opt_num(name, spec, "height", 440, 100)
  local ylog, markers = opt_bool(name, spec, "ylog"), opt_bool(name, spec, "markers")
  local xmin, xmax = opt_num(name, spec, "xmin"), opt_num(name, spec, "xmax")
  local ymin, ymax = opt_num(name, spec, "ymin"), opt_num(name, spec, "ymax")
  if xmin and xmax and xmin >= xmax then fail(name, "xmin (%s) must be less than xmax (%s)", xmin, xmax) end
  if ymin and ymax and ymin >= ymax then fail(name, "ymin (%s) must be less than ymax (%s)", ymin, ymax) end
  if ylog then
    if ymin and ymin <= 0 then fail(name, "ymin must be positive with ylog, got %s", ymin) end
    if ymax and ymax <= 0 then fail(name, "ymax must be positive with ylog, got %s", ymax) end
    ymin, ymax = ymin and log10(ymin), ymax and log10(ymax)
    for _, s in ipairs(series) do
      s.y = map_log(s.y)
      if s.lo then s.lo, s.hi = map_log(s.lo), map_log(s.hi) end
    end
  end
  local xr, yr = {}, {}
  series_extent(series, xr, yr)
  local doc = new_doc(w, h, text_opt(name, spec, "title"))
  local entries = {}
  for i, s in ipairs(series) do entries[i] = { label = s.label, color = s.color } end
  panel(doc, { x = 0, y = doc.top, w = w, h = h - doc.top }, {
    xlabel = text_opt(name, spec, "xlabel"), ylabel = text_opt(name, spec, "ylabel"),
    xlo = xr.lo, xhi = xr.hi, ylo = yr.lo, yhi = yr.hi,
    xaxis = { min = xmin, max = xmax },
    yaxis = { min = ymin, max = ymax, log = ylog, spacing = 45 },
    legend = entries, legend_pos = "right",
    draw = draw_lines(series, markers),
  })
  return finish(doc)
end

-- -------------------------------------------------------------------------
-- Histograms
-- -------------------------------------------------------------------------

--- The most bins a histogram takes (each is a bar in the SVG).
plot.MAX_BINS = 100000

local function check_bins(name, bins)
  local n = type(bins) == "number" and math.tointeger(bins)
  if not n or n < 1 then fail(name, "bins must be a positive integer, got %s", describe(bins)) end
  if n > plot.MAX_BINS then fail(name, "bins must be at most %d, got %s", plot.MAX_BINS, describe(bins)) end
  return n
end

local function check_range(name, range)
  if range == nil then return nil end
  if type(range) ~= "table" or type(range[1]) ~= "number" or type(range[2]) ~= "number"
      or not finite(range[1]) or not finite(range[2]) or range[1] >= range[2] then
    fail(name, "range must be {lo, hi} with finite lo < hi, got %s",
      type(range) == "table" and fmt("{%s, %s}", describe(range[1]), describe(range[2])) or describe(range))
  end
  return range[1], range[2]
end

-- The finite extent of several arrays, numpy's default range: (0, 1) with no
-- finite value, min - 0.5 .. max + 0.5 when all values are equal.
local function default_range(arrays)
  local r = {}
  for _, a in ipairs(arrays) do
    for j = 1, #a do extend(r, a[j]) end
  end
  if r.lo == nil then return 0, 1 end
  if r.lo == r.hi then return r.lo - 0.5, r.hi + 0.5 end
  return r.lo, r.hi
end

local function make_edges(lo, hi, bins)
  local edges = {}
  for i = 0, bins do edges[i + 1] = lo + (hi - lo) * i / bins end
  edges[bins + 1] = hi
  return edges
end

-- Counts per bin: [e_i, e_i+1) and the last bin closed; values outside the
-- range and non-finite values are not counted.
local function bin_counts(values, edges, bins)
  local counts = {}
  for i = 1, bins do counts[i] = 0 end
  local lo, hi = edges[1], edges[bins + 1]
  local k = bins / (hi - lo)
  for j = 1, #values do
    local v = values[j]
    if v >= lo and v <= hi then
      local i = floor((v - lo) * k) + 1
      if i > bins then i = bins elseif i < 1 then i = 1 end
      -- agree with the edges despite rounding
      if v < edges[i] then
        i = i - 1
      elseif i < bins and v >= edges[i + 1] then
        i = i + 1
      end
      counts[i] = counts[i] + 1
    end
  end
  return counts
end

local function histogram_impl(name, values, bins, range)
  values = numbers(name, "values", values, true)
  bins = check_bins(name, bins == nil and 50 or bins)
  local lo, hi = check_range(name, range)
  if not lo then lo, hi = default_range({ values }) end
  local edges = make_edges(lo, hi, bins)
  return bin_counts(values, edges, bins), edges
end

local function short(v)
  return fmt("%.4g", v)
end

local function draw_hist(s, edges, fill_opacity)
  return function(b, sx, sy)
    local base = sy(0)
    local nb = #s.counts
    put(b, '<g class="bars" fill="%s" fill-opacity="%s">\n', s.color, fill_opacity)
    for i = 1, nb do
      if s.counts[i] > 0 then
        local x0, x1, y = sx(edges[i]), sx(edges[i + 1]), sy(s.heights[i])
        put(b, '<rect class="bar" x="%s" y="%s" width="%s" height="%s"><title>%s: [%s, %s%s n=%d</title></rect>\n',
          cn(x0), cn(y), cn(x1 - x0), cn(base - y), esc(s.label), short(edges[i]), short(edges[i + 1]),
          i == nb and "]" or ")", s.counts[i])
      end
    end
    b[#b + 1] = "</g>\n"
    local d = { "M" .. cn(sx(edges[1])) .. "," .. cn(base) }
    for i = 1, nb do
      d[#d + 1] = "V" .. cn(sy(s.heights[i])) .. "H" .. cn(sx(edges[i + 1]))
    end
    d[#d + 1] = "V" .. cn(base)
    put(b, '<path class="step" d="%s" fill="none" stroke="%s" stroke-width="1.5"/>\n', concat(d, " "), s.color)
  end
end

local function hist_impl(name, spec)
  check_table(name, "spec", spec)
  local list = spec.series
  if list == nil then fail(name, "spec.series is missing") end
  if type(list) ~= "table" then fail(name, "spec.series must be an array of series, got %s", describe(list)) end
  if #list == 0 then fail(name, "spec.series is empty") end
  local bins = check_bins(name, spec.bins == nil and 50 or spec.bins)
  local lo, hi = check_range(name, spec.range)
  local density = opt_bool(name, spec, "density")
  local layout = spec.layout or "overlay"
  if layout ~= "overlay" and layout ~= "grid" then
    fail(name, "layout must be \"overlay\" or \"grid\", got %s", describe(layout))
  end
  local series, arrays = {}, {}
  for i = 1, #list do
    local s = list[i]
    local what = "series " .. i
    if type(s) ~= "table" then fail(name, "%s must be a table {values=, label=}, got %s", what, describe(s)) end
    if s.values == nil then fail(name, "%s has no values", what) end
    arrays[i] = numbers(name, what .. " values", s.values, true)
    series[i] = { label = clean(opt_text(name, what .. " label", s.label, "series " .. i)),
      color = opt_color(name, what .. " color", s.color, i) }
  end
  if not lo then lo, hi = default_range(arrays) end
  local edges = make_edges(lo, hi, bins)
  for i, s in ipairs(series) do
    s.counts = bin_counts(arrays[i], edges, bins)
    local total = 0
    for _, c in ipairs(s.counts) do total = total + c end
    s.heights = {}
    for k, c in ipairs(s.counts) do
      s.heights[k] = (density and total > 0) and c / (total * (edges[k + 1] - edges[k])) or c
    end
    s.top = 0
    for _, v in ipairs(s.heights) do s.top = math.max(s.top, v) end
  end
  local title, xlabel = text_opt(name, spec, "title"), text_opt(name, spec, "xlabel")
  local ylabel = text_opt(name, spec, "ylabel") or (density and "density" or "count")
  local xaxis = { expand = false }
  if layout == "overlay" then
    local w = opt_num(name, spec, "width", 720, 100)
    local h = opt_num(name, spec, "height", 440, 100)
    local doc = new_doc(w, h, title)
    local entries, ytop = {}, 0
    for i, s in ipairs(series) do
      entries[i] = { label = s.label, color = s.color, kind = "box" }
      ytop = math.max(ytop, s.top)
    end
    local opacity = #series == 1 and "0.5" or "0.3"
    panel(doc, { x = 0, y = doc.top, w = w, h = h - doc.top }, {
      xlabel = xlabel, ylabel = ylabel, xlo = lo, xhi = hi, ylo = 0, yhi = ytop,
      xaxis = xaxis, yaxis = { min = 0, spacing = 45 },
      legend = entries, legend_pos = "right",
      draw = function(b, sx, sy)
        for _, s in ipairs(series) do draw_hist(s, edges, opacity)(b, sx, sy) end
      end,
    })
    return finish(doc)
  end
  -- small multiples: one panel per series, same bins and x range
  local cols = math.min(opt_int(name, spec, "cols", 4), #series)
  local rows = ceil(#series / cols)
  local w = opt_num(name, spec, "width", 720, 100)
  local h = opt_num(name, spec, "height", (title and 34 or 0) + rows * 220, 100)
  local doc = new_doc(w, h, title)
  local cw, ch = w / cols, (h - doc.top) / rows
  for i, s in ipairs(series) do
    local r, c = (i - 1) // cols, (i - 1) % cols
    panel(doc, { x = c * cw, y = doc.top + r * ch, w = cw, h = ch }, {
      title = s.label, xlabel = xlabel, ylabel = c == 0 and ylabel or nil,
      xlo = lo, xhi = hi, ylo = 0, yhi = s.top,
      xaxis = { expand = false, spacing = 50 }, yaxis = { min = 0, spacing = 40 },
      draw = draw_hist(s, edges, "0.5"),
    })
  end
  return finish(doc)
end

-- -------------------------------------------------------------------------
-- Training history
-- -------------------------------------------------------------------------

local function history_impl(name, h, opts)
  check_table(name, "history", h)
  opts = opts == nil and {} or check_table(name, "opts", opts)
  local metrics = type(h.history) == "table" and h.history or h
  local epochs = metrics ~= h and type(h.epoch) == "table" and h.epoch or nil
  local arrays, groups = {}, {}
  for k, v in pairs(metrics) do
    if type(k) ~= "string" then fail(name, "metric names must be strings, got %s", describe(k)) end
    if k ~= "lr" and k ~= "val_lr" then
      arrays[k] = numbers(name, fmt("metric %q", k), v)
      if #arrays[k] > 0 then groups[k:match("^val_(.+)$") or k] = true end
    end
  end
  local names = {}
  for k in pairs(groups) do names[#names + 1] = k end
  if #names == 0 then fail(name, "no metrics to plot (expected arrays such as loss and val_loss)") end
  table.sort(names, function(a, b)
    if (a == "loss") ~= (b == "loss") then return a == "loss" end
    return a < b
  end)
  local cols = math.min(opt_int(name, opts, "cols", math.min(#names, 3)), #names)
  local rows = ceil(#names / cols)
  local title = text_opt(name, opts, "title")
  local w = opt_num(name, opts, "width", cols * 380, 100)
  local hgt = opt_num(name, opts, "height", (title and 34 or 0) + rows * 300, 100)
  local markers = opt_bool(name, opts, "markers")
  local doc = new_doc(w, hgt, title)
  local cw, ch = w / cols, (hgt - doc.top) / rows
  for i, m in ipairs(names) do
    local series = {}
    for _, part in ipairs({ { m, "train", 1 }, { "val_" .. m, "val", 2 } }) do
      local y = arrays[part[1]]
      if y and #y > 0 then
        local x = {}
        local use_epochs = epochs and #epochs == #y
        for j = 1, #y do
          x[j] = use_epochs and type(epochs[j]) == "number" and epochs[j] + 1 or j
        end
        series[#series + 1] = { x = x, y = y, label = part[2], color = plot.palette[part[3]] }
      end
    end
    local xr, yr = {}, {}
    series_extent(series, xr, yr)
    local entries = {}
    for k, s in ipairs(series) do entries[k] = { label = s.label, color = s.color } end
    local r, c = (i - 1) // cols, (i - 1) % cols
    panel(doc, { x = c * cw, y = doc.top + r * ch, w = cw, h = ch }, {
      title = clean(m), xlabel = "epoch", ylabel = clean(m),
      xlo = xr.lo, xhi = xr.hi, ylo = yr.lo, yhi = yr.hi,
      xaxis = { integer = true, expand = false, spacing = 60 }, yaxis = { spacing = 45 },
      legend = entries, legend_pos = "top",
      draw = draw_lines(series, markers),
    })
  end
  return finish(doc)
end

-- -------------------------------------------------------------------------
-- Files and public functions
-- -------------------------------------------------------------------------

local function check_path(name, path)
  if type(path) ~= "string" or path == "" then
    fail(name, "path must be a file name, got %s", describe(path))
  end
end

-- Write to path .. ".tmp", then rename over path (utils.write_file_atomic:
-- every write, the flush, the close and the rename checked).
local function write_file(name, path, text)
  if not utils.writes_here() then return path end -- a rank other than 0 of a distributed job
  local ok, err = pcall(utils.write_file_atomic, path, text, name, 0)
  if not ok then error(setmetatable({ msg = tostring(err) }, PlotError), 0) end
  return path
end

--- The SVG text of a line chart (see `line`).
-- @function svg_line
-- @param spec table as for `line`
-- @return string
plot.svg_line = public("plot.svg_line", line_impl)

--- Line chart of one or more series, written as an SVG file.
-- spec.series: array of {y = ..., x = ... (default 1..n), label = ...,
-- lo = ..., hi = ... (a shaded band), color = ...}; x, y, lo and hi are arrays
-- of numbers or 1-d tensors of one length. NaN and inf points break the line.
-- Options: title, xlabel, ylabel, width (720), height (440), ylog (log10 y
-- axis, positive values only), xmin, xmax, ymin, ymax, markers (boolean).
-- @function line
-- @param spec table
-- @param path file name
-- @return path
plot.line = public("plot.line", function(name, spec, path)
  check_path(name, path)
  return write_file(name, path, line_impl(name, spec))
end)

--- The SVG text of a histogram (see `hist`).
-- @function svg_hist
-- @param spec table as for `hist`
-- @return string
plot.svg_hist = public("plot.svg_hist", hist_impl)

--- Histogram of one or more sets of values, written as an SVG file.
-- spec.series: array of {values = ... (array or tensor of any shape), label = ...};
-- all series share the bin edges. NaN and inf values are ignored.
-- Options: bins (50), range ({lo, hi}; default: min..max of all series),
-- density (area 1), layout ("overlay", default, or "grid": one panel per
-- series), cols (grid columns, 4), title, xlabel, ylabel, width, height.
-- @function hist
-- @param spec table
-- @param path file name
-- @return path
plot.hist = public("plot.hist", function(name, spec, path)
  check_path(name, path)
  return write_file(name, path, hist_impl(name, spec))
end)

--- The SVG text of training curves (see `history`).
-- @function svg_history
-- @param history as for `history`
-- @param[opt] opts as for `history`
-- @return string
plot.svg_history = public("plot.svg_history", history_impl)

--- Training curves, written as an SVG file: one panel for the loss and one
-- per other metric, each with the train and val_ series, against the epoch
-- (1-based). `lr` is left out.
-- @function history
-- @param history what `model:fit` returns (its `.history` maps metric names
-- to per-epoch arrays), or such a table of arrays itself
-- @param path file name
-- @param[opt] opts title, cols (default up to 3), width, height, markers
-- @return path
plot.history = public("plot.history", function(name, history, path, opts)
  check_path(name, path)
  return write_file(name, path, history_impl(name, history, opts))
end)

--- Counts of values in equal-width bins, as numpy.histogram: bins are
-- `[e_i, e_i+1)` and the last one is closed; NaN, inf and values outside the
-- range are not counted.
-- @function histogram
-- @param values array or tensor (any shape)
-- @param[opt] bins number of bins (50)
-- @param[opt] range {lo, hi} (default: min and max of the finite values)
-- @return counts (array of bins integers), edges (array of bins + 1 numbers)
plot.histogram = public("plot.histogram", histogram_impl)

--- The ticks an axis over lo..hi gets: steps of 1, 2 or 5 x 10^k, the range
-- widened to whole steps.
-- @function ticks
-- @param lo number
-- @param hi number
-- @param[opt] n about that many intervals (5)
-- @return ticks (array of numbers), labels (array of strings), step
plot.ticks = public("plot.ticks", function(name, lo, hi, n)
  if type(lo) ~= "number" or not finite(lo) then fail(name, "lo must be a finite number, got %s", describe(lo)) end
  if type(hi) ~= "number" or not finite(hi) then fail(name, "hi must be a finite number, got %s", describe(hi)) end
  if lo > hi then fail(name, "lo (%s) must not exceed hi (%s)", lo, hi) end
  n = n == nil and 5 or n
  if type(n) ~= "number" or not finite(n) or n < 1 then fail(name, "n must be a number >= 1, got %s", describe(n)) end
  local a = make_axis(lo, hi, n * 80, { spacing = 80 })
  return a.ticks, a.labels, a.step
end)

return plot
