/*
 * lops.c - arithmetic with numpy broadcasting, comparisons, where, unary
 * math and reductions.
 *
 * Arithmetic works on every dtype with numpy's promotion (arith_dtype; the
 * table is in the README): two tensors promote as numpy arrays do, and a
 * Lua number takes the tensor's dtype (numpy's rule for Python scalars)
 * except that a Lua float with an integer tensor gives float64.  Integer
 * arithmetic wraps; integer // and % by zero give 0.  Comparisons accept
 * every dtype and return uint8 masks.
 */
#include <math.h>
#include <string.h>

#include "../runtime/elementwise.h"
#include "../runtime/reduce.h"
#include "lt.h"

/* luaconf.h's l_floor (Lua's own floor, for its VM) would shadow the
 * binding's name; nothing here uses the macro */
#undef l_floor

/* An operand: a tensor, or a number seen as a 0-d tensor. */
typedef struct operand {
    lt_Tensor *t; /* NULL for a number */
    double num;
    int is_int; /* the number is a Lua integer, exactly ival */
    lua_Integer ival;
    int ndim;
    const int64_t *shape;
} operand;

static const int64_t no_shape[1] = {1};

static operand get_operand(lua_State *L, int idx, const char *fname)
{
    operand o = {NULL, 0, 0, 0, 0, no_shape};
    if (lua_type(L, idx) == LUA_TNUMBER) {
        o.num = lua_tonumber(L, idx);
        o.is_int = lua_isinteger(L, idx);
        o.ival = o.is_int ? lua_tointeger(L, idx) : 0;
        return o;
    }
    o.t = lt_test(L, idx);
    if (!o.t)
        lt_error(L, fname, "expected a tensor or number for argument %d, got %s", idx,
                 luaL_typename(L, idx));
    if (o.t->closed) lt_error(L, fname, "tensor is closed");
    o.ndim = o.t->v.ndim;
    o.shape = o.t->v.shape;
    return o;
}

static void broadcast2(lua_State *L, const operand *a, const operand *b, const char *fname,
                       int *nd, int64_t *shape)
{
    if (ln_broadcast_shapes(a->ndim, a->shape, b->ndim, b->shape, nd, shape) != LN_OK) {
        char sa[LT_SHAPE_BUF], sb[LT_SHAPE_BUF];
        lt_error(L, fname, "shapes %s and %s cannot be broadcast",
                 lt_shape_str(sa, sizeof sa, a->ndim, a->shape),
                 lt_shape_str(sb, sizeof sb, b->ndim, b->shape));
    }
}

/* The view an operand contributes to a kernel: broadcast to shape, in dtype
 * dt (a tensor of another dtype has been converted by the caller). */
static ln_tensor operand_view(const operand *o, void *scalar_buf, ln_dtype dt, int nd,
                              const int64_t *shape)
{
    ln_tensor v;
    if (!o->t && o->is_int) {
        ln_scalar_i64(&v, scalar_buf, dt, (int64_t)o->ival, nd, shape);
    } else if (!o->t) {
        ln_scalar(&v, scalar_buf, dt, o->num, nd, shape);
    } else {
        v = o->t->v;
        ln_broadcast_to(&v, nd, shape);
    }
    return v;
}

/* Replace a tensor operand at stack index idx by a copy in dtype dt when its
 * dtype differs. */
static void coerce(lua_State *L, operand *o, int idx, ln_dtype dt, const char *fname)
{
    if (o->t && o->t->v.dtype != dt) {
        o->t = lt_copy_of(L, idx, dt, fname);
        lua_replace(L, idx);
        o->shape = o->t->v.shape;
    }
}

/* The dtype `a op b` is computed in (at least one of a, b is a tensor). */
static ln_dtype arith_dtype(ln_binop op, const operand *a, const operand *b)
{
    ln_dtype dt;
    if (a->t && b->t) {
        dt = ln_promote_types(a->t->v.dtype, b->t->v.dtype);
    } else {
        const operand *t = a->t ? a : b, *num = a->t ? b : a;
        dt = t->t->v.dtype;
        if (!ln_dtype_is_float(dt) && !num->is_int) dt = LN_F64; /* int tensor + 1.5 */
    }
    if (op == LN_OP_DIV && !ln_dtype_is_float(dt)) dt = LN_F64; /* true division */
    return dt;
}

