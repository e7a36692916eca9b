/*
 * lcheck.c - the tensor userdata's life cycle and the argument checks every
 * binding uses.  Errors always read "<function>: <what was wrong>".
 */
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

#include "../runtime/elementwise.h"
#include "lt.h"
#include "../runtime/prof.h"

int lt_error(lua_State *L, const char *fname, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    lua_pushfstring(L, "%s: %s", fname, msg);
    return lua_error(L);
}

const char *lt_shape_str(char *buf, size_t n, int ndim, const int64_t *shape)
{
    size_t k = 0;
    k += (size_t)snprintf(buf + k, n - k, "(");
    for (int i = 0; i < ndim && k < n; i++)
        k += (size_t)snprintf(buf + k, n - k, i ? ", %lld" : "%lld", (long long)shape[i]);
    if (k < n) snprintf(buf + k, n - k, ndim == 1 ? ",)" : ")");
    return buf;
}

const char *lt_num_str(char *buf, size_t n, double v)
{
    if (v != v) snprintf(buf, n, "nan");
    else if (isinf(v)) snprintf(buf, n, v > 0 ? "inf" : "-inf");
    else if (v == floor(v) && fabs(v) < 1e15) snprintf(buf, n, "%.0f", v);
    else snprintf(buf, n, "%.14g", v);
    return buf;
}

lt_Tensor *lt_test(lua_State *L, int idx) { return (lt_Tensor *)luaL_testudata(L, idx, LT_TENSOR); }

lt_Tensor *lt_check(lua_State *L, int idx, const char *fname)
{
    lt_Tensor *t = lt_test(L, idx);
    if (!t) {
        lt_error(L, fname, "expected a tensor for argument %d, got %s", idx, luaL_typename(L, idx));
        return NULL;
    }
    if (t->closed) lt_error(L, fname, "tensor is closed");
    return t;
}

lt_Tensor *lt_check_float(lua_State *L, int idx, const char *fname)
{
    lt_Tensor *t = lt_check(L, idx, fname);
    if (!ln_dtype_is_float(t->v.dtype))
        lt_error(L, fname, "expected a float32 or float64 tensor, got %s (convert with :float())",
                 ln_dtype_name(t->v.dtype));
    return t;
}

int64_t lt_check_int(lua_State *L, int idx, const char *fname, const char *what)
{
    int isint;
    lua_Integer v = lua_tointegerx(L, idx, &isint);
    if (!isint) {
        if (lua_type(L, idx) == LUA_TNUMBER) {
            char nb[64];
            lt_error(L, fname, "%s must be an integer, got %s", what,
                     lt_num_str(nb, sizeof nb, lua_tonumber(L, idx)));
        }
        lt_error(L, fname, "%s must be an integer, got %s", what, luaL_typename(L, idx));
    }
    return (int64_t)v;
}

int lt_check_dim(lua_State *L, int idx, int ndim, const char *fname)
{
    int64_t d = lt_check_int(L, idx, fname, "dim");
    int64_t d0 = d < 0 ? d + ndim : d - 1;
    if (d == 0 || d0 < 0 || d0 >= ndim)
        lt_error(L, fname, "dim %lld out of range for a %d-d tensor", (long long)d, ndim);
    return (int)d0;
}

int lt_opt_dim(lua_State *L, int idx, int ndim, const char *fname, int def)
{
    if (lua_isnoneornil(L, idx)) return def;
    return lt_check_dim(L, idx, ndim, fname);
}

int64_t lt_check_pos(lua_State *L, int idx, int64_t size, int dim, const char *fname)
{
    int64_t i = lt_check_int(L, idx, fname, "index");
    int64_t i0 = i < 0 ? i + size : i - 1;
    if (i == 0 || i0 < 0 || i0 >= size)
        lt_error(L, fname, "index %lld out of range for dim %d of size %lld", (long long)i, dim + 1,
                 (long long)size);
    return i0;
}

ln_dtype lt_opt_dtype(lua_State *L, int idx, ln_dtype def, const char *fname)
{
    if (lua_isnoneornil(L, idx)) return def;
    if (lua_type(L, idx) != LUA_TSTRING)
        lt_error(L, fname, "dtype must be a string, got %s", luaL_typename(L, idx));
    ln_dtype dt;
    const char *name = lua_tostring(L, idx);
    if (ln_dtype_from_name(name, &dt) != 0)
        lt_error(L, fname,
                 "unknown dtype '%s' (expected float32, float64, int32, int64 or uint8)", name);
    return dt;
}

