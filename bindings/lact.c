/*
 * lact.c - the activation kernels of runtime/activations.c as lunet.core
 * functions.  The Lua library (lunet/activations.lua) gives them their
 * public names and options and records them for autograd.
 *
 *   core.activation(name, x [, a, b, c])            --> y
 *   core.activation_backward(name, s, g [, a, b, c]) --> dx   (s = x or y)
 *   core.activation_info(name) --> {saves_y=, params={...}, defaults={...}} | nil
 *   core.activation_names()    --> {"linear", "relu", ...}
 *   core.prelu(x, alpha)   core.prelu_backward(x, alpha, g) --> dx, dalpha
 *   core.pelu(x, a, b)     core.pelu_backward(x, a, b, g)   --> dx, da, db
 *   core.softmax(x, axis, log)   core.softmax_backward(y, g, axis, log) --> dx
 *
 * Parameter gradients come back in the parameter's shape when it varies
 * along one block of x's dims (the layouts of PReLU/PELU layers); for any
 * other broadcast they come back in x's shape and the caller sums them.
 */
#include <math.h>
#include <string.h>

#include "../runtime/activations.h"
#include "../runtime/elementwise.h"
#include "lt.h"

const ln_act_def *lt_check_act(lua_State *L, int idx, const char *fname)
{
    const char *name = luaL_checkstring(L, idx);
    const ln_act_def *d = ln_act_find(name);
    if (d == NULL) {
        int n;
        const ln_act_def *t = ln_act_table(&n);
        luaL_Buffer b;
        luaL_buffinit(L, &b);
        for (int i = 0; i < n; i++) {
            if (i) luaL_addstring(&b, ", ");
            luaL_addstring(&b, t[i].name);
        }
        luaL_pushresult(&b);
        lt_error(L, fname, "unknown activation '%s' (known: %s)", name, lua_tostring(L, -1));
    }
    return d;
}

void lt_read_act_params(lua_State *L, int first, const ln_act_def *d, ln_act_params *p,
                        const char *fname)
{
    double v[3] = {0, 0, 0};
    for (int i = 0; i < 3; i++) {
        v[i] = d->defaults[i];
        if (lua_isnoneornil(L, first + i)) continue;
        if (i >= d->nparams) lt_error(L, fname, "takes %d parameter(s)", d->nparams);
        if (lua_type(L, first + i) == LUA_TBOOLEAN)
            v[i] = lua_toboolean(L, first + i);
        else if (lua_type(L, first + i) == LUA_TNUMBER)
            v[i] = lua_tonumber(L, first + i);
        else
            lt_error(L, fname, "%s must be a number, got %s", d->param_names[i],
                     luaL_typename(L, first + i));
    }
    p->a = v[0];
    p->b = v[1];
    p->c = v[2];
}

static void check_same_shape(lua_State *L, const lt_Tensor *a, const lt_Tensor *b,
                             const char *fname, const char *na, const char *nb)
{
    char sa[LT_SHAPE_BUF], sb[LT_SHAPE_BUF];
    if (!ln_same_shape(&a->v, &b->v))
        lt_error(L, fname, "%s of shape %s and %s of shape %s differ", na,
                 lt_shape_str(sa, sizeof sa, a->v.ndim, a->v.shape), nb,
                 lt_shape_str(sb, sizeof sb, b->v.ndim, b->v.shape));
    if (a->v.dtype != b->v.dtype)
        lt_error(L, fname, "%s is %s but %s is %s", na, ln_dtype_name(a->v.dtype), nb,
                 ln_dtype_name(b->v.dtype));
}

static int l_activation(lua_State *L)
{
    const ln_act_def *d = lt_check_act(L, 1, LT_FN);
    lt_Tensor *x = lt_check_float(L, 2, d->name);
    ln_act_params p;
    lt_read_act_params(L, 3, d, &p, d->name);
    int ws = lt_opt_ws(L, 6, d->name); /* after the three parameter slots */
    static const int ins[1] = {2};
    lt_Tensor *y = lt_ws_out(L, ws, "y", x->v.dtype, x->v.ndim, x->v.shape, 1, ins, d->name);
    ln_act_forward(d, &x->v, &y->v, &p);
    return 1;
}