/* A number operand must fit an integer dtype it is computed in (numpy 2
 * refuses uint8 + 300 too); integer powers need exponents >= 0. */
static void check_arith(lua_State *L, ln_binop op, const operand *a, const operand *b,
                        ln_dtype dt, const char *fname)
{
    if (ln_dtype_is_float(dt)) return;
    if (!a->t) lt_check_ivalue(L, a->ival, dt, fname);
    if (!b->t) lt_check_ivalue(L, b->ival, dt, fname);
    if (op == LN_OP_POW && (b->t ? ln_any_negative(&b->t->v) : b->ival < 0))
        lt_error(L, fname, "integers to negative integer powers are not allowed (convert with "
                 ":double())");
}

/* The operands at 1 and 2 of a binary function (at least one a tensor)
 * and their broadcast shape.  With `promoted`: an arithmetic op; *promoted
 * is set to the dtype it is computed in (checked before the shapes). */
static void two_operands(lua_State *L, ln_binop op, operand *a, operand *b, ln_dtype *promoted,
                         int *nd, int64_t *shape, const char *fname)
{
    lua_settop(L, 2);
    *a = get_operand(L, 1, fname);
    *b = get_operand(L, 2, fname);
    if (!a->t && !b->t) lt_error(L, fname, "expected at least one tensor");
    if (promoted) {
        *promoted = arith_dtype(op, a, b);
        check_arith(L, op, a, b, *promoted, fname);
    }
    broadcast2(L, a, b, fname, nd, shape);
}

/* out = a op b in dtype dt, out a new tensor pushed on the stack */
static lt_Tensor *compute(lua_State *L, ln_binop op, operand *a, operand *b, ln_dtype dt, int nd,
                          const int64_t *shape, const char *fname)
{
    coerce(L, a, 1, dt, fname);
    coerce(L, b, 2, dt, fname);
    lt_Tensor *out = lt_new(L, dt, nd, shape, fname);
    double sa, sb;
    ln_tensor va = operand_view(a, &sa, dt, nd, shape);
    ln_tensor vb = operand_view(b, &sb, dt, nd, shape);
    ln_binary(op, &out->v, &va, &vb);
    return out;
}

static int binary(lua_State *L, ln_binop op, const char *fname)
{
    operand a, b;
    ln_dtype dt;
    int nd;
    int64_t shape[LN_MAX_DIMS];
    two_operands(L, op, &a, &b, &dt, &nd, shape, fname);
    compute(L, op, &a, &b, dt, nd, shape, fname);
    return 1;
}

/* self op= other: the result keeps self's shape and dtype.  As numpy's
 * same-kind casting: an integer tensor cannot take a float result; a
 * narrower integer one takes the low bits of the result computed in the
 * promoted dtype (uint8 += int32 wraps). */
static int binary_(lua_State *L, ln_binop op, const char *fname)
{
    lt_Tensor *self = lt_check(L, 1, fname);
    operand a, b;
    ln_dtype promoted, dt = self->v.dtype;
    int nd;
    int64_t shape[LN_MAX_DIMS];
    two_operands(L, op, &a, &b, &promoted, &nd, shape, fname);
    if (nd != self->v.ndim || memcmp(shape, self->v.shape, sizeof(int64_t) * (size_t)nd) != 0) {
        char sa[LT_SHAPE_BUF], sb[LT_SHAPE_BUF];
        lt_error(L, fname, "in-place result would have shape %s, not the tensor's %s",
                 lt_shape_str(sa, sizeof sa, nd, shape),
                 lt_shape_str(sb, sizeof sb, self->v.ndim, self->v.shape));
    }
    if (!ln_dtype_is_float(dt) && ln_dtype_is_float(promoted))
        lt_error(L, fname, "the result is %s, which the %s tensor cannot hold in place",
                 ln_dtype_name(promoted), ln_dtype_name(dt));
    if (!ln_dtype_is_float(dt) && promoted != dt) {
        lua_pushvalue(L, 1); /* self stays on the stack (3) while 1 is replaced */
        lt_Tensor *r = compute(L, op, &a, &b, promoted, nd, shape, fname);
        ln_copy(&self->v, &r->v);
        lua_settop(L, 3);
        return 1;
    }
    coerce(L, &b, 2, dt, fname);
    if (b.t) b.t = lt_unalias(L, 2, self, fname);
    double sb;
    ln_tensor vb = operand_view(&b, &sb, dt, nd, shape);
    ln_binary(op, &self->v, &self->v, &vb);
    lua_settop(L, 1);
    return 1;
}

