/*
 * lcore.c - luaopen_lunet_core: assembles the module from its parts and adds
 * threads, configuration, version and a monotonic clock.
 */
#include <limits.h>
#include <malloc.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../runtime/linalg.h"
#include "../runtime/parallel.h"
#include "lt.h"
#include "../runtime/prof.h"

#define LUNET_VERSION "0.1.0"

/* Threads of OpenBLAS's pool known to hold their buffers: OpenBLAS never
 * stops a thread, so going back up to this many needs no new memory. */
static int blas_pool_ok = 1;

static int online_cpus(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n < 1 ? 1 : n > INT_MAX ? INT_MAX : (int)n;
}

/* More threads than CPUs only compete for them, and each OpenBLAS thread
 * costs 128 MiB of address space (linalg.h): a count that does not fit
 * the address-space limit is refused, as it would livelock the next GEMM. */
static int l_set_num_threads(lua_State *L)
{
    int64_t n = lt_check_int(L, 1, LT_FN, "n");
    int cpus = online_cpus();
    if (n < 1 || n > cpus)
        lt_error(L, LT_FN, "n must be in [1, %d] (the online CPUs), got %lld", cpus,
                 (long long)n);
    int fit = ln_blas_threads_that_fit();
    if (n > fit && n > blas_pool_ok) {
        struct rlimit as;
        getrlimit(RLIMIT_AS, &as);
        lt_error(L, LT_FN,
                 "the address-space limit (ulimit -v, %llu MiB) leaves room for %d thread%s "
                 "(OpenBLAS maps %llu MiB for each), got %lld",
                 (unsigned long long)(as.rlim_cur >> 20), fit, fit == 1 ? "" : "s",
                 (unsigned long long)(LN_BLAS_BUFFER_BYTES >> 20), (long long)n);
    }
    ln_blas_set_threads((int)n);
    ln_set_threads((int)n);
    if (n > blas_pool_ok) blas_pool_ok = (int)n;
    return 0;
}

static int l_get_num_threads(lua_State *L)
{
    lua_pushinteger(L, ln_blas_threads());
    return 1;
}

static int l_config(lua_State *L)
{
    lua_createtable(L, 0, 8);
    lua_pushstring(L, LUNET_VERSION);
    lua_setfield(L, -2, "version");
    lua_pushliteral(L, "OpenBLAS");
    lua_setfield(L, -2, "blas");
    lua_pushstring(L, ln_blas_corename());
    lua_setfield(L, -2, "blas_core");
    lua_pushstring(L, ln_blas_config());
    lua_setfield(L, -2, "blas_config");
    lua_pushinteger(L, ln_blas_threads());
    lua_setfield(L, -2, "threads");
    lua_pushinteger(L, online_cpus());
    lua_setfield(L, -2, "cpus");
    lua_pushstring(L, LUA_RELEASE);
    lua_setfield(L, -2, "lua");
#if defined(__AVX512F__)
    lua_pushliteral(L, "avx512");
#elif defined(__AVX2__)
    lua_pushliteral(L, "avx2");
#elif defined(__SSE2__)
    lua_pushliteral(L, "sse2");
#else
    lua_pushliteral(L, "none");
#endif
    lua_setfield(L, -2, "simd");
    const char *ct = getenv("OPENBLAS_CORETYPE");
    lua_pushstring(L, ct ? ct : "");
    lua_setfield(L, -2, "coretype_env");
    return 1;
}

static int l_clock(lua_State *L)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    lua_pushnumber(L, (lua_Number)ts.tv_sec + (lua_Number)ts.tv_nsec * 1e-9);
    return 1;
}

/* core.profile(true|false): start counting kernel time per category from zero
 * (or stop); core.profile_read() --> {gemm = s, ..., calls = {gemm = n, ...}} */
static int l_profile(lua_State *L)
{
    luaL_checkany(L, 1);
    ln_prof_enable(lua_toboolean(L, 1));
    return 0;
}

static int l_profile_read(lua_State *L)
{
    double sec[LN_PROF_NCAT];
    int64_t calls[LN_PROF_NCAT];
    ln_prof_read(sec, calls);
    lua_createtable(L, 0, LN_PROF_NCAT + 1);
    lua_createtable(L, 0, LN_PROF_NCAT);
    for (int c = 0; c < LN_PROF_NCAT; c++) {
        lua_pushnumber(L, sec[c]);
        lua_setfield(L, -3, ln_prof_name(c));
        lua_pushinteger(L, calls[c]);
        lua_setfield(L, -2, ln_prof_name(c));
    }
    lua_setfield(L, -2, "calls");
    return 1;
}

/* core.storage_count() --> storages made since load, their bytes */
static int l_storage_count(lua_State *L)
{
    int64_t n, bytes;
    lt_storage_count(&n, &bytes);
    lua_pushinteger(L, n);
    lua_pushinteger(L, bytes);
    return 2;
}

static int l_set_deterministic(lua_State *L)
{
    if (!lua_isboolean(L, 1))
        lt_error(L, LT_FN, "expected true or false, got %s", luaL_typename(L, 1));
    ln_set_deterministic(lua_toboolean(L, 1));
    return 0;
}

static int l_is_deterministic(lua_State *L)
{
    lua_pushboolean(L, ln_deterministic());
    return 1;
}

static const luaL_Reg functions[] = {{"set_num_threads", l_set_num_threads},
                                     {"set_deterministic", l_set_deterministic},
                                     {"is_deterministic", l_is_deterministic},
                                     {"profile", l_profile},
                                     {"profile_read", l_profile_read},
                                     {"storage_count", l_storage_count},
                                     {"get_num_threads", l_get_num_threads},
                                     {"config", l_config},
                                     {"clock", l_clock},
                                     {NULL, NULL}};

/* Tensors are userdata, allocated and freed through malloc.  glibc maps
 * every block above 32 MiB afresh and unmaps it when freed, so each large
 * temporary pays a page fault per 4 KiB (about 10 us each in a VM: 160 ms
 * for 64 MiB, 60x the cost of writing it).  Serve every block from the heap
 * and keep freed memory there, so a block of the same size is reused warm.
 * LUNET_MALLOC_TUNE=0 leaves malloc alone. */
static void tune_malloc(void)
{
    const char *e = getenv("LUNET_MALLOC_TUNE");
    if (e && strcmp(e, "0") == 0) return;
    mallopt(M_MMAP_MAX, 0);
    mallopt(M_TRIM_THRESHOLD, 1 << 30);
}

int luaopen_lunet_core(lua_State *L);
int luaopen_lunet_core(lua_State *L)
{
    tune_malloc();
    /* OpenBLAS started its pool when this library was loaded.  Under an
     * address-space limit too tight for it (the launcher sizes the pool
     * beforehand; plain lua5.4 cannot) the extra threads never got their
     * buffers: keep GEMMs on the ones that did. */
    int started = ln_blas_threads(), fit = ln_blas_threads_that_fit();
    if (started > fit) ln_blas_set_threads(fit);
    else if (started > blas_pool_ok) blas_pool_ok = started;
    ln_set_threads(ln_blas_threads()); /* elementwise threads follow OpenBLAS's */
    lua_newtable(L); /* core */
    lua_newtable(L); /* methods */
    lt_open_tensor(L);
    lt_open_ops(L);
    lt_open_linalg(L);
    lt_open_random(L);
    lt_open_bench(L);
    lt_open_act(L);
    lt_open_nn(L);
    lt_open_data(L);
    lua_setfield(L, -2, "Tensor");
    lt_register(L, functions);
    lua_pushstring(L, LUNET_VERSION);
    lua_setfield(L, -2, "version");
    return 1;
}
