local lunet = require("lunet")

describe("tostring(tensor)", function()
  it("prints like numpy, with shape and dtype", function()
    assert.are.equal("tensor([[1., 2., 3.],\n        [4., 5., 6.]], shape=(2, 3), dtype=float32)",
                     tostring(lunet.tensor({{1, 2, 3}, {4, 5, 6}})))
  end)

  it("aligns on the decimal point with the fewest digits", function()
    assert.are.equal("tensor([ 1.5 , -2.25,  0.  ], shape=(3,), dtype=float64)",
                     tostring(lunet.tensor({1.5, -2.25, 0}, "float64")))
    -- 0.1 in float32 prints as 0.1, not 0.100000001
    assert.are.equal("tensor([0.1, 0.2], shape=(2,), dtype=float32)",
                     tostring(lunet.tensor({0.1, 0.2})))
    assert.are.equal("tensor([0.33333334], shape=(1,), dtype=float32)",
                     tostring(lunet.tensor({1 / 3})))
  end)

  it("switches to scientific notation for wide ranges", function()
    assert.are.equal("tensor([1.0e-05, 1.5e-05, 3.0e+00], shape=(3,), dtype=float32)",
                     tostring(lunet.tensor({1e-5, 1.5e-5, 3})))
    assert.are.equal("tensor([1.e+10], shape=(1,), dtype=float64)",
                     tostring(lunet.tensor({1e10}, "float64")))
  end)

  it("prints nan and inf", function()
    assert.are.equal("tensor([ nan,  inf, -inf,  1.5], shape=(4,), dtype=float32)",
                     tostring(lunet.tensor({0 / 0, math.huge, -math.huge, 1.5})))
  end)

  it("prints integers, 0-d and empty tensors", function()
    assert.are.equal("tensor([  1, -20,   3], shape=(3,), dtype=int32)",
                     tostring(lunet.tensor({1, -20, 3}, "int32")))
    assert.are.equal("tensor(2.5, shape=(), dtype=float32)", tostring(lunet.tensor(2.5)))
    assert.are.equal("tensor(7, shape=(), dtype=uint8)", tostring(lunet.tensor(7, "uint8")))
    assert.are.equal("tensor([], shape=(0, 3), dtype=float32)", tostring(lunet.zeros(0, 3)))
  end)

  it("separates the blocks of 3-d tensors by a blank line", function()
    assert.are.equal("tensor([[[0, 1]],\n\n        [[2, 3]]], shape=(2, 1, 2), dtype=int32)",
                     tostring(lunet.arange(4, "int32"):reshape(2, 1, 2)))
  end)

  it("summarizes large tensors and wraps long rows", function()
    local s = tostring(lunet.arange(2000, "int32"))
    assert.are.equal("tensor([   0,    1,    2, ..., 1997, 1998, 1999], shape=(2000,), dtype=int32)", s)
    local w = tostring(lunet.arange(30, "int32"))
    for line in w:gmatch("[^\n]+") do assert.is_truthy(#line <= 75 or line:find("shape=")) end
    assert.is_truthy(w:find("\n        ", 1, true))
    local big = tostring(lunet.zeros(100, 100))
    assert.is_truthy(big:find("...", 1, true))
    assert.is_true(#big < 1000)
  end)

  it("prints transposed views in their logical order", function()
    assert.are.equal("tensor([[1, 3],\n        [2, 4]], shape=(2, 2), dtype=int32)",
                     tostring(lunet.tensor({{1, 2}, {3, 4}}, "int32"):t()))
  end)
end)