void lt_check_value(lua_State *L, double v, ln_dtype dt, const char *fname)
{
    char nb[64];
    if (ln_dtype_is_float(dt)) return;
    /* the range: lo included, hi excluded (both exact doubles) */
    double lo = dt == LN_U8 ? 0 : dt == LN_I32 ? -2147483648.0 : -9223372036854775808.0;
    double hi = dt == LN_U8 ? 256 : dt == LN_I32 ? 2147483648.0 : 9223372036854775808.0;
    if (v != floor(v) || !(v >= lo && v < hi))
        lt_error(L, fname, "value %s does not fit in %s", lt_num_str(nb, sizeof nb, v),
                 ln_dtype_name(dt));
}

void lt_check_ivalue(lua_State *L, lua_Integer v, ln_dtype dt, const char *fname)
{
    int fits = 1;
    if (dt == LN_U8) fits = v >= 0 && v <= 255;
    else if (dt == LN_I32) fits = v >= INT32_MIN && v <= INT32_MAX;
    if (!fits)
        lt_error(L, fname, "value %lld does not fit in %s", (long long)v, ln_dtype_name(dt));
}

void lt_check_number(lua_State *L, int idx, ln_dtype dt, const char *fname)
{
    if (lua_isinteger(L, idx)) lt_check_ivalue(L, lua_tointeger(L, idx), dt, fname);
    else lt_check_value(L, lua_tonumber(L, idx), dt, fname);
}

void lt_store_number(lua_State *L, int idx, void *p, ln_dtype dt)
{
    if (lua_isinteger(L, idx) && !ln_dtype_is_float(dt))
        ln_store_i64(p, dt, (int64_t)lua_tointeger(L, idx));
    else ln_store(p, dt, lua_tonumber(L, idx));
}

void lt_fill_number(lua_State *L, int idx, ln_tensor *t)
{
    if (lua_isinteger(L, idx) && !ln_dtype_is_float(t->dtype))
        ln_fill_i64(t, (int64_t)lua_tointeger(L, idx));
    else ln_fill(t, lua_tonumber(L, idx));
}

static int64_t shape_entry(lua_State *L, int idx, const char *fname)
{
    int isint;
    lua_Integer v = lua_tointegerx(L, idx, &isint);
    if (!isint) {
        char nb[64];
        if (lua_type(L, idx) == LUA_TNUMBER)
            lt_error(L, fname, "shape entries must be integers, got %s",
                     lt_num_str(nb, sizeof nb, lua_tonumber(L, idx)));
        lt_error(L, fname, "shape entries must be integers, got %s", luaL_typename(L, idx));
    }
    return (int64_t)v;
}

int lt_read_shape(lua_State *L, int first, const char *fname, int *ndim, int64_t *shape)
{
    int n = 0, next;
    if (lua_type(L, first) == LUA_TTABLE) {
        lua_Integer len = (lua_Integer)lua_rawlen(L, first);
        if (len > LN_MAX_DIMS)
            lt_error(L, fname, "at most %d dims, got %lld", LN_MAX_DIMS, (long long)len);
        for (lua_Integer i = 1; i <= len; i++) {
            lua_rawgeti(L, first, i);
            shape[n++] = shape_entry(L, -1, fname);
            lua_pop(L, 1);
        }
        next = first + 1;
    } else {
        int i = first;
        while (lua_type(L, i) == LUA_TNUMBER) {
            if (n == LN_MAX_DIMS) lt_error(L, fname, "at most %d dims", LN_MAX_DIMS);
            shape[n++] = shape_entry(L, i, fname);
            i++;
        }
        if (i == first)
            lt_error(L, fname, "expected a shape (table or integers), got %s",
                     luaL_typename(L, first));
        next = i;
    }
    *ndim = n;
    return next;
}

