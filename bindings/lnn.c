/*
 * lnn.c - layer, optimizer and serialization kernels as lunet.core functions
 * (the Lua library lunet/nn.lua, optim.lua and io.lua build on them):
 *
 *   core.dense(x, w, b|nil, act, want_z [, a, b, c]) --> y [, z]
 *   core.dropout(x, rate, a, b, alpha [, keep]) --> y, keep (uint8, x's shape)
 *   core.dropout_backward(g, keep, a) --> dx
 *   core.softmax_cross_entropy(z, y) --> loss (N), p = softmax(z) (N, C)
 *   core.softmax_cross_entropy_backward(p, y, g) --> dz
 *   core.im2col(x, kh, kw, sh, sw, dh, dw, padding) --> col, oh, ow
 *   core.col2im(col, {n, h, w, c}, kh, kw, sh, sw, dh, dw, padding) --> dx
 *   core.batchnorm(x, gamma|nil, beta|nil, eps, training, moving_mean|nil, moving_var|nil)
 *     --> y, mean, var, invstd (x (rows, c); the statistics float64 (c))
 *   core.batchnorm_backward(x, gamma|nil, mean, invstd, training, g, want_dx, want_dgamma,
 *     want_dbeta) --> dx|false, dgamma|false, dbeta|false
 *   core.conv2d(x, kernel, b|nil, act, sh, sw, dh, dw, padding, want_z, ws|nil [, a, b, c])
 *     --> y, z|false, ws (kernel (kh, kw, c, m); ws the workspace to pass next time)
 *   core.conv2d_backward(x, kernel, act, s|nil, gy, sh, sw, dh, dw, padding, want_dx,
 *     want_dw, want_db, ws|nil [, a, b, c]) --> dx|false, dkernel|false, db|false, ws
 *     (s: y or z, as the activation's saves_y says)
 *   core.maxpool(x, ph, pw, sh, sw, padding) --> y, arg (int32 indices into each sample)
 *   core.avgpool(x, ph, pw, sh, sw, padding) --> y
 *   core.avgpool_backward(gy, {n, h, w, c}, ph, pw, sh, sw, padding) --> dx
 *   core.maxpool_backward(gy, arg, {n, h, w, c}, ph, pw, sh, sw, padding) --> dx
 *     (NHWC; padding "valid" or "same", as Keras and TensorFlow)
 *     (z logits (N, C); y targets of z's shape or N integer class ids)
 *   core.sgd_step(w, g, m|nil, lr, momentum, nesterov) and rmsprop_step,
 *   adam_step, adagrad_step, adadelta_step, adamax_step, nadam_step
 *   core.tobytes(t) --> little-endian string; core.frombytes(s, offset, dtype, shape)
 */
#include <string.h>

#include "../runtime/activations.h"
#include "../runtime/linalg.h"
#include "../runtime/conv.h"
#include "../runtime/elementwise.h"
#include "../runtime/nn.h"
#include "../runtime/optim.h"
#include "../runtime/reduce.h"
#include "lt.h"

static const char *shape_of(char *buf, const lt_Tensor *t)
{
    return lt_shape_str(buf, LT_SHAPE_BUF, t->v.ndim, t->v.shape);
}

/* ---- Dense ----------------------------------------------------------------- */

/* x at 1 and the kernel at 2 as ln_gemm takes them: each replaced by a
 * contiguous copy unless its layout is a GEMM operand's already */
static void gemm_operands(lua_State *L, lt_Tensor **x, lt_Tensor **w, const char *fname)
{
    lt_Tensor **t[2] = {x, w};
    for (int i = 0; i < 2; i++) {
        int trans;
        int64_t ld;
        if (ln_gemm_layout(&(*t[i])->v, &trans, &ld)) continue;
        *t[i] = lt_copy_of(L, i + 1, (*t[i])->v.dtype, fname);
        lua_replace(L, i + 1);
    }
}

static int dense_forward(lua_State *L, int drop_at, const char *fname);

static int l_dense(lua_State *L) { return dense_forward(L, 0, LT_FN); }

/* core.dense_dropout(x, W, b, act, want_z, ws, rate, a, b, alpha [, p...]) --> y, z|false, keep:
 * core.dense then core.dropout on its output, in one pass over each block
 * of rows; the same mask and values as the two calls */
static int l_dense_dropout(lua_State *L) { return dense_forward(L, 7, LT_FN); }

static int dense_forward(lua_State *L, int drop_at, const char *fname)
{
    char s1[LT_SHAPE_BUF], s2[LT_SHAPE_BUF];
    lt_Tensor *x = lt_check_float(L, 1, fname);
    lt_Tensor *w = lt_check_float(L, 2, fname);
    lt_Tensor *b = lua_isnoneornil(L, 3) ? NULL : lt_check_float(L, 3, fname);
    const ln_act_def *act = lua_isnoneornil(L, 4) ? ln_act_find("linear") : lt_check_act(L, 4, fname);
    int want_z = lua_toboolean(L, 5);
    if (x->v.ndim != 2 || w->v.ndim != 2 || x->v.shape[1] != w->v.shape[0])
        lt_error(L, fname, "expected x (N, K) and kernel (K, M), got %s and %s", shape_of(s1, x),
                 shape_of(s2, w));
    if (x->v.dtype != w->v.dtype || (b && b->v.dtype != w->v.dtype))
        lt_error(L, fname, "x, kernel and bias must have one dtype");
    if (b && (b->v.ndim != 1 || b->v.shape[0] != w->v.shape[1]))
        lt_error(L, fname, "bias of shape %s does not match kernel %s", shape_of(s1, b),
                 shape_of(s2, w));
    int ws = lt_opt_ws(L, 6, fname);
    double rate = 0, da = 0, db = 0, alpha = 0;
    if (drop_at) {
        rate = luaL_checknumber(L, drop_at), da = luaL_checknumber(L, drop_at + 1);
        db = luaL_checknumber(L, drop_at + 2), alpha = luaL_checknumber(L, drop_at + 3);
        if (!(rate >= 0 && rate < 1)) lt_error(L, fname, "rate must be in [0, 1), got %g", rate);
    }
    ln_act_params p;
    lt_read_act_params(L, drop_at ? drop_at + 4 : 7, act, &p, fname);
    lua_settop(L, 6);
    gemm_operands(L, &x, &w, fname);
    if (b) b = lt_contiguous_at(L, 3, fname);
    int64_t shape[2] = {x->v.shape[0], w->v.shape[1]};
    static const int ins[3] = {1, 2, 3};
    lt_Tensor *y = lt_ws_out(L, ws, "y", x->v.dtype, 2, shape, 3, ins, fname);
    lt_Tensor *z = want_z ? lt_ws_out(L, ws, "z", x->v.dtype, 2, shape, 3, ins, fname) : NULL;
    if (!drop_at) {
        ln_dense_forward(&x->v, &w->v, b ? &b->v : NULL, act, &p, z ? &z->v : NULL, &y->v, NULL);
        return want_z ? 2 : 1;
    }
    if (!z) lua_pushboolean(L, 0);
    lt_Tensor *keep = lt_ws_out(L, ws, "keep", LN_U8, 2, shape, 3, ins, fname);
    ln_rng_keep_mask(lt_rng(L), shape[0] * shape[1], rate, keep->v.data);
    ln_dense_drop d = {keep->v.data, da, db, alpha};
    ln_dense_forward(&x->v, &w->v, b ? &b->v : NULL, act, &p, z ? &z->v : NULL, &y->v, &d);
    return 3;
}

/* core.dense_backward(x, W, act, s, g, want_dx, want_dW, want_db [, ws [, keep, a [, p...]]])
 * --> dx|false, dW|false, db|false: the backward of core.dense for the
 * gradient g of y, s its saved z (or y when the activation saves y; unused
 * for linear); with core.dense_dropout's mask keep and scale a, of that.
 * ws: a table whose buffers are written again next call. */
