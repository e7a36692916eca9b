/*
 * ltensor.c - creating tensors, their metadata, views, element access and
 * dtype conversion.  Views (reshape of contiguous data, transpose, narrow,
 * select, row indexing, ...) cost O(1) and share storage.
 */
#include <math.h>
#include <string.h>

#include "../runtime/elementwise.h"
#include "lt.h"

/* ---- lunet.tensor(data [, dtype]) ----------------------------------------- */

#define PATH_MAX_DEPTH LN_MAX_DIMS

static const char *path_str(char *buf, size_t n, const int64_t *path, int depth)
{
    size_t k = (size_t)snprintf(buf, n, "data");
    for (int i = 0; i < depth && k < n; i++)
        k += (size_t)snprintf(buf + k, n - k, "[%lld]", (long long)path[i] + 1);
    return buf;
}

/* Validate the nested table at the top of the stack against the shape.
 * Everything is checked before the tensor is allocated. */
static void check_nested(lua_State *L, int depth, int ndim, const int64_t *shape, ln_dtype dt,
                         int64_t *path)
{
    char pb[128];
    int t = lua_type(L, -1);
    if (depth == ndim) {
        if (t != LUA_TNUMBER)
            lt_error(L, "tensor", "%s %s, expected a number",
                     path_str(pb, sizeof pb, path, depth),
                     t == LUA_TTABLE ? "is a table (ragged nested table)"
                                     : lua_pushfstring(L, "is a %s", luaL_typename(L, -1)));
        lt_check_number(L, -1, dt, "tensor");
        return;
    }
    if (t != LUA_TTABLE)
        lt_error(L, "tensor", "ragged nested table: %s is a %s, expected a table of length %lld",
                 path_str(pb, sizeof pb, path, depth), luaL_typename(L, -1),
                 (long long)shape[depth]);
    int64_t len = (int64_t)lua_rawlen(L, -1);
    if (len != shape[depth])
        lt_error(L, "tensor", "ragged nested table: %s has length %lld, expected %lld",
                 path_str(pb, sizeof pb, path, depth), (long long)len, (long long)shape[depth]);
    for (int64_t i = 0; i < len; i++) {
        path[depth] = i;
        lua_rawgeti(L, -1, (lua_Integer)i + 1);
        check_nested(L, depth + 1, ndim, shape, dt, path);
        lua_pop(L, 1);
    }
}

static void fill_nested(lua_State *L, int depth, int ndim, const int64_t *shape, ln_dtype dt,
                        char **out)
{
    if (depth == ndim) {
        lt_store_number(L, -1, *out, dt);
        *out += ln_dtype_size(dt);
        return;
    }
    for (int64_t i = 0; i < shape[depth]; i++) {
        lua_rawgeti(L, -1, (lua_Integer)i + 1);
        fill_nested(L, depth + 1, ndim, shape, dt, out);
        lua_pop(L, 1);
    }
}

/* Every value of t fits in dtype dt, or an error naming the first that does not. */
static void check_fits(lua_State *L, const ln_tensor *t, ln_dtype dt, const char *fname)
{
    double bad;
    if (ln_check_convert(t, dt, &bad) != LN_OK) {
        char nb[64];
        lt_error(L, fname, "value %s does not fit in %s", lt_num_str(nb, sizeof nb, bad),
                 ln_dtype_name(dt));
    }
}

static int l_tensor(lua_State *L)
{
    lt_Tensor *src = lt_test(L, 1);
    if (src) {
        ln_dtype dt = lt_opt_dtype(L, 2, src->v.dtype, LT_FN);
        check_fits(L, &src->v, dt, LT_FN);
        lt_copy_of(L, 1, dt, LT_FN);
        return 1;
    }
    ln_dtype dt = lt_opt_dtype(L, 2, LN_F32, LT_FN);
    int t = lua_type(L, 1);
    if (t != LUA_TNUMBER && t != LUA_TTABLE)
        lt_error(L, LT_FN, "expected a number or a nested table, got %s", luaL_typename(L, 1));
    lua_settop(L, 1);
    /* infer the shape from the first element at each depth */
    int ndim = 0;
    int64_t shape[LN_MAX_DIMS];
    lua_pushvalue(L, 1);
    while (lua_type(L, -1) == LUA_TTABLE) {
        if (ndim == LN_MAX_DIMS) lt_error(L, LT_FN, "nested deeper than %d dims", LN_MAX_DIMS);
        int64_t len = (int64_t)lua_rawlen(L, -1);
        shape[ndim++] = len;
        if (len == 0) break;
        lua_rawgeti(L, -1, 1);
    }
    lua_settop(L, 1);
    int64_t path[PATH_MAX_DEPTH];
    lua_pushvalue(L, 1);
    check_nested(L, 0, ndim, shape, dt, path);
    lua_pop(L, 1);
    lt_Tensor *r = lt_new(L, dt, ndim, shape, LT_FN);
    char *p = r->storage;
    lua_pushvalue(L, 1);
    fill_nested(L, 0, ndim, shape, dt, &p);
    lua_pop(L, 1);
    return 1;
}

