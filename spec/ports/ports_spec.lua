-- spec/ports/ports_spec.lua - every code block of the five seeds, ported to
-- lunet line by line (the files beside this one), run through the launcher
-- in QUICK mode (LUNET_QUICK: a few hundred samples, one or two epochs) on
-- generated MNIST-format and Sensorless-format files.  Each test asserts
-- the figures its port prints are what the seed's code computes: accuracy
-- above chance, the propagation demo's collapse and preservation, the
-- jacobian checks true, Keras' summary numbers.
local S = require("support")

local dir

local function sh_quote(s) return "'" .. s:gsub("'", "'\\''") .. "'" end

-- run a port; returns its output (stdout and stderr), failing on a non-zero exit
local function port(name)
  local cmd = string.format("cd %s && LUNET_QUICK=1 LUNET_DATA=%s LUNET_OUT=%s LUNET_SENSORLESS=%s %s %s",
    sh_quote(S.root), sh_quote(dir), sh_quote(dir), sh_quote(dir .. "/Sensorless_drive_diagnosis.txt"),
    sh_quote(S.lunet_bin), "spec/ports/" .. name .. ".lua")
  local out, code = S.run(cmd, true)
  assert.are.equal(0, code, out)
  return out
end

local function number_after(out, label)
  local v = out:match(label:gsub("%p", "%%%0") .. "%s*([%-%d%.e+]+)")
  assert(v, "no '" .. label .. "' in:\n" .. out)
  return tonumber(v)
end

setup(function()
  dir = S.tmpdir()
  -- MNIST-format files (10 learnable classes) and a Sensorless-format table
  S.seed(71)
  S.write_mnist_like(dir, 400, 200)
  S.write_sensorless_like(dir .. "/Sensorless_drive_diagnosis.txt", 440, 0.3, 0.05)
end)

teardown(function() S.remove_tmpdir(dir) end)