static int l_dense_backward(lua_State *L)
{
    char s1[LT_SHAPE_BUF], s2[LT_SHAPE_BUF];
    lt_Tensor *x = lt_check_float(L, 1, LT_FN);
    lt_Tensor *w = lt_check_float(L, 2, LT_FN);
    const ln_act_def *act = lt_check_act(L, 3, LT_FN);
    int linear = strcmp(act->name, "linear") == 0;
    lt_Tensor *s = linear && lua_isnoneornil(L, 4) ? NULL : lt_check_float(L, 4, LT_FN);
    lt_Tensor *g = lt_check_float(L, 5, LT_FN);
    int want_dx = lua_toboolean(L, 6), want_dw = lua_toboolean(L, 7), want_db = lua_toboolean(L, 8);
    int ws = lt_opt_ws(L, 9, LT_FN);
    lt_Tensor *keep = lua_isnoneornil(L, 10) ? NULL : lt_check(L, 10, LT_FN);
    double da = keep ? luaL_checknumber(L, 11) : 0;
    if (x->v.ndim != 2 || w->v.ndim != 2 || x->v.shape[1] != w->v.shape[0])
        lt_error(L, LT_FN, "expected x (N, K) and kernel (K, M), got %s and %s", shape_of(s1, x),
                 shape_of(s2, w));
    int64_t shape[2] = {x->v.shape[0], w->v.shape[1]};
    if (g->v.ndim != 2 || g->v.shape[0] != shape[0] || g->v.shape[1] != shape[1])
        lt_error(L, LT_FN, "expected a gradient of shape (%lld, %lld), got %s", (long long)shape[0],
                 (long long)shape[1], shape_of(s1, g));
    if (s && !ln_same_shape(&s->v, &g->v))
        lt_error(L, LT_FN, "saved activation of shape %s does not match the gradient %s",
                 shape_of(s1, s), shape_of(s2, g));
    if (x->v.dtype != w->v.dtype || g->v.dtype != w->v.dtype || (s && s->v.dtype != w->v.dtype))
        lt_error(L, LT_FN, "x, kernel, saved activation and gradient must have one dtype");
    if (keep && (keep->v.dtype != LN_U8 || !ln_same_shape(&keep->v, &g->v)))
        lt_error(L, LT_FN, "the dropout mask must be uint8 of the gradient's shape %s, got %s %s",
                 shape_of(s1, g), ln_dtype_name(keep->v.dtype), shape_of(s2, keep));
    ln_act_params p;
    lt_read_act_params(L, 12, act, &p, LT_FN);
    lua_settop(L, 11);
    if (keep) keep = lt_contiguous_at(L, 10, LT_FN);
    gemm_operands(L, &x, &w, LT_FN);
    if (s) s = lt_contiguous_at(L, 4, LT_FN);
    g = lt_contiguous_at(L, 5, LT_FN);
    const ln_dtype dt = g->v.dtype;
    static const int ins[4] = {1, 2, 4, 5};
    lt_Tensor *dz = linear && !keep ? NULL : lt_ws_out(L, ws, "dz", dt, 2, shape, 4, ins, LT_FN);
    if (!dz) lua_pushboolean(L, 0);
    int64_t m = shape[1];
    lt_Tensor *acc = want_db ? lt_ws_out(L, ws, "acc", LN_F64, 1, &m, 4, ins, LT_FN) : NULL;
    if (!acc) lua_pushboolean(L, 0);
    lt_Tensor *tmp = keep && !linear ? lt_ws_out(L, ws, "dtmp", dt, 1, &m, 4, ins, LT_FN) : NULL;
    if (!tmp) lua_pushboolean(L, 0);
    lt_Tensor *dx = NULL, *dw = NULL, *db = NULL;
    if (want_dx) dx = lt_ws_out(L, ws, "dx", dt, 2, x->v.shape, 4, ins, LT_FN);
    else lua_pushboolean(L, 0);
    if (want_dw) dw = lt_ws_out(L, ws, "dW", dt, 2, w->v.shape, 4, ins, LT_FN);
    else lua_pushboolean(L, 0);
    if (want_db) db = lt_ws_out(L, ws, "db", dt, 1, &m, 4, ins, LT_FN);
    else lua_pushboolean(L, 0);
    ln_dense_drop d = {keep ? keep->v.data : NULL, da, 0, 0};
    ln_dense_backward(&x->v, &w->v, linear ? NULL : act, &p, s ? &s->v : NULL, &g->v, keep ? &d : NULL,
                      tmp ? tmp->v.data : NULL, dz ? &dz->v : NULL, dx ? &dx->v : NULL, dw ? &dw->v : NULL,
                      db ? &db->v : NULL, acc ? acc->v.data : NULL);
    return 3;
}

/* ---- dropout --------------------------------------------------------------- */

static int l_dropout(lua_State *L)
{
    lt_Tensor *x = lt_check_float(L, 1, LT_FN);
    double rate = luaL_checknumber(L, 2), a = luaL_checknumber(L, 3), b = luaL_checknumber(L, 4),
           alpha = luaL_checknumber(L, 5);
    if (!(rate >= 0 && rate < 1)) lt_error(L, LT_FN, "rate must be in [0, 1), got %g", rate);
    lt_Tensor *keep = NULL;
    if (!lua_isnoneornil(L, 6)) {
        keep = lt_check(L, 6, LT_FN);
        char s1[LT_SHAPE_BUF], s2[LT_SHAPE_BUF];
        if (keep->v.dtype != LN_U8 || !ln_same_shape(&keep->v, &x->v))
            lt_error(L, LT_FN, "mask must be uint8 of x's shape %s, got %s %s", shape_of(s1, x),
                     ln_dtype_name(keep->v.dtype), shape_of(s2, keep));
    }
    int ws = lt_opt_ws(L, 7, LT_FN);
    lua_settop(L, 7);
    x = lt_contiguous_at(L, 1, LT_FN);
    if (keep) keep = lt_contiguous_at(L, 6, LT_FN);
    static const int ins[2] = {1, 6};
    lt_Tensor *y = lt_ws_out(L, ws, "y", x->v.dtype, x->v.ndim, x->v.shape, 2, ins, LT_FN);
    if (!keep) keep = lt_ws_out(L, ws, "keep", LN_U8, x->v.ndim, x->v.shape, 2, ins, LT_FN);
    else lua_pushvalue(L, 6);
    ln_dropout_forward(lt_rng(L), x->v.dtype, ln_numel(&x->v), x->v.data, y->v.data,
                       keep->v.data, lua_toboolean(L, 6), rate, a, b, alpha);
    return 2;
}

static int l_dropout_backward(lua_State *L)
{
    lt_Tensor *g = lt_check_float(L, 1, LT_FN);
    lt_Tensor *keep = lt_check(L, 2, LT_FN);
    double a = luaL_checknumber(L, 3);
    if (keep->v.dtype != LN_U8 || !ln_same_shape(&keep->v, &g->v))
        lt_error(L, LT_FN, "mask must be uint8 of the gradient's shape");
    int ws = lt_opt_ws(L, 4, LT_FN);
    lua_settop(L, 4);
    g = lt_contiguous_at(L, 1, LT_FN);
    keep = lt_contiguous_at(L, 2, LT_FN);
    static const int ins[2] = {1, 2};
    lt_Tensor *dx = lt_ws_out(L, ws, "dx", g->v.dtype, g->v.ndim, g->v.shape, 2, ins, LT_FN);
    ln_dropout_backward(g->v.dtype, ln_numel(&g->v), g->v.data, keep->v.data, a, dx->v.data);
    return 1;
}

/* ---- softmax cross-entropy from logits ----------------------------------------- */

/* The targets at idx for scores of shape (n, c) and dtype dt: a float tensor
 * of n*c elements (made contiguous, in dt; *ids = NULL), or an integer tensor
 * of n class ids, each in [0, c) (made a contiguous int32 copy).  Replaces
 * the value at idx; returns the data. */
