/*
 * llinalg.c - matmul (1-d, 2-d and batched 3-d, numpy's matmul rules), and
 * the joins and gathers: cat, stack, index_select.
 */
#include <limits.h>
#include <string.h>

#include "../runtime/elementwise.h"
#include "../runtime/linalg.h"
#include "lt.h"

/* ---- matmul ------------------------------------------------------------------ */

/* The (batch, rows, cols) view of an operand; a 1-d `a` is one row, a 1-d
 * `b` one column; 2-d operands broadcast over the batch (stride 0). */
static ln_tensor as3d(const ln_tensor *t, int is_b)
{
    ln_tensor v = *t;
    v.ndim = 3;
    if (t->ndim == 1) {
        v.shape[0] = 1;
        v.stride[0] = 0;
        if (is_b) {
            v.shape[1] = t->shape[0];
            v.stride[1] = t->stride[0];
            v.shape[2] = 1;
            v.stride[2] = 1;
        } else {
            v.shape[1] = 1;
            v.stride[1] = 1;
            v.shape[2] = t->shape[0];
            v.stride[2] = t->stride[0];
        }
    } else if (t->ndim == 2) {
        v.shape[0] = 1;
        v.stride[0] = 0;
        v.shape[1] = t->shape[0];
        v.stride[1] = t->stride[0];
        v.shape[2] = t->shape[1];
        v.stride[2] = t->stride[1];
    }
    return v;
}

static int slice_ok(const ln_tensor *v3)
{
    ln_tensor s = *v3;
    s.ndim = 2;
    s.shape[0] = v3->shape[1];
    s.shape[1] = v3->shape[2];
    s.stride[0] = v3->stride[1];
    s.stride[1] = v3->stride[2];
    int trans;
    int64_t ld;
    return ln_gemm_layout(&s, &trans, &ld);
}

static lt_Tensor *matmul_operand(lua_State *L, int idx, ln_dtype dt, int is_b, ln_tensor *v3)
{
    lt_Tensor *t = (lt_Tensor *)lua_touserdata(L, idx);
    if (t->v.dtype != dt) {
        t = lt_copy_of(L, idx, dt, "matmul");
        lua_replace(L, idx);
    }
    *v3 = as3d(&t->v, is_b);
    if (!slice_ok(v3)) {
        t = lt_copy_of(L, idx, dt, "matmul");
        lua_replace(L, idx);
        *v3 = as3d(&t->v, is_b);
    }
    return t;
}

