--- Repeated experiments: a grid of configurations (activation × seed ×
-- dataset, say) run one by one, their results kept in a CSV that a later
-- call resumes from, and summarized as mean ± sample std with a 95%
-- interval per group of the non-seed keys.
-- @module lunet.experiment
local check = require("lunet.check")
local core = require("lunet.core")
local utils = require("lunet.utils")

local fmt = string.format
local M = {}

-- Student's t 0.975 quantiles for 1..30 degrees of freedom (then the normal's)
local T975 = { 12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.160,
  2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048,
  2.045, 2.042 }

local function cell(v)
  if type(v) == "number" then return fmt("%.17g", v) end
  local s = tostring(v)
  if s:find('[,"\n]') then s = '"' .. s:gsub('"', '""') .. '"' end
  return s
end

local function split_csv(line)
  local out, i = {}, 1
  while i <= #line + 1 do
    if line:sub(i, i) == '"' then
      local j, buf = i + 1, {}
      while true do
        local c = line:sub(j, j)
        if c == '"' and line:sub(j + 1, j + 1) == '"' then buf[#buf + 1] = '"'; j = j + 2
        elseif c == '"' or c == "" then break
        else buf[#buf + 1] = c; j = j + 1 end
      end
      out[#out + 1] = table.concat(buf)
      i = j + 2
    else
      local j = line:find(",", i, true) or #line + 1
      out[#out + 1] = line:sub(i, j - 1)
      i = j + 1
    end
  end
  return out
end

-- the grid's configurations, keys sorted, the last key varying fastest
local function configurations(grid)
  local keys = {}
  for k, vals in pairs(grid) do
    if type(k) ~= "string" then check.arg_error("sweep", "grid", "a table of named value arrays", grid, 4) end
    if type(vals) ~= "table" or #vals == 0 then
      check.arg_error("sweep", "grid." .. k, "a non-empty array of values", vals, 4)
    end
    keys[#keys + 1] = k
  end
  table.sort(keys)
  local list = { {} }
  for _, k in ipairs(keys) do
    local nxt = {}
    for _, c in ipairs(list) do
      for _, v in ipairs(grid[k]) do
        local d = {}
        for kk, vv in pairs(c) do d[kk] = vv end
        d[k] = v
        nxt[#nxt + 1] = d
      end
    end
    list = nxt
  end
  return list, keys
end

local function id_of(cfg, keys)
  local parts = {}
  for _, k in ipairs(keys) do parts[#parts + 1] = k .. "=" .. tostring(cfg[k]) end
  return table.concat(parts, ",")
end

--- Run `run(cfg)` for every configuration of `grid` and summarize.  Each
-- run returns a table of numbers (`{acc = 0.97, loss = ...}`).  With `out =
-- dir` every finished run is appended to dir/results.csv at once, and a
-- later call with the same grid skips the configurations found there (so
-- an interrupted sweep resumes), then writes dir/summary.md and a bar chart
-- per metric, dir/<metric>.svg (mean with its 95% interval).  The summary
-- groups the runs over every key but `seed_key`: mean, sample std (ddof 1)
-- and the 95% interval mean ± t(0.975, n-1) std / sqrt(n).  Under mpirun
-- (OMPI_COMM_WORLD_SIZE set) the ranks share the configurations through
-- lunet.distributed, each appending to results.csv.rank<r>, which rank 0
-- merges into results.csv; every rank returns the whole summary.
-- @param opts `grid` (required), `run` (required), `out`, `seed_key` ("seed"),
-- `print` (print: each run's progress line and the table; false: silent)
-- @return `{runs = {{cfg =, result =}, ...}, groups = {{cfg =, n =, mean = {}, std = {}, lo = {}, hi = {}}, ...}, table = markdown}`
function M.sweep(opts)
  if type(opts) ~= "table" then check.arg_error("sweep", "opts", "{grid =, run =}", opts, 2) end
  utils.check_options("sweep", opts, { grid = true, run = true, out = true, seed_key = true, print = true })
  if type(opts.grid) ~= "table" then check.arg_error("sweep", "grid", "a table", opts.grid, 2) end
  if type(opts.run) ~= "function" then check.arg_error("sweep", "run", "a function", opts.run, 2) end
  local seed_key = opts.seed_key or "seed"
  local say = opts.print == nil and print or opts.print or function() end
  local configs, keys = configurations(opts.grid)
  -- under mpirun (seen from the environment, before MPI starts) the ranks
  -- share the configurations: rank r runs those at r, r + size, ... and
  -- appends to results.csv.rank<r>; then rank 0 merges the files
  local ranks = tonumber(os.getenv("OMPI_COMM_WORLD_SIZE") or "1") or 1
  local dist, rank = nil, 0
  if ranks > 1 then
    if not opts.out then error("sweep: under mpirun the ranks share their results through files: give out = dir", 2) end
    dist = require("lunet.distributed")
    dist.init()
    rank, ranks = dist.rank(), dist.size()
  end
  local base = opts.out and (opts.out .. "/results.csv")
  local csv = base and (dist and fmt("%s.rank%d", base, rank) or base)
  local done, runs, metric_names = {}, {}, nil
  local function read_csv(path)
    local f = io.open(path)
    if f then
      local header = f:read("l")
      local cols = header and split_csv(header) or {}
      for line in f:lines() do
        if line ~= "" then
          local vals = split_csv(line)
          local cfg, res = {}, {}
          for i, c in ipairs(cols) do
            local v = vals[i]
            if c:sub(1, 1) == "=" then res[c:sub(2)] = tonumber(v)
            else cfg[c] = tonumber(v) or v end
          end
          done[id_of(cfg, keys)] = res
        end
      end
      f:close()
      local names = {}
      for _, c in ipairs(cols) do if c:sub(1, 1) == "=" then names[#names + 1] = c:sub(2) end end
      if #names > 0 then metric_names = names end
    end
  end
  -- results.csv, and under mpirun the ranks' files of an earlier (interrupted) run
  local function read_all()
    read_csv(base)
    if dist then
      for r = 0, ranks - 1 do read_csv(fmt("%s.rank%d", base, r)) end
    end
  end
  if base then
    os.execute("mkdir -p '" .. opts.out:gsub("'", "'\\''") .. "'")
    read_all()
  end
  local file
  for i, cfg in ipairs(configs) do
    local id = id_of(cfg, keys)
    local res = done[id]
    if dist and (i - 1) % ranks ~= rank then
      res = res or false -- another rank's; read back after the barrier
    elseif res then
      say(fmt("[%d/%d] %s: done before", i, #configs, id))
    else
      local t0 = core.clock()
      res = opts.run(cfg)
      if type(res) ~= "table" then error(fmt("sweep: run(%s) must return a table of numbers, got %s", id, type(res)), 2) end
      if not metric_names then
        metric_names = {}
        for k in pairs(res) do metric_names[#metric_names + 1] = k end
        table.sort(metric_names)
      end
      local parts = {}
      for _, m in ipairs(metric_names) do parts[#parts + 1] = fmt("%s %.4g", m, res[m] or 0 / 0) end
      say(fmt("[%d/%d] %s: %s (%.1f s)", i, #configs, id, table.concat(parts, ", "), core.clock() - t0))
      if csv then
        if not file then
          local exists = io.open(csv)
          if exists then exists:close() end
          file = assert(io.open(csv, "a"))
          if not exists then
            local head = {}
            for _, k in ipairs(keys) do head[#head + 1] = cell(k) end
            for _, m in ipairs(metric_names) do head[#head + 1] = cell("=" .. m) end
            file:write(table.concat(head, ","), "\n")
          end
        end
        local row = {}
        for _, k in ipairs(keys) do row[#row + 1] = cell(cfg[k]) end
        for _, m in ipairs(metric_names) do row[#row + 1] = cell(res[m] or 0 / 0) end
        file:write(table.concat(row, ","), "\n")
        file:flush()
      end
    end
    if res then runs[#runs + 1] = { cfg = cfg, result = res } end
  end
  if file then file:close() end
  if dist then
    -- every rank's runs, read back from the files; rank 0 merges them into results.csv
    dist.barrier()
    read_all()
    runs = {}
    for _, cfg in ipairs(configs) do
      local res = done[id_of(cfg, keys)]
      if res then runs[#runs + 1] = { cfg = cfg, result = res } end
    end
    if rank == 0 then
      local lines = {}
      local head = {}
      for _, k in ipairs(keys) do head[#head + 1] = cell(k) end
      for _, m in ipairs(metric_names or {}) do head[#head + 1] = cell("=" .. m) end
      lines[1] = table.concat(head, ",")
      for _, r in ipairs(runs) do
        local row = {}
        for _, k in ipairs(keys) do row[#row + 1] = cell(r.cfg[k]) end
        for _, m in ipairs(metric_names or {}) do row[#row + 1] = cell(r.result[m] or 0 / 0) end
        lines[#lines + 1] = table.concat(row, ",")
      end
      utils.write_file_atomic(base, table.concat(lines, "\n") .. "\n", "sweep", 2)
      for r = 0, ranks - 1 do os.remove(fmt("%s.rank%d", base, r)) end
    end
    dist.barrier()
    if rank ~= 0 then say = function() end end
  end
  -- the groups: every key but the seed
  local gkeys = {}
  for _, k in ipairs(keys) do if k ~= seed_key then gkeys[#gkeys + 1] = k end end
  local groups, by = {}, {}
  for _, r in ipairs(runs) do
    local gid = id_of(r.cfg, gkeys)
    local grp = by[gid]
    if not grp then
      local cfg = {}
      for _, k in ipairs(gkeys) do cfg[k] = r.cfg[k] end
      grp = { cfg = cfg, id = gid, values = {} }
      by[gid] = grp
      groups[#groups + 1] = grp
    end
    for _, m in ipairs(metric_names or {}) do
      grp.values[m] = grp.values[m] or {}
      table.insert(grp.values[m], r.result[m])
    end
  end
  for _, grp in ipairs(groups) do
    grp.mean, grp.std, grp.lo, grp.hi = {}, {}, {}, {}
    for _, m in ipairs(metric_names or {}) do
      local v = grp.values[m]
      local n, s = #v, 0
      for _, x in ipairs(v) do s = s + x end
      local mean = s / n
      local ss = 0
      for _, x in ipairs(v) do ss = ss + (x - mean) ^ 2 end
      local std = n > 1 and math.sqrt(ss / (n - 1)) or 0 / 0
      local half = n > 1 and (T975[n - 1] or 1.96) * std / math.sqrt(n) or 0 / 0
      grp.n, grp.mean[m], grp.std[m], grp.lo[m], grp.hi[m] = n, mean, std, mean - half, mean + half
    end
  end
  -- the markdown table
  local lines = {}
  local head = {}
  for _, k in ipairs(gkeys) do head[#head + 1] = k end
  head[#head + 1] = "n"
  for _, m in ipairs(metric_names or {}) do head[#head + 1] = m .. " (mean ± std)"; head[#head + 1] = m .. " 95% interval" end
  lines[1] = "| " .. table.concat(head, " | ") .. " |"
  lines[2] = "|" .. string.rep("---|", #head)
  for _, grp in ipairs(groups) do
    local row = {}
    for _, k in ipairs(gkeys) do row[#row + 1] = tostring(grp.cfg[k]) end
    row[#row + 1] = tostring(grp.n)
    for _, m in ipairs(metric_names or {}) do
      if grp.n > 1 then
        row[#row + 1] = fmt("%.4f ± %.4f", grp.mean[m], grp.std[m])
        row[#row + 1] = fmt("[%.4f, %.4f]", grp.lo[m], grp.hi[m])
      else -- one run: no spread to show
        row[#row + 1] = fmt("%.4f", grp.mean[m])
        row[#row + 1] = "-"
      end
    end
    lines[#lines + 1] = "| " .. table.concat(row, " | ") .. " |"
  end
  local md = table.concat(lines, "\n")
  say(md)
  if opts.out and utils.writes_here() then
    utils.write_file_atomic(opts.out .. "/summary.md", md .. "\n", "sweep", 2)
    local plot = require("lunet.plot")
    for _, m in ipairs(metric_names or {}) do
      -- each group a point at its mean, with its interval as a vertical bar
      local series = {}
      for gi, grp in ipairs(groups) do
        series[#series + 1] = { x = { gi, gi }, y = { grp.lo[m] == grp.lo[m] and grp.lo[m] or grp.mean[m],
          grp.hi[m] == grp.hi[m] and grp.hi[m] or grp.mean[m] }, color = "#555555" }
        series[#series + 1] = { x = { gi }, y = { grp.mean[m] }, label = grp.id ~= "" and grp.id or "all" }
      end
      plot.line({ series = series, markers = true, title = m .. ": mean and 95% interval per group", xlabel = "group",
        ylabel = m, xmin = 0, xmax = #groups + 1 }, opts.out .. "/" .. m .. ".svg")
    end
  end
  return { runs = runs, groups = groups, table = md }
end

return M