/* ---- zeros, ones, full, empty, arange, linspace, eye ---------------------- */

static int make_filled(lua_State *L, const char *fname, int fill, double v)
{
    int ndim;
    int64_t shape[LN_MAX_DIMS];
    int next = lt_read_shape(L, 1, fname, &ndim, shape);
    ln_dtype dt = lt_opt_dtype(L, next, LN_F32, fname);
    if (!lua_isnone(L, next + 1)) lt_error(L, fname, "too many arguments");
    lt_Tensor *t = lt_new(L, dt, ndim, shape, fname);
    if (fill) ln_fill(&t->v, v);
    return 1;
}

static int l_zeros(lua_State *L) { return make_filled(L, LT_FN, 1, 0); }
static int l_ones(lua_State *L) { return make_filled(L, LT_FN, 1, 1); }
static int l_empty(lua_State *L) { return make_filled(L, LT_FN, 0, 0); }

static int l_full(lua_State *L)
{
    int ndim;
    int64_t shape[LN_MAX_DIMS];
    if (lua_type(L, 1) == LUA_TTABLE) {
        lt_read_shape(L, 1, LT_FN, &ndim, shape);
    } else {
        ndim = 1;
        shape[0] = lt_check_int(L, 1, LT_FN, "shape");
    }
    if (lua_type(L, 2) != LUA_TNUMBER)
        lt_error(L, LT_FN, "value must be a number, got %s", luaL_typename(L, 2));
    ln_dtype dt = lt_opt_dtype(L, 3, LN_F32, LT_FN);
    lt_check_number(L, 2, dt, LT_FN);
    lt_Tensor *t = lt_new(L, dt, ndim, shape, LT_FN);
    lt_fill_number(L, 2, &t->v);
    return 1;
}

/* arange of Lua integers into an integer dtype, in exact integer arithmetic
 * (an int64 range beyond 2^53 is not rounded through doubles) */
static int arange_int(lua_State *L, int nnum, ln_dtype dt, const char *fname)
{
    int64_t start = 0, stop, step = 1;
    if (nnum == 1) {
        stop = (int64_t)lua_tointeger(L, 1);
    } else {
        start = (int64_t)lua_tointeger(L, 1);
        stop = (int64_t)lua_tointeger(L, 2);
        if (nnum == 3) step = (int64_t)lua_tointeger(L, 3);
    }
    if (step == 0) lt_error(L, fname, "step must be nonzero");
    /* the count, with the span taken as unsigned so no step overflows */
    uint64_t span, ustep, n = 0;
    if (step > 0 && stop > start) {
        span = (uint64_t)stop - (uint64_t)start;
        ustep = (uint64_t)step;
    } else if (step < 0 && stop < start) {
        span = (uint64_t)start - (uint64_t)stop;
        ustep = 0 - (uint64_t)step;
    } else {
        span = 0;
        ustep = 1;
    }
    if (span) n = span / ustep + (span % ustep != 0);
    if (n > (uint64_t)9e15) lt_error(L, fname, "too many elements");
    int64_t count = (int64_t)n;
    if (count > 0) {
        /* start + (n-1)*step lies between start and stop: no overflow */
        lt_check_ivalue(L, start, dt, fname);
        lt_check_ivalue(L, (int64_t)((uint64_t)start + (n - 1) * (uint64_t)step), dt, fname);
    }
    lt_Tensor *t = lt_new(L, dt, 1, &count, fname);
    size_t es = ln_dtype_size(dt);
    for (int64_t i = 0; i < count; i++)
        ln_store_i64(t->storage + (size_t)i * es, dt,
                     (int64_t)((uint64_t)start + (uint64_t)i * (uint64_t)step));
    return 1;
}

static int l_arange(lua_State *L)
{
    int nnum = 0, nint = 0;
    while (nnum < 3 && lua_type(L, nnum + 1) == LUA_TNUMBER) {
        nint += lua_isinteger(L, nnum + 1);
        nnum++;
    }
    if (nnum == 0) lt_error(L, LT_FN, "expected numbers (start, stop [, step])");
    ln_dtype dt = lt_opt_dtype(L, nnum + 1, LN_F32, LT_FN);
    if (nint == nnum && !ln_dtype_is_float(dt)) return arange_int(L, nnum, dt, LT_FN);
    double start = 0, stop, step = 1;
    if (nnum == 1) {
        stop = lua_tonumber(L, 1);
    } else {
        start = lua_tonumber(L, 1);
        stop = lua_tonumber(L, 2);
        if (nnum == 3) step = lua_tonumber(L, 3);
    }
    if (step == 0 || step != step) lt_error(L, LT_FN, "step must be nonzero");
    if (!isfinite(start) || !isfinite(stop) || !isfinite(step))
        lt_error(L, LT_FN, "start, stop and step must be finite");
    double count = ceil((stop - start) / step);
    if (!(count > 0)) count = 0;
    if (count > 9.0e15) lt_error(L, LT_FN, "too many elements");
    int64_t n = (int64_t)count;
    if (n > 0) {
        lt_check_value(L, start, dt, LT_FN);
        lt_check_value(L, start + (double)(n - 1) * step, dt, LT_FN);
    }
    lt_Tensor *t = lt_new(L, dt, 1, &n, LT_FN);
    size_t es = ln_dtype_size(dt);
    for (int64_t i = 0; i < n; i++) ln_store(t->storage + (size_t)i * es, dt, start + (double)i * step);
    return 1;
}