static int l_matmul(lua_State *L)
{
    lua_settop(L, 2);
    lt_Tensor *a = lt_check_float(L, 1, LT_FN), *b = lt_check_float(L, 2, LT_FN);
    char sa[LT_SHAPE_BUF], sb[LT_SHAPE_BUF];
    int na = a->v.ndim, nb = b->v.ndim;
    if (na < 1 || na > 3 || nb < 1 || nb > 3)
        lt_error(L, LT_FN, "expected 1-d, 2-d or 3-d tensors, got shapes %s and %s",
                 lt_shape_str(sa, sizeof sa, na, a->v.shape),
                 lt_shape_str(sb, sizeof sb, nb, b->v.shape));
    int64_t ka = a->v.shape[na - 1], kb = b->v.shape[nb == 1 ? 0 : nb - 2];
    if (ka != kb)
        lt_error(L, LT_FN, "cannot multiply shapes %s and %s: inner dims %lld and %lld differ",
                 lt_shape_str(sa, sizeof sa, na, a->v.shape),
                 lt_shape_str(sb, sizeof sb, nb, b->v.shape), (long long)ka, (long long)kb);
    int64_t ba = na == 3 ? a->v.shape[0] : 1, bb = nb == 3 ? b->v.shape[0] : 1;
    if (ba != bb && ba != 1 && bb != 1)
        lt_error(L, LT_FN, "batch sizes %lld and %lld differ (shapes %s and %s)", (long long)ba,
                 (long long)bb, lt_shape_str(sa, sizeof sa, na, a->v.shape),
                 lt_shape_str(sb, sizeof sb, nb, b->v.shape));
    /* numpy's broadcast: a batch of 1 takes the other's size, 0 included
     * (max(ba, bb) would turn a batch of 0 against 1 into 1) */
    const int64_t obatch = ba == 1 ? bb : ba; /* the output's; batch may merge into m */
    int64_t batch = obatch;
    int64_t m = na == 1 ? 1 : a->v.shape[na - 2], n = nb == 1 ? 1 : b->v.shape[nb - 1];
    /* cblas takes int dims; only an empty product may exceed them */
    if (batch > 0 && m > 0 && n > 0 && (m > INT_MAX || n > INT_MAX || ka > INT_MAX))
        lt_error(L, LT_FN, "dims above %d are not supported (shapes %s and %s)", INT_MAX,
                 lt_shape_str(sa, sizeof sa, na, a->v.shape),
                 lt_shape_str(sb, sizeof sb, nb, b->v.shape));
    ln_dtype dt = (a->v.dtype == LN_F64 || b->v.dtype == LN_F64) ? LN_F64 : LN_F32;
    /* the output's shape, taken now: a and b may be replaced by copies below */
    int64_t oshape[3];
    int ond = 0;
    if (na == 3 || nb == 3) oshape[ond++] = obatch;
    if (na > 1) oshape[ond++] = m;
    if (nb > 1) oshape[ond++] = n;

    ln_tensor va, vb;
    matmul_operand(L, 1, dt, 0, &va);
    matmul_operand(L, 2, dt, 1, &vb);

    /* (B, m, k) @ (k, n) with mergeable batch rows: one GEMM of (B*m, k) */
    if (na == 3 && nb <= 2 && batch > 1 && va.stride[0] == m * va.stride[1] && va.stride[2] == 1) {
        va.shape[1] = batch * m;
        va.shape[0] = 1;
        if (slice_ok(&va)) {
            m = batch * m;
            batch = 1;
        } else {
            va.shape[1] = m;
            va.shape[0] = batch;
        }
    }
    if (va.shape[0] == 1) va.stride[0] = 0;
    if (vb.shape[0] == 1) vb.stride[0] = 0;
    va.shape[0] = vb.shape[0] = batch;

    lt_Tensor *out = lt_new(L, dt, ond, oshape, LT_FN);
    ln_tensor vo;
    int64_t s3[3] = {batch, m, n};
    ln_tensor_init(&vo, out->storage, dt, 3, s3);
    /* an empty output needs no kernel; k = 0 gives zeros (ln_gemm fills,
     * never handing BLAS a zero leading dimension) */
    if (batch > 0 && m > 0 && n > 0) ln_matmul_batched(&vo, &va, &vb);
    return 1;
}

/* ---- cat, stack, index_select ------------------------------------------------- */

static lt_Tensor *list_item(lua_State *L, int list, lua_Integer i, const char *fname)
{
    lua_rawgeti(L, list, i);
    lt_Tensor *t = lt_test(L, -1);
    if (!t)
        lt_error(L, fname, "element %d of the list is %s, expected a tensor", (int)i,
                 luaL_typename(L, -1));
    if (t->closed) lt_error(L, fname, "tensor is closed");
    lua_pop(L, 1); /* still referenced by the list */
    return t;
}

/* Element i of the list at 1, which must have the dtype of `first`. */
static lt_Tensor *list_item_like(lua_State *L, lua_Integer i, const lt_Tensor *first,
                                 const char *fname)
{
    lt_Tensor *t = list_item(L, 1, i, fname);
    if (t->v.dtype != first->v.dtype)
        lt_error(L, fname, "dtypes %s and %s differ", ln_dtype_name(first->v.dtype),
                 ln_dtype_name(t->v.dtype));
    return t;
}