static int l_activation_backward(lua_State *L)
{
    const ln_act_def *d = lt_check_act(L, 1, LT_FN);
    lt_Tensor *s = lt_check_float(L, 2, LT_FN);
    lt_Tensor *g = lt_check_float(L, 3, LT_FN);
    check_same_shape(L, s, g, LT_FN, "input", "gradient");
    ln_act_params p;
    lt_read_act_params(L, 4, d, &p, LT_FN);
    int ws = lt_opt_ws(L, 7, LT_FN); /* after the three parameter slots */
    static const int ins[2] = {2, 3};
    lt_Tensor *dx = lt_ws_out(L, ws, "dx", s->v.dtype, s->v.ndim, s->v.shape, 2, ins, LT_FN);
    ln_act_backward(d, &s->v, &g->v, &dx->v, &p);
    return 1;
}

/* core.erfc(x): libm's complementary error function of a number (the
 * normal tails of lunet.analysis's closed forms) */
static int l_erfc(lua_State *L)
{
    lua_pushnumber(L, erfc(luaL_checknumber(L, 1)));
    return 1;
}

static int l_activation_info(lua_State *L)
{
    const ln_act_def *d = ln_act_find(luaL_checkstring(L, 1));
    if (d == NULL) {
        lua_pushnil(L);
        return 1;
    }
    lua_createtable(L, 0, 4);
    lua_pushboolean(L, d->saves_y);
    lua_setfield(L, -2, "saves_y");
    lua_pushstring(L, d->name);
    lua_setfield(L, -2, "name");
    lua_createtable(L, d->nparams, 0);
    lua_createtable(L, d->nparams, 0);
    for (int i = 0; i < d->nparams; i++) {
        lua_pushstring(L, d->param_names[i]);
        lua_rawseti(L, -3, i + 1);
        lua_pushnumber(L, d->defaults[i]);
        lua_rawseti(L, -2, i + 1);
    }
    lua_setfield(L, -3, "defaults");
    lua_setfield(L, -2, "params");
    return 1;
}

static int l_activation_names(lua_State *L)
{
    int n;
    const ln_act_def *t = ln_act_table(&n);
    lua_createtable(L, n, 0);
    for (int i = 0; i < n; i++) {
        lua_pushstring(L, t[i].name);
        lua_rawseti(L, -2, i + 1);
    }
    return 1;
}

/* ---- prelu / pelu ---------------------------------------------------------- */

/* Check the parameter at idx against x (dtype, broadcasting) and find its
 * layout: returns 1 and fills *l when it varies along one block of x's dims
 * (period, inner), 0 when only a full-size copy will do. */
static int check_param(lua_State *L, int idx, const lt_Tensor *x, const char *fname,
                       const char *pname, ln_param_layout *l)
{
    lt_Tensor *a = lt_check_float(L, idx, fname);
    char sa[LT_SHAPE_BUF], sx[LT_SHAPE_BUF];
    const int nx = x->v.ndim, na = a->v.ndim;
    if (a->v.dtype != x->v.dtype)
        lt_error(L, fname, "%s is %s but x is %s", pname, ln_dtype_name(a->v.dtype),
                 ln_dtype_name(x->v.dtype));
    int ok = na <= nx;
    for (int i = 0; ok && i < na; i++) {
        int64_t pd = a->v.shape[na - 1 - i], xd = x->v.shape[nx - 1 - i];
        if (pd != xd && pd != 1) ok = 0;
    }
    if (!ok)
        lt_error(L, fname, "%s of shape %s does not broadcast to x of shape %s", pname,
                 lt_shape_str(sa, sizeof sa, na, a->v.shape),
                 lt_shape_str(sx, sizeof sx, nx, x->v.shape));

    /* the block [lo, hi] of x's dims along which the parameter varies */
    const int off = nx - na;
    int lo = -1, hi = -1;
    for (int i = 0; i < na; i++) {
        if (a->v.shape[i] != 1) {
            if (lo < 0) lo = off + i;
            hi = off + i;
        }
    }
    l->n = ln_numel(&x->v);
    l->period = 1;
    l->inner = 1;
    if (lo < 0) return 1; /* a single value */
    for (int d = lo; d <= hi; d++) {
        if (a->v.shape[d - off] != x->v.shape[d]) return 0;
        l->period *= x->v.shape[d];
    }
    for (int d = hi + 1; d < nx; d++) l->inner *= x->v.shape[d];
    return 1;
}

