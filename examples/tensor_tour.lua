-- examples/tensor_tour.lua - a short tour of lunet tensors.
-- Run: build/lunet examples/tensor_tour.lua
local lunet = require("lunet")

local function section(title) print(("\n-- %s %s"):format(title, ("-"):rep(60 - #title))) end

section("creating")
local a = lunet.tensor({{1, 2, 3}, {4, 5, 6}})
print(a)
print(lunet.zeros(2, 3, "float64"))
print(lunet.arange(0, 1, 0.25), lunet.linspace(-1, 1, 5))
lunet.manual_seed(42)
print(lunet.randn(2, 4))

section("views share storage")
local row = a[2]          -- a view of row 2
row[1] = 40               -- writes through to a
print(a)
print(a:t())              -- transpose: no copy
print(a:narrow(2, 2, 2))  -- columns 2..3
print(a:reshape(3, 2))

section("broadcasting arithmetic")
print(a * 2 + lunet.tensor({100, 200, 300}))
print(a / a:sum(2, true)) -- each row divided by its sum
print(lunet.where(a:gt(3), a, 0))

section("reductions")
print("sum", a:sum():item(), "mean over rows", a:mean(1))
print("argmax per row (1-based)", a:argmax(2))

section("matrix products (OpenBLAS)")
local w = lunet.randn(3, 2)
print(lunet.matmul(a, w))
print(a:matmul(a:t()))    -- the transposed view goes to BLAS as is

section("dtypes")
local pixels = lunet.tensor({0, 128, 255}, "uint8")
print(pixels, pixels:float() / 255)
print(lunet.tensor({1 + 2 ^ -40}, "float64")[1] - 1)  -- float64 keeps 2^-40

section("errors are Lua errors naming the function")
print(pcall(function() return a + lunet.ones(4) end))
print(pcall(function() return a:reshape(4, 2) end))

section("runtime")
local cfg = lunet.config()
print(("lunet %s, OpenBLAS %s, %d threads"):format(lunet.version, cfg.blas_core, cfg.threads))