static int l_linspace(lua_State *L)
{
    if (lua_type(L, 1) != LUA_TNUMBER || lua_type(L, 2) != LUA_TNUMBER)
        lt_error(L, LT_FN, "expected numbers (a, b, n)");
    double a = lua_tonumber(L, 1), b = lua_tonumber(L, 2);
    int64_t n = lt_check_int(L, 3, LT_FN, "n");
    if (n < 0) lt_error(L, LT_FN, "n must be non-negative, got %lld", (long long)n);
    ln_dtype dt = lt_opt_dtype(L, 4, LN_F32, LT_FN);
    if (!ln_dtype_is_float(dt)) lt_error(L, LT_FN, "dtype must be float32 or float64");
    lt_Tensor *t = lt_new(L, dt, 1, &n, LT_FN);
    size_t es = ln_dtype_size(dt);
    double step = n > 1 ? (b - a) / (double)(n - 1) : 0;
    for (int64_t i = 0; i < n; i++)
        ln_store(t->storage + (size_t)i * es, dt, i == n - 1 && n > 1 ? b : a + (double)i * step);
    return 1;
}

static int l_eye(lua_State *L)
{
    int64_t shape[2];
    shape[0] = lt_check_int(L, 1, LT_FN, "n");
    int next = 2;
    if (lua_type(L, 2) == LUA_TNUMBER) {
        shape[1] = lt_check_int(L, 2, LT_FN, "m");
        next = 3;
    } else {
        shape[1] = shape[0];
    }
    ln_dtype dt = lt_opt_dtype(L, next, LN_F32, LT_FN);
    lt_Tensor *t = lt_new(L, dt, 2, shape, LT_FN);
    ln_fill(&t->v, 0);
    size_t es = ln_dtype_size(dt);
    int64_t k = shape[0] < shape[1] ? shape[0] : shape[1];
    for (int64_t i = 0; i < k; i++) ln_store(t->storage + (size_t)(i * shape[1] + i) * es, dt, 1);
    return 1;
}

static int l_is_tensor(lua_State *L)
{
    lua_pushboolean(L, lt_test(L, 1) != NULL);
    return 1;
}

/* ---- metadata --------------------------------------------------------- */

static void push_shape(lua_State *L, const ln_tensor *v)
{
    lua_createtable(L, v->ndim, 0);
    for (int i = 0; i < v->ndim; i++) {
        lua_pushinteger(L, v->shape[i]);
        lua_rawseti(L, -2, i + 1);
    }
}

static int l_shape(lua_State *L)
{
    push_shape(L, &lt_check(L, 1, LT_FN)->v);
    return 1;
}

static int l_size(lua_State *L)
{
    lt_Tensor *t = lt_check(L, 1, LT_FN);
    if (lua_isnoneornil(L, 2)) {
        push_shape(L, &t->v);
        return 1;
    }
    int d = lt_check_dim(L, 2, t->v.ndim, LT_FN);
    lua_pushinteger(L, t->v.shape[d]);
    return 1;
}

static int l_dim(lua_State *L)
{
    lua_pushinteger(L, lt_check(L, 1, LT_FN)->v.ndim);
    return 1;
}

static int l_numel(lua_State *L)
{
    lua_pushinteger(L, ln_numel(&lt_check(L, 1, LT_FN)->v));
    return 1;
}

static int l_dtype(lua_State *L)
{
    lua_pushstring(L, ln_dtype_name(lt_check(L, 1, LT_FN)->v.dtype));
    return 1;
}

static int l_is_contiguous(lua_State *L)
{
    lua_pushboolean(L, ln_is_contiguous(&lt_check(L, 1, LT_FN)->v));
    return 1;
}

static int l_len(lua_State *L)
{
    lt_Tensor *t = lt_check(L, 1, LT_FN);
    if (t->v.ndim == 0) lt_error(L, LT_FN, "a 0-d tensor has no length");
    lua_pushinteger(L, t->v.shape[0]);
    return 1;
}

/* ---- dtype conversion and copies ------------------------------------------ */

static int convert(lua_State *L, const char *fname, ln_dtype dt)
{
    lt_Tensor *t = lt_check(L, 1, fname);
    if (t->v.dtype == dt) {
        lua_settop(L, 1);
        return 1;
    }
    check_fits(L, &t->v, dt, fname);
    lt_copy_of(L, 1, dt, fname);
    return 1;
}

