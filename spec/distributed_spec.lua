-- spec/distributed_spec.lua - lunet.distributed over OpenMPI, through
-- mpirun in a subprocess (make test installs OpenMPI; without it, or
-- without the module built, each test says so and passes nothing).
local lunet = require("lunet")
local S = require("support")

local root = (debug.getinfo(1, "S").source:match("^@(.*)/spec/[^/]*$")) or "."
local launcher = root .. "/build/lunet"
local fixtures = root .. "/spec/fixtures/"
local have_mpi = S.run("command -v mpirun") ~= "" and io.open(root .. "/build/lib/lunet/mpi.so") ~= nil

-- mpirun as CI runs it: as root, more ranks than cores, shared memory only
local function mpirun(np, script, args, seconds)
  local cmd = string.format("OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 timeout %d " ..
    "mpirun -np %d --oversubscribe --mca btl self,vader --mca btl_vader_single_copy_mechanism none " ..
    "%s %s %s", seconds or 60, np, launcher, fixtures .. script, args or "")
  return S.run(cmd, true)
end

local function skip()
  if have_mpi then return false end
  print("distributed_spec: OpenMPI or lunet.mpi is missing (make setup-mpi && make): skipped")
  return true
end

describe("lunet.distributed", function()
  it("without MPI built, require('lunet.distributed') says how to get it", function()
    -- lunet loads, then the C module cannot be found (as where mpicc was missing at make)
    local out = S.run(string.format("%s -e 'require(\"lunet\"); package.cpath = \"\"; " ..
      "local ok, e = pcall(require, \"lunet.distributed\"); print(ok, e)'", launcher), true)
    assert.matches("make setup%-mpi", out)
    assert.matches("false", out)
  end)

  it("allreduce (sum, mean, max, min, strided), broadcast and allgather give the hand-computed values on 1, 2 and 3 ranks", function()
    if skip() then return end
    for np = 1, 3 do
      local out, code = mpirun(np, "dist_collectives.lua")
      assert.are.equal(0, code, out)
      for r = 0, np - 1 do assert.matches("ok " .. r, out, 1, true) end
    end
  end)

  it("two ranks at batch 8 end with the weights of one process at batch 16 (SGD float64, Adam float32; overlapped too)", function()
    if skip() then return end
    local make = dofile(fixtures .. "dist_model.lua")
    for _, c in ipairs({ { "sgd64", 1e-12 }, { "adam32", 1e-5 }, { "sgd64", 1e-12, "overlap" }, { "adam32", 1e-5, "overlap" } }) do
      local mode, tol = c[1], c[2]
      local out_path = os.tmpname()
      local out, code = mpirun(2, "dist_train.lua", mode .. " " .. out_path .. " " .. (c[3] or ""))
      assert.are.equal(0, code, out)
      -- one process: the global batch of 16, 5 steps
      local model, x, y = make(mode)
      model:compile({ optimizer = mode == "sgd64" and lunet.optim.SGD({ learning_rate = 0.05 }) or lunet.optim.Adam(),
        loss = mode == "sgd64" and "mse" or "sparse_categorical_crossentropy" })
      model:fit(x, y, { batch_size = 16, epochs = 1, shuffle = false, verbose = 0 })
      for r = 0, 1 do
        local ranked = make(mode)
        ranked:load_weights(out_path .. "." .. r)
        local w1, w2 = model:get_weights(), ranked:get_weights()
        for i = 1, #w1 do
          local diff = (w1[i] - w2[i]):abs():max():item()
          assert.is_true(diff <= tol, string.format("%s rank %d weight %d differs by %g", mode, r, i, diff))
        end
        os.remove(out_path .. "." .. r)
      end
      os.remove(out_path)
      -- and the ranks really trained (the weights moved from the start)
      local start = make(mode)
      assert.is_false(lunet.allclose(start:get_weights()[1], model:get_weights()[1], 0, 1e-6))
    end
  end)

  it("every function of lunet.distributed and lunet.mpi refuses wrong arguments with an error naming it", function()
    if skip() then return end
    local out, code = mpirun(1, "dist_badargs.lua")
    assert.are.equal(0, code, out)
    local n, failed = out:match("swept (%d+) calls, (%d+) without a clear error")
    assert.is_true(tonumber(n) > 1000, out)
    assert.are.equal("0", failed, out)
  end)

  it("a rank that raises inside fit aborts the whole job, non-zero, with its rank and traceback", function()
    if skip() then return end
    local t0 = lunet.clock()
    local out, code = mpirun(2, "dist_faults.lua", "error_fit", 30)
    assert.are_not.equal(0, code)
    assert.is_true(code ~= 124, "the job hung until the timeout:\n" .. out)
    assert.matches("rank 1 of 2: .*rank 1 fails at its third batch", out)
    assert.matches("stack traceback", out)
    assert.is_true(lunet.clock() - t0 < 30)
  end)

  it("a rank killed with SIGKILL ends the job instead of leaving the others waiting", function()
    if skip() then return end
    local out, code = mpirun(2, "dist_faults.lua", "kill", 60)
    assert.are_not.equal(0, code)
    assert.is_true(code ~= 124, "the job hung until the timeout:\n" .. out)
  end)

  it("shapes that differ between ranks raise the same error on every rank", function()
    if skip() then return end
    local out, code = mpirun(3, "dist_faults.lua", "mismatch")
    assert.are.equal(0, code, out)
    for r = 0, 2 do
      assert.matches("rank " .. r .. ": allreduce: the ranks disagree: rank 0 has float32 %(2,%), rank 1 has float32 %(3,%)", out)
    end
  end)

  it("examples/mnist_selu_distributed.lua trains seed 000's MLP on 2 ranks; rank 0 reports and saves", function()
    if skip() then return end
    local dir = os.tmpname()
    os.remove(dir)
    S.write_mnist_like(dir, 512, 100)
    local cmd = string.format("OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 timeout 120 " ..
      "mpirun -np 2 --oversubscribe --mca btl self,vader --mca btl_vader_single_copy_mechanism none " ..
      "%s %s/examples/mnist_selu_distributed.lua --epochs 2 --data %s/mnist --out %s/out --verbose 2",
      launcher, root, dir, dir)
    local out, code = S.run(cmd, true)
    assert.are.equal(0, code, out)
    local _, reports = out:gsub("Test accuracy: ", "")
    assert.are.equal(1, reports, out) -- rank 0 alone
    local acc = tonumber(out:match("Test accuracy: ([%d.]+)"))
    assert.is_true(acc > 0.5, out) -- the stripes are learnable in two epochs
    assert.matches("2 ranks at batch 64 %(global batch 128%)", out)
    assert.is_not_nil(io.open(dir .. "/out/mnist_selu_distributed.safetensors"))
    os.execute("rm -rf " .. dir)
  end)

  it("experiment.sweep shares a grid's runs among the ranks and merges their results", function()
    if skip() then return end
    local dir = os.tmpname()
    os.remove(dir)
    local out, code = mpirun(2, "dist_sweep.lua", dir)
    assert.are.equal(0, code, out)
    assert.matches("rank 0 ran 3, sees 6 runs, 2 groups, selu mean 0.9200", out, 1, true)
    assert.matches("rank 1 ran 3, sees 6 runs, 2 groups, selu mean 0.9200", out, 1, true)
    local rows = 0
    for _ in io.lines(dir .. "/results.csv") do rows = rows + 1 end
    assert.are.equal(7, rows)
    assert.is_nil(io.open(dir .. "/results.csv.rank1"))
    -- a second launch finds everything done
    out, code = mpirun(2, "dist_sweep.lua", dir)
    assert.are.equal(0, code, out)
    assert.matches("rank 0 ran 0, sees 6 runs", out, 1, true)
    os.execute("rm -rf " .. dir)
  end)

  it("only rank 0 writes checkpoints, CSV logs, plots and saves; all_ranks = true saves on every rank", function()
    if skip() then return end
    local dir = os.tmpname()
    os.remove(dir)
    assert(os.execute("mkdir -p " .. dir))
    local out, code = mpirun(2, "dist_faults.lua", "checkpoint " .. dir)
    assert.are.equal(0, code, out)
    local listing = S.run("ls " .. dir)
    local files = {}
    for f in listing:gmatch("%S+") do files[#files + 1] = f end
    table.sort(files)
    assert.are.same({ "ckpt.safetensors", "log.csv", "model.safetensors", "plot.svg", "rank0.safetensors",
      "rank1.safetensors" }, files)
    -- one header and two epochs in the log: one writer
    local n = 0
    for _ in io.lines(dir .. "/log.csv") do n = n + 1 end
    assert.are.equal(3, n)
    os.execute("rm -rf " .. dir)
  end)
end)