static const void *xent_targets(lua_State *L, int idx, int64_t n, int64_t c, ln_dtype dt,
                                const int32_t **ids, const char *fname)
{
    char s1[LT_SHAPE_BUF];
    lt_Tensor *y = lt_check(L, idx, fname);
    *ids = NULL;
    if (y->v.dtype == LN_F32 || y->v.dtype == LN_F64) {
        if (ln_numel(&y->v) != n * c || y->v.ndim < 1 || y->v.shape[0] != n)
            lt_error(L, fname, "targets of shape %s do not match scores (%lld, %lld)", shape_of(s1, y),
                     (long long)n, (long long)c);
        if (y->v.dtype != dt || !ln_is_contiguous(&y->v)) {
            y = lt_copy_of(L, idx, dt, fname);
            lua_replace(L, idx);
        }
        return y->v.data;
    }
    if (ln_numel(&y->v) != n || (y->v.ndim >= 1 && y->v.shape[0] != n))
        lt_error(L, fname, "class ids of shape %s do not match %lld rows of scores", shape_of(s1, y),
                 (long long)n);
    if (y->v.dtype != LN_I32 || !ln_is_contiguous(&y->v)) {
        y = lt_copy_of(L, idx, LN_I32, fname);
        lua_replace(L, idx);
    }
    const int32_t *d = y->v.data;
    for (int64_t i = 0; i < n; i++)
        if (d[i] < 0 || d[i] >= c)
            lt_error(L, fname, "class id %d of row %lld is outside [0, %lld)", (int)d[i],
                     (long long)i + 1, (long long)c);
    *ids = d;
    return NULL;
}

static int l_softmax_cross_entropy(lua_State *L)
{
    char s1[LT_SHAPE_BUF];
    lt_Tensor *z = lt_check_float(L, 1, LT_FN);
    if (z->v.ndim != 2 || z->v.shape[1] < 1)
        lt_error(L, LT_FN, "expected scores (N, C) with C >= 1, got %s", shape_of(s1, z));
    int64_t n = z->v.shape[0], c = z->v.shape[1];
    int ws = lt_opt_ws(L, 3, LT_FN);
    int mean = lua_toboolean(L, 4);
    lua_settop(L, 3);
    z = lt_contiguous_at(L, 1, LT_FN);
    const int32_t *ids;
    const void *y = xent_targets(L, 2, n, c, z->v.dtype, &ids, LT_FN);
    static const int ins[2] = {1, 2};
    lt_Tensor *loss = lt_ws_out(L, ws, "rows", z->v.dtype, 1, &n, 2, ins, LT_FN);
    lt_Tensor *p = lt_ws_out(L, ws, "p", z->v.dtype, 2, z->v.shape, 2, ins, LT_FN);
    ln_softmax_xent_forward(z->v.dtype, n, c, z->v.data, y, ids, loss->v.data, p->v.data);
    if (!mean) return 2;
    /* their mean, as rows:mean() computes it, in a 0-d tensor */
    lt_Tensor *m = lt_ws_out(L, ws, "mean", z->v.dtype, 0, NULL, 2, ins, LT_FN);
    ln_reduce(LN_RED_MEAN, &m->v, &loss->v, -1);
    lua_replace(L, -3);
    return 2;
}

static int l_softmax_cross_entropy_backward(lua_State *L)
{
    char s1[LT_SHAPE_BUF];
    lt_Tensor *p = lt_check_float(L, 1, LT_FN);
    if (p->v.ndim != 2 || !ln_is_contiguous(&p->v))
        lt_error(L, LT_FN, "expected the contiguous softmax (N, C) of the forward, got %s", shape_of(s1, p));
    int64_t n = p->v.shape[0], c = p->v.shape[1];
    lt_Tensor *g = lt_check_float(L, 3, LT_FN);
    int mean = lua_toboolean(L, 5);
    if (ln_numel(&g->v) != (mean ? 1 : n) || g->v.dtype != p->v.dtype)
        lt_error(L, LT_FN, "expected a %s gradient of %lld elements, got %s", ln_dtype_name(p->v.dtype),
                 (long long)(mean ? 1 : n), shape_of(s1, g));
    int ws = lt_opt_ws(L, 4, LT_FN);
    lua_settop(L, 4);
    if (mean) {
        /* the mean's gradient: g / n for every row */
        double gv = ln_load(g->v.data, g->v.dtype) / (double)n;
        static const int ins[2] = {1, 3};
        lt_Tensor *rows = lt_ws_out(L, ws, "g_rows", p->v.dtype, 1, &n, 2, ins, LT_FN);
        ln_fill(&rows->v, gv);
        lua_replace(L, 3);
    }
    g = lt_contiguous_at(L, 3, LT_FN);
    const int32_t *ids;
    const void *y = xent_targets(L, 2, n, c, p->v.dtype, &ids, LT_FN);
    static const int ins[3] = {1, 2, 3};
    lt_Tensor *dz = lt_ws_out(L, ws, "dz", p->v.dtype, 2, p->v.shape, 3, ins, LT_FN);
    ln_softmax_xent_backward(p->v.dtype, n, c, p->v.data, y, ids, g->v.data, dz->v.data);
    return 1;
}

/* ---- batch normalization ------------------------------------------------------ */

/* an optional float vector of c elements and dtype dt at idx (contiguous), or NULL */
static const void *feature_vec(lua_State *L, int idx, int64_t c, ln_dtype dt, const char *what,
                               const char *fname)
{
    char s1[LT_SHAPE_BUF];
    if (lua_isnoneornil(L, idx)) return NULL;
    lt_Tensor *t = lt_check_float(L, idx, fname);
    if (t->v.ndim != 1 || t->v.shape[0] != c || t->v.dtype != dt)
        lt_error(L, fname, "expected %s of shape (%lld) and the input's dtype, got %s %s", what,
                 (long long)c, ln_dtype_name(t->v.dtype), shape_of(s1, t));
    return lt_contiguous_at(L, idx, fname)->v.data;
}

/* x (rows, c) at 1, made contiguous */
static lt_Tensor *rows_at(lua_State *L, const char *fname)
{
    char s1[LT_SHAPE_BUF];
    lt_Tensor *x = lt_check_float(L, 1, fname);
    if (x->v.ndim != 2 || x->v.shape[1] < 1)
        lt_error(L, fname, "expected x (rows, features) with a feature, got %s", shape_of(s1, x));
    return lt_contiguous_at(L, 1, fname);
}

static int l_batchnorm(lua_State *L)
{
    lt_Tensor *x = rows_at(L, LT_FN);
    int64_t rows = x->v.shape[0], c = x->v.shape[1];
    ln_dtype dt = x->v.dtype;
    const void *gamma = feature_vec(L, 2, c, dt, "gamma", LT_FN);
    const void *beta = feature_vec(L, 3, c, dt, "beta", LT_FN);
    double eps = luaL_checknumber(L, 4);
    if (!(eps > 0)) lt_error(L, LT_FN, "epsilon must be positive, got %g", eps);
    int training = lua_toboolean(L, 5);
    int64_t cs[1] = {c}, ss[1] = {2 * c};
    int ws = lt_opt_ws(L, 8, LT_FN);
    lua_settop(L, 8);
    static const int ins[3] = {1, 2, 3};
    lt_Tensor *mean = lt_ws_out(L, ws, "mean", LN_F64, 1, cs, 3, ins, LT_FN); /* 9 */
    lt_Tensor *var = lt_ws_out(L, ws, "var", LN_F64, 1, cs, 3, ins, LT_FN);   /* 10 */
    if (!training) {
        for (int i = 0; i < 2; i++) {
            feature_vec(L, 6 + i, c, dt, i ? "the moving variance" : "the moving mean", LT_FN);
            if (lua_isnoneornil(L, 6 + i)) lt_error(L, LT_FN, "inference needs the moving mean and variance");
            lt_Tensor *d = lt_copy_of(L, 6 + i, LN_F64, LT_FN);
            memcpy((i ? var : mean)->v.data, d->v.data, (size_t)c * sizeof(double));
            lua_pop(L, 1);
        }
    }
    lt_Tensor *invstd = lt_ws_out(L, ws, "invstd", LN_F64, 1, cs, 3, ins, LT_FN);   /* 11 */
    lt_Tensor *scratch = lt_ws_out(L, ws, "scratch", LN_F64, 1, ss, 3, ins, LT_FN); /* 12 */
    lt_Tensor *y = lt_ws_out(L, ws, "y", dt, 2, x->v.shape, 3, ins, LT_FN);         /* 13 */
    ln_batchnorm_forward(dt, rows, c, x->v.data, gamma, beta, eps, training, mean->v.data,
                         var->v.data, invstd->v.data, y->v.data, scratch->v.data);
    lua_pushvalue(L, 9);
    lua_pushvalue(L, 10);
    lua_pushvalue(L, 11); /* y, mean, var, invstd */
    return 4;
}