int64_t lt_check_numel(lua_State *L, int ndim, const int64_t *shape, ln_dtype dt,
                       const char *fname)
{
    int64_t numel;
    char sb[LT_SHAPE_BUF];
    ln_status st = ln_shape_numel(ndim, shape, ln_dtype_size(dt), LT_MAX_BYTES, &numel);
    if (st == LN_ERANGE) {
        for (int i = 0; i < ndim; i++)
            if (shape[i] < 0)
                lt_error(L, fname, "negative dimension %lld in shape %s", (long long)shape[i],
                         lt_shape_str(sb, sizeof sb, ndim, shape));
    }
    if (st != LN_OK)
        lt_error(L, fname, "shape %s is too large", lt_shape_str(sb, sizeof sb, ndim, shape));
    return numel;
}

/* ---- creation ------------------------------------------------------------ */

static lt_Tensor *push_header(lua_State *L, size_t extra)
{
    lt_Tensor *t = (lt_Tensor *)lua_newuserdatauv(L, sizeof(lt_Tensor) + extra, LT_NUV);
    memset(t, 0, sizeof *t);
    luaL_setmetatable(L, LT_TENSOR);
    return t;
}

/* Ask for transparent huge pages on the 2 MiB-aligned interior of large
 * storage: first touch then faults once per 2 MiB instead of per 4 KiB. */
static void advise_huge(char *p, size_t n)
{
    const uintptr_t huge = (uintptr_t)2 << 20;
    if (n < 2 * huge) return;
    uintptr_t lo = ((uintptr_t)p + huge - 1) & ~(huge - 1);
    uintptr_t hi = ((uintptr_t)p + n) & ~(huge - 1);
    if (hi > lo) madvise((void *)lo, hi - lo, MADV_HUGEPAGE);
}

/* storages made since the library was loaded, and their bytes */
static int64_t storages_made, storage_bytes_made;

void lt_storage_count(int64_t *count, int64_t *bytes)
{
    *count = storages_made;
    *bytes = storage_bytes_made;
}

lt_Tensor *lt_new(lua_State *L, ln_dtype dt, int ndim, const int64_t *shape, const char *fname)
{
    int64_t numel = lt_check_numel(L, ndim, shape, dt, fname);
    LN_PROF_SCOPE(LN_PROF_ALLOC); /* (a memory error leaves it open: the profile is then off) */
    size_t nbytes = (size_t)numel * ln_dtype_size(dt);
    storages_made++;
    storage_bytes_made += (int64_t)nbytes;
    lt_Tensor *t = push_header(L, nbytes + LT_ALIGN);
    uintptr_t p = (uintptr_t)(t + 1);
    p = (p + LT_ALIGN - 1) & ~(uintptr_t)(LT_ALIGN - 1);
    t->storage = (char *)p;
    t->nbytes = nbytes;
    advise_huge(t->storage, nbytes);
    /* Large storage: advance the collector in proportion, so garbage tensors
     * are reclaimed at the pace they are made whatever the GC settings
     * (under plain incremental defaults the heap otherwise ratchets up). */
    if (nbytes >= ((size_t)64 << 10)) lua_gc(L, LUA_GCSTEP, (int)(nbytes >> 10));
    ln_tensor_init(&t->v, t->storage, dt, ndim, shape);
    return t;
}

lt_Tensor *lt_out(lua_State *L, int idx, ln_dtype dt, int ndim, const int64_t *shape, int nin,
                  const int *inputs, const char *fname)
{
    lt_Tensor *o = lua_isnoneornil(L, idx) ? NULL : lt_test(L, idx);
    /* (a contiguous view is written where it lies: lunet.distributed keeps
     * the gradients as views of one bucket, so it reduces them in place) */
    int fits = o != NULL && !o->closed && o->v.dtype == dt && o->v.ndim == ndim && ln_is_contiguous(&o->v);
    for (int i = 0; fits && i < ndim; i++) fits = o->v.shape[i] == shape[i];
    for (int i = 0; fits && i < nin; i++) {
        const lt_Tensor *in = lt_test(L, inputs[i]);
        fits = in == NULL || !lt_same_storage(in, o);
    }
    if (!fits) return lt_new(L, dt, ndim, shape, fname);
    lua_pushvalue(L, idx);
    return o;
}

int lt_opt_ws(lua_State *L, int idx, const char *fname)
{
    if (lua_isnoneornil(L, idx)) return 0;
    if (!lua_istable(L, idx) || lt_test(L, idx))
        lt_error(L, fname, "expected a workspace table or nil for argument %d, got %s", idx,
                 luaL_typename(L, idx));
    return lua_absindex(L, idx);
}

