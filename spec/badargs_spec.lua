-- The bad-argument sweep: every function exported by require("lunet") and
-- its submodules, every class constructor, and every method of the built-in
-- layers, optimizers, callbacks, Sequential and tensors, called with nil,
-- wrong types, NaN, +-inf, huge and negative integers, 0-size, 0-d and
-- non-contiguous tensors.  Each call must either succeed or raise a string
-- error that names the function (or its class), never Lua's own "attempt
-- to ..." from inside the library, and must leave grad mode on.
local lunet = require("lunet")
local autograd = require("lunet.autograd")
local nn, optim, callbacks = lunet.nn, lunet.optim, lunet.callbacks

local fmt = string.format
local NOWHERE = "/nonexistent-lunet-dir/badargs"

-- built fresh for every call, so an in-place op cannot poison the next
local function tensors()
  return {
    lunet.ones(2, 3),                      -- ordinary
    lunet.zeros(0, 3),                     -- 0-size
    lunet.arange(0, 12):reshape(3, 4):t(), -- non-contiguous
    lunet.tensor(2.5),                     -- 0-d
    lunet.tensor({ 1, 0 }, "int32"),       -- integer
    lunet.tensor({ (1 << 62) + 1, -1 }, "int64"), -- int64 beyond 2^53
  }
end

local bad_values = {
  { "nil", nil }, { "false", false }, { "true", true }, { "string", NOWHERE }, { "empty string", "" },
  { "table", {} }, { "nested table", { 1, { 2 } } }, { "function", function() end },
  { "nan", 0 / 0 }, { "inf", math.huge }, { "-inf", -math.huge }, { "0", 0 }, { "-1", -1 },
  { "1.5", 1.5 }, { "maxinteger", math.maxinteger }, { "mininteger", math.mininteger },
  { "1e300", 1e300 }, { "coroutine", coroutine.create(function() end) },
}