/* core.batchnorm_moving(mm, mv, mean, var, momentum, unbiased): Keras'
 * update of the moving statistics in place, in their dtype, as
 * mm = mm*momentum + mean*(1 - momentum) and
 * mv = mv*momentum + var*(unbiased*(1 - momentum)), each product by the
 * float64 batch statistics rounded to the moving dtype before the sum */
static int l_batchnorm_moving(lua_State *L)
{
    lt_Tensor *mm = lt_check_float(L, 1, LT_FN), *mv = lt_check_float(L, 2, LT_FN);
    lt_Tensor *mean = lt_check(L, 3, LT_FN), *var = lt_check(L, 4, LT_FN);
    double m = luaL_checknumber(L, 5), unbiased = luaL_checknumber(L, 6);
    int64_t c = ln_numel(&mm->v);
    lt_Tensor *all[4] = {mm, mv, mean, var};
    for (int i = 0; i < 4; i++)
        if (!ln_is_contiguous(&all[i]->v) || ln_numel(&all[i]->v) != c || all[i]->v.dtype != (i < 2 ? mm->v.dtype : LN_F64))
            lt_error(L, LT_FN, "expected contiguous moving statistics of one dtype and float64 batch "
                               "statistics, %lld each", (long long)c);
    const double *mu = mean->v.data, *va = var->v.data, vs = unbiased * (1 - m);
    if (mm->v.dtype == LN_F32) {
        float *a = mm->v.data, *b = mv->v.data, fm = (float)m;
        for (int64_t i = 0; i < c; i++) {
            a[i] = a[i] * fm + (float)(mu[i] * (1 - m));
            b[i] = b[i] * fm + (float)(va[i] * vs);
        }
    } else {
        double *a = mm->v.data, *b = mv->v.data;
        for (int64_t i = 0; i < c; i++) {
            a[i] = a[i] * m + mu[i] * (1 - m);
            b[i] = b[i] * m + va[i] * vs;
        }
    }
    return 0;
}

static int l_batchnorm_backward(lua_State *L)
{
    char s1[LT_SHAPE_BUF];
    lt_Tensor *x = rows_at(L, LT_FN);
    int64_t rows = x->v.shape[0], c = x->v.shape[1];
    ln_dtype dt = x->v.dtype;
    const void *gamma = feature_vec(L, 2, c, dt, "gamma", LT_FN);
    const double *st[2];
    for (int i = 0; i < 2; i++) {
        lt_Tensor *t = lt_check(L, 3 + i, LT_FN);
        if (t->v.dtype != LN_F64 || t->v.ndim != 1 || t->v.shape[0] != c)
            lt_error(L, LT_FN, "expected the forward's float64 %s of shape (%lld)", i ? "invstd" : "mean",
                     (long long)c);
        st[i] = lt_contiguous_at(L, 3 + i, LT_FN)->v.data;
    }
    int training = lua_toboolean(L, 5);
    lt_Tensor *g = lt_check_float(L, 6, LT_FN);
    if (g->v.ndim != 2 || g->v.shape[0] != rows || g->v.shape[1] != c || g->v.dtype != dt)
        lt_error(L, LT_FN, "expected a gradient of x's shape and dtype, got %s", shape_of(s1, g));
    g = lt_contiguous_at(L, 6, LT_FN);
    int want[3] = {lua_toboolean(L, 7), lua_toboolean(L, 8), lua_toboolean(L, 9)};
    int64_t cs[1] = {c}, ss[1] = {5 * c};
    int ws = lt_opt_ws(L, 10, LT_FN);
    lua_settop(L, 10);
    static const int ins[4] = {1, 2, 3, 6};
    static const char *const keys[3] = {"dx", "dgamma", "dbeta"};
    lt_Tensor *scratch = lt_ws_out(L, ws, "bscratch", LN_F64, 1, ss, 4, ins, LT_FN); /* 11 */
    lt_Tensor *out[3] = {NULL, NULL, NULL};
    for (int i = 0; i < 3; i++) {
        if (want[i])
            out[i] = lt_ws_out(L, ws, keys[i], dt, i == 0 ? 2 : 1, i == 0 ? x->v.shape : cs, 4, ins, LT_FN);
        else
            lua_pushboolean(L, 0);
    }
    ln_batchnorm_backward(dt, rows, c, x->v.data, gamma, st[0], st[1], training, g->v.data,
                          out[0] ? out[0]->v.data : NULL, out[1] ? out[1]->v.data : NULL,
                          out[2] ? out[2]->v.data : NULL, scratch->v.data);
    return 3;
}

/* ---- convolution and pooling windows -------------------------------------------- */

/* a positive integer argument no larger than 2^31 */
static int64_t window_int(lua_State *L, int idx, const char *what, const char *fname)
{
    int64_t v = lt_check_int(L, idx, fname, what);
    if (v < 1 || v > ((int64_t)1 << 31))
        lt_error(L, fname, "%s must be a positive integer, got %lld", what, (long long)v);
    return v;
}

/* g's window from the arguments at idx: kh, kw, sh, sw[, dh, dw], padding;
 * n, h, w, c already set.  Computes the padding and oh, ow as TensorFlow
 * does ("same": oh = ceil(h / sh), the odd cell of padding after). */
static void window_rest(lua_State *L, int idx, int dilated, ln_window *g, const char *fname);

static void read_window(lua_State *L, int idx, int dilated, ln_window *g, const char *fname)
{
    g->kh = window_int(L, idx, "the window height", fname);
    g->kw = window_int(L, idx + 1, "the window width", fname);
    window_rest(L, idx + 2, dilated, g, fname);
}

/* the rest of the window from idx on: sh, sw[, dh, dw], padding (kh, kw set) */
static void window_rest(lua_State *L, int idx, int dilated, ln_window *g, const char *fname)
{
    g->sh = window_int(L, idx, "the row stride", fname);
    g->sw = window_int(L, idx + 1, "the column stride", fname);
    g->dh = dilated ? window_int(L, idx + 2, "the row dilation", fname) : 1;
    g->dw = dilated ? window_int(L, idx + 3, "the column dilation", fname) : 1;
    int pidx = idx + (dilated ? 4 : 2);
    if (lua_type(L, pidx) != LUA_TSTRING)
        lt_error(L, fname, "padding must be \"valid\" or \"same\", got %s", luaL_typename(L, pidx));
    const char *pad = lua_tostring(L, pidx);
    int same = strcmp(pad, "same") == 0;
    if (!same && strcmp(pad, "valid") != 0)
        lt_error(L, fname, "padding must be \"valid\" or \"same\", got \"%s\"", pad);
    int64_t eh = (g->kh - 1) * g->dh + 1, ew = (g->kw - 1) * g->dw + 1; /* the dilated extent */
    if (same) {
        g->oh = (g->h + g->sh - 1) / g->sh;
        g->ow = (g->w + g->sw - 1) / g->sw;
        int64_t ph = (g->oh - 1) * g->sh + eh - g->h, pw = (g->ow - 1) * g->sw + ew - g->w;
        g->pt = ph > 0 ? ph / 2 : 0;
        g->pl = pw > 0 ? pw / 2 : 0;
    } else {
        if (eh > g->h || ew > g->w)
            lt_error(L, fname,
                     "a %lldx%lld window (dilated) does not fit an input of %lldx%lld with padding \"valid\"",
                     (long long)eh, (long long)ew, (long long)g->h, (long long)g->w);
        g->oh = (g->h - eh) / g->sh + 1;
        g->ow = (g->w - ew) / g->sw + 1;
        g->pt = g->pl = 0;
    }
}

