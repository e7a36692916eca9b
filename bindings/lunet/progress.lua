--- The progress bar of `fit`, in Keras 2's format:
-- `12/60 [=====>........................] - ETA: 3s - loss: 0.4521`, redrawn
-- in place on a terminal, and its final line
-- `60/60 [==============================] - 2s 31ms/step - loss: 0.3012`.
-- @module lunet.progress
local core = require("lunet.core")
local check = require("lunet.check")

local M = {}
local fmt = string.format

--- A log value as Keras prints it: 4 decimals, or 4-digit scientific below 1e-3.
-- @tparam number v
-- @treturn string
function M.format_value(v)
  check.number("format_value", "v", v, 2)
  if v ~= 0 and math.abs(v) < 1e-3 then return fmt("%.4e", v) end
  return fmt("%.4f", v)
end
local format_value = M.format_value

--- The " - key: value" parts of a log line, for the keys present in logs, in keys' order.
-- @tparam table logs key -> number
-- @tparam {string,...} keys the order to print in
-- @treturn string
function M.format_logs(logs, keys)
  check.type("format_logs", "logs", logs, "table", 2)
  check.type("format_logs", "keys", keys, "table", 2)
  local parts = {}
  for _, k in ipairs(keys) do
    local v = logs[k]
    if type(v) == "number" then parts[#parts + 1] = fmt(" - %s: %s", k, format_value(v)) end
  end
  return table.concat(parts)
end
local format_logs = M.format_logs

-- whole seconds as "7s", "1:05" or "1:00:05"
local function format_eta(s)
  if s >= 3600 then return fmt("%d:%02d:%02d", s // 3600, (s % 3600) // 60, s % 60) end
  if s >= 60 then return fmt("%d:%02d", s // 60, s % 60) end
  return fmt("%ds", s)
end

-- time per step: "2s/step", "31ms/step", "450us/step"
local function format_per_step(per)
  if per >= 1 then return fmt("%ds/step", math.floor(per + 0.5)) end
  if per >= 1e-3 then return fmt("%dms/step", math.floor(per * 1e3 + 0.5)) end
  return fmt("%dus/step", math.floor(per * 1e6 + 0.5))
end

--- One line of the bar.
-- @tparam integer cur steps done (0..total)
-- @tparam integer total steps in the epoch (>= 1)
-- @tparam number elapsed seconds since the epoch began
-- @tparam table logs key -> number (averages so far)
-- @tparam {string,...} keys the log keys to print, in order
-- @tparam[opt] boolean final the epoch's last line (time and time per step instead of the ETA)
-- @treturn string
function M.bar_line(cur, total, elapsed, logs, keys, final)
  total = check.number("bar_line", "total", total, 2, { integer = true, min = 1 })
  cur = check.number("bar_line", "cur", cur, 2, { integer = true, min = 0, max = total })
  elapsed = check.number("bar_line", "elapsed", elapsed, 2, { min = 0, finite = true })
  local w = #tostring(total)
  local filled = math.floor(30 * cur / total)
  local bar
  if cur >= total then
    bar = string.rep("=", 30)
  else
    bar = string.rep("=", math.max(filled - 1, 0)) .. (filled > 0 and ">" or "") .. string.rep(".", 30 - filled)
  end
  local s = fmt("%" .. w .. "d/%d [%s]", cur, total, bar)
  if final then
    s = s .. fmt(" - %ds %s", math.floor(elapsed + 0.5), format_per_step(elapsed / total))
  elseif cur > 0 then
    s = s .. " - ETA: " .. format_eta(math.floor(elapsed / cur * (total - cur) + 0.5))
  end
  return s .. format_logs(logs, keys)
end
local bar_line = M.bar_line

--- Whether standard output is a terminal (the bar is then redrawn in place).
-- @treturn boolean
function M.stdout_is_tty()
  local ok = os.execute("[ -t 1 ]")
  return ok == true or ok == 0
end

local Bar = {}
Bar.__index = Bar

--- A bar for one epoch of `total` steps.
-- @tparam integer total steps in the epoch
-- @tparam table opts `{verbose = 0|1|2, tty = boolean, keys = {...}}`: verbose as
-- fit's (1: the bar, 2: one line per epoch); with tty the bar is redrawn
-- at most every 0.1 s; keys are the log keys shown while the epoch runs
-- @return the bar, with `update(step, sums, seen)` and `finish(logs, keys)`
function M.Bar(total, opts)
  total = check.number("Bar", "total", total, 2, { integer = true, min = 0 })
  check.type("Bar", "opts", opts, "table", 2)
  return setmetatable({ total = total, verbose = opts.verbose or 1, tty = opts.tty and true or false,
    keys = opts.keys or { "loss" }, t0 = core.clock(), last_draw = -1 }, Bar)
end

--- After `step` steps: redraw the bar (on a terminal, verbose 1, at most
-- every 0.1 s) with the averages sums[k] / seen.
-- @tparam integer step
-- @tparam table sums key -> sum over the samples seen
-- @tparam number seen samples seen
function Bar:update(step, sums, seen)
  if not self.tty or self.verbose ~= 1 or step >= self.total then return end
  local now = core.clock()
  if now - self.last_draw <= 0.1 then return end
  self.last_draw = now
  local cur = {}
  for k, v in pairs(sums) do cur[k] = v / seen end
  io.write("\r", bar_line(step, self.total, now - self.t0, cur, self.keys, false))
  io.flush()
end

--- The epoch's last line: the full bar with time and time per step
-- (verbose 1), or " - 2s - loss: ..." (verbose 2); nothing with verbose 0.
-- @tparam table logs the epoch's logs
-- @tparam {string,...} keys the keys to print (validation keys included)
-- @tparam[opt] number elapsed the epoch's time (default: since the bar was made)
function Bar:finish(logs, keys, elapsed)
  elapsed = elapsed or core.clock() - self.t0
  if self.verbose == 1 then
    local line = bar_line(math.max(self.total, 1), math.max(self.total, 1), elapsed, logs, keys, true)
    io.write(self.tty and ("\r" .. line .. "\27[K\n") or (line .. "\n"))
  elseif self.verbose == 2 then
    print(fmt(" - %ds%s", math.floor(elapsed + 0.5), format_logs(logs, keys)))
  end
  io.flush()
end

check.methods(Bar, "Bar")

return M