static int l_add(lua_State *L) { return binary(L, LN_OP_ADD, LT_FN); }
static int l_sub(lua_State *L) { return binary(L, LN_OP_SUB, LT_FN); }
static int l_mul(lua_State *L) { return binary(L, LN_OP_MUL, LT_FN); }
static int l_div(lua_State *L) { return binary(L, LN_OP_DIV, LT_FN); }
static int l_pow(lua_State *L) { return binary(L, LN_OP_POW, LT_FN); }
static int l_maximum(lua_State *L) { return binary(L, LN_OP_MAXIMUM, LT_FN); }
static int l_minimum(lua_State *L) { return binary(L, LN_OP_MINIMUM, LT_FN); }
static int l_floor_divide(lua_State *L) { return binary(L, LN_OP_FLOOR_DIVIDE, LT_FN); }
static int l_remainder(lua_State *L) { return binary(L, LN_OP_REMAINDER, LT_FN); }
static int l_add_(lua_State *L) { return binary_(L, LN_OP_ADD, LT_FN); }
static int l_sub_(lua_State *L) { return binary_(L, LN_OP_SUB, LT_FN); }
static int l_mul_(lua_State *L) { return binary_(L, LN_OP_MUL, LT_FN); }
static int l_div_(lua_State *L) { return binary_(L, LN_OP_DIV, LT_FN); }
static int l_pow_(lua_State *L) { return binary_(L, LN_OP_POW, LT_FN); }

/* ---- comparisons, where ---------------------------------------------------- */

static int compare(lua_State *L, ln_cmpop op, const char *fname)
{
    operand a, b;
    int nd;
    int64_t shape[LN_MAX_DIMS];
    two_operands(L, LN_OP_ADD, &a, &b, NULL, &nd, shape, fname);
    lt_Tensor *out = lt_new(L, LN_U8, nd, shape, fname);
    double sa, sb;
    /* numbers compare by value: a Lua integer as an int64 (exactly, against
     * an integer dtype), a float as a float64 */
    ln_tensor va = operand_view(&a, &sa, a.t ? a.t->v.dtype : a.is_int ? LN_I64 : LN_F64, nd, shape);
    ln_tensor vb = operand_view(&b, &sb, b.t ? b.t->v.dtype : b.is_int ? LN_I64 : LN_F64, nd, shape);
    ln_compare(op, &out->v, &va, &vb);
    return 1;
}

static int l_eq(lua_State *L) { return compare(L, LN_CMP_EQ, LT_FN); }
static int l_ne(lua_State *L) { return compare(L, LN_CMP_NE, LT_FN); }
static int l_lt(lua_State *L) { return compare(L, LN_CMP_LT, LT_FN); }
static int l_le(lua_State *L) { return compare(L, LN_CMP_LE, LT_FN); }
static int l_gt(lua_State *L) { return compare(L, LN_CMP_GT, LT_FN); }
static int l_ge(lua_State *L) { return compare(L, LN_CMP_GE, LT_FN); }

/* where(cond, a, b): cond any numeric tensor (nonzero = true); a and b
 * tensors or numbers, their dtype promoted as a + b (two numbers: float32,
 * lunet's default dtype) */