/* Replace the parameter at idx by what the kernels read: a contiguous
 * array in its own layout, or (full) a broadcast copy of x's size. */
static void prepare_param(lua_State *L, int idx, const lt_Tensor *x, int full,
                          ln_param_layout *l, const char *fname)
{
    if (!full) {
        lt_contiguous_at(L, idx, fname);
        return;
    }
    const lt_Tensor *a = lua_touserdata(L, idx);
    ln_tensor bv = a->v;
    ln_broadcast_to(&bv, x->v.ndim, x->v.shape);
    lt_Tensor *c = lt_new_like(L, &x->v, x->v.dtype, fname);
    ln_copy(&c->v, &bv);
    lua_replace(L, idx);
    l->period = l->n;
    l->inner = 1;
}

/* Push the parameter gradient: the double sums in `acc` converted to x's
 * dtype, shaped like the parameter (orig) or, when full, like x. */
static void push_param_grad(lua_State *L, const lt_Tensor *acc, const lt_Tensor *orig,
                            const lt_Tensor *x, int full, const char *fname)
{
    const ln_tensor *shape_of = full ? &x->v : &orig->v;
    lt_Tensor *r = lt_new_like(L, shape_of, x->v.dtype, fname);
    ln_tensor src;
    ln_tensor_init(&src, acc->v.data, LN_F64, r->v.ndim, r->v.shape);
    ln_copy(&r->v, &src);
}

static lt_Tensor *new_acc(lua_State *L, int64_t period, const char *fname)
{
    lt_Tensor *t = lt_new(L, LN_F64, 1, &period, fname);
    memset(t->v.data, 0, (size_t)period * sizeof(double));
    return t;
}

/* Check and prepare x (1), the parameters (2 .. 1+np) and, for backward,
 * g (2+np); returns whether parameters are full-size.  The original
 * parameters are pushed above them (for their shapes). */
static int prepare_all(lua_State *L, int np, int backward, ln_param_layout *l, const char *fname)
{
    static const char *const names[2][2] = {{"alpha", NULL}, {"a", "b"}};
    lt_Tensor *x = lt_check_float(L, 1, fname);
    ln_param_layout pl[2];
    int fits = 1;
    for (int k = 0; k < np; k++)
        fits &= check_param(L, 2 + k, x, fname, names[np - 1][k], &pl[k]);
    if (np == 2 && (pl[0].period != pl[1].period || pl[0].inner != pl[1].inner)) fits = 0;
    if (backward) {
        lt_Tensor *g = lt_check_float(L, 2 + np, fname);
        check_same_shape(L, x, g, fname, "x", "gradient");
    }
    lua_settop(L, 1 + np + backward);
    for (int k = 0; k < np; k++) lua_pushvalue(L, 2 + k);
    *l = pl[0];
    for (int k = 0; k < np; k++) prepare_param(L, 2 + k, x, !fits, l, fname);
    lt_contiguous_at(L, 1, fname);
    if (backward) lt_contiguous_at(L, 2 + np, fname);
    return !fits;
}

#define ARG(i) (((const lt_Tensor *)lua_touserdata(L, (i)))->v.data)

static int l_prelu(lua_State *L)
{
    ln_param_layout l;
    prepare_all(L, 1, 0, &l, LT_FN);
    const lt_Tensor *x = lua_touserdata(L, 1);
    lt_Tensor *y = lt_new_like(L, &x->v, x->v.dtype, LT_FN);
    ln_act_prelu_forward(x->v.dtype, &l, x->v.data, ARG(2), y->v.data);
    return 1;
}