describe("seed ports (QUICK)", function()
  it("000 Keras: Sequential SELU + AlphaDropout MLP; summary, fit with validation_data, score[0], score[1]", function()
    local out = port("seed000_keras_mnist")
    assert.truthy(out:find("400\ttrain samples", 1, true), out)
    assert.truthy(out:find("Total params: 669,706", 1, true), out)
    assert.truthy(out:find("alpha_dropout_1 (AlphaDropou (None, 512)", 1, true), out)
    assert.truthy(out:find("Epoch 1/1", 1, true), out)
    local loss, acc = number_after(out, "Test loss:"), number_after(out, "Test accuracy:")
    assert.is_true(loss >= 0 and loss < 2.3, out)
    assert.is_true(acc > 0.2 and acc <= 1, out)
    assert.truthy(out:find("history keys:\taccuracy loss val_accuracy val_loss", 1, true), out)
  end)

  it("000 TensorFlow: the seed's selu is lunet's; its dropout_selu MLP trains with Adam", function()
    local out = port("seed000_tf_dropout_selu")
    assert.truthy(out:find("selu matches lunet.activations.selu:\ttrue", 1, true), out)
    assert.truthy(out:find("Epoch:\t0002\tcost =", 1, true), out)
    assert.truthy(out:find("Learning Finished!", 1, true), out)
    local acc = number_after(out, "Accuracy:")
    assert.is_true(acc > 0.2, out) -- ten classes: chance is 0.1
  end)

  it("001 numpy: the propagation demo's SiLU collapses within 15 layers, SELU keeps std near 1 for 100", function()
    local out = port("seed001_propagation")
    local rows = {}
    for layer, mlo, mhi, slo, shi in out:gmatch("Layer (%d+): (%S+) < mean < (%S+), (%S+) < std < (%S+)") do
      rows[#rows + 1] = { tonumber(layer), tonumber(mlo), tonumber(mhi), tonumber(slo), tonumber(shi) }
    end
    assert.are.equal(15 + 10, #rows, out)
    assert.is_true(rows[1][5] > 0.3, out)      -- layer 0 of the SiLU net: std still large
    assert.is_true(rows[15][5] <= 0.01, out)   -- layer 14: collapsed
    for i = 16, 25 do
      assert.are.equal((i - 16) * 10, rows[i][1])
      assert.is_true(rows[i][4] > 0.5 and rows[i][5] < 1.7, out) -- SELU: std stays near 1
      assert.is_true(rows[i][2] > -0.6 and rows[i][3] < 0.6, out)
    end
  end)

  it("001 TensorFlow: dense SELU layers with sparse_softmax_cross_entropy_with_logits and in_top_k", function()
    local out = port("seed001_tf_mnist")
    assert.truthy(out:find("\n0\ttrain acc:", 1, true) or out:find("^0\ttrain acc:"), out)
    local acc = number_after(out, "Test acc:")
    assert.is_true(acc > 0.2, out)
  end)

  it("002: selu's constants and the lecun_normal Dense stack on (28, 28, 1) inputs", function()
    local out = port("seed002_lecun_selu")
    assert.truthy(out:find("selu(-1) = -1.1113307378, selu(0) = 0, selu(1) = 1.0507009874", 1, true), out)
    assert.truthy(out:find("dense_1 (Dense)              (None, 28, 28, 64)        128", 1, true), out)
    assert.truthy(out:find("dense_4 (Dense)              (None, 28, 28, 10)        170", 1, true), out)
    assert.truthy(out:find("Total params: 2,906", 1, true), out)
    local std = number_after(out, "second kernel std:")
    assert.is_true(math.abs(std - 0.125) < 0.015, out)
  end)

  it("003: Keras' relu source, ported, equals lunet's relu(x, alpha, max_value, threshold); LeakyReLU layers", function()
    local out = port("seed003_relu")
    assert.are.equal(0, number_after(out, "largest difference:"), out)
    local cases = select(2, out:gsub("max |keras %- lunet| = 0\n", ""))
    assert.are.equal(8, cases, out)
    assert.truthy(out:find("leaky_re_lu_1 (LeakyReLU)    (None, 32)                0", 1, true), out)
    assert.is_true(number_after(out, "negative outputs scaled by 0.05: min") < 0, out)
  end)

  it("003 CNN: Conv2D(32, (3, 3), activation='relu', input_shape=(28, 28, 1)) nets, with LeakyReLU(alpha=0.05) too", function()
    local out = port("seed003_cnn")
    for _, row in ipairs({
      "conv2d_1 (Conv2D)            (None, 26, 26, 32)        320",
      "max_pooling2d_1 (MaxPooling2 (None, 13, 13, 32)        0",
      "conv2d_2 (Conv2D)            (None, 11, 11, 64)        18496",
      "conv2d_3 (Conv2D)            (None, 3, 3, 64)          36928",
      "conv2d_4 (Conv2D)            (None, 26, 26, 32)        320",
      "leaky_re_lu_1 (LeakyReLU)    (None, 26, 26, 32)        0",
      "leaky_re_lu_3 (LeakyReLU)    (None, 3, 3, 64)          0",
    }) do
      assert.truthy(out:find(row, 1, true), row .. "\n" .. out)
    end
    assert.are.equal(2, select(2, out:gsub("Total params: 55,744", "")), out)
    local first, last, acc = out:match("loss (%S+) %-> (%S+), accuracy (%S+)")
    assert.is_true(tonumber(last) < tonumber(first), out)
    assert.is_true(tonumber(acc) > 0.2, out)
  end)

  it("004: the PELU layer's jacobian checks print true; PELU and ReLU beat chance; the model reloads", function()
    local out = port("seed004_pelu")
    local trues = select(2, out:gsub("\ntrue\n", "\n"))
    assert.is_true(trues >= 2, out)
    local lines = {}
    for l in out:gmatch("[^\n]+") do lines[#lines + 1] = l end
    local checks = {}
    for _, l in ipairs(lines) do if l == "true" or l == "false" then checks[#checks + 1] = l end end
    assert.are.same({ "true", "true", "true", "true" }, checks)
    assert.is_true(number_after(out, "Pelu model accuracy is: ") > 2 / 11, out)
    assert.is_true(number_after(out, "Relu model accuracy is: ") > 2 / 11, out)
    assert.truthy(out:find("metrics.accuracy agrees:\ttrue", 1, true), out)
    assert.truthy(out:find("same predictions:\ttrue", 1, true), out)
    for _, f in ipairs({ "seed004_loss.svg", "seed004_acc.svg" }) do
      local h = assert(io.open(dir .. "/" .. f, "rb"), f)
      assert.truthy(h:read("a"):find("<svg", 1, true))
      h:close()
    end
  end)
end)
