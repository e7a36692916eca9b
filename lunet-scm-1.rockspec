-- lunet as a LuaRocks rock, built from a checkout:
--
--   luarocks --lua-version=5.4 make --deps-mode none lunet-scm-1.rockspec
--
-- (add --tree DIR for a private tree).  The C libraries come from Debian,
-- not from rocks: `make setup` installs libopenblas-dev, zlib1g-dev,
-- liblua5.4-dev and lua-cjson.  The build is the project's Makefile, so a
-- checkout that is already built installs in a second (make reuses its
-- objects), and the Makefile adds its own flags (x86-64-v3 when the CPU
-- has AVX2 and FMA, -fno-math-errno, the warnings).
rockspec_format = "3.0"
package = "lunet"
version = "scm-1"

source = {
  -- a placeholder: `luarocks make` builds the checkout it is run from
  url = "git+file:///path/to/lunet",
}

description = {
  summary = "Tensors, activations and Keras-style neural networks for Lua 5.4",
  detailed = [[
A C core of strided tensors and kernels (products through OpenBLAS)
exposed to Lua 5.4: SELU, AlphaDropout, LeCun init, PReLU, PELU and the
other common activations with exact gradients, autograd, and a
Keras-style Sequential API.]],
  labels = { "numerical", "neural-networks", "tensors" },
}

-- OpenBLAS, zlib and lua-cjson are Debian packages: no rock is downloaded.
dependencies = {
  "lua >= 5.4, < 5.5",
}

build = {
  type = "make",
  -- `make` builds build/lib/lunet/core.so, build/liblunet.a and the launcher
  build_variables = {
    -- LuaRocks' CFLAGS (-O2 -fPIC by default) and then -O3, which the
    -- kernels are tuned for; never add -ffast-math (NaN must survive)
    CFLAGS = "$(CFLAGS) -O3",
    CC = "$(CC)",
    LUA_INC = "$(LUA_INCDIR)",
  },
  -- `make install` with the rock's directories: lunet/*.lua as lunet.*, the
  -- C module as lunet.core, the launcher as bin/lunet
  install_variables = {
    CFLAGS = "$(CFLAGS) -O3",
    CC = "$(CC)",
    LUA_INC = "$(LUA_INCDIR)",
    PREFIX = "$(PREFIX)",
    LUA_LDIR = "$(LUADIR)",
    LUA_CDIR = "$(LIBDIR)",
    BINDIR = "$(BINDIR)",
  },
  copy_directories = {},
}
