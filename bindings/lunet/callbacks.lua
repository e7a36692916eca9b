--- Training callbacks (Keras 2 semantics; epochs are 0-based).
-- A callback is a table with any of `on_train_begin(logs)`, `on_epoch_begin(epoch, logs)`,
-- `on_epoch_end(epoch, logs)`, `on_batch_end(batch, logs)`, `on_train_end(logs)`;
-- `self.model` is set by fit.  The callbacks made here check their
-- arguments when called (epoch and batch non-negative integers, logs nil or
-- a table, and a model set by fit for those that need one).
-- @module lunet.callbacks
-- @alias CB
local utils = require("lunet.utils")
local check = require("lunet.check")

local CB = {}
local fmt = string.format

-- the hooks and the arguments before logs: an epoch or batch number
local HOOKS = { on_train_begin = false, on_train_end = false, on_epoch_begin = "epoch",
  on_epoch_end = "epoch", on_batch_end = "batch" }

-- The callback `cb` (named `name`) with every hook checking its arguments:
-- self a callback, a fit has set self.model (when `needs_model`), the
-- epoch or batch a non-negative integer, logs nil or a table.
local function callback(name, cb, needs_model)
  cb.name = name
  for hook, counter in pairs(HOOKS) do
    local f = cb[hook]
    if f then
      local fname = name .. "." .. hook
      cb[hook] = function(self, ...)
        if type(self) ~= "table" or self.name ~= name then
          error(fmt("%s: expected a %s callback as self (call cb:%s(...)), got %s", fname, name, hook,
            check.describe(self)), 2)
        end
        local logs = select(counter and 2 or 1, ...)
        if counter then check.number(fname, counter, (...), 2, { integer = true, min = 0 }) end
        if logs ~= nil and type(logs) ~= "table" then check.arg_error(fname, "logs", "a table", logs, 2) end
        if needs_model and self.model == nil then
          error(fmt("%s: the callback has no model (fit sets callback.model)", fname), 2)
        end
        return f(self, ...)
      end
    end
  end
  return cb
end

--- Set the optimizer's learning rate before each epoch to
-- `schedule(epoch, lr)` (epoch 0-based, lr the current rate); the rate is
-- recorded in the epoch's logs (`history.history.lr`).  A schedule returning
-- anything but a finite number >= 0 stops fit with an error.
-- @param schedule a function(epoch, lr) returning the new rate
-- @param[opt] verbose an integer; > 0 prints the rate set at each epoch
-- @return the callback
function CB.LearningRateScheduler(schedule, verbose)
  if type(schedule) ~= "function" then
    check.arg_error("LearningRateScheduler", "schedule", "a function(epoch, lr)", schedule, 2)
  end
  if verbose ~= nil then check.number("LearningRateScheduler", "verbose", verbose, 2, { integer = true }) end
  return callback("LearningRateScheduler", {
    on_epoch_begin = function(self, epoch)
      local opt = self.model.optimizer
      local lr = schedule(epoch, opt.learning_rate)
      if type(lr) ~= "number" or not (lr >= 0 and lr < math.huge) then
        error(fmt("LearningRateScheduler: the schedule returned %s for epoch %d", tostring(lr), epoch), 0)
      end
      opt.learning_rate = lr
      if verbose and verbose > 0 then
        print(fmt("\nEpoch %05d: LearningRateScheduler setting learning rate to %s.", epoch + 1, tostring(lr)))
      end
    end,
    on_epoch_end = function(self, _, logs) if logs then logs.lr = self.model.optimizer.learning_rate end end,
  }, true)
end

local function improved(mode, cur, best, delta)
  if mode == "max" then return cur - delta > best end
  return cur + delta < best
end

-- the mode ("min" or "max") for the quantity monitored (checked, for fname)
local function mode_for(fname, monitor, mode)
  if type(monitor) ~= "string" then check.arg_error(fname, "monitor", "a string", monitor, 3) end
  if mode ~= nil and mode ~= "auto" and mode ~= "min" and mode ~= "max" then
    check.arg_error(fname, "mode", '"auto", "min" or "max"', mode, 3)
  end
  if mode and mode ~= "auto" then return mode end
  if monitor:find("acc") then return "max" end
  return "min"
end

