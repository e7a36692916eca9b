-- Every row of the C activation table, tested from the table itself: a new
-- row needs no edit here, only its vector in spec/activation_vectors.lua.
local lunet = require("lunet")
local core = require("lunet.core")
local S = require("support")
local V = require("activation_vectors")

local A = lunet.activations
local autograd = lunet.autograd

local function rel_close(a, b, tol)
  return math.abs(a - b) <= tol * math.max(math.abs(b), 1)
end

local points = S.points_away_from

describe("the activation table", function()
  local names = core.activation_names()

  it("has a test vector for every row", function()
    local missing = {}
    for _, name in ipairs(names) do
      if V[name] == nil then missing[#missing + 1] = name end
    end
    assert(#missing == 0, "no test vector in spec/activation_vectors.lua for: " .. table.concat(missing, ", "))
    assert.is_true(#names >= 20)
  end)

  it("makes every row a function, a tensor method, a Dense activation and an Activation layer", function()
    local x = lunet.tensor({ { -1, 0.5 } })
    for _, name in ipairs(names) do
      assert.is_function(A[name], name)
      assert.are.equal(A[name], A.get(name))
      assert.is_true(lunet.equal(A[name](x), x[name](x)), name)
      local d = lunet.nn.Dense(3, { activation = name })
      local y = d(x)
      local ref = A[name](x:matmul(d.kernel) + d.bias)
      assert.is_true(lunet.allclose(y, ref, 1e-6, 1e-6), name)
      assert.is_true(lunet.equal(lunet.nn.Activation(name)(x), A[name](x)), name)
    end
  end)

  it("takes each row's parameters by position and by name, with the table's defaults", function()
    local x = lunet.tensor({ -2, -0.5, 0.5, 3 }, "float64")
    for _, name in ipairs(names) do
      local info = core.activation_info(name)
      if #info.params > 0 then
        local byname, pos = {}, {}
        for i, p in ipairs(info.params) do
          local v = info.defaults[i] == math.huge and 2.5 or info.defaults[i] + 0.25
          if name == "gelu" then v = true end
          byname[p], pos[i] = v, v
        end
        assert.is_true(lunet.equal(A[name](x, byname), A[name](x, table.unpack(pos))), name)
        -- the defaults given explicitly change nothing
        local defaults = {}
        for i, p in ipairs(info.params) do defaults[p] = info.defaults[i] end
        assert.is_true(lunet.equal(A[name](x, defaults), A[name](x)), name)
      end
    end
  end)

  it("refuses a parameter given to a row that takes none, naming the row", function()
    local x = lunet.ones(2)
    for _, name in ipairs(names) do
      if #core.activation_info(name).params == 0 then
        local ok, err = pcall(A[name], x, 1)
        assert.is_false(ok, name)
        assert.matches(name .. ": the argument after x must be absent", err, 1, true)
      end
    end
  end)

  for _, name in ipairs(core.activation_names()) do
    local vec = V[name]
    if vec then
      describe(name, function()
        it("matches its test vector in float64, forward and derivative", function()
          local x = lunet.tensor(V.x, "float64")
          local y = A[name](x):totable()
          local dy = autograd.grad(function(t) return A[name](t):sum() end, x):totable()
          for i = 1, #V.x do
            assert(rel_close(y[i], vec.y[i], 1e-14),
              ("%s(%g) = %.17g, want %.17g"):format(name, V.x[i], y[i], vec.y[i]))
            assert(rel_close(dy[i], vec.dy[i], 1e-14),
              ("%s'(%g) = %.17g, want %.17g"):format(name, V.x[i], dy[i], vec.dy[i]))
          end
        end)

        it("passes gradcheck in float64 away from its kinks", function()
          local x = lunet.tensor(points(vec.kinks, 12), "float64")
          local ok, report = autograd.gradcheck(A[name], x, { eps = 1e-6, atol = 1e-7, rtol = 1e-5 })
          assert(ok, report)
        end)

        it("agrees in float32 with float64 within float32 precision", function()
          local xd = lunet.tensor(points(vec.kinks, 64), "float64")
          local y32 = A[name](xd:float()):double()
          local y64 = A[name](xd)
          assert.are.equal("float32", A[name](xd:float()):dtype())
          assert.is_true(lunet.allclose(y32, y64, 2e-5, 1e-6), name)
          local g32 = autograd.grad(function(t) return A[name](t):sum() end, xd:float()):double()
          local g64 = autograd.grad(function(t) return A[name](t):sum() end, xd)
          assert.is_true(lunet.allclose(g32, g64, 2e-4, 1e-5), name)
        end)

        it("propagates NaN forward and backward in both dtypes", function()
          for _, dt in ipairs({ "float32", "float64" }) do
            local x = lunet.tensor({ 0 / 0, 1 }, dt)
            local y = A[name](x)
            assert.is_true(y[1] ~= y[1], name .. " " .. dt)
            local g = autograd.grad(function(t) return A[name](t):sum() end, x)
            -- a derivative that does not depend on x (linear's 1) stays a number
            local constant = true
            for i = 2, #vec.dy do constant = constant and vec.dy[i] == vec.dy[1] end
            if not constant then assert.is_true(g[1] ~= g[1], name .. " grad " .. dt) end
          end
        end)
      end)
    end
  end
end)
