--- Data-parallel training over OpenMPI, in the manner of Horovod: run the
-- same script on N processes with `mpirun -np N build/lunet script.lua`;
-- each trains on its shard of every epoch, gradients are averaged across
-- the ranks before each step, and only rank 0 prints and writes.
--
--     local lunet = require("lunet")
--     local dist = require("lunet.distributed")
--     dist.init()
--     model:compile({optimizer = dist.DistributedOptimizer(lunet.optim.RMSprop()), loss = ...})
--     model:fit(x, y, {batch_size = 128, distributed = true,
--       callbacks = {dist.callbacks.BroadcastGlobalVariables(0), dist.callbacks.MetricAverage()}})
--
-- The collectives (`allreduce`, `broadcast`, `allgather`) run on the C
-- module `lunet.mpi` (bindings/ldist.c), built by `make` where OpenMPI's
-- mpicc is installed (`make setup-mpi`).  With the checks on (the
-- default) each one first compares the ranks' dtypes and shapes and raises
-- the same error on every rank when they differ.  Under the `lunet`
-- launcher an error on any rank prints its traceback with the rank and
-- aborts the whole job (MPI_Abort), so no rank waits forever.
-- @module lunet.distributed
local lunet = require("lunet")
local check = require("lunet.check")
local autograd = require("lunet.autograd")

local found, mpi = pcall(require, "lunet.mpi")
if not found then
  error("lunet.distributed: lunet was built without OpenMPI (the C module lunet.mpi is missing): " ..
    "install it with `make setup-mpi` (Debian's libopenmpi-dev and openmpi-bin), then run `make`", 2)
end

local fmt = string.format
local M = {}

--- Start MPI (once; later calls do nothing) and keep each rank's threads
-- to its share of the node's cores (`size() * threads <= cores`, at least
-- one thread).
function M.init()
  mpi.init()
  local per = math.max(1, lunet.config().cpus // mpi.local_size())
  if lunet.get_num_threads() > per then lunet.set_num_threads(per) end
end

--- Whether `init` ran (and `finalize` did not).
-- @return a boolean
function M.is_initialized() return mpi.initialized() end

--- This process's rank in the job, 0 to size() - 1.
-- @return an integer
function M.rank() return mpi.rank() end

--- The number of processes in the job.
-- @return an integer
function M.size() return mpi.size() end

--- This process's rank among the job's processes on its machine.
-- @return an integer
function M.local_rank() return mpi.local_rank() end

--- The number of the job's processes on this machine.
-- @return an integer
function M.local_size() return mpi.local_size() end

--- Wait until every rank gets here.
function M.barrier() mpi.barrier() end

local ops = { sum = true, mean = true, max = true, min = true }

--- Reduce a float tensor across the ranks, in place: every rank gets the
-- sum, mean (the default, as Horovod), max or min.  A tensor that is not
-- contiguous is copied through a contiguous one.
-- @param t a float32 or float64 tensor, of one shape and dtype on all ranks
-- @param[opt] opts `{op = "sum" | "mean" | "max" | "min"}`
-- @return t
function M.allreduce(t, opts)
  opts = opts or {}
  if type(opts) ~= "table" then check.arg_error("allreduce", "opts", "{op = ...}", opts, 2) end
  for k in pairs(opts) do
    if k ~= "op" then error(fmt("allreduce: unknown option '%s' (known: op)", tostring(k)), 2) end
  end
  local op = opts.op or "mean"
  if not ops[op] then check.arg_error("allreduce", "op", '"sum", "mean", "max" or "min"', op, 2) end
  return mpi.allreduce(t, op)
end

--- Copy root's tensor into every rank's, in place.
-- @param t a tensor of one shape and dtype on all ranks
-- @param[opt=0] root the rank whose values everyone gets
-- @return t
function M.broadcast(t, root)
  return mpi.broadcast(t, root or 0)
end

--- The ranks' tensors concatenated along dim 1 in rank order (their first
-- dims may differ; the other dims and the dtype must agree).
-- @param t a tensor with at least one dim
-- @return a new tensor
function M.allgather(t)
  return mpi.allgather(t)