/* an NHWC float tensor at idx (made contiguous), its dims into g */
static lt_Tensor *nhwc_at(lua_State *L, int idx, ln_window *g, const char *fname)
{
    char s1[LT_SHAPE_BUF];
    lt_Tensor *x = lt_check_float(L, idx, fname);
    if (x->v.ndim != 4)
        lt_error(L, fname, "expected input (batch, height, width, channels), got %s", shape_of(s1, x));
    g->n = x->v.shape[0], g->h = x->v.shape[1], g->w = x->v.shape[2], g->c = x->v.shape[3];
    if (g->h < 1 || g->w < 1 || g->c < 1)
        lt_error(L, fname, "expected a non-empty image, got %s", shape_of(s1, x));
    return x;
}

/* {n, h, w, c} at idx into g (the shape of the tensor a backward returns),
 * checked as a shape of dtype dt */
static void shape4_at(lua_State *L, int idx, ln_dtype dt, ln_window *g, const char *fname)
{
    int ndim;
    int64_t d[LN_MAX_DIMS];
    if (!lua_istable(L, idx)) lt_error(L, fname, "the input shape must be a table {n, h, w, c}");
    lt_read_shape(L, idx, fname, &ndim, d);
    if (ndim != 4 || d[1] < 1 || d[2] < 1 || d[3] < 1)
        lt_error(L, fname, "the input shape must be {n, h, w, c} with h, w, c >= 1");
    lt_check_numel(L, 4, d, dt, fname);
    g->n = d[0], g->h = d[1], g->w = d[2], g->c = d[3];
}

static int l_im2col(lua_State *L)
{
    ln_window g;
    nhwc_at(L, 1, &g, LT_FN);
    read_window(L, 2, 1, &g, LT_FN);
    int64_t f[5] = {g.n, g.oh, g.ow, g.kh * g.kw, g.c};
    lt_check_numel(L, 5, f, lt_check_float(L, 1, LT_FN)->v.dtype, LT_FN);
    lua_settop(L, 1);
    lt_Tensor *x = lt_contiguous_at(L, 1, LT_FN);
    int64_t shape[2] = {g.n * g.oh * g.ow, g.kh * g.kw * g.c};
    lt_Tensor *col = lt_new(L, x->v.dtype, 2, shape, LT_FN);
    ln_im2col(x->v.dtype, &g, x->v.data, col->v.data);
    lua_pushinteger(L, g.oh);
    lua_pushinteger(L, g.ow);
    return 3;
}

static int l_col2im(lua_State *L)
{
    char s1[LT_SHAPE_BUF];
    ln_window g;
    lt_Tensor *col = lt_check_float(L, 1, LT_FN);
    shape4_at(L, 2, col->v.dtype, &g, LT_FN);
    read_window(L, 3, 1, &g, LT_FN);
    if (col->v.ndim != 2 || col->v.shape[0] != g.n * g.oh * g.ow || col->v.shape[1] != g.kh * g.kw * g.c)
        lt_error(L, LT_FN, "expected a (%lld, %lld) matrix, got %s", (long long)(g.n * g.oh * g.ow),
                 (long long)(g.kh * g.kw * g.c), shape_of(s1, col));
    lua_settop(L, 1);
    col = lt_contiguous_at(L, 1, LT_FN);
    int64_t shape[4] = {g.n, g.h, g.w, g.c};
    lt_Tensor *dx = lt_new(L, col->v.dtype, 4, shape, LT_FN);
    ln_col2im(col->v.dtype, &g, col->v.data, dx->v.data);
    return 1;
}

/* ---- Conv2D, one fused kernel ----------------------------------------------------- */

/* x at 1 (NHWC) and the kernel at 2 (kh, kw, c, m) of x's dtype, both made
 * contiguous, and the window from sh at idx on; returns the kernel */
static lt_Tensor *conv_operands(lua_State *L, int idx, ln_window *g, const char *fname)
{
    char s1[LT_SHAPE_BUF], s2[LT_SHAPE_BUF];
    lt_Tensor *x = nhwc_at(L, 1, g, fname);
    lt_Tensor *k = lt_check_float(L, 2, fname);
    if (k->v.ndim != 4 || k->v.shape[0] < 1 || k->v.shape[1] < 1 || k->v.shape[3] < 1)
        lt_error(L, fname, "expected a kernel (height, width, in, out), got %s", shape_of(s1, k));
    if (k->v.shape[2] != g->c)
        lt_error(L, fname, "the kernel %s takes %lld input channels, the input %s has %lld",
                 shape_of(s1, k), (long long)k->v.shape[2], shape_of(s2, x), (long long)g->c);
    if (k->v.dtype != x->v.dtype) lt_error(L, fname, "the input and kernel must have one dtype");
    if (k->v.shape[0] > ((int64_t)1 << 31) || k->v.shape[1] > ((int64_t)1 << 31))
        lt_error(L, fname, "the kernel %s is too large", shape_of(s1, k));
    g->kh = k->v.shape[0];
    g->kw = k->v.shape[1];
    window_rest(L, idx, 1, g, fname);
    int64_t f[5] = {g->oh, g->ow, g->kh * g->kw, g->c, k->v.shape[3]};
    lt_check_numel(L, 5, f, x->v.dtype, fname);
    lt_contiguous_at(L, 1, fname);
    return lt_contiguous_at(L, 2, fname);
}

/* the workspace at idx when it is a contiguous tensor of dtype dt with at
 * least `need` elements, else a new one; pushed either way */
static lt_Tensor *workspace_at(lua_State *L, int idx, ln_dtype dt, int64_t need, const char *fname)
{
    lt_Tensor *ws = lt_test(L, idx);
    if (ws && ws->v.dtype == dt && ws->v.ndim == 1 && ws->v.stride[0] == 1 && ws->v.shape[0] >= need) {
        lua_pushvalue(L, idx);
        return ws;
    }
    int64_t shape[1] = {need > 0 ? need : 1};
    lt_check_numel(L, 1, shape, dt, fname);
    return lt_new(L, dt, 1, shape, fname);
}

/* The workspace argument of the convolutions at idx: the im2col workspace
 * tensor (as workspace_at takes it; *tbl = 0), or a table of the step's
 * buffers that holds it as `col` (*tbl = its index; the workspace pushed
 * is stored back there).  Pushes the workspace. */
static lt_Tensor *conv_workspace_arg(lua_State *L, int idx, ln_dtype dt, int64_t need, int *tbl,
                                     const char *fname)
{
    *tbl = 0;
    if (!lua_istable(L, idx)) return workspace_at(L, idx, dt, need, fname);
    *tbl = lua_absindex(L, idx);
    lua_getfield(L, *tbl, "col");
    int at = lua_gettop(L);
    lt_Tensor *ws = workspace_at(L, at, dt, need, fname);
    lua_remove(L, at);
    lua_pushvalue(L, -1);
    lua_setfield(L, *tbl, "col");
    return ws;
}

/* the convolutions' bias at 3: nil, or m values of x's dtype (made contiguous) */
static lt_Tensor *conv_bias(lua_State *L, const lt_Tensor *x, int64_t m, const char *fname)
{
    char s1[LT_SHAPE_BUF];
    if (lua_isnoneornil(L, 3)) return NULL;
    lt_Tensor *b = lt_check_float(L, 3, fname);
    if (b->v.dtype != x->v.dtype || b->v.ndim != 1 || b->v.shape[0] != m)
        lt_error(L, fname, "expected a bias (%lld) of the input's dtype, got %s", (long long)m, shape_of(s1, b));
    return lt_contiguous_at(L, 3, fname);
}