static int l_where(lua_State *L)
{
    lua_settop(L, 3);
    lt_Tensor *cond = lt_check(L, 1, LT_FN);
    operand c = get_operand(L, 1, LT_FN);
    operand a = get_operand(L, 2, LT_FN), b = get_operand(L, 3, LT_FN);
    ln_dtype dt = LN_F32;
    if (a.t || b.t) {
        dt = arith_dtype(LN_OP_ADD, &a, &b);
        check_arith(L, LN_OP_ADD, &a, &b, dt, LT_FN);
    }
    int nd, nd2;
    int64_t s1[LN_MAX_DIMS], shape[LN_MAX_DIMS];
    broadcast2(L, &c, &a, LT_FN, &nd, s1);
    operand ab = {.ndim = nd, .shape = s1};
    broadcast2(L, &ab, &b, LT_FN, &nd2, shape);
    coerce(L, &a, 2, dt, LT_FN);
    coerce(L, &b, 3, dt, LT_FN);
    lt_Tensor *out = lt_new(L, dt, nd2, shape, LT_FN);
    double sa, sb;
    ln_tensor vc = cond->v;
    ln_broadcast_to(&vc, nd2, shape);
    ln_tensor va = operand_view(&a, &sa, dt, nd2, shape);
    ln_tensor vb = operand_view(&b, &sb, dt, nd2, shape);
    ln_where(&out->v, &vc, &va, &vb);
    return 1;
}

/* ---- unary ----------------------------------------------------------------- */

static int unary(lua_State *L, ln_unop op, const char *fname, double lo, double hi)
{
    lt_Tensor *t = ln_unary_has_int(op) ? lt_check(L, 1, fname) : lt_check_float(L, 1, fname);
    lt_Tensor *out = lt_new_like(L, &t->v, t->v.dtype, fname);
    ln_unary(op, &out->v, &t->v, lo, hi);
    return 1;
}

static int l_exp(lua_State *L) { return unary(L, LN_OP_EXP, LT_FN, 0, 0); }
static int l_log(lua_State *L) { return unary(L, LN_OP_LOG, LT_FN, 0, 0); }
static int l_sqrt(lua_State *L) { return unary(L, LN_OP_SQRT, LT_FN, 0, 0); }
static int l_abs(lua_State *L) { return unary(L, LN_OP_ABS, LT_FN, 0, 0); }
static int l_neg(lua_State *L) { return unary(L, LN_OP_NEG, LT_FN, 0, 0); }
static int l_sign(lua_State *L) { return unary(L, LN_OP_SIGN, LT_FN, 0, 0); }
static int l_square(lua_State *L) { return unary(L, LN_OP_SQUARE, LT_FN, 0, 0); }
static int l_floor(lua_State *L) { return unary(L, LN_OP_FLOOR, LT_FN, 0, 0); }
static int l_ceil(lua_State *L) { return unary(L, LN_OP_CEIL, LT_FN, 0, 0); }
static int l_round(lua_State *L) { return unary(L, LN_OP_ROUND, LT_FN, 0, 0); }
static int l_trunc(lua_State *L) { return unary(L, LN_OP_TRUNC, LT_FN, 0, 0); }

static double opt_bound(lua_State *L, int idx, double def, const char *fname, const char *what)
{
    if (lua_isnoneornil(L, idx)) return def;
    if (lua_type(L, idx) != LUA_TNUMBER)
        lt_error(L, fname, "%s must be a number or nil, got %s", what, luaL_typename(L, idx));
    return lua_tonumber(L, idx);
}

/* clamp(lo, hi) and clip(lo, hi): nil leaves a side open.  An integer
 * tensor with Lua integer bounds stays in its dtype (a bound beyond the
 * dtype's range leaves that side open, unless it lies beyond the other end:
 * then no value of the dtype could be the result); a Lua float bound makes
 * the result float64, as numpy's promotion. */