static int l_astype(lua_State *L)
{
    if (lua_isnoneornil(L, 2)) lt_error(L, LT_FN, "expected a dtype");
    return convert(L, LT_FN, lt_opt_dtype(L, 2, LN_F32, LT_FN));
}
static int l_float(lua_State *L) { return convert(L, LT_FN, LN_F32); }
static int l_double(lua_State *L) { return convert(L, LT_FN, LN_F64); }
static int l_int(lua_State *L) { return convert(L, LT_FN, LN_I32); }
static int l_long(lua_State *L) { return convert(L, LT_FN, LN_I64); }
static int l_byte(lua_State *L) { return convert(L, LT_FN, LN_U8); }

static int l_clone(lua_State *L)
{
    lt_Tensor *t = lt_check(L, 1, LT_FN);
    lt_copy_of(L, 1, t->v.dtype, LT_FN);
    return 1;
}

static int l_contiguous(lua_State *L)
{
    lt_Tensor *t = lt_check(L, 1, LT_FN);
    if (ln_is_contiguous(&t->v)) lua_settop(L, 1);
    else lt_copy_of(L, 1, t->v.dtype, LT_FN);
    return 1;
}

/* ---- views ---------------------------------------------------------------- */

/* A new view of the same elements (autograd's detach builds on it). */
static int l_detach(lua_State *L)
{
    lt_Tensor *t = lt_check(L, 1, LT_FN);
    ln_tensor v = t->v;
    lt_new_view(L, 1, &v);
    return 1;
}

/* ---- autograd's record ---------------------------------------------------- */

/* autograd.lua keeps each tracked tensor's record (leaf flag, gradient, the
 * node with its inputs) in user value LT_UV_TAPE, so a graph is held by plain
 * strong references from its output and dies with it.  (A weak-keyed side
 * table made every GC cycle re-traverse the graph as an ephemeron chain:
 * recording n ops cost O(n^2).)  tape_get(v [, w]) -> v's record, else w's,
 * else nil; any values are accepted (binary ops ask about both operands,
 * numbers included, in one call). */
static int l_tape_get(lua_State *L)
{
    /* upvalue 1: the tensor metatable (cheaper than luaL_testudata's lookup) */
    int n = lua_gettop(L) < 2 ? 1 : 2;
    for (int i = 1; i <= n; i++) {
        if (lua_type(L, i) != LUA_TUSERDATA || !lua_getmetatable(L, i)) continue;
        int is_tensor = lua_rawequal(L, -1, lua_upvalueindex(1));
        lua_pop(L, 1);
        if (is_tensor && lua_getiuservalue(L, i, LT_UV_TAPE) != LUA_TNIL) return 1;
    }
    lua_pushnil(L);
    return 1;
}

/* tape_set(t, record): record is a table, or nil to forget. */
static int l_tape_set(lua_State *L)
{
    if (!lt_test(L, 1))
        lt_error(L, LT_FN, "expected a tensor for argument 1, got %s", luaL_typename(L, 1));
    if (!lua_istable(L, 2) && !lua_isnoneornil(L, 2))
        lt_error(L, LT_FN, "expected a table or nil for argument 2, got %s",
                 luaL_typename(L, 2));
    lua_settop(L, 2);
    lua_setiuservalue(L, 1, LT_UV_TAPE);
    return 0;
}

/* Parse a target shape with at most one -1 and resolve it against numel. */
static void target_shape(lua_State *L, int first, const char *fname, const ln_tensor *v, int *ndim,
                         int64_t *shape)
{
    lt_read_shape(L, first, fname, ndim, shape);
    int infer = -1;
    int64_t known = 1, numel = ln_numel(v);
    char sa[LT_SHAPE_BUF], sb[LT_SHAPE_BUF];
    for (int i = 0; i < *ndim; i++) {
        if (shape[i] == -1) {
            if (infer >= 0) lt_error(L, fname, "only one dim may be -1");
            infer = i;
        } else if (shape[i] < 0) {
            lt_error(L, fname, "negative dimension %lld in shape %s", (long long)shape[i],
                     lt_shape_str(sa, sizeof sa, *ndim, shape));
        } else if (known >= 0 && __builtin_mul_overflow(known, shape[i], &known)) {
            known = -1; /* overflows: cannot equal numel, unless a later 0 */
        }
    }
    for (int i = 0; i < *ndim; i++)
        if (shape[i] == 0) known = known < 0 ? 0 : known;
    if (infer >= 0) {
        if (known > 0 && numel % known == 0) {
            shape[infer] = numel / known;
            lt_check_numel(L, *ndim, shape, v->dtype, fname);
            return;
        }
        if (known == 0 && numel == 0) {
            shape[infer] = 0;
            lt_check_numel(L, *ndim, shape, v->dtype, fname);
            return;
        }
    } else if (known == numel) {
        /* an empty target may still hold dims whose product is absurd */
        lt_check_numel(L, *ndim, shape, v->dtype, fname);
        return;
    }
    lt_error(L, fname, "cannot reshape tensor of shape %s (%lld elements) into shape %s",
             lt_shape_str(sa, sizeof sa, v->ndim, v->shape), (long long)numel,
             lt_shape_str(sb, sizeof sb, *ndim, shape));
}