static const ln_act_def *conv_act(lua_State *L, int idx, const char *fname)
{
    const ln_act_def *act = lua_isnoneornil(L, idx) ? NULL : lt_check_act(L, idx, fname);
    return act && strcmp(act->name, "linear") == 0 ? NULL : act;
}

static int l_conv2d(lua_State *L)
{
    ln_window g;
    lt_Tensor *k = conv_operands(L, 5, &g, LT_FN);
    lt_Tensor *x = lt_check(L, 1, LT_FN);
    int64_t m = k->v.shape[3];
    lt_Tensor *b = conv_bias(L, x, m, LT_FN);
    const ln_act_def *act = conv_act(L, 4, LT_FN);
    ln_act_params p = {0, 0, 0};
    if (act) lt_read_act_params(L, 12, act, &p, LT_FN);
    int want_z = act && lua_toboolean(L, 10);
    int64_t shape[4] = {g.n, g.oh, g.ow, m};
    int tbl;
    lt_Tensor *ws = conv_workspace_arg(L, 11, x->v.dtype, ln_conv_workspace(x->v.dtype, &g, m), &tbl, LT_FN);
    static const int ins[3] = {1, 2, 3};
    lt_Tensor *y = lt_ws_out(L, tbl, "y", x->v.dtype, 4, shape, 3, ins, LT_FN);
    lt_Tensor *z = want_z ? lt_ws_out(L, tbl, "z", x->v.dtype, 4, shape, 3, ins, LT_FN) : NULL;
    if (!want_z) lua_pushboolean(L, 0);
    lua_pushvalue(L, -3); /* ws last */
    ln_conv_args a = {x->v.dtype, g, m, x->v.data, k->v.data, b ? b->v.data : NULL, act, &p,
                      y->v.data, z ? z->v.data : NULL, NULL, NULL, NULL, NULL, NULL, ws->v.data,
                      NULL, NULL, NULL, NULL, NULL, -1};
    ln_conv2d_forward(&a);
    return 3;
}

static int l_conv2d_backward(lua_State *L)
{
    char s1[LT_SHAPE_BUF];
    ln_window g;
    lt_Tensor *k = conv_operands(L, 6, &g, LT_FN);
    lt_Tensor *x = lt_check(L, 1, LT_FN);
    int64_t m = k->v.shape[3], want[4] = {g.n, g.oh, g.ow, m};
    const ln_act_def *act = conv_act(L, 3, LT_FN);
    ln_act_params p = {0, 0, 0};
    if (act) lt_read_act_params(L, 15, act, &p, LT_FN);
    int sidx[2] = {5, 4}; /* gy, then s when there is an activation */
    for (int i = 0; i < (act ? 2 : 1); i++) {
        lt_Tensor *t = lt_check_float(L, sidx[i], LT_FN);
        int ok = t->v.ndim == 4 && t->v.dtype == x->v.dtype;
        for (int d = 0; ok && d < 4; d++) ok = t->v.shape[d] == want[d];
        if (!ok)
            lt_error(L, LT_FN, "expected %s of shape (%lld, %lld, %lld, %lld), got %s",
                     i == 0 ? "a gradient" : "the saved output", (long long)want[0],
                     (long long)want[1], (long long)want[2], (long long)want[3], shape_of(s1, t));
        lt_contiguous_at(L, sidx[i], LT_FN);
    }
    int want_dx = lua_toboolean(L, 11), want_dw = lua_toboolean(L, 12), want_db = lua_toboolean(L, 13);
    int tbl;
    lt_Tensor *ws = conv_workspace_arg(L, 14, x->v.dtype, ln_conv_workspace(x->v.dtype, &g, m), &tbl, LT_FN);
    int wsi = lua_gettop(L);
    int64_t xs[4] = {g.n, g.h, g.w, g.c}, bs[1] = {m};
    static const int ins[4] = {1, 2, 4, 5};
    lt_Tensor *dx = NULL, *dw = NULL, *db = NULL;
    if (want_dx) dx = lt_ws_out(L, tbl, "dx", x->v.dtype, 4, xs, 4, ins, LT_FN); else lua_pushboolean(L, 0);
    if (want_dw) dw = lt_ws_out(L, tbl, "dW", x->v.dtype, 4, k->v.shape, 4, ins, LT_FN); else lua_pushboolean(L, 0);
    if (want_db) db = lt_ws_out(L, tbl, "db", x->v.dtype, 1, bs, 4, ins, LT_FN); else lua_pushboolean(L, 0);
    lua_pushvalue(L, wsi);
    ln_conv_args a = {x->v.dtype, g, m, x->v.data, k->v.data, NULL, act, &p, NULL, NULL,
                      act ? lt_check(L, 4, LT_FN)->v.data : NULL, lt_check(L, 5, LT_FN)->v.data,
                      dx ? dx->v.data : NULL, dw ? dw->v.data : NULL, db ? db->v.data : NULL,
                      ws->v.data, NULL, NULL, NULL, NULL, NULL, -1};
    ln_conv2d_backward(&a);
    return 4;
}


/* the fused pooling's window at idx (kh, kw, sh, sw, padding) over the
 * convolution's output (n, oh, ow, m) */
static void pool_window_at(lua_State *L, int idx, const ln_window *g, int64_t m, ln_window *pg,
                           const char *fname)
{
    memset(pg, 0, sizeof *pg);
    pg->n = g->n, pg->h = g->oh, pg->w = g->ow, pg->c = m;
    read_window(L, idx, 0, pg, fname);
    if (pg->h * pg->w * pg->c > INT32_MAX)
        lt_error(L, fname, "an image of %lld elements is too large to pool (at most %d)",
                 (long long)(pg->h * pg->w * pg->c), INT32_MAX);
}

/* core.conv2d_pool(x, kernel, b, act, sh, sw, dh, dw, pad, pkh, pkw, psh, psw, ppad, ws [, p...])
 * --> py, parg, ps|false, ws: core.conv2d then core.maxpool in one pass,
 * the convolution's output kept in cache chunk by chunk; ps holds the saved
 * value of the activation (y or z) at each argmax, for the backward.  ws:
 * the im2col workspace, or a table of buffers holding it as `col`. */
static int l_conv2d_pool(lua_State *L)
{
    ln_window g, pg;
    lt_Tensor *k = conv_operands(L, 5, &g, LT_FN);
    lt_Tensor *x = lt_check(L, 1, LT_FN);
    int64_t m = k->v.shape[3];
    pool_window_at(L, 10, &g, m, &pg, LT_FN);
    lt_Tensor *b = conv_bias(L, x, m, LT_FN);
    const ln_act_def *act = conv_act(L, 4, LT_FN);
    ln_act_params p = {0, 0, 0};
    if (act) lt_read_act_params(L, 16, act, &p, LT_FN);
    int64_t shape[4] = {g.n, pg.oh, pg.ow, m};
    int tbl;
    lt_Tensor *ws = conv_workspace_arg(L, 15, x->v.dtype, ln_conv_workspace(x->v.dtype, &g, m), &tbl, LT_FN);
    static const int ins[3] = {1, 2, 3};
    lt_Tensor *py = lt_ws_out(L, tbl, "py", x->v.dtype, 4, shape, 3, ins, LT_FN);
    lt_Tensor *parg = lt_ws_out(L, tbl, "parg", LN_I32, 4, shape, 3, ins, LT_FN);
    lt_Tensor *ps = act ? lt_ws_out(L, tbl, "ps", x->v.dtype, 4, shape, 3, ins, LT_FN) : NULL;
    if (!ps) lua_pushboolean(L, 0);
    lua_pushvalue(L, -4); /* ws last */
    ln_conv_args a = {x->v.dtype, g, m, x->v.data, k->v.data, b ? b->v.data : NULL, act, &p, NULL, NULL,
                      NULL, NULL, NULL, NULL, NULL, ws->v.data, &pg, py->v.data, ps ? ps->v.data : NULL,
                      parg->v.data, NULL, -1};
    ln_conv2d_forward(&a);
    return 4;
}