static int clamp(lua_State *L, const char *fname)
{
    lt_Tensor *t = lt_check(L, 1, fname);
    double lo = opt_bound(L, 2, -HUGE_VAL, fname, "lo");
    double hi = opt_bound(L, 3, HUGE_VAL, fname, "hi");
    if (lo > hi) lt_error(L, fname, "lo must not exceed hi");
    ln_dtype dt = t->v.dtype;
    int int_lo = lua_isnoneornil(L, 2) || lua_isinteger(L, 2);
    int int_hi = lua_isnoneornil(L, 3) || lua_isinteger(L, 3);
    if (ln_dtype_is_float(dt) || !int_lo || !int_hi) {
        if (!ln_dtype_is_float(dt)) dt = LN_F64;
        lua_settop(L, 1);
        lt_Tensor *out = lt_new_like(L, &t->v, dt, fname);
        ln_tensor src = t->v;
        if (src.dtype != dt) { /* an integer tensor with a float bound */
            ln_copy(&out->v, &t->v);
            src = out->v;
        }
        ln_unary(LN_OP_CLAMP, &out->v, &src, lo, hi);
        return 1;
    }
    int64_t dmin = dt == LN_U8 ? 0 : dt == LN_I32 ? INT32_MIN : INT64_MIN;
    int64_t dmax = dt == LN_U8 ? 255 : dt == LN_I32 ? INT32_MAX : INT64_MAX;
    int64_t ilo = lua_isnoneornil(L, 2) ? INT64_MIN : (int64_t)lua_tointeger(L, 2);
    int64_t ihi = lua_isnoneornil(L, 3) ? INT64_MAX : (int64_t)lua_tointeger(L, 3);
    if (ilo > ihi) lt_error(L, fname, "lo must not exceed hi");
    if (ilo > dmax) lt_check_ivalue(L, ilo, dt, fname);
    if (ihi < dmin) lt_check_ivalue(L, ihi, dt, fname);
    lt_Tensor *out = lt_new_like(L, &t->v, dt, fname);
    ln_clamp_int(&out->v, &t->v, ilo < dmin ? dmin : ilo, ihi > dmax ? dmax : ihi);
    return 1;
}

static int l_clamp(lua_State *L) { return clamp(L, LT_FN); }
static int l_clip(lua_State *L) { return clamp(L, LT_FN); }

/* __unm receives the operand twice */
static int l_unm(lua_State *L)
{
    lua_settop(L, 1);
    return l_neg(L);
}

/* ---- reductions ------------------------------------------------------------ */

/* argmax/argmin's options table at 3: {keepdim =, base = 0 | 1}.  Replaces it
 * by keepdim (true or nil) on the stack; returns the base (1: positions, as Lua and Torch7;
 * 0: class ids, as numpy and Keras). */
static int arg_options(lua_State *L, const char *fname)
{
    if (!lua_istable(L, 3)) return 1;
    int base = 1, keep = 0;
    lua_pushnil(L);
    while (lua_next(L, 3)) {
        const char *k = lua_type(L, -2) == LUA_TSTRING ? lua_tostring(L, -2) : NULL;
        if (k && strcmp(k, "base") == 0) {
            if (!lua_isinteger(L, -1) || (lua_tointeger(L, -1) != 0 && lua_tointeger(L, -1) != 1))
            {
                int quoted = lua_type(L, -1) == LUA_TSTRING; /* before tolstring pushes */
                const char *shown = luaL_tolstring(L, -1, NULL);
                lt_error(L, fname, quoted ? "base must be 0 or 1, got \"%s\"" : "base must be 0 or 1, got %s",
                         shown);
            }
            base = (int)lua_tointeger(L, -1);
        } else if (k && strcmp(k, "keepdim") == 0) {
            if (!lua_isboolean(L, -1))
                lt_error(L, fname, "keepdim must be a boolean, got %s", luaL_typename(L, -1));
            keep = lua_toboolean(L, -1);
        } else {
            lt_error(L, fname, "unknown option '%s' (known: base, keepdim)",
                     k ? k : luaL_tolstring(L, -2, NULL));
        }
        lua_pop(L, 1);
    }
    if (keep) lua_pushboolean(L, 1);
    else lua_pushnil(L);
    lua_replace(L, 3);
    return base;
}