static void push_reshaped(lua_State *L, int idx, const lt_Tensor *t, int ndim, const int64_t *shape,
                          const char *fname)
{
    if (ln_is_contiguous(&t->v)) {
        ln_tensor v;
        ln_tensor_init(&v, t->v.data, t->v.dtype, ndim, shape);
        lt_new_view(L, idx, &v);
    } else {
        lt_Tensor *c = lt_copy_of(L, idx, t->v.dtype, fname);
        ln_tensor_init(&c->v, c->storage, c->v.dtype, ndim, shape);
    }
}

static int l_reshape(lua_State *L)
{
    lt_Tensor *t = lt_check(L, 1, LT_FN);
    int ndim;
    int64_t shape[LN_MAX_DIMS];
    target_shape(L, 2, LT_FN, &t->v, &ndim, shape);
    push_reshaped(L, 1, t, ndim, shape, LT_FN);
    return 1;
}

static int l_view(lua_State *L)
{
    lt_Tensor *t = lt_check(L, 1, LT_FN);
    int ndim;
    int64_t shape[LN_MAX_DIMS];
    target_shape(L, 2, LT_FN, &t->v, &ndim, shape);
    if (!ln_is_contiguous(&t->v))
        lt_error(L, LT_FN, "tensor is not contiguous (use reshape, or contiguous first)");
    push_reshaped(L, 1, t, ndim, shape, LT_FN);
    return 1;
}

static int l_flatten(lua_State *L)
{
    lt_Tensor *t = lt_check(L, 1, LT_FN);
    int64_t n = ln_numel(&t->v);
    push_reshaped(L, 1, t, 1, &n, LT_FN);
    return 1;
}

/* core._expand(t, shape): t broadcast to shape as a view (stride 0 along
 * the broadcast dims), for the gradients of reductions.  Internal: several
 * elements share one address, so the view is only read, never written. */
static int l__expand(lua_State *L)
{
    lt_Tensor *t = lt_check(L, 1, LT_FN);
    int ndim, nd;
    int64_t shape[LN_MAX_DIMS], bs[LN_MAX_DIMS];
    lt_read_shape(L, 2, LT_FN, &ndim, shape);
    if (ln_broadcast_shapes(t->v.ndim, t->v.shape, ndim, shape, &nd, bs) != LN_OK || nd != ndim ||
        memcmp(bs, shape, sizeof(int64_t) * (size_t)nd) != 0) {
        char sa[LT_SHAPE_BUF], sb[LT_SHAPE_BUF];
        lt_error(L, LT_FN, "cannot broadcast shape %s to %s",
                 lt_shape_str(sa, sizeof sa, t->v.ndim, t->v.shape),
                 lt_shape_str(sb, sizeof sb, ndim, shape));
    }
    ln_tensor v = t->v;
    ln_broadcast_to(&v, ndim, shape);
    lt_new_view(L, 1, &v);
    return 1;
}

/* Push the view of the tensor t at 1 whose dim i is t's dim perm[i]. */
static int push_permuted(lua_State *L, const lt_Tensor *t, const int *perm)
{
    ln_tensor v = t->v;
    for (int i = 0; i < t->v.ndim; i++) {
        v.shape[i] = t->v.shape[perm[i]];
        v.stride[i] = t->v.stride[perm[i]];
    }
    lt_new_view(L, 1, &v);
    return 1;
}

/* The same with dims d1 and d2 (0-based) swapped. */
static int push_swapped(lua_State *L, const lt_Tensor *t, int d1, int d2)
{
    int perm[LN_MAX_DIMS];
    for (int i = 0; i < LN_MAX_DIMS; i++) perm[i] = i;
    perm[d1] = d2;
    perm[d2] = d1;
    return push_permuted(L, t, perm);
}

static int l_transpose(lua_State *L)
{
    lt_Tensor *t = lt_check(L, 1, LT_FN);
    int d1 = lt_check_dim(L, 2, t->v.ndim, LT_FN);
    int d2 = lt_check_dim(L, 3, t->v.ndim, LT_FN);
    return push_swapped(L, t, d1, d2);
}

/* t(): dims 1 and 2 swapped; a 0-d or 1-d tensor comes back as a view of itself */
static int l_t(lua_State *L)
{
    lt_Tensor *t = lt_check(L, 1, LT_FN);
    if (t->v.ndim > 2)
        lt_error(L, LT_FN, "expected a tensor with at most 2 dims, got %d (use transpose)", t->v.ndim);
    return push_swapped(L, t, 0, t->v.ndim == 2 ? 1 : 0);
}

