local lunet = require("lunet")
local S = require("support")

local L = lunet.losses
local M = lunet.metrics

describe("lunet.losses", function()
  local y = lunet.tensor({ { 0, 1, 0 }, { 1, 0, 0 } }, "float64")
  local p = lunet.tensor({ { 0.2, 0.7, 0.1 }, { 0.6, 0.3, 0.1 } }, "float64")

  it("categorical_crossentropy is -mean(sum(y log p)) with p renormalised and clipped", function()
    assert.near(-(math.log(0.7) + math.log(0.6)) / 2, L.categorical_crossentropy(y, p):item(), 1e-15)
    -- unnormalised rows are normalised first
    assert.near(-(math.log(0.7) + math.log(0.6)) / 2, L.categorical_crossentropy(y, p * 3):item(), 1e-15)
    -- p = 0 on the true class is clipped to 1e-7
    local p0 = lunet.tensor({ { 1, 0, 0 } }, "float64")
    assert.near(-math.log(1e-7), L.categorical_crossentropy(lunet.tensor({ { 0, 1, 0 } }, "float64"), p0):item(), 1e-9)
  end)

  it("from_logits equals softmax then the loss, and its gradient is (softmax - y)/N", function()
    S.seed(50)
    local z = lunet.randn({ 4, 5 }, "float64")
    local labels = lunet.tensor({ 0, 4, 2, 2 })
    local a = L.sparse_categorical_crossentropy(labels, z, true):item()
    local b = L.sparse_categorical_crossentropy(labels, lunet.activations.softmax(z)):item()
    assert.near(a, b, 1e-12)
    local g = lunet.autograd.grad(function(v) return L.sparse_categorical_crossentropy(labels, v, true) end, z)
    local want = (lunet.activations.softmax(z) - L.one_hot("t", labels, 5, "float64")) / 4
    assert.is_true(lunet.allclose(g, want, 1e-12, 1e-14))
    assert.is_true(lunet.autograd.gradcheck(function(v) return L.categorical_crossentropy(
      L.one_hot("t", labels, 5, "float64"), lunet.activations.softmax(v)) end, z))
    -- the fused kernel's mean (one kernel for softmax, the cross-entropy and the batch mean), both ways
    assert.is_true(lunet.autograd.gradcheck(function(v) return L.categorical_crossentropy(
      L.one_hot("t", labels, 5, "float64"), v, true) end, z))
    assert.is_true(lunet.autograd.gradcheck(function(v) return L.sparse_categorical_crossentropy(labels, v, true) end, z))
  end)

  it("binary_crossentropy, mse and mae average over the last axis then the batch", function()
    local t = lunet.tensor({ { 1, 0 }, { 0, 1 } }, "float64")
    local q = lunet.tensor({ { 0.9, 0.2 }, { 0.3, 0.6 } }, "float64")
    local want = -(math.log(0.9) + math.log(0.8) + math.log(0.7) + math.log(0.6)) / 4
    assert.near(want, L.binary_crossentropy(t, q):item(), 1e-15)
    local z = q:log() - (1 - q):log() -- logits of q
    assert.near(want, L.binary_crossentropy(t, z, true):item(), 1e-12)
    assert.near((0.01 + 0.04 + 0.09 + 0.16) / 4, L.mse(t, q):item(), 1e-15)
    assert.near((0.1 + 0.2 + 0.3 + 0.4) / 4, L.mae(t, q):item(), 1e-15)
  end)

  it("metrics pick the accuracy variant as Keras does", function()
    assert.are.equal(1, M.accuracy(y, p))
    assert.are.equal(0.5, M.accuracy(lunet.tensor({ 1, 2 }), p))
    assert.are.equal(0.5, M.binary_accuracy(lunet.tensor({ 1, 1 }), lunet.tensor({ 0.7, 0.2 })))
    assert.are.equal(1, M.categorical_accuracy(y, p))
  end)

  it("rejects mismatched rows and bad labels", function()
    assert.has_error(function() L.categorical_crossentropy(y, p:narrow(1, 1, 1)) end,
      "categorical_crossentropy: y_true has 2 rows but y_pred has 1 (shapes (2, 3) and (1, 3))")
    assert.has_error(function() L.sparse_categorical_crossentropy(lunet.tensor({ 0, -1 }), p) end,
      "sparse_categorical_crossentropy: labels must be in [0, 3), got -1")
    assert.has_error(function() L.sparse_categorical_crossentropy(lunet.tensor({ 0, 1.5 }), p) end,
      "sparse_categorical_crossentropy: labels must be integers")
  end)
end)