/* Raise: the shapes of a and b differ (outside the 1-based dim `outside`,
 * unless 0). */
static void shapes_differ(lua_State *L, const lt_Tensor *a, const lt_Tensor *b, int outside,
                          const char *fname)
{
    char sa[LT_SHAPE_BUF], sb[LT_SHAPE_BUF];
    lt_shape_str(sa, sizeof sa, a->v.ndim, a->v.shape);
    lt_shape_str(sb, sizeof sb, b->v.ndim, b->v.shape);
    if (outside) lt_error(L, fname, "shapes %s and %s differ outside dim %d", sa, sb, outside);
    lt_error(L, fname, "shapes %s and %s differ", sa, sb);
}

static lua_Integer check_list(lua_State *L, const char *fname)
{
    if (lua_type(L, 1) != LUA_TTABLE)
        lt_error(L, fname, "expected a list of tensors, got %s", luaL_typename(L, 1));
    lua_Integer n = (lua_Integer)lua_rawlen(L, 1);
    if (n == 0) lt_error(L, fname, "expected a non-empty list of tensors");
    return n;
}

static int l_cat(lua_State *L)
{
    lua_Integer n = check_list(L, LT_FN);
    lt_Tensor *first = list_item(L, 1, 1, LT_FN);
    if (first->v.ndim == 0) lt_error(L, LT_FN, "cannot concatenate 0-d tensors");
    int d = lt_opt_dim(L, 2, first->v.ndim, LT_FN, 0);
    int64_t shape[LN_MAX_DIMS];
    memcpy(shape, first->v.shape, sizeof shape);
    shape[d] = 0;
    for (lua_Integer i = 1; i <= n; i++) {
        lt_Tensor *t = list_item_like(L, i, first, LT_FN);
        int ok = t->v.ndim == first->v.ndim;
        for (int k = 0; ok && k < t->v.ndim; k++)
            if (k != d && t->v.shape[k] != first->v.shape[k]) ok = 0;
        if (!ok) shapes_differ(L, first, t, d + 1, LT_FN);
        if (__builtin_add_overflow(shape[d], t->v.shape[d], &shape[d]))
            lt_error(L, LT_FN, "the sizes along dim %d add up to more than %lld", d + 1,
                     (long long)INT64_MAX);
    }
    lt_Tensor *out = lt_new(L, first->v.dtype, first->v.ndim, shape, LT_FN);
    int64_t off = 0;
    int64_t es = (int64_t)ln_dtype_size(first->v.dtype);
    for (lua_Integer i = 1; i <= n; i++) {
        lt_Tensor *t = list_item(L, 1, i, LT_FN);
        ln_tensor part = out->v;
        part.data = (char *)out->v.data + off * out->v.stride[d] * es;
        part.shape[d] = t->v.shape[d];
        ln_copy(&part, &t->v);
        off += t->v.shape[d];
    }
    return 1;
}

static int l_stack(lua_State *L)
{
    lua_Integer n = check_list(L, LT_FN);
    lt_Tensor *first = list_item(L, 1, 1, LT_FN);
    int nd = first->v.ndim;
    if (nd == LN_MAX_DIMS) lt_error(L, LT_FN, "at most %d dims", LN_MAX_DIMS);
    int d = lt_opt_dim(L, 2, nd + 1, LT_FN, 0);
    for (lua_Integer i = 2; i <= n; i++) {
        lt_Tensor *t = list_item_like(L, i, first, LT_FN);
        if (!ln_same_shape(&t->v, &first->v)) shapes_differ(L, first, t, 0, LT_FN);
    }
    int64_t shape[LN_MAX_DIMS];
    for (int k = 0, j = 0; k <= nd; k++) shape[k] = k == d ? (int64_t)n : first->v.shape[j++];
    lt_Tensor *out = lt_new(L, first->v.dtype, nd + 1, shape, LT_FN);
    int64_t es = (int64_t)ln_dtype_size(first->v.dtype);
    for (lua_Integer i = 1; i <= n; i++) {
        lt_Tensor *t = list_item(L, 1, i, LT_FN);
        ln_tensor part = out->v;
        part.data = (char *)out->v.data + (int64_t)(i - 1) * out->v.stride[d] * es;
        for (int k = d; k < nd; k++) {
            part.shape[k] = out->v.shape[k + 1];
            part.stride[k] = out->v.stride[k + 1];
        }
        part.ndim = nd;
        ln_copy(&part, &t->v);
    }
    return 1;
}