static int l_prelu_backward(lua_State *L)
{
    ln_param_layout l;
    int full = prepare_all(L, 1, 1, &l, LT_FN); /* 1 x, 2 alpha, 3 g, 4 orig */
    const lt_Tensor *x = lua_touserdata(L, 1);
    lt_Tensor *acc = new_acc(L, l.period, LT_FN);
    lt_Tensor *dx = lt_new_like(L, &x->v, x->v.dtype, LT_FN);
    ln_act_prelu_backward(x->v.dtype, &l, x->v.data, ARG(2), ARG(3), dx->v.data, acc->v.data);
    push_param_grad(L, acc, lua_touserdata(L, 4), x, full, LT_FN);
    return 2;
}

static int l_pelu(lua_State *L)
{
    ln_param_layout l;
    prepare_all(L, 2, 0, &l, LT_FN);
    const lt_Tensor *x = lua_touserdata(L, 1);
    lt_Tensor *y = lt_new_like(L, &x->v, x->v.dtype, LT_FN);
    ln_act_pelu_forward(x->v.dtype, &l, x->v.data, ARG(2), ARG(3), y->v.data);
    return 1;
}

static int l_pelu_backward(lua_State *L)
{
    ln_param_layout l;
    /* 1 x, 2 a, 3 b, 4 g, 5 orig a, 6 orig b */
    int full = prepare_all(L, 2, 1, &l, LT_FN);
    const lt_Tensor *x = lua_touserdata(L, 1);
    lt_Tensor *da = new_acc(L, l.period, LT_FN); /* 7 */
    lt_Tensor *db = new_acc(L, l.period, LT_FN); /* 8 */
    lt_Tensor *dx = lt_new_like(L, &x->v, x->v.dtype, LT_FN); /* 9 */
    ln_act_pelu_backward(x->v.dtype, &l, x->v.data, ARG(2), ARG(3), ARG(4), dx->v.data,
                         da->v.data, db->v.data);
    push_param_grad(L, da, lua_touserdata(L, 5), x, full, LT_FN);
    push_param_grad(L, db, lua_touserdata(L, 6), x, full, LT_FN);
    return 3;
}

/* ---- softmax ------------------------------------------------------------- */

static int l_softmax(lua_State *L)
{
    lt_Tensor *x = lt_check_float(L, 1, LT_FN);
    if (x->v.ndim == 0) lt_error(L, LT_FN, "expected a tensor with at least 1 dim, got ()");
    int axis = lt_opt_dim(L, 2, x->v.ndim, LT_FN, x->v.ndim - 1);
    int log = lua_toboolean(L, 3);
    lt_Tensor *y = lt_new_like(L, &x->v, x->v.dtype, LT_FN);
    ln_act_softmax_forward(&x->v, &y->v, axis, log);
    return 1;
}

static int l_softmax_backward(lua_State *L)
{
    lt_Tensor *y = lt_check_float(L, 1, LT_FN);
    lt_Tensor *g = lt_check_float(L, 2, LT_FN);
    check_same_shape(L, y, g, LT_FN, "output", "gradient");
    if (y->v.ndim == 0)
        lt_error(L, LT_FN, "expected a tensor with at least 1 dim, got ()");
    int axis = lt_opt_dim(L, 3, y->v.ndim, LT_FN, y->v.ndim - 1);
    int log = lua_toboolean(L, 4);
    lt_Tensor *dx = lt_new_like(L, &y->v, y->v.dtype, LT_FN);
    ln_act_softmax_backward(&y->v, &g->v, &dx->v, axis, log);
    return 1;
}

static const luaL_Reg fns[] = {
    {"activation", l_activation},
    {"activation_backward", l_activation_backward},
    {"activation_info", l_activation_info},
    {"erfc", l_erfc},
    {"activation_names", l_activation_names},
    {"prelu", l_prelu},
    {"prelu_backward", l_prelu_backward},
    {"pelu", l_pelu},
    {"pelu_backward", l_pelu_backward},
    {"softmax", l_softmax},
    {"softmax_backward", l_softmax_backward},
    {NULL, NULL}};

void lt_open_act(lua_State *L) { lt_open_part(L, fns, NULL); }