static int reduce(lua_State *L, ln_redop op, const char *fname)
{
    lt_Tensor *t = lt_check(L, 1, fname);
    ln_dtype xdt = t->v.dtype, odt;
    int is_arg = op == LN_RED_ARGMAX || op == LN_RED_ARGMIN;
    int base = is_arg ? arg_options(L, fname) : 1;
    int is_best = is_arg || op == LN_RED_MAX || op == LN_RED_MIN;
    if (is_arg) odt = LN_I32;
    else if (is_best) odt = xdt;
    else if (ln_dtype_is_float(xdt)) odt = xdt;
    else odt = op == LN_RED_SUM ? LN_I64 : LN_F64; /* numpy: int sums are int64 */

    if (lua_isnoneornil(L, 2)) {
        if (!lua_isnoneornil(L, 3)) lt_error(L, fname, "keepdim needs a dim");
        if (is_best && ln_numel(&t->v) == 0) lt_error(L, fname, "empty tensor");
        if (is_arg && ln_numel(&t->v) > INT32_MAX)
            lt_error(L, fname, "%lld elements: positions beyond %d do not fit the int32 result",
                     (long long)ln_numel(&t->v), INT32_MAX);
        if (is_arg) {
            /* the flat 1-based position, as a Lua integer */
            int32_t pos;
            ln_tensor o;
            ln_tensor_init(&o, &pos, LN_I32, 0, NULL);
            ln_reduce(op, &o, &t->v, -1);
            lua_pushinteger(L, (lua_Integer)pos - 1 + base);
            return 1;
        }
        lt_Tensor *out = lt_new(L, odt, 0, NULL, fname);
        ln_reduce(op, &out->v, &t->v, -1);
        return 1;
    }
    if (t->v.ndim == 0) lt_error(L, fname, "a 0-d tensor has no dims to reduce");
    int d = lt_check_dim(L, 2, t->v.ndim, fname);
    int keep = lua_toboolean(L, 3);
    if (is_best && t->v.shape[d] == 0)
        lt_error(L, fname, "cannot reduce over dim %d of size 0", d + 1);
    if (is_arg && t->v.shape[d] > INT32_MAX)
        lt_error(L, fname, "dim %d has %lld positions: beyond %d they do not fit the int32 result",
                 d + 1, (long long)t->v.shape[d], INT32_MAX);
    int64_t shape[LN_MAX_DIMS];
    int k = 0;
    for (int i = 0; i < t->v.ndim; i++) {
        if (i == d) {
            if (keep) shape[k++] = 1;
        } else {
            shape[k++] = t->v.shape[i];
        }
    }
    lt_Tensor *out = lt_new(L, odt, k, shape, fname);
    ln_tensor ov; /* the output seen with x's rank (dim d of size 1) */
    int64_t kshape[LN_MAX_DIMS];
    memcpy(kshape, t->v.shape, sizeof kshape);
    kshape[d] = 1;
    ln_tensor_init(&ov, out->storage, odt, t->v.ndim, kshape);
    ln_reduce(op, &ov, &t->v, d);
    if (base == 0) {
        int32_t *p = (int32_t *)out->storage;
        for (int64_t i = 0, n = ln_numel(&out->v); i < n; i++) p[i] -= 1;
    }
    return 1;
}

static int l_sum(lua_State *L) { return reduce(L, LN_RED_SUM, LT_FN); }
static int l_mean(lua_State *L) { return reduce(L, LN_RED_MEAN, LT_FN); }
static int l_var(lua_State *L) { return reduce(L, LN_RED_VAR, LT_FN); }
static int l_std(lua_State *L) { return reduce(L, LN_RED_STD, LT_FN); }
static int l_max(lua_State *L) { return reduce(L, LN_RED_MAX, LT_FN); }
static int l_min(lua_State *L) { return reduce(L, LN_RED_MIN, LT_FN); }
static int l_argmax(lua_State *L) { return reduce(L, LN_RED_ARGMAX, LT_FN); }
static int l_argmin(lua_State *L) { return reduce(L, LN_RED_ARGMIN, LT_FN); }

/* core.argmax_count(scores, targets) --> how many rows of scores (N, C)
 * have the argmax (the first maximum, or the first NaN: argmax's rule) of
 * the same row of targets (N, C), or, for targets of N elements (N, or
 * (N, 1)), the 0-based class id the target holds.  Accuracy without
 * making a tensor: the rows are reduced in blocks into stack buffers. */