static int l_permute(lua_State *L)
{
    lt_Tensor *t = lt_check(L, 1, LT_FN);
    int n;
    int64_t dims[LN_MAX_DIMS];
    lt_read_shape(L, 2, LT_FN, &n, dims);
    if (n != t->v.ndim)
        lt_error(L, LT_FN, "expected %d dims, got %d", t->v.ndim, n);
    int perm[LN_MAX_DIMS], seen[LN_MAX_DIMS] = {0};
    for (int i = 0; i < n; i++) {
        int64_t d = dims[i] < 0 ? dims[i] + n : dims[i] - 1;
        if (dims[i] == 0 || d < 0 || d >= n || seen[d])
            lt_error(L, LT_FN, "dims must be a permutation of 1..%d", n);
        seen[d] = 1;
        perm[i] = (int)d;
    }
    return push_permuted(L, t, perm);
}

static int l_narrow(lua_State *L)
{
    lt_Tensor *t = lt_check(L, 1, LT_FN);
    if (t->v.ndim == 0) lt_error(L, LT_FN, "cannot narrow a 0-d tensor");
    int d = lt_check_dim(L, 2, t->v.ndim, LT_FN);
    int64_t size = t->v.shape[d];
    int64_t start = lt_check_int(L, 3, LT_FN, "start");
    int64_t len = lt_check_int(L, 4, LT_FN, "length");
    int64_t s0 = start < 0 ? start + size : start - 1;
    if (len < 0) lt_error(L, LT_FN, "length must be non-negative, got %lld", (long long)len);
    /* len > size - s0, not s0 + len > size: that sum overflows for a huge len */
    if (start == 0 || s0 < 0 || s0 > size || len > size - s0)
        lt_error(L, LT_FN, "start %lld and length %lld out of range for dim %d of size %lld",
                 (long long)start, (long long)len, d + 1, (long long)size);
    ln_tensor v = t->v;
    v.data = (char *)v.data + s0 * v.stride[d] * (int64_t)ln_dtype_size(v.dtype);
    v.shape[d] = len;
    lt_new_view(L, 1, &v);
    return 1;
}

/* View with dim d fixed at 0-based position i (the dim removed). */
static ln_tensor select_view(const ln_tensor *t, int d, int64_t i)
{
    ln_tensor v = *t;
    v.data = (char *)t->data + i * t->stride[d] * (int64_t)ln_dtype_size(t->dtype);
    for (int k = d; k < t->ndim - 1; k++) {
        v.shape[k] = t->shape[k + 1];
        v.stride[k] = t->stride[k + 1];
    }
    v.ndim = t->ndim - 1;
    return v;
}

static int l_select(lua_State *L)
{
    lt_Tensor *t = lt_check(L, 1, LT_FN);
    if (t->v.ndim == 0) lt_error(L, LT_FN, "cannot select from a 0-d tensor");
    int d = lt_check_dim(L, 2, t->v.ndim, LT_FN);
    int64_t i = lt_check_pos(L, 3, t->v.shape[d], d, LT_FN);
    ln_tensor v = select_view(&t->v, d, i);
    lt_new_view(L, 1, &v);
    return 1;
}

static int l_unsqueeze(lua_State *L)
{
    lt_Tensor *t = lt_check(L, 1, LT_FN);
    if (t->v.ndim == LN_MAX_DIMS) lt_error(L, LT_FN, "at most %d dims", LN_MAX_DIMS);
    int d = lt_check_dim(L, 2, t->v.ndim + 1, LT_FN);
    ln_tensor v = t->v;
    for (int k = t->v.ndim; k > d; k--) {
        v.shape[k] = v.shape[k - 1];
        v.stride[k] = v.stride[k - 1];
    }
    v.shape[d] = 1;
    v.stride[d] = d + 1 < v.ndim + 1 ? v.shape[d + 1] * v.stride[d + 1] : 1;
    v.ndim++;
    lt_new_view(L, 1, &v);
    return 1;
}

static int l_squeeze(lua_State *L)
{
    lt_Tensor *t = lt_check(L, 1, LT_FN);
    ln_tensor v = t->v;
    int only = lua_isnoneornil(L, 2) ? -1 : lt_check_dim(L, 2, t->v.ndim, LT_FN);
    if (only >= 0 && t->v.shape[only] != 1)
        lt_error(L, LT_FN, "dim %d has size %lld, not 1", only + 1, (long long)t->v.shape[only]);
    int k = 0;
    for (int i = 0; i < t->v.ndim; i++) {
        if (t->v.shape[i] == 1 && (only < 0 || only == i)) continue;
        v.shape[k] = t->v.shape[i];
        v.stride[k] = t->v.stride[i];
        k++;
    }
    v.ndim = k;
    lt_new_view(L, 1, &v);
    return 1;
}

/* ---- element access ------------------------------------------------------- */