static int l_index_select(lua_State *L)
{
    lt_Tensor *t = lt_check(L, 1, LT_FN);
    if (t->v.ndim == 0) lt_error(L, LT_FN, "cannot index a 0-d tensor");
    int d = lt_check_dim(L, 2, t->v.ndim, LT_FN);
    int64_t size = t->v.shape[d], n;
    lt_Tensor *idx = lt_test(L, 3);
    if (idx) {
        if (ln_dtype_is_float(idx->v.dtype) || idx->v.ndim != 1)
            lt_error(L, LT_FN, "indices must be a 1-d integer tensor or a Lua array, got a %d-d %s tensor",
                     idx->v.ndim, ln_dtype_name(idx->v.dtype));
        n = idx->v.shape[0];
    } else if (lua_type(L, 3) == LUA_TTABLE) {
        n = (int64_t)lua_rawlen(L, 3);
    } else {
        lt_error(L, LT_FN, "indices must be a 1-d integer tensor or a Lua array, got %s",
                 luaL_typename(L, 3));
        return 0;
    }
    /* out (optional, 4): a tensor of the result's shape and dtype is written
     * instead of a new one (one of another shape or dtype: a new one) */
    if (!lua_isnoneornil(L, 4) && !lt_test(L, 4))
        lt_error(L, LT_FN, "out must be a tensor or nil, got %s", luaL_typename(L, 4));
    lua_settop(L, 4);
    /* validate every position before allocating; keep them 0-based in an
     * int64 scratch block (a dim may exceed int32) so the copy loop below
     * cannot fail */
    if ((uint64_t)n > LT_MAX_BYTES / sizeof(int64_t))
        lt_error(L, LT_FN, "too many indices (%lld)", (long long)n);
    int64_t *p = (int64_t *)lua_newuserdatauv(L, (size_t)n * sizeof(int64_t) + 1, 0);
    for (int64_t i = 0; i < n; i++) {
        int64_t v;
        if (idx) {
            v = ln_load_i64((const char *)idx->v.data +
                                i * idx->v.stride[0] * (int64_t)ln_dtype_size(idx->v.dtype),
                            idx->v.dtype);
        } else {
            lua_rawgeti(L, 3, (lua_Integer)i + 1);
            v = lt_check_int(L, -1, LT_FN, "index");
            lua_pop(L, 1);
        }
        int64_t v0 = v < 0 ? v + size : v - 1;
        if (v == 0 || v0 < 0 || v0 >= size)
            lt_error(L, LT_FN, "index %lld out of range for dim %d of size %lld",
                     (long long)v, d + 1, (long long)size);
        p[i] = v0;
    }
    int64_t shape[LN_MAX_DIMS];
    memcpy(shape, t->v.shape, sizeof shape);
    shape[d] = n;
    static const int ins[2] = {1, 3};
    lt_Tensor *out = lt_out(L, 4, t->v.dtype, t->v.ndim, shape, 2, ins, LT_FN);
    ln_index_select(&out->v, &t->v, d, p, n);
    return 1;
}

static const luaL_Reg functions[] = {{"matmul", l_matmul}, {"cat", l_cat}, {"stack", l_stack},
                                     {NULL, NULL}};
static const luaL_Reg methods[] = {{"matmul", l_matmul}, {"index_select", l_index_select},
                                   {NULL, NULL}};

void lt_open_linalg(lua_State *L) { lt_open_part(L, functions, methods); }