end

--- End MPI (also done when the program exits normally).
function M.finalize() mpi.finalize() end

--- Turn the ranks' dtype and shape handshake before each collective off (or on again).
-- @param on a boolean
-- @return the previous setting
function M.set_checks(on)
  if type(on) ~= "boolean" then check.arg_error("set_checks", "on", "a boolean", on, 2) end
  return mpi.set_checks(on)
end

-- ---- the distributed optimizer --------------------------------------------------

local DEFAULT_FUSION = 64 * 1024 * 1024

--- Wrap an optimizer so that each step first averages the gradients over
-- the ranks.  The gradients are packed into buckets of at most
-- `fusion_bytes` bytes (Horovod's tensor fusion: one allreduce per
-- bucket, not per tensor; 0 gives one per tensor), in the parameters'
-- order, which is the same on every rank.  With `overlap = true` each
-- gradient's non-blocking allreduce starts as soon as the backward pass
-- completes it (`autograd.on_grad_ready`, from the second step on) and the
-- step waits for them.
-- @param opt a lunet optimizer (or a name, as compile takes it)
-- @param[opt] opts `fusion_bytes` (the threshold in bytes, default 64 MiB;
-- `fusion_threshold` is the same option), `overlap` (false)
-- @return an optimizer for `compile`
function M.DistributedOptimizer(opt, opts)
  opts = opts or {}
  if type(opts) ~= "table" then check.arg_error("DistributedOptimizer", "opts", "a table", opts, 2) end
  for k in pairs(opts) do
    if k ~= "fusion_bytes" and k ~= "fusion_threshold" and k ~= "overlap" then
      error(fmt("DistributedOptimizer: unknown option '%s' (known: fusion_bytes, overlap; fusion_threshold " ..
        "is another name of fusion_bytes)", tostring(k)), 2)
    end
  end
  if opts.fusion_bytes ~= nil and opts.fusion_threshold ~= nil then
    error("DistributedOptimizer: fusion_bytes and fusion_threshold are one option; give one", 2)
  end
  local threshold = opts.fusion_bytes or opts.fusion_threshold or DEFAULT_FUSION
  check.number("DistributedOptimizer", "fusion_bytes", threshold, 2, { min = 0 })
  if opts.overlap ~= nil and type(opts.overlap) ~= "boolean" then
    check.arg_error("DistributedOptimizer", "overlap", "a boolean", opts.overlap, 2)
  end
  local inner = check.within("DistributedOptimizer", 2, lunet.optim.get, opt)
  local d = { inner = inner, fusion_threshold = threshold, buffers = {}, allreduce_calls = 0,
    overlap = opts.overlap == true, pending = setmetatable({}, { __mode = "k" }),
    hooked = setmetatable({}, { __mode = "k" }) }

  -- the gradients of params in buckets: runs of one dtype of at most
  -- threshold bytes (those already reduced by overlap left out)
  local function buckets(params, done)
    local list, cur, bytes = {}, nil, 0
    for _, w in ipairs(params) do
      local g = w:grad()
      if g ~= nil and not done[w] then
        local dt = g:dtype()
        local b = g:numel() * (dt == "float64" and 8 or 4)
        if not cur or cur.dtype ~= dt or (bytes > 0 and bytes + b > threshold) then
          cur = { dtype = dt, grads = {}, numel = 0 }
          list[#list + 1] = cur
          bytes = 0
        end
        cur.grads[#cur.grads + 1] = g
        cur.numel = cur.numel + g:numel()
        bytes = bytes + b
      end
    end
    return list
  end

  --- Average the gradients of params over the ranks (in place), then take
  -- the wrapped optimizer's step.
  -- @param params an array of tensors
  function d:step(params)
    check.type("DistributedOptimizer.step", "params", params, "table", 2)
    -- the allreduces the backward started (overlap), finished in the parameters' order
    local done = {}
    for _, w in ipairs(params) do
      local req = self.pending[w]
      if req then
        mpi.wait(req)
        self.pending[w] = nil
        done[w] = true
        self.allreduce_calls = self.allreduce_calls + 1
      end
    end
    if self.overlap then
      for _, w in ipairs(params) do
        if not self.hooked[w] then
          self.hooked[w] = true
          autograd.on_grad_ready(w, function(_, g)
            if g:is_contiguous() and (g:dtype() == "float32" or g:dtype() == "float64") then
              self.pending[w] = mpi.iallreduce(g, "mean")
            end
          end)
        end
      end
    end
    autograd.no_grad(function()
      for i, b in ipairs(buckets(params, done)) do
        if #b.grads == 1 then
          mpi.allreduce(b.grads[1], "mean")
        else
          local slot = self.buffers[i]
          if not (slot and slot.flat:numel() == b.numel and slot.flat:dtype() == b.dtype) then
            slot = { flat = lunet.empty({ b.numel }, b.dtype), views = {} }
            self.buffers[i] = slot
          end
          -- the gradients already in their places in the bucket: reduced there
          local in_place = #slot.views == #b.grads
          for k, g in ipairs(b.grads) do
            if not rawequal(g, slot.views[k]) then
              in_place = false
              break
            end
          end
          if in_place then
            mpi.allreduce(slot.flat, "mean")
          else
            local grads = {} -- a strided gradient is reduced in a contiguous copy, copied back below
            for k, g in ipairs(b.grads) do grads[k] = g:is_contiguous() and g or g:contiguous() end
            mpi.allreduce_fused(grads, slot.flat, "mean")
            -- from the next step on, the backward writes each gradient into
            -- its place in the bucket (the step buffers hold views of it):
            -- no packing then
            slot.views = {}
            local off = 1
            for k, g in ipairs(b.grads) do
              if grads[k] ~= g then g:copy(grads[k]) end
              local n = g:numel()
              local v = slot.flat:narrow(1, off, n):reshape(g:shape())
              v:copy(g)
              if autograd.rebind_buffer(g, v) > 0 then slot.views[k] = v end
              off = off + n
            end
          end
        end
        self.allreduce_calls = self.allreduce_calls + 1
      end
    end)
    return self.inner:step(params)
  end
  return setmetatable(d, { __index = function(_, k) return inner[k] end })
end

-- ---- callbacks --------------------------------------------------------------------

--- The callbacks of a distributed fit: `BroadcastGlobalVariables` and
-- `MetricAverage` (Horovod's names).
-- @table callbacks
M.callbacks = {}

--- At the start of training, every rank takes rank `root`'s weights (all
-- of them, trainable or not), so the ranks start alike.
-- @param[opt=0] root the rank whose weights everyone gets
-- @return the callback
function M.callbacks.BroadcastGlobalVariables(root)
  root = root or 0
  check.number("BroadcastGlobalVariables", "root", root, 2, { integer = true, min = 0 })
  return {
    name = "BroadcastGlobalVariables",
    on_train_begin = function(self)
      for _, l in ipairs(self.model.layers) do
        for _, w in ipairs(l:get_weight_tensors()) do mpi.broadcast(w, root) end
      end
    end,
  }
end

--- At the end of each epoch, the epoch's logs (loss, metrics, and the
-- validation ones) become their mean over the ranks, so rank 0 prints and
-- records the job's figures.
-- @return the callback
function M.callbacks.MetricAverage()
  return {
    name = "MetricAverage",
    on_epoch_end = function(_, _, logs)
      local keys = {}
      for k, v in pairs(logs) do if type(v) == "number" then keys[#keys + 1] = k end end
      table.sort(keys)
      if #keys == 0 then return end
      local t = lunet.zeros({ #keys }, "float64")
      for i, k in ipairs(keys) do t[i] = logs[k] end
      mpi.allreduce(t, "mean")
      for i, k in ipairs(keys) do logs[k] = t[i] end
    end,
  }
end

return M