#define ARGMAX_BLOCK 256
static int l_argmax_count(lua_State *L)
{
    char s1[LT_SHAPE_BUF], s2[LT_SHAPE_BUF];
    lt_Tensor *s = lt_check(L, 1, LT_FN);
    lt_Tensor *t = lt_check(L, 2, LT_FN);
    if (s->v.ndim != 2 || s->v.shape[1] < 1)
        lt_error(L, LT_FN, "expected scores (N, C) with C >= 1, got %s",
                 lt_shape_str(s1, sizeof s1, s->v.ndim, s->v.shape));
    const int64_t n = s->v.shape[0];
    const int rows = ln_same_shape(&s->v, &t->v);
    if (!rows && (t->v.ndim < 1 || t->v.shape[0] != n || ln_numel(&t->v) != n))
        lt_error(L, LT_FN, "targets of shape %s match neither the scores %s nor their %lld rows",
                 lt_shape_str(s1, sizeof s1, t->v.ndim, t->v.shape),
                 lt_shape_str(s2, sizeof s2, s->v.ndim, s->v.shape), (long long)n);
    const int64_t ess = (int64_t)ln_dtype_size(s->v.dtype), est = (int64_t)ln_dtype_size(t->v.dtype);
    int32_t a[ARGMAX_BLOCK], b[ARGMAX_BLOCK];
    int64_t count = 0;
    for (int64_t r = 0; r < n; r += ARGMAX_BLOCK) {
        const int64_t k = n - r < ARGMAX_BLOCK ? n - r : ARGMAX_BLOCK;
        const int64_t os[2] = {k, 1};
        ln_tensor part = s->v, out;
        part.data = (char *)s->v.data + r * s->v.stride[0] * ess;
        part.shape[0] = k;
        ln_tensor_init(&out, a, LN_I32, 2, os);
        ln_reduce(LN_RED_ARGMAX, &out, &part, 1);
        if (rows) {
            part = t->v;
            part.data = (char *)t->v.data + r * t->v.stride[0] * est;
            part.shape[0] = k;
            ln_tensor_init(&out, b, LN_I32, 2, os);
            ln_reduce(LN_RED_ARGMAX, &out, &part, 1);
            for (int64_t i = 0; i < k; i++) count += a[i] == b[i];
        } else {
            const char *p = (const char *)t->v.data + r * t->v.stride[0] * est;
            for (int64_t i = 0; i < k; i++)
                count += (double)(a[i] - 1) == ln_load(p + i * t->v.stride[0] * est, t->v.dtype);
        }
    }
    lua_pushinteger(L, (lua_Integer)count);
    return 1;
}

static const luaL_Reg functions[] = {
    {"argmax_count", l_argmax_count},
    {"add", l_add},         {"sub", l_sub},         {"mul", l_mul},   {"div", l_div},
    {"pow", l_pow},         {"maximum", l_maximum}, {"minimum", l_minimum},
    {"floor_divide", l_floor_divide}, {"remainder", l_remainder},
    {"where", l_where},     {NULL, NULL}};

static const luaL_Reg methods[] = {
    {"add", l_add},       {"sub", l_sub},       {"mul", l_mul},       {"div", l_div},
    {"pow", l_pow},       {"add_", l_add_},     {"sub_", l_sub_},     {"mul_", l_mul_},
    {"div_", l_div_},     {"pow_", l_pow_},     {"eq", l_eq},         {"ne", l_ne},
    {"floor_divide", l_floor_divide},           {"remainder", l_remainder},
    {"lt", l_lt},         {"le", l_le},         {"gt", l_gt},         {"ge", l_ge},
    {"exp", l_exp},       {"log", l_log},       {"sqrt", l_sqrt},     {"abs", l_abs},
    {"neg", l_neg},       {"sign", l_sign},     {"square", l_square}, {"clamp", l_clamp},
    {"clip", l_clip},     {"floor", l_floor},   {"ceil", l_ceil},     {"round", l_round},
    {"trunc", l_trunc},
    {"sum", l_sum},       {"mean", l_mean},     {"var", l_var},       {"std", l_std},
    {"max", l_max},       {"min", l_min},       {"argmax", l_argmax}, {"argmin", l_argmin},
    {NULL, NULL}};

static const luaL_Reg metamethods[] = {
    {"__add", l_add}, {"__sub", l_sub}, {"__mul", l_mul},          {"__div", l_div},
    {"__pow", l_pow}, {"__unm", l_unm}, {"__idiv", l_floor_divide}, {"__mod", l_remainder},
    {NULL, NULL}};

void lt_open_ops(lua_State *L)
{
    lt_open_part(L, functions, methods);
    luaL_getmetatable(L, LT_TENSOR);
    lt_register(L, metamethods);
    lua_pop(L, 1);
}
