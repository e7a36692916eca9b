local progress = require("lunet.progress")

describe("lunet.progress", function()
  it("draws Keras' bar: arrow at the fill point, ETA from the rate so far", function()
    local line = progress.bar_line(12, 60, 3, { loss = 0.45214 }, { "loss" })
    -- 12/60 of 30 cells = 6 filled: 5 '=' then '>'; 3 s for 12 steps leaves 12 s for 48
    assert.are.equal("12/60 [=====>........................] - ETA: 12s - loss: 0.4521", line)
    -- the step count is padded to the width of the total
    assert.are.equal(" 5/60 [=>............................] - ETA: 33s",
      progress.bar_line(5, 60, 3, {}, { "loss" }))
    assert.are.equal("0/5 [..............................] - loss: 1.0000",
      progress.bar_line(0, 5, 0, { loss = 1 }, { "loss" }))
  end)

  it("ends an epoch with the time and the time per step, keys in order", function()
    local line = progress.bar_line(60, 60, 1.86, { loss = 0.3, accuracy = 0.9, val_loss = 2e-4 },
      { "loss", "accuracy", "val_loss" }, true)
    assert.are.equal("60/60 [==============================] - 2s 31ms/step - loss: 0.3000 - accuracy: 0.9000"
      .. " - val_loss: 2.0000e-04", line)
    assert.matches("1s/step", progress.bar_line(2, 2, 2.2, {}, {}, true))
    assert.matches("450us/step", progress.bar_line(100, 100, 0.045, {}, {}, true))
  end)

  it("formats ETAs over a minute and an hour", function()
    assert.matches("ETA: 1:05$", progress.bar_line(1, 2, 65, {}, {}))
    assert.matches("ETA: 1:00:05$", progress.bar_line(1, 2, 3605, {}, {}))
  end)

  it("prints one line per epoch at verbose 2 and nothing at verbose 0", function()
    local out = {}
    local real_print = _G.print
    _G.print = function(s) out[#out + 1] = s end
    local ok, err = pcall(function()
      progress.Bar(3, { verbose = 2 }):finish({ loss = 0.5 }, { "loss" }, 4.2)
      progress.Bar(3, { verbose = 0 }):finish({ loss = 0.5 }, { "loss" }, 4.2)
    end)
    _G.print = real_print
    assert(ok, err)
    assert.are.same({ " - 4s - loss: 0.5000" }, out)
  end)

  it("refuses a step count out of range, naming bar_line", function()
    assert.has_error(function() progress.bar_line(7, 5, 0, {}, {}) end, "bar_line: cur must be <= 5 (got 7)")
  end)
end)