lt_Tensor *lt_ws_out(lua_State *L, int ws, const char *key, ln_dtype dt, int ndim,
                     const int64_t *shape, int nin, const int *inputs, const char *fname)
{
    if (ws == 0) return lt_new(L, dt, ndim, shape, fname);
    lua_getfield(L, ws, key);
    int slot = lua_gettop(L);
    lt_Tensor *o = lt_out(L, slot, dt, ndim, shape, nin, inputs, fname);
    lua_remove(L, slot);
    lua_pushvalue(L, -1);
    lua_setfield(L, ws, key);
    return o;
}

lt_Tensor *lt_new_like(lua_State *L, const ln_tensor *v, ln_dtype dt, const char *fname)
{
    return lt_new(L, dt, v->ndim, v->shape, fname);
}

lt_Tensor *lt_new_view(lua_State *L, int base, const ln_tensor *v)
{
    base = lua_absindex(L, base);
    const lt_Tensor *b = (const lt_Tensor *)lua_touserdata(L, base);
    lt_Tensor *t = push_header(L, 0);
    t->v = *v;
    t->storage = b->storage;
    t->nbytes = b->nbytes;
    /* keep the owner (not an intermediate view) alive */
    if (lua_getiuservalue(L, base, 1) == LUA_TNIL) {
        lua_pop(L, 1);
        lua_pushvalue(L, base);
    }
    lua_setiuservalue(L, -2, 1);
    return t;
}

lt_Tensor *lt_copy_of(lua_State *L, int idx, ln_dtype dt, const char *fname)
{
    const lt_Tensor *src = (const lt_Tensor *)lua_touserdata(L, idx);
    ln_tensor sv = src->v;
    lt_Tensor *t = lt_new(L, dt, sv.ndim, sv.shape, fname);
    ln_copy(&t->v, &sv);
    return t;
}

int lt_same_storage(const lt_Tensor *a, const lt_Tensor *b) { return a->storage == b->storage; }

static int same_view(const ln_tensor *a, const ln_tensor *b)
{
    if (a->data != b->data || a->dtype != b->dtype || !ln_same_shape(a, b)) return 0;
    for (int i = 0; i < a->ndim; i++)
        if (a->shape[i] > 1 && a->stride[i] != b->stride[i]) return 0;
    return 1;
}

lt_Tensor *lt_unalias(lua_State *L, int idx, const lt_Tensor *out, const char *fname)
{
    idx = lua_absindex(L, idx);
    lt_Tensor *t = (lt_Tensor *)lua_touserdata(L, idx);
    if (!lt_same_storage(t, out) || same_view(&t->v, &out->v) || !ln_overlaps(&t->v, &out->v))
        return t;
    t = lt_copy_of(L, idx, t->v.dtype, fname);
    lua_replace(L, idx);
    return t;
}

void lt_push_elem(lua_State *L, const void *p, ln_dtype dt)
{
    switch (dt) {
    case LN_F32: lua_pushnumber(L, (lua_Number) * (const float *)p); break;
    case LN_F64: lua_pushnumber(L, *(const double *)p); break;
    case LN_I32: lua_pushinteger(L, *(const int32_t *)p); break;
    case LN_U8: lua_pushinteger(L, *(const uint8_t *)p); break;
    case LN_I64: lua_pushinteger(L, (lua_Integer) * (const int64_t *)p); break;
    }
}

void lt_open_part(lua_State *L, const luaL_Reg *functions, const luaL_Reg *methods)
{
    /* stack: core, methods */
    if (methods) lt_register(L, methods);
    if (functions) {
        lua_pushvalue(L, -2);
        lt_register(L, functions);
        lua_pop(L, 1);
    }
}

void lt_register(lua_State *L, const luaL_Reg *fns)
{
    for (; fns->name; fns++) {
        lua_pushcfunction(L, fns->func);
        lua_setfield(L, -2, fns->name);
    }
}

lt_Tensor *lt_contiguous_at(lua_State *L, int idx, const char *fname)
{
    lt_Tensor *t = (lt_Tensor *)lua_touserdata(L, idx);
    if (ln_is_contiguous(&t->v)) return t;
    t = lt_copy_of(L, idx, t->v.dtype, fname);
    lua_replace(L, idx);
    return t;
}