/* core.conv2d_pool_backward(x, kernel, act, ps, parg, gp, sh, sw, dh, dw, pad, pkh, pkw, psh,
 * psw, ppad, want_dx, want_dW, want_db, ws [, p...]) --> dx, dW, db (false when not wanted), ws:
 * core.conv2d_pool's backward for the gradient gp of py */
static int l_conv2d_pool_backward(lua_State *L)
{
    char s1[LT_SHAPE_BUF];
    ln_window g, pg;
    lt_Tensor *k = conv_operands(L, 7, &g, LT_FN);
    lt_Tensor *x = lt_check(L, 1, LT_FN);
    int64_t m = k->v.shape[3];
    pool_window_at(L, 12, &g, m, &pg, LT_FN);
    int64_t want[4] = {g.n, pg.oh, pg.ow, m};
    const ln_act_def *act = conv_act(L, 3, LT_FN);
    ln_act_params p = {0, 0, 0};
    if (act) lt_read_act_params(L, 21, act, &p, LT_FN);
    static const char *const what[3] = {"the saved values", "the pooling indices", "a gradient"};
    for (int i = act ? 0 : 1; i < 3; i++) {
        lt_Tensor *t = lt_check(L, 4 + i, LT_FN);
        int ok = t->v.ndim == 4 && t->v.dtype == (i == 1 ? LN_I32 : x->v.dtype);
        for (int d = 0; ok && d < 4; d++) ok = t->v.shape[d] == want[d];
        if (!ok)
            lt_error(L, LT_FN, "expected %s of shape (%lld, %lld, %lld, %lld) and dtype %s, got %s %s",
                     what[i], (long long)want[0], (long long)want[1], (long long)want[2], (long long)want[3],
                     ln_dtype_name(i == 1 ? LN_I32 : x->v.dtype), ln_dtype_name(t->v.dtype), shape_of(s1, t));
        lt_contiguous_at(L, 4 + i, LT_FN);
    }
    int want_dx = lua_toboolean(L, 17), want_dw = lua_toboolean(L, 18), want_db = lua_toboolean(L, 19);
    int tbl;
    lt_Tensor *ws = conv_workspace_arg(L, 20, x->v.dtype, ln_conv_workspace(x->v.dtype, &g, m), &tbl, LT_FN);
    int wsi = lua_gettop(L);
    int64_t xs[4] = {g.n, g.h, g.w, g.c}, bs[1] = {m};
    static const int ins[5] = {1, 2, 4, 5, 6};
    lt_Tensor *dx = NULL, *dw = NULL, *db = NULL;
    if (want_dx) dx = lt_ws_out(L, tbl, "dx", x->v.dtype, 4, xs, 5, ins, LT_FN); else lua_pushboolean(L, 0);
    if (want_dw) dw = lt_ws_out(L, tbl, "dW", x->v.dtype, 4, k->v.shape, 5, ins, LT_FN); else lua_pushboolean(L, 0);
    if (want_db) db = lt_ws_out(L, tbl, "db", x->v.dtype, 1, bs, 5, ins, LT_FN); else lua_pushboolean(L, 0);
    lua_pushvalue(L, wsi);
    ln_conv_args a = {x->v.dtype, g, m, x->v.data, k->v.data, NULL, act, &p, NULL, NULL, NULL, NULL,
                      dx ? dx->v.data : NULL, dw ? dw->v.data : NULL, db ? db->v.data : NULL, ws->v.data,
                      &pg, NULL, act ? lt_check(L, 4, LT_FN)->v.data : NULL, lt_check(L, 5, LT_FN)->v.data,
                      lt_check(L, 6, LT_FN)->v.data, -1};
    ln_conv2d_backward(&a);
    if (a.pool_bad >= 0)
        lt_error(L, LT_FN, "index %lld of the pooling indices is outside the input", (long long)a.pool_bad + 1);
    return 4;
}

/* core.maxpool_backward(gy, arg, shape, window...) and
 * core.avgpool_backward(gy, shape, window...) */
static int pool_backward(lua_State *L, int avg, const char *fname)
{
    char s1[LT_SHAPE_BUF];
    ln_window g;
    int at = avg ? 2 : 3; /* the input shape, then the window */
    lt_Tensor *gy = lt_check_float(L, 1, fname);
    lt_Tensor *arg = avg ? NULL : lt_check(L, 2, fname);
    shape4_at(L, at, gy->v.dtype, &g, fname);
    read_window(L, at + 1, 0, &g, fname);
    int64_t want[4] = {g.n, g.oh, g.ow, g.c};
    int ok = gy->v.ndim == 4 && (avg || (arg->v.ndim == 4 && arg->v.dtype == LN_I32));
    for (int i = 0; ok && i < 4; i++) ok = gy->v.shape[i] == want[i] && (avg || arg->v.shape[i] == want[i]);
    if (!ok)
        lt_error(L, fname, "expected a gradient%s of shape (%lld, %lld, %lld, %lld), got %s",
                 avg ? "" : " and int32 indices", (long long)want[0], (long long)want[1],
                 (long long)want[2], (long long)want[3], shape_of(s1, gy));
    int ws = lt_opt_ws(L, at + 6, fname); /* after the window: kh, kw, sh, sw, padding */
    gy = lt_contiguous_at(L, 1, fname);
    if (!avg) arg = lt_contiguous_at(L, 2, fname);
    int64_t shape[4] = {g.n, g.h, g.w, g.c};
    static const int ins[2] = {1, 2};
    lt_Tensor *dx = lt_ws_out(L, ws, "dx", gy->v.dtype, 4, shape, avg ? 1 : 2, ins, fname);
    if (avg) {
        ln_avgpool_backward(gy->v.dtype, &g, gy->v.data, dx->v.data);
        return 1;
    }
    int64_t bad = ln_maxpool_backward(gy->v.dtype, &g, gy->v.data, arg->v.data, dx->v.data);
    if (bad >= 0)
        lt_error(L, fname, "index %lld of the pooling indices is outside the input", (long long)bad + 1);
    return 1;
}

static int l_maxpool_backward(lua_State *L) { return pool_backward(L, 0, LT_FN); }
static int l_avgpool_backward(lua_State *L) { return pool_backward(L, 1, LT_FN); }

/* core.maxpool (y and its argmax) and core.avgpool (y) */
static int pool_forward(lua_State *L, int avg, const char *fname)
{
    ln_window g;
    nhwc_at(L, 1, &g, fname);
    read_window(L, 2, 0, &g, fname);
    if (!avg && g.h * g.w * g.c > INT32_MAX)
        lt_error(L, fname, "an image of %lld elements is too large to pool (at most %d)",
                 (long long)(g.h * g.w * g.c), INT32_MAX);
    int ws = lt_opt_ws(L, 7, fname); /* after x, kh, kw, sh, sw, padding */
    lt_Tensor *x = lt_contiguous_at(L, 1, fname);
    int64_t shape[4] = {g.n, g.oh, g.ow, g.c};
    static const int ins[1] = {1};
    lt_Tensor *y = lt_ws_out(L, ws, "y", x->v.dtype, 4, shape, 1, ins, fname);
    if (avg) {
        ln_avgpool_forward(x->v.dtype, &g, x->v.data, y->v.data);
        return 1;
    }
    lt_Tensor *arg = lt_ws_out(L, ws, "arg", LN_I32, 4, shape, 1, ins, fname);
    ln_maxpool_forward(x->v.dtype, &g, x->v.data, y->v.data, arg->v.data);
    return 2;
}

static int l_maxpool(lua_State *L) { return pool_forward(L, 0, LT_FN); }
static int l_avgpool(lua_State *L) { return pool_forward(L, 1, LT_FN); }


/* ---- optimizer steps ----------------------------------------------------------- */

/* A state tensor at idx (nil allowed, as NULL, when `optional`): a
 * contiguous float tensor of w's dtype and numel. */