-- A warning on stderr, once per training, when the epoch logs lack the
-- monitored key (Keras logs one too); training goes on
local function warn_missing(cb, fname, what, monitor, logs, doing)
  if cb.warned_missing then return end
  cb.warned_missing = true
  local keys = {}
  for k in pairs(logs or {}) do if type(k) == "string" then keys[#keys + 1] = k end end
  table.sort(keys)
  io.stderr:write(fmt("WARNING: %s: %s conditioned on '%s', which is not in the epoch logs " ..
    "(available: %s); %s\n", fname, what, monitor, #keys > 0 and table.concat(keys, ", ") or "none", doing))
  io.stderr:flush()
end

--- Stop training when the monitored quantity stops improving: after
-- `patience` epochs in a row without an improvement of more than
-- `min_delta`, fit stops (`stopped_epoch` is the 0-based epoch).  Epochs
-- whose logs lack the quantity are skipped, with one warning on stderr
-- naming it, as Keras warns.
-- @param[opt] opts a table of options:
--
-- - `monitor` (`"val_loss"`): a key of the epoch logs
-- - `patience` (0): epochs without improvement before stopping
-- - `min_delta` (0): the smallest change counted as an improvement (its
--   absolute value)
-- - `mode` ("auto"): "min", "max", or "auto" (max when the name contains
--   "acc", else min)
-- - `restore_best_weights` (false): on stopping, set the model's weights
--   back to the best epoch's
-- @return the callback
function CB.EarlyStopping(opts)
  opts = utils.check_options("EarlyStopping", opts,
    { monitor = true, patience = true, min_delta = true, mode = true, restore_best_weights = true })
  local monitor = opts.monitor or "val_loss"
  local mode = mode_for("EarlyStopping", monitor, opts.mode)
  local patience = check.number("EarlyStopping", "patience", opts.patience or 0, 2, { integer = true, min = 0 })
  local delta = math.abs(check.number("EarlyStopping", "min_delta", opts.min_delta or 0, 2, { finite = true }))
  local cb = {}
  function cb.on_train_begin()
    cb.wait, cb.best, cb.stopped_epoch, cb.best_weights = 0, mode == "max" and -math.huge or math.huge, 0, nil
    cb.warned_missing = false
  end
  cb.on_train_begin()
  function cb.on_epoch_end(self, epoch, logs)
    local cur = logs and logs[monitor]
    if cur == nil then return warn_missing(self, "EarlyStopping", "early stopping", monitor, logs, "training goes on") end
    if improved(mode, cur, self.best, delta) then
      self.best, self.wait = cur, 0
      if opts.restore_best_weights then self.best_weights = self.model:get_weights() end
    else
      self.wait = self.wait + 1
      if self.wait >= patience then
        self.stopped_epoch = epoch
        self.model.stop_training = true
        if opts.restore_best_weights and self.best_weights then self.model:set_weights(self.best_weights) end
      end
    end
  end
  return callback("EarlyStopping", cb, true)
end

--- Save the model (`model:save`) at the end of each epoch.  A save that
-- fails stops fit with an error naming the path.
-- @param path the file name; "{epoch}" in it is replaced by the 1-based
-- epoch number, two digits at least ("01")
-- @param[opt] opts `monitor` (`"val_loss"`), `save_best_only` (false: true
-- saves only when the monitored value improves on the best so far), `mode`
-- ("auto", "min" or "max", as for EarlyStopping).  With save_best_only, an
-- epoch whose logs lack the monitored key is not saved, with one warning on
-- stderr naming it.
-- @return the callback
function CB.ModelCheckpoint(path, opts)
  check.path("ModelCheckpoint", "path", path, 2)
  opts = utils.check_options("ModelCheckpoint", opts, { monitor = true, save_best_only = true, mode = true })
  local monitor = opts.monitor or "val_loss"
  local mode = mode_for("ModelCheckpoint", monitor, opts.mode)
  local best = mode == "max" and -math.huge or math.huge
  return callback("ModelCheckpoint", {
    on_train_begin = function(self) self.warned_missing = false end,
    on_epoch_end = function(self, epoch, logs)
      local p = path:gsub("{epoch}", fmt("%02d", epoch + 1))
      if opts.save_best_only then
        local cur = logs and logs[monitor]
        if cur == nil then return warn_missing(self, "ModelCheckpoint", "saving the best model", monitor, logs,
          "this epoch is not saved") end
        if not improved(mode, cur, best, 0) then return end
        best = cur
      end
      check.within("ModelCheckpoint", 0, self.model.save, self.model, p)
    end,
  }, true)
end

--- Write the epoch logs to a CSV file: a header `epoch,<keys in sorted
-- order>` then one row per epoch (numbers as %.17g), flushed at once.  The
-- file is opened when training begins and closed when it ends.  Every write
-- and flush is checked: on a failure (a full disk, say) the file is closed
-- and fit stops with an error naming the path and the OS reason, instead of
-- training on with a log that silently ends.
-- @param path the file name
-- @param[opt] opts `separator` (","), `append` (false: the file is truncated)
-- @return the callback
function CB.CSVLogger(path, opts)
  check.path("CSVLogger", "path", path, 2)
  opts = utils.check_options("CSVLogger", opts, { separator = true, append = true })
  local sep = opts.separator or ","
  if type(sep) ~= "string" then check.arg_error("CSVLogger", "separator", "a string", sep, 2) end
  local cb = { name = "CSVLogger" }
  local function failed(err)
    if cb.file then cb.file:close() end
    cb.file = nil
    error(fmt("CSVLogger: cannot write %s: %s", path, tostring(err)), 0)
  end
  function cb.on_train_begin()
    cb.keys = nil
    if not utils.writes_here() then return end -- another rank than 0 of a distributed job
    local f, err = io.open(path, opts.append and "a" or "w")
    if not f then error(fmt("CSVLogger: cannot open %s: %s", path, (tostring(err):gsub("^.-: ", "", 1))), 0) end
    cb.file = f
  end
  local function put(...)
    local ok, err = cb.file:write(...)
    if not ok then failed(err) end
  end
  function cb.on_epoch_end(self, epoch, logs)
    logs = logs or {}
    if not utils.writes_here() then return end
    if not self.file then error(fmt("CSVLogger: %s is not open (on_train_begin did not run)", path), 0) end
    if not self.keys then
      self.keys = {}
      for k in pairs(logs) do self.keys[#self.keys + 1] = k end
      table.sort(self.keys)
      put("epoch", sep, table.concat(self.keys, sep), "\n")
    end
    local row = { tostring(epoch) }
    for _, k in ipairs(self.keys) do row[#row + 1] = logs[k] ~= nil and fmt("%.17g", logs[k]) or "" end
    put(table.concat(row, sep), "\n")
    local ok, err = self.file:flush()
    if not ok then failed(err) end
  end
  function cb.on_train_end(self)
    if not self.file then return end
    local f = self.file
    self.file = nil
    local ok, err = f:close()
    if not ok then error(fmt("CSVLogger: cannot write %s: %s", path, tostring(err)), 0) end
  end
  return callback("CSVLogger", cb)
end

-- the fraction of y's units at their activation's saturation: the negative
-- asymptote for SELU and ELU (within 1%), exactly 0 for the ReLU family,
-- the outer 1% for sigmoid and tanh; 0 for the others
local function saturated(act, y)
  local n = y:numel()
  if n == 0 then return 0 end
  local cnt
  if act == "selu" then cnt = y:le(-1.7580993408473766 * 0.99):sum():item()
  elseif act == "elu" then cnt = y:le(-0.99):sum():item()
  elseif act == "relu" or act == "relu6" or act == "thresholded_relu" then cnt = y:eq(0):sum():item()
  elseif act == "sigmoid" or act == "hard_sigmoid" then cnt = y:le(0.01):sum():item() + y:ge(0.99):sum():item()
  elseif act == "tanh" then cnt = y:abs():ge(0.99):sum():item()
  else return 0 end
  return cnt / n
end

--- Each layer's output on a batch, at inference (no dropout), with its
-- statistics: the recorder LayerStats and scripts/activation_histograms.lua
-- share.  With targets (and a compiled model) also the norm of the loss's
-- gradient with respect to each output.
-- @param model a built Sequential
-- @param x a batch of inputs
-- @param[opt] y its targets
-- @return an array, one entry per layer: `{name =, output =, mean =, std =, saturated =, grad_norm =}`
-- (grad_norm NaN without y)
function CB.record_layers(model, x, y)
  if type(model) ~= "table" or type(model.layers) ~= "table" then
    check.arg_error("record_layers", "model", "a Sequential", model, 2)
  end
  check.tensor("record_layers", "x", x, 2)
  local layers = model.layers
  -- forward, each layer's input a leaf, so each output's gradient can be had
  local outs, ins = {}, {}
  local h = x
  if layers[1] and layers[1].dtype and h:dtype() ~= layers[1].dtype then h = h:astype(layers[1].dtype) end
  for i, l in ipairs(layers) do
    ins[i] = h:detach():requires_grad()
    outs[i] = l:call(ins[i], false)
    h = outs[i]:detach()
  end
  -- the loss's gradient at each output, from the last layer back
  local grads = {}
  if y ~= nil and model.loss_fn and #outs > 0 then
    local last = outs[#outs]:detach():requires_grad()
    model.loss_fn(y, last):backward()
    grads[#outs] = last:grad()
    for i = #outs, 2, -1 do
      if grads[i] == nil then break end
      (outs[i] * grads[i]):sum():backward()
      grads[i - 1] = ins[i]:grad()
    end
  end
  local rec = {}
  for i, l in ipairs(layers) do
    local o = outs[i]:detach()
    rec[i] = { name = l.name, output = o, mean = o:mean():item(), std = o:std():item(),
      saturated = saturated(type(l.activation) == "string" and l.activation, o),
      grad_norm = grads[i] and math.sqrt((grads[i] * grads[i]):sum():item()) or 0 / 0 }
  end
  return rec
end

--- Record each layer's output statistics during fit, on a fixed probe
-- batch, every `every` epochs: the mean, the std (population), the
-- fraction of saturated units (at the negative asymptote for SELU/ELU, zero
-- for ReLU, the outer 1% for sigmoid/tanh) and the norm of the loss's
-- gradient with respect to the layer's output (on the probe, at inference:
-- no dropout).  The results go to `history.layer_stats[layer_name]` as
-- `{mean = {...}, std = {...}, saturated = {...}, grad_norm = {...}}`,
-- one entry per recorded epoch; with `plot = prefix` they are also drawn,
-- one chart per statistic with a line per layer, as `<prefix>_<stat>.svg`.
-- @param[opt] opts `every` (1), `layers` (an array of layer names; all),
-- `probe` (a batch of inputs; default: the first 256 training samples),
-- `probe_y` (its targets, for the gradient; default: theirs), `plot`
-- @return the callback
function CB.LayerStats(opts)
  opts = utils.check_options("LayerStats", opts, { every = true, layers = true, probe = true, probe_y = true,
    plot = true })
  local every = opts.every or 1
  check.number("LayerStats", "every", every, 2, { integer = true, min = 1 })
  if opts.plot ~= nil then check.path("LayerStats", "plot", opts.plot, 2) end
  local wanted
  if opts.layers ~= nil then
    if type(opts.layers) ~= "table" then check.arg_error("LayerStats", "layers", "an array of layer names", opts.layers, 2) end
    wanted = {}
    for _, n in ipairs(opts.layers) do wanted[n] = true end
  end
  local cb = { name = "LayerStats", stats = {} }
  function cb.on_train_begin(self)
    local x, y = opts.probe or self.fit_x, opts.probe_y or self.fit_y
    if x == nil then error("LayerStats: no probe batch (pass probe = x, or use it in fit)", 0) end
    if not opts.probe then
      local n = math.min(256, x:size(1))
      x, y = x:narrow(1, 1, n), y and y:narrow(1, 1, n)
    end
    self.probe_x, self.probe_y = x, y
    self.stats = {}
    if type(self.model.history) == "table" then self.model.history.layer_stats = self.stats end
  end
  function cb.on_epoch_end(self, epoch)
    if (epoch + 1) % every ~= 0 then return end
    if self.probe_x == nil then error("LayerStats: no probe batch (on_train_begin did not run)", 0) end
    for _, r in ipairs(CB.record_layers(self.model, self.probe_x, self.probe_y)) do
      if not wanted or wanted[r.name] then
        local rec = self.stats[r.name]
        if not rec then
          rec = { mean = {}, std = {}, saturated = {}, grad_norm = {} }
          self.stats[r.name] = rec
        end
        rec.mean[#rec.mean + 1] = r.mean
        rec.std[#rec.std + 1] = r.std
        rec.saturated[#rec.saturated + 1] = r.saturated
        rec.grad_norm[#rec.grad_norm + 1] = r.grad_norm
      end
    end
  end
  function cb.on_train_end(self)
    if not opts.plot then return end
    local plot = require("lunet.plot")
    for _, stat in ipairs({ "mean", "std", "saturated", "grad_norm" }) do
      local series = {}
      for _, l in ipairs(self.model.layers) do
        local rec = self.stats[l.name]
        if rec and #rec[stat] > 0 then series[#series + 1] = { y = rec[stat], label = l.name } end
      end
      if #series > 0 then
        plot.line({ series = series, title = "layer " .. stat .. " by epoch", xlabel = "recorded epoch",
          ylabel = stat }, opts.plot .. "_" .. stat .. ".svg")
      end
    end
  end
  return callback("LayerStats", cb, true)
end

--- Stop training when a batch loss is NaN or infinite (and print which batch).
-- @return the callback
function CB.TerminateOnNaN()
  return callback("TerminateOnNaN", {
    on_batch_end = function(self, batch, logs)
      local l = logs and logs.loss
      if l and (l ~= l or l == math.huge or l == -math.huge) then
        print(fmt("Batch %d: Invalid loss, terminating training", batch))
        self.model.stop_training = true
      end
    end,
  }, true)
end

--- A callback from plain functions, called with Keras' arguments and no
-- self: `on_epoch_end(epoch, logs)`, `on_train_begin(logs)`, ...
-- @param[opt] fns a table with any of `on_train_begin`, `on_train_end`,
-- `on_epoch_begin`, `on_epoch_end`, `on_batch_end` (functions)
-- @return the callback
function CB.Lambda(fns)
  fns = utils.check_options("Lambda", fns, HOOKS)
  local cb = {}
  for k in pairs(HOOKS) do
    if fns[k] ~= nil and type(fns[k]) ~= "function" then check.arg_error("Lambda", k, "a function", fns[k], 2) end
    if fns[k] then cb[k] = function(_, ...) return fns[k](...) end end
  end
  return callback("Lambda", cb)
end

return CB
