-- spec/determinism_spec.lua - deterministic mode, the default: training gives
-- bit-identical weights on 1 and 2 threads (products large enough for
-- threads are split over lunet's own, each output element one one-thread
-- GEMM; OpenBLAS's threaded GEMM, set_deterministic(false), sums
-- differently per thread count).
local lunet = require("lunet")
local S = require("support")
local nn = lunet.nn

local function train(threads)
  lunet.set_num_threads(threads)
  lunet.manual_seed(11)
  local x = lunet.randn(384, 784)
  local y = lunet.uniform({ 384 }, 0, 10):int()
  local m = nn.Sequential({
    nn.Dense(512, { activation = "selu", kernel_initializer = "lecun_normal", input_shape = { 784 } }),
    nn.AlphaDropout(0.1),
    nn.Dense(10, { activation = "softmax" }),
  })
  m:compile({ optimizer = "rmsprop", loss = "sparse_categorical_crossentropy" })
  m:fit(x, y, { batch_size = 128, epochs = 2, verbose = 0 })
  return m:get_weights()
end

describe("lunet.set_deterministic", function()
  local threads, default = lunet.get_num_threads(), lunet.is_deterministic()
  after_each(function()
    lunet.set_deterministic(default)
    lunet.set_num_threads(threads)
  end)

  it("is on by default (so the next test's bit-identity is what an untouched program gets)", function()
    -- a fresh interpreter, so that no earlier spec has changed the mode
    local out, code = S.run(S.lunet_bin .. [[ -e 'io.write(tostring(require("lunet").is_deterministic()))']])
    assert.are.same({ "true", 0 }, { out, code })
  end)

  it("makes 2 epochs of the SNN MLP bit-identical on 1 and 2 threads", function()
    if lunet.config().cpus < 2 then return end
    lunet.set_deterministic(true)
    assert.is_true(lunet.is_deterministic())
    local one, two = train(1), train(2)
    for i = 1, #one do assert.is_true(lunet.equal(one[i], two[i]), "weight " .. i .. " differs") end
  end)

  it("splits a product over the threads with the numbers of one thread", function()
    if lunet.config().cpus < 2 then return end
    lunet.set_deterministic(true)
    lunet.manual_seed(12)
    -- 128x784x512, as the MLP's first layer, from row-major and transposed operands
    local a, at, b = lunet.randn(128, 784), lunet.randn(784, 128):t(), lunet.randn(784, 512)
    lunet.set_num_threads(1)
    local c1, d1, e1 = a:matmul(b), at:matmul(b), b:t():matmul(a:t())
    lunet.set_num_threads(2)
    assert.is_true(lunet.equal(c1, a:matmul(b)))
    assert.is_true(lunet.equal(d1, at:matmul(b)))
    assert.is_true(lunet.equal(e1, b:t():matmul(a:t())))
    -- and the same numbers as OpenBLAS's own single-threaded call, within rounding
    lunet.set_deterministic(false)
    assert.is_true(lunet.allclose(c1, a:matmul(b), 1e-5, 1e-4))
  end)

  it("gives awkward products the same bits on 1 and 2 threads (no part takes another OpenBLAS kernel)", function()
    if lunet.config().cpus < 2 then return end
    lunet.set_deterministic(true)
    -- OpenBLAS picks its kernel from each call's shape, and some sum over k
    -- in another order: a product's parts must be the same calls on any
    -- thread count.  These shapes differed when a thread's share was one call
    -- (the threshold is the default: LUNET_SMALL_GEMM unset).
    if os.getenv("LUNET_SMALL_GEMM") then return end
    for _, s in ipairs({ { 96, 1024, 16 }, { 256, 4096, 1 }, { 64, 16384, 1 }, { 33, 8192, 33 }, { 64, 1024, 32 } }) do
      lunet.manual_seed(13)
      local a, b = lunet.randn(s[1], s[2]), lunet.randn(s[2], s[3])
      lunet.set_num_threads(1)
      local one, one_t = a:matmul(b), b:t():matmul(a:t())
      lunet.set_num_threads(2)
      local name = table.concat(s, "x")
      assert.is_true(lunet.equal(one, a:matmul(b)), name)
      assert.is_true(lunet.equal(one_t, b:t():matmul(a:t())), name .. " transposed")
      -- and the right numbers: the float64 product, within float32 rounding
      local want = a:astype("float64"):matmul(b:astype("float64"))
      assert.is_true(lunet.allclose(one:astype("float64"), want, 1e-4, 1e-3), name .. " values")
      assert.is_true(lunet.allclose(one_t:t():astype("float64"), want, 1e-4, 1e-3), name .. " transposed values")
    end
  end)

  it("takes a boolean", function()
    assert.has_error(function() lunet.set_deterministic(1) end, "set_deterministic: expected true or false, got number")
    assert.has_error(function() lunet.set_deterministic() end, "set_deterministic: expected true or false, got no value")
  end)
end)