-- argument lists for one call: each bad value alone, after one and two
-- tensors, and twice
local function arg_lists()
  local lists = {}
  for _, bv in ipairs(bad_values) do
    lists[#lists + 1] = { bv[1], function() return { n = 1, bv[2] } end }
    lists[#lists + 1] = { "tensor, " .. bv[1], function() return { n = 2, tensors()[1], bv[2] } end }
    lists[#lists + 1] = { "tensor, tensor, " .. bv[1],
      function() local t = tensors(); return { n = 3, t[1], t[1], bv[2] } end }
    lists[#lists + 1] = { bv[1] .. " x2", function() return { n = 2, bv[2], bv[2] } end }
  end
  for k = 2, #tensors() do
    lists[#lists + 1] = { "tensor #" .. k, function() return { n = 1, tensors()[k] } end }
    lists[#lists + 1] = { "tensor, tensor #" .. k, function() return { n = 2, tensors()[1], tensors()[k] } end }
  end
  return lists
end
local ARGS = arg_lists()

-- a Lua loop that runs this long inside one call counts as a hang
local BUDGET = 2e7

-- helpers whose first argument is the name of the function calling them
-- (their messages name that caller)
-- (their messages name that caller): the position of that argument
local TAKES_FNAME = { ["lunet.utils.check_options"] = 1, ["lunet.utils.one_hot"] = 1, ["lunet.utils.check_labels"] = 1,
  ["lunet.losses.one_hot"] = 1, ["lunet.nn.check_shape"] = 1, ["lunet.utils.write_file_atomic"] = 3,
  ["lunet.safetensors.parse"] = 2, ["lunet.safetensors.read"] = 2 }

local calls = 0
local function check_call(failures, label, names, fn, args)
  calls = calls + 1
  local at = TAKES_FNAME[label]
  if at and type(args[at]) == "string" and args[at] ~= "" then
    names = { names[1], args[at] }
  end
  local t0 = os.clock()
  debug.sethook(function() error("sweep: no return within the instruction budget", 0) end, "", BUDGET)
  local ok, err = pcall(fn, table.unpack(args, 1, args.n))
  debug.sethook()
  local why
  if not autograd.is_enabled() then
    why = "left grad mode off"
  elseif not ok then
    if type(err) ~= "string" then
      why = "raised a " .. type(err) .. ", not a string"
    elseif err:find("attempt to %a+ a") or err:find("sweep: no return") or err:find("stack overflow") then
      why = err
    else
      -- the name as a whole word (so that "t" or "ne" cannot match inside
      -- "tensor" or "number"), in any case: the PELU layer may say "pelu: ..."
      local named, lower = false, err:lower()
      for _, n in ipairs(names) do
        local found
        if n:match("^[%w_]+$") then
          found = lower:find("%f[%w_]" .. n:lower() .. "%f[^%w_]")
        else
          found = lower:find(n:lower(), 1, true) -- a path given as the caller's name
        end
        if found then named = true break end
      end
      if not named then why = "does not name " .. table.concat(names, " or ") .. ": " .. err end
    end
  end
  if os.clock() - t0 > 2 then why = (why and why .. "; " or "") .. "took more than 2 s" end
  if why then failures[#failures + 1] = fmt("%s(%s): %s", label, args.label, why) end
end

local function sweep(failures, label, names, fn, make_args)
  for _, a in ipairs(ARGS) do
    local args = (make_args or a[2])(a)
    args.label = a[1]
    check_call(failures, label, names, fn, args)
  end
end

local function report(failures)
  local log = os.getenv("LUNET_SWEEP_LOG") -- every failure, for whoever fixes them
  if log and #failures > 0 then
    local f = assert(io.open(log, "a"))
    f:write(table.concat(failures, "\n"), "\n")
    f:close()
  end
  if #failures > 0 then
    local shown = {}
    for i = 1, math.min(#failures, 60) do shown[i] = failures[i] end
    error(fmt("%d bad-argument calls failed:\n%s", #failures, table.concat(shown, "\n")), 0)
  end
end

local function sorted_keys(t)
  local keys = {}
  for k, v in pairs(t) do
    if type(k) == "string" then keys[#keys + 1] = k end
  end
  table.sort(keys)
  return keys
end

-- silence what successful calls print (progress bars, summaries)
local function quietly(fn)
  local w, p = io.write, _G.print
  io.write, _G.print = function() return io.stdout end, function() end
  local threads = lunet.get_num_threads()
  local ok, err = pcall(fn)
  io.write, _G.print = w, p
  lunet.set_num_threads(threads)
  if not ok then error(err, 0) end
end

local function short(name) return name:match("([^.:]+)$") end

local function listing()
  local p = io.popen("ls -A") -- (a file left by an earlier run shows in git status)
  local s = p:read("a")
  p:close()
  return s
end

describe("the bad-argument sweep", function()
  local files_before = listing()
  teardown(function() print(fmt("badargs: %d calls", calls)) end)
  local seed
  before_each(function()
    seed = os.time()
    print("badargs seed " .. seed)
    lunet.manual_seed(seed)
  end)

  it("covers every function of require('lunet') and its submodules", function()
    local failures = {}
    local mods = { "autograd", "activations", "nn", "optim", "losses", "metrics", "initializers",
      "constraints", "callbacks", "data", "datasets", "utils", "plot", "analysis", "experiment" }
    local seen = {}
    local function walk(prefix, t, depth)
      for _, k in ipairs(sorted_keys(t)) do
        local v = t[k]
        local name = prefix .. k
        if type(v) == "function" and not seen[v] then
          seen[v] = true
          quietly(function() sweep(failures, name, { short(name) }, v) end)
        elseif type(v) == "table" and depth < 1 and getmetatable(v) == nil and k ~= "Tensor"
            and k ~= "core" and not k:match("^%u") then
          walk(name .. ".", v, depth + 1) -- plain sub-tables: datasets.mnist, losses.metrics
        end
      end
    end
    walk("lunet.", lunet, 1)
    for _, m in ipairs(mods) do walk("lunet." .. m .. ".", lunet[m], 0) end
    -- modules loaded by name rather than through require("lunet")
    -- (lunet.check, the library's own argument checks, is internal and not walked)
    walk("lunet.safetensors.", require("lunet.safetensors"), 0)
    walk("lunet.gradcheck.", require("lunet.gradcheck"), 0)
    walk("lunet.progress.", require("lunet.progress"), 0)
    -- lunet.layer's public functions are nn's (walked above); its `internal`
    -- table is the built-in layers' own helpers, not public API
    report(failures)
  end)

  it("covers every tensor method, and tensor methods called on a non-tensor", function()
    local failures = {}
    local aliases = { float = "astype", double = "astype", int = "astype", long = "astype", byte = "astype" }
    quietly(function()
      for _, k in ipairs(sorted_keys(lunet.Tensor)) do
        local f = lunet.Tensor[k]
        local names = { k, aliases[k] }
        for ti = 1, #tensors() do
          sweep(failures, fmt("t%d:%s", ti, k), names, f, function(a)
            local r = a[2]()
            table.insert(r, 1, tensors()[ti])
            r.n = r.n + 1
            return r
          end)
        end
        for _, bv in ipairs(bad_values) do
          if bv[2] ~= nil then check_call(failures, "Tensor." .. k, names, f, { n = 1, label = bv[1], bv[2] }) end
        end
      end
    end)
    report(failures)
  end)

  -- an instance of each built-in class, built and ready, with the names its
  -- errors may give
  local function instances()
    local list = {}
    local model = nn.Sequential({ nn.Dense(3, { input_shape = { 3 } }) })
    model:compile({ optimizer = "sgd", loss = "mse" })
    list[#list + 1] = { "Sequential", model, { "Sequential", model.name } }
    for _, k in ipairs(sorted_keys(nn)) do
      local cls = nn[k]
      if type(cls) == "table" and cls.class_name and cls ~= nn.Layer and k ~= "Sequential" then
        local args = { Dense = { 3 }, Activation = { "relu" }, Dropout = { 0.5 }, AlphaDropout = { 0.1 },
          GaussianDropout = { 0.1 }, GaussianNoise = { 0.1 }, Reshape = { { 3 } }, Conv2D = { 2, 2 } }
        local image = { Conv2D = true, MaxPooling2D = true, GlobalAveragePooling2D = true, GlobalMaxPooling2D = true,
          AveragePooling2D = true, ZeroPadding2D = true } -- layers whose samples are (h, w, c)
        local layer = cls(table.unpack(args[k] or {}))
        layer:build_for(image[k] and { 4, 4, 3 } or { 3 })
        list[#list + 1] = { k, layer, { k, layer.name } }
      end
    end
    for _, k in ipairs(sorted_keys(optim)) do
      if type(optim[k]) == "table" then list[#list + 1] = { k, optim[k](), { k } } end
    end
    -- loss objects (called as L(y_true, y_pred)) and the gradient tape
    for _, k in ipairs(sorted_keys(lunet.losses)) do
      if k:match("^%u") and type(lunet.losses[k]) == "table" then
        local obj = lunet.losses[k]()
        list[#list + 1] = { k, obj, { k, obj.loss_name } }
      end
    end
    list[#list + 1] = { "GradientTape", lunet.autograd.GradientTape(), { "GradientTape" } }
    list[#list + 1] = { "Input", nn.Input({ 3 }), { "Input" } }
    local cbs = {
      LearningRateScheduler = function() return callbacks.LearningRateScheduler(function(_, lr) return lr end) end,
      EarlyStopping = function() return callbacks.EarlyStopping() end,
      ModelCheckpoint = function() return callbacks.ModelCheckpoint(NOWHERE) end,
      CSVLogger = function() return callbacks.CSVLogger(NOWHERE) end,
      TerminateOnNaN = function() return callbacks.TerminateOnNaN() end,
      Lambda = function() return callbacks.Lambda({}) end,
      LayerStats = function() return callbacks.LayerStats() end,
    }
    for _, k in ipairs(sorted_keys(cbs)) do
      local cb = cbs[k]()
      cb.model = model
      list[#list + 1] = { k, cb, { k } }
    end
    return list
  end

  it("covers every method of the built-in layers, optimizers, callbacks and Sequential", function()
    local failures = {}
    quietly(function()
      for _, inst in ipairs(instances()) do
        local cname, obj, names = inst[1], inst[2], inst[3]
        local methods, seen = {}, {}
        -- methods live in the class chain; an instance's own function fields
        -- are data (a layer's activation, a model's loss), except for
        -- callbacks, which are plain tables of hooks
        local t = getmetatable(obj) and getmetatable(obj).__index or obj
        while t do -- the instance and its class chain
          for _, k in ipairs(sorted_keys(t)) do
            if type(obj[k]) == "function" and not seen[k] and k ~= "extend" then
              seen[k] = true
              methods[#methods + 1] = k
            end
          end
          local mt = getmetatable(t)
          t = mt and type(mt.__index) == "table" and mt.__index ~= t and mt.__index or nil
        end
        table.sort(methods)
        for _, k in ipairs(methods) do
          local label = cname .. ":" .. k
          local mnames = { k, table.unpack(names) }
          sweep(failures, label, mnames, function(...) return obj[k](obj, ...) end)
          -- the wrong self
          for _, bv in ipairs({ { "nil", nil }, { "number", 5 }, { "table", {} }, { "tensor", lunet.ones(1) } }) do
            check_call(failures, label .. " (self " .. bv[1] .. ")", mnames, obj[k], { n = 1, label = "", bv[2] })
          end
        end
      end
    end)
    report(failures)
  end)

  -- Options tables: a probe key makes check_options list the known keys
  -- ("unknown option '...' (known: a, b)"); then each known key gets each
  -- bad value.  Options come last, after 0, 1 or 2 leading arguments.
  it("covers the values inside every options table", function()
    local failures, probed = {}, 0
    quietly(function()
      local targets = {}
      local function add(label, fn, names) targets[#targets + 1] = { label, fn, names } end
      for _, m in ipairs({ "activations", "optim", "losses", "initializers", "constraints", "callbacks",
        "data", "datasets", "utils", "plot", "autograd", "analysis", "experiment" }) do
        for _, k in ipairs(sorted_keys(lunet[m])) do
          if type(lunet[m][k]) == "function" or (type(lunet[m][k]) == "table" and k:match("^%u")) then
            local f = lunet[m][k]
            add(m .. "." .. k, function(...) return f(...) end, { k })
          end
        end
      end
      for _, k in ipairs(sorted_keys(nn)) do
        local cls = nn[k]
        if type(cls) == "table" and cls.class_name and cls ~= nn.Layer then
          add("nn." .. k, function(...) return cls(...) end, { k })
        end
      end
      local model = nn.Sequential({ nn.Dense(3, { input_shape = { 3 } }) })
      model:compile({ optimizer = "sgd", loss = "mse" })
      for _, k in ipairs({ "compile", "fit", "evaluate", "predict" }) do
        add("Sequential:" .. k, function(...) return model[k](model, ...) end, { k, "Sequential" })
      end
      local leads = { {}, { 0.5 }, { 3 }, { { 3 } }, { lunet.ones(2, 3) }, { lunet.ones(2, 3), lunet.ones(2, 3) } }
      -- an activation name leads only for layers: elsewhere a string is a
      -- path, and the sweep writes no file outside NOWHERE
      local layer_leads = { { "relu" }, table.unpack(leads) }
      for _, t in ipairs(targets) do
        for _, lead in ipairs(t[1]:match("^nn%.") and layer_leads or leads) do
          local args = { table.unpack(lead) }
          args[#args + 1] = { __sweep_probe = true }
          local ok, err = pcall(t[2], table.unpack(args))
          local known = not ok and type(err) == "string" and err:match("unknown option '__sweep_probe' %(known: ([^)]*)%)")
          if known then
            probed = probed + 1
            for key in known:gmatch("[%w_]+") do
              for _, bv in ipairs(bad_values) do
                local a = { table.unpack(lead) }
                a[#a + 1] = { [key] = bv[2] }
                a.n, a.label = #lead + 1, fmt("{%s = %s}", key, bv[1])
                check_call(failures, t[1], t[3], t[2], a)
              end
            end
            break
          end
        end
      end
    end)
    print(fmt("options sweep: %d functions with options tables", probed))
    assert.is_true(probed > 30)
    report(failures)
  end)

  it("covers every class constructor", function()
    local failures = {}
    quietly(function()
      local ctors = {}
      for _, k in ipairs(sorted_keys(nn)) do
        if type(nn[k]) == "table" and nn[k].class_name then ctors[#ctors + 1] = { "nn." .. k, nn[k], k } end
      end
      for _, m in ipairs({ "optim", "callbacks", "initializers", "constraints" }) do
        for _, k in ipairs(sorted_keys(lunet[m])) do
          if k:match("^%u") then ctors[#ctors + 1] = { m .. "." .. k, lunet[m][k], k } end
        end
      end
      for _, c in ipairs(ctors) do
        sweep(failures, c[1], { c[3] }, function(...) return c[2](...) end)
      end
    end)
    report(failures)
  end)

  -- The C kernels under the conv, pooling and normalization layers take long
  -- positional argument lists that a generic bad value rarely reaches past
  -- the first check: start from a call that succeeds and replace one
  -- argument at a time with each bad value and with tensors of the wrong
  -- shape, dtype or layout.
  it("covers every argument of lunet.core's conv, pooling and batch-norm kernels", function()
    local failures = {}
    local core = lunet.core
    quietly(function()
      local x, k, b = lunet.randn(2, 6, 5, 3), lunet.randn(3, 3, 3, 4), lunet.randn(4)
      local y = core.conv2d(x, k, b, "relu", 1, 1, 1, 1, "valid", false, nil)
      local p, arg = core.maxpool(x, 2, 2, 2, 2, "valid")
      local x2 = lunet.randn(5, 3)
      local _, mean, _, invstd = core.batchnorm(x2, lunet.ones(3), lunet.zeros(3), 1e-3, true, nil, nil)
      local calls_ok = {
        { "conv2d", 12, { x, k, b, "relu", 1, 1, 1, 1, "valid", false, nil } },
        { "conv2d_backward", 15, { x, k, "relu", y, y, 1, 1, 1, 1, "valid", true, true, true, nil } },
        { "maxpool", 7, { x, 2, 2, 2, 2, "valid" } },
        { "maxpool_backward", 9, { p, arg, { 2, 6, 5, 3 }, 2, 2, 2, 2, "valid" } },
        { "avgpool", 7, { x, 2, 2, 2, 2, "same" } },
        { "avgpool_backward", 8, { core.avgpool(x, 2, 2, 2, 2, "same"), { 2, 6, 5, 3 }, 2, 2, 2, 2, "same" } },
        { "im2col", 9, { x, 3, 3, 1, 1, 1, 1, "valid" } },
        { "batchnorm", 8, { x2, lunet.ones(3), lunet.zeros(3), 1e-3, false, lunet.zeros(3), lunet.ones(3) } },
        { "batchnorm_backward", 10, { x2, lunet.ones(3), mean, invstd, true, x2, true, true, true } },
      }
      local wrong = { { "nil", nil }, { "false", false }, { "string", "same" }, { "0", 0 }, { "-1", -1 },
        { "nan", 0 / 0 }, { "maxinteger", math.maxinteger }, { "table", { 1, 2 } },
        { "2-d tensor", lunet.ones(2, 3) }, { "4-d tensor", lunet.ones(1, 2, 2, 1) },
        { "float64 4-d", lunet.ones(2, 6, 5, 3, "float64") }, { "int32", lunet.ones(2, 6, 5, 3):int() },
        { "empty", lunet.zeros(0, 6, 5, 3) }, { "transposed", lunet.ones(3, 5, 6, 2):transpose(1, 4) } }
      for _, c in ipairs(calls_ok) do
        -- n: the arguments the call takes, plus one past them
        local name, n, good = c[1], c[2], c[3]
        for i = 1, n do
          for _, w in ipairs(wrong) do
            local args = { n = n, label = fmt("argument %d %s", i, w[1]) }
            for j = 1, n do args[j] = good[j] end
            args[i] = w[2]
            check_call(failures, "core." .. name, { name }, core[name], args)
          end
        end
      end
    end)
    report(failures)
  end)

  it("leaves no file behind in the working directory (a number is no path)", function()
    assert.are.equal(files_before, listing())
  end)
end)
