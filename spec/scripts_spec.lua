-- The experiment scripts and examples, run as a user runs them (through the
-- launcher) with tiny settings on generated MNIST-format and UCI-format
-- files: their output format, their claims, and that their SVG files are
-- well-formed XML.
local lunet = require("lunet")
local S = require("support")

local dir

local function sh_quote(s) return "'" .. s:gsub("'", "'\\''") .. "'" end

-- run a script; returns its output (stdout and stderr), failing on a non-zero exit
local function run(script, args)
  local out, code = S.run(string.format("cd %s && %s %s %s", sh_quote(S.root), sh_quote(S.lunet_bin), script,
    args), true)
  assert.are.equal(0, code, out)
  return out
end

local function svg_files(out)
  local files = {}
  for p in out:gmatch("(%S+%.svg)") do files[#files + 1] = p end
  return files
end

local function assert_svg(p)
  local f = assert(io.open(p, "rb"), "missing " .. p)
  local text = f:read("a")
  f:close()
  assert.is_truthy(text:find("<svg", 1, true), p)
  local ok, why = S.xml_well_formed(text)
  assert.is_true(ok, p .. ": " .. tostring(why))
  if S.run("command -v xmllint") ~= "" then
    local _, code = S.run("xmllint --noout " .. sh_quote(p))
    assert.are.equal(0, code, "xmllint " .. p)
  end
end

setup(function()
  dir = S.tmpdir()
  -- MNIST-format files (10 learnable classes) and a Sensorless-format table
  S.seed(61)
  S.write_mnist_like(dir, 300, 100)
  S.write_mnist_like(dir, 600, 100, "fashion-mnist")
  S.write_sensorless_like(dir .. "/Sensorless_drive_diagnosis.txt", 220, 0.01, 0.001)
end)

teardown(function()
  S.remove_tmpdir(dir)
end)

describe("scripts", function()
  it("propagation.lua prints the notebook's lines and keeps SELU's std near 1", function()
    local out = run("scripts/propagation.lua",
      string.format("--layers 30 --samples 200 --activations selu,sigmoid --plot %s/prop.svg", dir))
    local lines = {}
    for layer, a, b, c, d in out:gmatch("Layer (%d+): (%-?[%d.]+) < mean < (%-?[%d.]+), ([%d.]+) < std < ([%d.]+)") do
      lines[#lines + 1] = { tonumber(layer), tonumber(a), tonumber(b), tonumber(c), tonumber(d) }
      assert.is_true(tonumber(a) <= tonumber(b) and tonumber(c) <= tonumber(d))
    end
    -- layers 0, 10, 20 and the last (29), for each of the two activations
    assert.are.equal(8, #lines)
    assert.are.same({ 0, 10, 20, 29 }, { lines[1][1], lines[2][1], lines[3][1], lines[4][1] })
    for i = 1, 4 do -- selu: per-sample std stays within roughly [0.6, 1.5]
      assert.is_true(lines[i][4] > 0.6 and lines[i][5] < 1.5, out)
    end
    assert.is_true(lines[8][5] < 0.3, "sigmoid's std shrinks")
    local files = svg_files(out)
    assert.are.same({ dir .. "/prop.svg", dir .. "/prop_mean.svg" }, files)
    for _, p in ipairs(files) do assert_svg(p) end
  end)

  it("activation_histograms.lua writes a histogram per activation and stage", function()
    local out = run("scripts/activation_histograms.lua",
      string.format("--layers 3 --units 32 --epochs 1 --samples 50 --activations selu,relu --data %s/mnist --out %s/h",
        dir, dir))
    assert.is_truthy(out:find("selu       before mean/std per layer  1: ", 1, true), out)
    assert.is_truthy(out:find("relu       trained 1 epochs: loss ", 1, true), out)
    local files = svg_files(out)
    assert.are.equal(4, #files)
    for _, p in ipairs(files) do assert_svg(p) end
  end)

  it("selu_vs_relu_mnist.lua trains both models and prints the comparison table", function()
    local out = run("scripts/selu_vs_relu_mnist.lua", string.format("--epochs 2 --data %s/mnist --out %s/m", dir, dir))
    assert.is_truthy(out:find("300 train samples, 100 test samples", 1, true))
    assert.is_truthy(out:find("dense_1 (Dense)              (None, 512)               401920", 1, true))
    assert.is_truthy(out:find("alpha_dropout_1 (AlphaDropou (None, 512)               0", 1, true))
    assert.is_truthy(out:find("Epoch 2/2\n %- %d+s %- loss: [%d.e%-]+ %- accuracy: [%d.]+ %- val_loss: [%d.e%-]+ %- val_accuracy: [%d.]+"), out)
    local sa = tonumber(out:match("\nselu%s+[%d.]+%s+([%d.]+)"))
    local ra = tonumber(out:match("\nrelu%s+[%d.]+%s+([%d.]+)"))
    assert.is_true(sa > 0.5 and ra > 0.5, out) -- the classes are separable
    local files = svg_files(out)
    assert.are.equal(3, #files)
    for _, p in ipairs(files) do assert_svg(p) end
  end)

  it("pelu_vs_relu.lua runs the tutorial's comparison on a Sensorless-format file", function()
    local out = run("scripts/pelu_vs_relu.lua", string.format(
      "--data %s/Sensorless_drive_diagnosis.txt --epochs 3 --tutorial-init --out %s/p", dir, dir))
    assert.is_truthy(out:find("220 samples, 48 features, 11 classes", 1, true), out)
    assert.is_truthy(out:find("train 165, test 55 (stratified)", 1, true), out)
    local pa = tonumber(out:match("Pelu model accuracy is: ([%d.]+)"))
    local ra = tonumber(out:match("Relu model accuracy is: ([%d.]+)"))
    assert.is_true(pa >= 0 and pa <= 1 and ra >= 0 and ra <= 1)
    local files = svg_files(out)
    assert.are.equal(2, #files)
    for _, p in ipairs(files) do assert_svg(p) end
  end)

  it("pelu_vs_relu.lua --normalize adds ReLU with an adapted Normalization layer, which learns the tiny features", function()
    local out = run("scripts/pelu_vs_relu.lua", string.format(
      "--data %s/Sensorless_drive_diagnosis.txt --epochs 60 --normalize --out %s/pn", dir, dir))
    assert.is_truthy(out:find("\nnormalized relu: 60 epochs", 1, true), out)
    local ra = tonumber(out:match("\nRelu model accuracy is: ([%d.]+)"))
    local na = tonumber(out:match("Normalized relu model accuracy is: ([%d.]+)"))
    -- the features are of order 0.01: unnormalised, SGD at 0.001 barely moves in 60 epochs
    assert.is_true(na > ra + 0.15, out)
  end)

  it("pelu_vs_relu.lua --seeds 3 sweeps the models over seeds and prints mean ± std per model", function()
    local out = run("scripts/pelu_vs_relu.lua", string.format(
      "--data %s/Sensorless_drive_diagnosis.txt --epochs 3 --seeds 3 --out %s/ps", dir, dir))
    assert.is_truthy(out:find("[6/6] model=relu,seed=3: acc", 1, true), out)
    assert.is_truthy(out:find("| pelu | 3 | ", 1, true) and out:find("| relu | 3 | ", 1, true), out)
    local rows = 0
    for _ in io.lines(dir .. "/ps/pelu_vs_relu_seeds/results.csv") do rows = rows + 1 end
    assert.are.equal(7, rows)
  end)

  it("pelu_jacobian.lua confirms the closed forms and flags the sign slip", function()
    local out = run("scripts/pelu_jacobian.lua", "--points 21")
    local verdicts = {}
    for v in out:gmatch("\n(%a+)\n") do verdicts[#verdicts + 1] = v end
    assert.are.same({ "true", "true", "true", "true", "false" }, verdicts)
    local worst = tonumber(out:match("closed form| over all 21 points: ([%d.e%-]+)"))
    assert.is_true(worst < 1e-12)
  end)
end)

describe("examples", function()
  it("cnn_leaky_relu.lua: seed 003's two CNNs, Keras' summary numbers, trained and evaluated", function()
    local out, code = S.run(string.format("cd %s && LUNET_DATA=%s %s examples/cnn_leaky_relu.lua 3 600", sh_quote(S.root),
      sh_quote(dir), sh_quote(S.lunet_bin)), true)
    assert.are.equal(0, code, out)
    for _, row in ipairs({ "(None, 26, 26, 32)        320", "(None, 11, 11, 64)        18496",
      "(None, 3, 3, 64)          36928", "Total params: 93,322" }) do
      assert.are.equal(2, select(2, out:gsub(row:gsub("%p", "%%%0"), "")), row .. "\n" .. out)
    end
    for _, v in ipairs({ "relu", "leaky_relu" }) do
      local acc = tonumber(out:match("\n" .. v .. "%s+test accuracy (%S+)"))
      assert.is_true(acc and acc > 0.3, out) -- ten learnable classes: chance is 0.1
    end
  end)

  it("mnist_selu.lua trains, evaluates, saves and plots", function()
    local out = run("examples/mnist_selu.lua", string.format("--epochs 2 --data %s/mnist --out %s/e --verbose 2", dir, dir))
    assert.is_truthy(out:find("Total params: 669,706", 1, true))
    assert.is_truthy(out:match("Test accuracy: [%d.]+"), out)
    local model = out:match("model: (%S+)")
    assert.are.equal(dir .. "/e/mnist_selu.safetensors", model)
    local m = lunet.nn.load_model(model)
    assert.are.equal(5, #m.layers)
    assert_svg(out:match("plot: (%S+)"))
  end)

  it("custom_layer.lua trains a Lua PELU and reloads it with custom_objects", function()
    local out = run("examples/custom_layer.lua", string.format("--epochs 3 --out %s/c", dir))
    assert.is_truthy(out:find("my_pelu_1 (MyPELU)", 1, true), out)
    assert.is_truthy(out:find("same predictions: true", 1, true), out)
  end)

  it("keras_port.lua runs the Keras script's steps", function()
    local out = run("examples/keras_port.lua", "1 " .. dir .. "/mnist")
    assert.is_truthy(out:find("300\ttrain samples", 1, true), out)
    assert.is_truthy(out:find("Test accuracy:\t", 1, true), out)
  end)

  it("leaky_relu_layers.lua shows layers and activation options agree", function()
    local out = run("examples/leaky_relu_layers.lua", "")
    assert.are.equal(0, tonumber(out:match("largest difference ([%d.e%-]+)")))
    assert.is_truthy(out:find("leaky_re_lu_1 (LeakyReLU)", 1, true), out)
  end)

  it("moment_map.lua prints the fixed-point table (SELU's at (0, 1), attracting) and draws four figures", function()
    local out = run("scripts/moment_map.lua", "--out " .. dir .. "/mm")
    assert.matches("| selu | defaults | 0.000000 | 1.000000 | 0.7877 | yes |", out, 1, true)
    assert.matches("| relu | defaults | none |", out, 1, true)
    assert.matches("| pelu | a = 1, b = 1 |", out, 1, true)
    local figures = svg_files(out)
    assert.are.equal(4, #figures)
    for _, p in ipairs(figures) do assert_svg(p) end
  end)
end)