static void *opt_arg(lua_State *L, int idx, const lt_Tensor *w, int optional, const char *fname)
{
    if (optional && lua_isnoneornil(L, idx)) return NULL;
    lt_Tensor *t = lt_check_float(L, idx, fname);
    if (t->v.dtype != w->v.dtype || ln_numel(&t->v) != ln_numel(&w->v) || !ln_is_contiguous(&t->v))
        lt_error(L, fname, "argument %d must be a contiguous %s tensor of %lld elements", idx,
                 ln_dtype_name(w->v.dtype), (long long)ln_numel(&w->v));
    return t->v.data;
}

/* An optimizer step's arguments: the parameter w at 1 (a contiguous float
 * tensor), then `nt` tensors t[k] (t[0] the gradient, the others state;
 * bit k of `optional` allows nil) and `nx` numbers x[k]; flags follow. */
typedef struct step_args {
    ln_dtype dt;
    int64_t n;
    void *w;
    void *t[4];
    double x[9];
} step_args;

static step_args read_step(lua_State *L, const char *fname, int nt, unsigned optional, int nx)
{
    step_args a;
    lt_Tensor *w = lt_check_float(L, 1, fname);
    if (!ln_is_contiguous(&w->v)) lt_error(L, fname, "the parameter must be contiguous");
    a.dt = w->v.dtype;
    a.n = ln_numel(&w->v);
    a.w = w->v.data;
    for (int k = 0; k < nt; k++) a.t[k] = opt_arg(L, 2 + k, w, (optional >> k) & 1, fname);
    for (int k = 0; k < nx; k++) a.x[k] = luaL_checknumber(L, 2 + nt + k);
    return a;
}

/* sgd_step(w, g, m|nil, lr, momentum, nesterov) */
static int l_sgd_step(lua_State *L)
{
    step_args a = read_step(L, LT_FN, 2, 1u << 1, 2);
    if (a.x[1] != 0 && a.t[1] == NULL) lt_error(L, LT_FN, "momentum needs a state tensor");
    ln_sgd_step(a.dt, a.n, a.w, a.t[0], a.t[1], a.x[0], a.x[1], lua_toboolean(L, 6));
    return 0;
}

/* rmsprop_step(w, g, v, mg|nil, mom|nil, lr, rho, momentum, eps, centered) */
static int l_rmsprop_step(lua_State *L)
{
    step_args a = read_step(L, LT_FN, 4, 3u << 2, 4);
    int centered = lua_toboolean(L, 10);
    if ((centered && !a.t[2]) || (a.x[2] > 0 && !a.t[3]))
        lt_error(L, LT_FN, "missing state tensor");
    ln_rmsprop_step(a.dt, a.n, a.w, a.t[0], a.t[1], a.t[2], a.t[3], a.x[0], a.x[1], a.x[2], a.x[3],
                    centered);
    return 0;
}

/* adam_step(w, g, m, v, vhat|nil, lr_t, b1, b2, eps) */
static int l_adam_step(lua_State *L)
{
    step_args a = read_step(L, LT_FN, 4, 1u << 3, 4);
    ln_adam_step(a.dt, a.n, a.w, a.t[0], a.t[1], a.t[2], a.t[3], a.x[0], a.x[1], a.x[2], a.x[3]);
    return 0;
}

/* adagrad_step(w, g, acc, lr, eps) */
static int l_adagrad_step(lua_State *L)
{
    step_args a = read_step(L, LT_FN, 2, 0, 2);
    ln_adagrad_step(a.dt, a.n, a.w, a.t[0], a.t[1], a.x[0], a.x[1]);
    return 0;
}

/* adadelta_step(w, g, eg, ed, lr, rho, eps) */
static int l_adadelta_step(lua_State *L)
{
    step_args a = read_step(L, LT_FN, 3, 0, 3);
    ln_adadelta_step(a.dt, a.n, a.w, a.t[0], a.t[1], a.t[2], a.x[0], a.x[1], a.x[2]);
    return 0;
}

/* adamax_step(w, g, m, u, lr_t, b1, b2, eps) */
static int l_adamax_step(lua_State *L)
{
    step_args a = read_step(L, LT_FN, 3, 0, 4);
    ln_adamax_step(a.dt, a.n, a.w, a.t[0], a.t[1], a.t[2], a.x[0], a.x[1], a.x[2], a.x[3]);
    return 0;
}

/* nadam_step(w, g, m, v, lr, b1, b2, eps, mu_t, mu_t1, ms_new, ms_next, b2_pow_t) */
static int l_nadam_step(lua_State *L)
{
    step_args a = read_step(L, LT_FN, 3, 0, 9);
    ln_nadam_step(a.dt, a.n, a.w, a.t[0], a.t[1], a.t[2], a.x[0], a.x[1], a.x[2], a.x[3], a.x[4],
                  a.x[5], a.x[6], a.x[7], a.x[8]);
    return 0;
}

/* ---- raw bytes (safetensors) ------------------------------------------------- */

static int little_endian(void)
{
    const uint16_t one = 1;
    unsigned char c;
    memcpy(&c, &one, 1);
    return c == 1;
}

static int l_tobytes(lua_State *L)
{
    lt_Tensor *t = lt_check(L, 1, LT_FN);
    if (!little_endian()) lt_error(L, LT_FN, "big-endian hosts are not supported");
    lua_settop(L, 1);
    t = lt_contiguous_at(L, 1, LT_FN);
    lua_pushlstring(L, t->v.data, (size_t)ln_numel(&t->v) * ln_dtype_size(t->v.dtype));
    return 1;
}

/* core.frombytes(s, offset (0-based byte), dtype, shape): a new tensor from
 * bytes [offset, offset + numel*size) of s, which must lie inside s. */
static int l_frombytes(lua_State *L)
{
    size_t len;
    const char *s = luaL_checklstring(L, 1, &len);
    int64_t off = lt_check_int(L, 2, LT_FN, "offset");
    ln_dtype dt = lt_opt_dtype(L, 3, LN_F32, LT_FN);
    int ndim;
    int64_t shape[LN_MAX_DIMS];
    lt_read_shape(L, 4, LT_FN, &ndim, shape);
    int64_t numel = lt_check_numel(L, ndim, shape, dt, LT_FN);
    size_t need = (size_t)numel * ln_dtype_size(dt);
    if (!little_endian()) lt_error(L, LT_FN, "big-endian hosts are not supported");
    if (off < 0 || (size_t)off > len || len - (size_t)off < need)
        lt_error(L, LT_FN, "%zu bytes at offset %lld exceed the %zu available", need,
                 (long long)off, len);
    lt_Tensor *t = lt_new(L, dt, ndim, shape, LT_FN);
    memcpy(t->v.data, s + off, need);
    return 1;
}

static const luaL_Reg fns[] = {
    {"dense", l_dense},
    {"dense_backward", l_dense_backward},
    {"dense_dropout", l_dense_dropout},
    {"conv2d_pool", l_conv2d_pool},
    {"conv2d_pool_backward", l_conv2d_pool_backward},
    {"batchnorm_moving", l_batchnorm_moving},
    {"dropout", l_dropout},
    {"dropout_backward", l_dropout_backward},
    {"softmax_cross_entropy", l_softmax_cross_entropy},
    {"softmax_cross_entropy_backward", l_softmax_cross_entropy_backward},
    {"im2col", l_im2col},
    {"col2im", l_col2im},
    {"batchnorm", l_batchnorm},
    {"batchnorm_backward", l_batchnorm_backward},
    {"conv2d", l_conv2d},
    {"conv2d_backward", l_conv2d_backward},
    {"avgpool", l_avgpool},
    {"avgpool_backward", l_avgpool_backward},
    {"maxpool", l_maxpool},
    {"maxpool_backward", l_maxpool_backward},
    {"sgd_step", l_sgd_step},
    {"rmsprop_step", l_rmsprop_step},
    {"adam_step", l_adam_step},
    {"adagrad_step", l_adagrad_step},
    {"adadelta_step", l_adadelta_step},
    {"adamax_step", l_adamax_step},
    {"nadam_step", l_nadam_step},
    {"tobytes", l_tobytes},
    {"frombytes", l_frombytes},
    {NULL, NULL}};

void lt_open_nn(lua_State *L) { lt_open_part(L, fns, NULL); }
