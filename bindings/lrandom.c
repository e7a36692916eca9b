/*
 * lrandom.c - the one RNG of a Lua state and the random constructors:
 * manual_seed, rand, randn, uniform, normal, randperm, get/set_rng_state.
 */
#include <string.h>

#include "../runtime/rng.h"
#include "lt.h"

#define LT_DEFAULT_SEED 5489u

static const char rng_key = 'r';

ln_rng *lt_rng(lua_State *L)
{
    lua_rawgetp(L, LUA_REGISTRYINDEX, &rng_key);
    ln_rng *r = (ln_rng *)lua_touserdata(L, -1);
    lua_pop(L, 1);
    return r;
}

static int l_manual_seed(lua_State *L)
{
    int64_t seed = lt_check_int(L, 1, LT_FN, "seed");
    ln_rng_seed(lt_rng(L), (uint64_t)seed);
    return 0;
}

static int l_get_rng_state(lua_State *L)
{
    ln_rng *r = lt_rng(L);
    lua_pushlstring(L, (const char *)r->s, sizeof r->s);
    return 1;
}

static int l_set_rng_state(lua_State *L)
{
    size_t n;
    const char *s = lua_tolstring(L, 1, &n);
    ln_rng *r = lt_rng(L);
    if (!s || n != sizeof r->s)
        lt_error(L, LT_FN, "expected a state string from get_rng_state");
    uint64_t st[4];
    memcpy(st, s, sizeof st);
    if (!(st[0] | st[1] | st[2] | st[3]))
        lt_error(L, LT_FN, "the all-zero state is invalid");
    memcpy(r->s, st, sizeof st);
    return 0;
}

/* shape (table or integers) followed by an optional dtype */
static lt_Tensor *new_random(lua_State *L, const char *fname, int nparams)
{
    int ndim;
    int64_t shape[LN_MAX_DIMS];
    int next;
    if (nparams == 0) {
        next = lt_read_shape(L, 1, fname, &ndim, shape);
    } else {
        /* uniform/normal: the shape is one table or one integer */
        if (lua_type(L, 1) == LUA_TTABLE) {
            lt_read_shape(L, 1, fname, &ndim, shape);
        } else {
            ndim = 1;
            shape[0] = lt_check_int(L, 1, fname, "shape");
        }
        for (int i = 2; i < 2 + nparams; i++)
            if (lua_type(L, i) != LUA_TNUMBER)
                lt_error(L, fname, "argument %d must be a number, got %s", i, luaL_typename(L, i));
        next = 2 + nparams;
    }
    ln_dtype dt = lt_opt_dtype(L, next, LN_F32, fname);
    if (!ln_dtype_is_float(dt)) lt_error(L, fname, "dtype must be float32 or float64");
    return lt_new(L, dt, ndim, shape, fname);
}

static int l_rand(lua_State *L)
{
    lt_Tensor *t = new_random(L, LT_FN, 0);
    ln_rng_uniform(lt_rng(L), &t->v, 0, 1);
    return 1;
}

static int l_randn(lua_State *L)
{
    lt_Tensor *t = new_random(L, LT_FN, 0);
    ln_rng_normal(lt_rng(L), &t->v, 0, 1);
    return 1;
}

static double num_arg(lua_State *L, int i, const char *fname, const char *what)
{
    if (lua_type(L, i) != LUA_TNUMBER)
        lt_error(L, fname, "%s must be a number, got %s", what, luaL_typename(L, i));
    return lua_tonumber(L, i);
}

static int l_uniform(lua_State *L)
{
    double lo = num_arg(L, 2, LT_FN, "low"), hi = num_arg(L, 3, LT_FN, "high");
    if (!(lo <= hi)) lt_error(L, LT_FN, "low must not exceed high");
    lt_Tensor *t = new_random(L, LT_FN, 2);
    ln_rng_uniform(lt_rng(L), &t->v, lo, hi);
    return 1;
}

static int l_normal(lua_State *L)
{
    double mean = num_arg(L, 2, LT_FN, "mean"), sd = num_arg(L, 3, LT_FN, "std");
    if (!(sd >= 0)) lt_error(L, LT_FN, "std must be non-negative");
    lt_Tensor *t = new_random(L, LT_FN, 2);
    ln_rng_normal(lt_rng(L), &t->v, mean, sd);
    return 1;
}

/* core.truncate_normal_(z, bound): redraw in place every element of the
 * contiguous float64 z outside [-bound, bound], round by round, each round
 * a full draw of N(0, 1) as core.randn would make it (truncated_normal) */
static int l_truncate_normal_(lua_State *L)
{
    lt_Tensor *z = lt_check(L, 1, LT_FN);
    double bound = luaL_checknumber(L, 2);
    if (z->v.dtype != LN_F64 || !ln_is_contiguous(&z->v))
        lt_error(L, LT_FN, "expected a contiguous float64 tensor, got %s", ln_dtype_name(z->v.dtype));
    if (!(bound > 0)) lt_error(L, LT_FN, "bound must be positive, got %g", bound);
    ln_rng_truncate_normal(lt_rng(L), z->v.data, ln_numel(&z->v), bound);
    lua_settop(L, 1);
    return 1;
}

static int l_randperm(lua_State *L)
{
    int64_t n = lt_check_int(L, 1, LT_FN, "n");
    if (n < 0 || n > INT32_MAX) lt_error(L, LT_FN, "n out of range: %lld", (long long)n);
    lt_Tensor *t = lt_new(L, LN_I32, 1, &n, LT_FN);
    ln_rng_permutation(lt_rng(L), (int32_t *)t->storage, n);
    return 1;
}

static const luaL_Reg functions[] = {
    {"manual_seed", l_manual_seed}, {"get_rng_state", l_get_rng_state},
    {"set_rng_state", l_set_rng_state}, {"rand", l_rand}, {"randn", l_randn},
    {"uniform", l_uniform}, {"normal", l_normal}, {"randperm", l_randperm},
    {"truncate_normal_", l_truncate_normal_}, {NULL, NULL}};

void lt_open_random(lua_State *L)
{
    ln_rng *r = (ln_rng *)lua_newuserdatauv(L, sizeof(ln_rng), 0);
    ln_rng_seed(r, LT_DEFAULT_SEED);
    lua_rawsetp(L, LUA_REGISTRYINDEX, &rng_key);
    lt_open_part(L, functions, NULL);
}