static char *elem_ptr(lua_State *L, const lt_Tensor *t, int first, int nidx, const char *fname)
{
    if (nidx != t->v.ndim)
        lt_error(L, fname, "expected %d indices for a %d-d tensor, got %d", t->v.ndim, t->v.ndim,
                 nidx);
    char *p = (char *)t->v.data;
    for (int d = 0; d < nidx; d++) {
        int64_t i = lt_check_pos(L, first + d, t->v.shape[d], d, fname);
        p += i * t->v.stride[d] * (int64_t)ln_dtype_size(t->v.dtype);
    }
    return p;
}

static int l_get(lua_State *L)
{
    lt_Tensor *t = lt_check(L, 1, LT_FN);
    char *p = elem_ptr(L, t, 2, lua_gettop(L) - 1, LT_FN);
    lt_push_elem(L, p, t->v.dtype);
    return 1;
}

/* the value at idx: a number that fits dtype dt */
static void check_number(lua_State *L, int idx, ln_dtype dt, const char *fname)
{
    if (lua_type(L, idx) != LUA_TNUMBER)
        lt_error(L, fname, "value must be a number, got %s", luaL_typename(L, idx));
    lt_check_number(L, idx, dt, fname);
}

static int l_set(lua_State *L)
{
    lt_Tensor *t = lt_check(L, 1, LT_FN);
    int top = lua_gettop(L);
    if (top < 2) lt_error(L, LT_FN, "expected indices and a value");
    check_number(L, top, t->v.dtype, LT_FN);
    char *p = elem_ptr(L, t, 2, top - 2, LT_FN);
    lt_store_number(L, top, p, t->v.dtype);
    lua_settop(L, 1);
    return 1;
}

static int l_item(lua_State *L)
{
    lt_Tensor *t = lt_check(L, 1, LT_FN);
    int64_t n = ln_numel(&t->v);
    if (n != 1) lt_error(L, LT_FN, "tensor has %lld elements, expected 1", (long long)n);
    lt_push_elem(L, t->v.data, t->v.dtype);
    return 1;
}

static int l_fill(lua_State *L)
{
    lt_Tensor *t = lt_check(L, 1, LT_FN);
    check_number(L, 2, t->v.dtype, LT_FN);
    lt_fill_number(L, 2, &t->v);
    lua_settop(L, 1);
    return 1;
}

/* dst (at stack index 1) <- src (index si), broadcast, any dtypes */
static void copy_into(lua_State *L, lt_Tensor *dst, int si, const char *fname)
{
    lt_Tensor *src = lt_check(L, si, fname);
    char sa[LT_SHAPE_BUF], sb[LT_SHAPE_BUF];
    int nd;
    int64_t bs[LN_MAX_DIMS];
    if (ln_broadcast_shapes(dst->v.ndim, dst->v.shape, src->v.ndim, src->v.shape, &nd, bs) !=
            LN_OK ||
        nd != dst->v.ndim || memcmp(bs, dst->v.shape, sizeof(int64_t) * (size_t)nd) != 0)
        lt_error(L, fname, "cannot broadcast shape %s into %s",
                 lt_shape_str(sa, sizeof sa, src->v.ndim, src->v.shape),
                 lt_shape_str(sb, sizeof sb, dst->v.ndim, dst->v.shape));
    check_fits(L, &src->v, dst->v.dtype, fname);
    src = lt_unalias(L, si, dst, fname);
    ln_tensor sv = src->v;
    ln_broadcast_to(&sv, dst->v.ndim, dst->v.shape);
    ln_copy(&dst->v, &sv);
}

static int l_copy(lua_State *L)
{
    lt_Tensor *t = lt_check(L, 1, LT_FN);
    copy_into(L, t, 2, LT_FN);
    lua_settop(L, 1);
    return 1;
}

static void push_table(lua_State *L, const ln_tensor *v, int d, const char *p)
{
    if (d == v->ndim) {
        lt_push_elem(L, p, v->dtype);
        return;
    }
    luaL_checkstack(L, 4, "totable");
    int64_t n = v->shape[d];
    lua_createtable(L, n > INT32_MAX ? 0 : (int)n, 0);
    int64_t step = v->stride[d] * (int64_t)ln_dtype_size(v->dtype);
    for (int64_t i = 0; i < n; i++) {
        push_table(L, v, d + 1, p + i * step);
        lua_rawseti(L, -2, (lua_Integer)i + 1);
    }
}

static int l_totable(lua_State *L)
{
    lt_Tensor *t = lt_check(L, 1, LT_FN);
    push_table(L, &t->v, 0, (const char *)t->v.data);
    return 1;
}

/* t[i]: a number for a 1-d tensor, else a view of row i; other keys are methods */
static int l_index(lua_State *L)
{
    if (lua_type(L, 2) == LUA_TNUMBER) {
        lt_Tensor *t = lt_check(L, 1, LT_FN);
        if (t->v.ndim == 0) lt_error(L, LT_FN, "cannot index a 0-d tensor (use item)");
        int64_t i = lt_check_pos(L, 2, t->v.shape[0], 0, LT_FN);
        if (t->v.ndim == 1) {
            lt_push_elem(L, (char *)t->v.data + i * t->v.stride[0] * (int64_t)ln_dtype_size(t->v.dtype),
                         t->v.dtype);
        } else {
            /* through the methods table, so that a wrapped select (autograd)
             * sees t[i] too */
            lua_pushliteral(L, "select");
            lua_rawget(L, lua_upvalueindex(1));
            lua_pushvalue(L, 1);
            lua_pushinteger(L, 1);
            lua_pushinteger(L, i + 1);
            lua_call(L, 3, 1);
        }
        return 1;
    }
    lua_pushvalue(L, 2);
    lua_rawget(L, lua_upvalueindex(1));
    return 1;
}

/* t[i] = number | tensor */
static int l_newindex(lua_State *L)
{
    lt_Tensor *t = lt_check(L, 1, LT_FN);
    if (lua_type(L, 2) != LUA_TNUMBER)
        lt_error(L, LT_FN, "cannot set field '%s' of a tensor", luaL_tolstring(L, 2, NULL));
    if (t->v.ndim == 0) lt_error(L, LT_FN, "cannot index a 0-d tensor");
    int64_t i = lt_check_pos(L, 2, t->v.shape[0], 0, LT_FN);
    ln_tensor row = select_view(&t->v, 0, i);
    if (lua_type(L, 3) == LUA_TNUMBER) {
        check_number(L, 3, t->v.dtype, LT_FN);
        lt_fill_number(L, 3, &row);
        return 0;
    }
    lt_check(L, 3, LT_FN);
    lt_new_view(L, 1, &row);
    lua_replace(L, 1);
    copy_into(L, (lt_Tensor *)lua_touserdata(L, 1), 3, LT_FN);
    return 0;
}

/* __close.  Storage is part of the userdata, so the GC frees it with no
 * finalizer: tensors deliberately have no __gc.  (A __gc would make every
 * dead tensor survive one more GC cycle to be finalized, and the estimate of
 * live memory would count those survivors: a loop of 4 MiB temporaries
 * peaked at 73 MiB with __gc and 23 MiB without.)  Closing only makes
 * further use an error; safe to call any number of times. */
static int l_close(lua_State *L)
{
    lt_Tensor *t = (lt_Tensor *)luaL_checkudata(L, 1, LT_TENSOR);
    t->closed = 1;
    return 0;
}

static const luaL_Reg creators[] = {
    {"tensor", l_tensor}, {"_expand", l__expand}, {"zeros", l_zeros},       {"ones", l_ones}, {"full", l_full},
    {"empty", l_empty},   {"arange", l_arange},     {"linspace", l_linspace},
    {"eye", l_eye},       {"is_tensor", l_is_tensor}, {"tape_set", l_tape_set},
    {NULL, NULL}};

static const luaL_Reg methods[] = {
    {"shape", l_shape},
    {"size", l_size},
    {"dim", l_dim},
    {"numel", l_numel},
    {"dtype", l_dtype},
    {"is_contiguous", l_is_contiguous},
    {"astype", l_astype},
    {"float", l_float},
    {"double", l_double},
    {"int", l_int},
    {"long", l_long},
    {"byte", l_byte},
    {"clone", l_clone},
    {"detach", l_detach},
    {"contiguous", l_contiguous},
    {"reshape", l_reshape},
    {"view", l_view},
    {"flatten", l_flatten},
    {"transpose", l_transpose},
    {"t", l_t},
    {"permute", l_permute},
    {"narrow", l_narrow},
    {"select", l_select},
    {"unsqueeze", l_unsqueeze},
    {"squeeze", l_squeeze},
    {"get", l_get},
    {"set", l_set},
    {"item", l_item},
    {"fill", l_fill},
    {"copy", l_copy},
    {"totable", l_totable},
    {NULL, NULL}};

void lt_open_tensor(lua_State *L)
{
    lt_open_part(L, creators, methods);

    luaL_newmetatable(L, LT_TENSOR);
    lua_pushvalue(L, -2); /* methods as upvalue of __index */
    lua_pushcclosure(L, l_index, 1);
    lua_setfield(L, -2, "__index");
    lua_pushcfunction(L, l_newindex);
    lua_setfield(L, -2, "__newindex");
    lua_pushcfunction(L, l_len);
    lua_setfield(L, -2, "__len");
    lua_pushcfunction(L, l_close);
    lua_setfield(L, -2, "__close");
    lua_pushcfunction(L, lt_tostring);
    lua_setfield(L, -2, "__tostring");
    lua_pushvalue(L, -1);
    lua_pushcclosure(L, l_tape_get, 1);
    lua_setfield(L, -4, "tape_get"); /* core.tape_get */
    lua_pop(L, 1);
}
