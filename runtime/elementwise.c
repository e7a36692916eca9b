/*
 * elementwise.c - binary, unary, comparison, where, copy/convert and fill.
 *
 * Inner loops follow numpy's ufunc convention (n, byte pointers, byte steps)
 * and are driven by ln_foreach.  Each typed loop has a contiguous path the
 * compiler vectorises, paths for a broadcast scalar on either side, and a
 * generic strided path.
 */
#include "elementwise.h"

#include <math.h>
#include <string.h>

#include "stream.h"

/* ---- binary ------------------------------------------------------------ */

#define DEF_BINARY(NAME, T, EXPR)                                                                  \
    static void NAME(int64_t n, char **p, const int64_t *s, void *ctx)                             \
    {                                                                                              \
        (void)ctx;                                                                                 \
        const int64_t es = (int64_t)sizeof(T);                                                     \
        T *o = (T *)p[0];                                                                          \
        const T *A = (const T *)p[1], *B = (const T *)p[2];                                        \
        if (s[0] == es && s[1] == es && s[2] == es) {                                              \
            if (o == A) {                                                                          \
                for (int64_t i = 0; i < n; i++) {                                                  \
                    T x = o[i], y = B[i];                                                          \
                    o[i] = (EXPR);                                                                 \
                }                                                                                  \
            } else if (ln_can_stream(o, n * es)) {                                                 \
                enum { CH = LN_STREAM_CHUNK_BYTES / sizeof(T) };                                   \
                _Alignas(64) T buf[CH];                                                            \
                int64_t i = 0;                                                                     \
                for (; i + CH <= n; i += CH) {                                                     \
                    for (int64_t j = 0; j < CH; j++) {                                             \
                        T x = A[i + j], y = B[i + j];                                              \
                        buf[j] = (EXPR);                                                           \
                    }                                                                              \
                    ln_stream_store(o + i, buf, sizeof buf);                                       \
                }                                                                                  \
                ln_stream_fence();                                                                 \
                for (; i < n; i++) {                                                               \
                    T x = A[i], y = B[i];                                                          \
                    o[i] = (EXPR);                                                                 \
                }                                                                                  \
            } else {                                                                               \
                for (int64_t i = 0; i < n; i++) {                                                  \
                    T x = A[i], y = B[i];                                                          \
                    o[i] = (EXPR);                                                                 \
                }                                                                                  \
            }                                                                                      \
        } else if (s[0] == es && s[1] == es && s[2] == 0) {                                        \
            const T y = *B;                                                                        \
            for (int64_t i = 0; i < n; i++) {                                                      \
                T x = A[i];                                                                        \
                o[i] = (EXPR);                                                                     \
            }                                                                                      \
        } else if (s[0] == es && s[1] == 0 && s[2] == es) {                                        \
            const T x = *A;                                                                        \
            for (int64_t i = 0; i < n; i++) {                                                      \
                T y = B[i];                                                                        \
                o[i] = (EXPR);                                                                     \
            }                                                                                      \
        } else {                                                                                   \
            char *po = p[0];                                                                       \
            const char *pa = p[1], *pb = p[2];                                                     \
            for (int64_t i = 0; i < n; i++, po += s[0], pa += s[1], pb += s[2]) {                  \
                T x = *(const T *)pa, y = *(const T *)pb;                                          \
                *(T *)po = (EXPR);                                                                 \
            }                                                                                      \
        }                                                                                          \
    }

#define DEF_BINARY2(N32, N64, E32, E64) DEF_BINARY(N32, float, E32) DEF_BINARY(N64, double, E64)
#define MAXIMUM(x, y) (((x) > (y) || (x) != (x)) ? (x) : (y))
#define MINIMUM(x, y) (((x) < (y) || (x) != (x)) ? (x) : (y))

/* one line per op: its float32 and float64 loops */
DEF_BINARY2(add_f32, add_f64, x + y, x + y)
DEF_BINARY2(sub_f32, sub_f64, x - y, x - y)
DEF_BINARY2(mul_f32, mul_f64, x * y, x * y)
DEF_BINARY2(div_f32, div_f64, x / y, x / y)
DEF_BINARY2(pow_f32, pow_f64, powf(x, y), pow(x, y))
DEF_BINARY2(max_f32, max_f64, MAXIMUM(x, y), MAXIMUM(x, y))
DEF_BINARY2(min_f32, min_f64, MINIMUM(x, y), MINIMUM(x, y))

void ln_binary(ln_binop op, ln_tensor *out, const ln_tensor *a, const ln_tensor *b)
{
    /* by ln_binop, then float32, float64 */
    static const ln_loop_fn loops[][2] = {
        [LN_OP_ADD] = {add_f32, add_f64}, [LN_OP_SUB] = {sub_f32, sub_f64},
        [LN_OP_MUL] = {mul_f32, mul_f64}, [LN_OP_DIV] = {div_f32, div_f64},
        [LN_OP_POW] = {pow_f32, pow_f64}, [LN_OP_MAXIMUM] = {max_f32, max_f64},
        [LN_OP_MINIMUM] = {min_f32, min_f64},
    };
    const ln_tensor *ops[3] = {out, a, b};
    LN_BY_DTYPE(out->dtype, ln_foreach(3, ops, loops[op][0], NULL),
                ln_foreach(3, ops, loops[op][1], NULL));
}

/* ---- unary ------------------------------------------------------------- */

typedef struct unary_ctx {
    double lo, hi;
} unary_ctx;

#define DEF_UNARY(NAME, T, EXPR)                                                                   \
    static void NAME(int64_t n, char **p, const int64_t *s, void *ctx)                             \
    {                                                                                              \
        const unary_ctx *c = (const unary_ctx *)ctx;                                               \
        const T lo = (T)c->lo, hi = (T)c->hi;                                                      \
        (void)lo;                                                                                  \
        (void)hi;                                                                                  \
        const int64_t es = (int64_t)sizeof(T);                                                     \
        if (s[0] == es && s[1] == es) {                                                            \
            T *o = (T *)p[0];                                                                      \
            const T *A = (const T *)p[1];                                                          \
            for (int64_t i = 0; i < n; i++) {                                                      \
                T x = A[i];                                                                        \
                o[i] = (EXPR);                                                                     \
            }                                                                                      \
        } else {                                                                                   \
            char *po = p[0];                                                                       \
            const char *pa = p[1];                                                                 \
            for (int64_t i = 0; i < n; i++, po += s[0], pa += s[1]) {                              \
                T x = *(const T *)pa;                                                              \
                *(T *)po = (EXPR);                                                                 \
            }                                                                                      \
        }                                                                                          \
    }

#define DEF_UNARY2(N32, N64, E32, E64) DEF_UNARY(N32, float, E32) DEF_UNARY(N64, double, E64)
#define SIGN(T, x) ((x) != (x) ? (x) : (T)(((x) > 0) - ((x) < 0)))
#define CLAMP(x) ((x) < lo ? lo : ((x) > hi ? hi : (x)))

/* one line per op: its float32 and float64 loops */
DEF_UNARY2(exp_f32, exp_f64, expf(x), exp(x))
DEF_UNARY2(log_f32, log_f64, logf(x), log(x))
DEF_UNARY2(sqrt_f32, sqrt_f64, sqrtf(x), sqrt(x))
DEF_UNARY2(abs_f32, abs_f64, fabsf(x), fabs(x))
DEF_UNARY2(neg_f32, neg_f64, -x, -x)
DEF_UNARY2(sign_f32, sign_f64, SIGN(float, x), SIGN(double, x))
DEF_UNARY2(clamp_f32, clamp_f64, CLAMP(x), CLAMP(x))
DEF_UNARY2(square_f32, square_f64, x *x, x *x)

void ln_unary(ln_unop op, ln_tensor *out, const ln_tensor *a, double lo, double hi)
{
    /* by ln_unop, then float32, float64 */
    static const ln_loop_fn loops[][2] = {
        [LN_OP_EXP] = {exp_f32, exp_f64}, [LN_OP_LOG] = {log_f32, log_f64},
        [LN_OP_SQRT] = {sqrt_f32, sqrt_f64}, [LN_OP_ABS] = {abs_f32, abs_f64},
        [LN_OP_NEG] = {neg_f32, neg_f64}, [LN_OP_SIGN] = {sign_f32, sign_f64},
        [LN_OP_CLAMP] = {clamp_f32, clamp_f64}, [LN_OP_SQUARE] = {square_f32, square_f64},
    };
    unary_ctx c = {lo, hi};
    const ln_tensor *ops[2] = {out, a};
    LN_BY_DTYPE(out->dtype, ln_foreach(2, ops, loops[op][0], &c),
                ln_foreach(2, ops, loops[op][1], &c));
}

/* ---- loads and stores -------------------------------------------------- */

double ln_load(const void *p, ln_dtype dt)
{
    switch (dt) {
    case LN_F32: return (double)*(const float *)p;
    case LN_F64: return *(const double *)p;
    case LN_I32: return (double)*(const int32_t *)p;
    case LN_U8: return (double)*(const uint8_t *)p;
    case LN_I64: return (double)*(const int64_t *)p;
    }
    return 0;
}

void ln_store(void *p, ln_dtype dt, double v)
{
    switch (dt) {
    case LN_F32: *(float *)p = (float)v; break;
    case LN_F64: *(double *)p = v; break;
    case LN_I32: *(int32_t *)p = (int32_t)v; break;
    case LN_U8: *(uint8_t *)p = (uint8_t)v; break;
    case LN_I64: *(int64_t *)p = (int64_t)v; break;
    }
}

int64_t ln_load_i64(const void *p, ln_dtype dt)
{
    switch (dt) {
    case LN_I32: return *(const int32_t *)p;
    case LN_U8: return *(const uint8_t *)p;
    case LN_I64: return *(const int64_t *)p;
    default: return (int64_t)ln_load(p, dt);
    }
}

void ln_store_i64(void *p, ln_dtype dt, int64_t v)
{
    switch (dt) {
    case LN_F32: *(float *)p = (float)v; break;
    case LN_F64: *(double *)p = (double)v; break;
    case LN_I32: *(int32_t *)p = (int32_t)v; break;
    case LN_U8: *(uint8_t *)p = (uint8_t)v; break;
    case LN_I64: *(int64_t *)p = v; break;
    }
}

/* ---- comparisons ------------------------------------------------------- */

typedef struct cmp_ctx {
    ln_cmpop op;
    ln_dtype da, db;
} cmp_ctx;

static int cmp_doubles(ln_cmpop op, double x, double y)
{
    switch (op) {
    case LN_CMP_EQ: return x == y;
    case LN_CMP_NE: return x != y;
    case LN_CMP_LT: return x < y;
    case LN_CMP_LE: return x <= y;
    case LN_CMP_GT: return x > y;
    case LN_CMP_GE: return x >= y;
    }
    return 0;
}

#define DEF_CMP_SAME(NAME, T)                                                                      \
    static void NAME(int64_t n, char **p, const int64_t *s, void *ctx)                             \
    {                                                                                              \
        const cmp_ctx *c = (const cmp_ctx *)ctx;                                                   \
        uint8_t *o = (uint8_t *)p[0];                                                              \
        const char *pa = p[1], *pb = p[2];                                                         \
        for (int64_t i = 0; i < n; i++, o += s[0], pa += s[1], pb += s[2]) {                       \
            T x = *(const T *)pa, y = *(const T *)pb;                                              \
            switch (c->op) {                                                                       \
            case LN_CMP_EQ: *o = x == y; break;                                                    \
            case LN_CMP_NE: *o = x != y; break;                                                    \
            case LN_CMP_LT: *o = x < y; break;                                                     \
            case LN_CMP_LE: *o = x <= y; break;                                                    \
            case LN_CMP_GT: *o = x > y; break;                                                     \
            case LN_CMP_GE: *o = x >= y; break;                                                    \
            }                                                                                      \
        }                                                                                          \
    }

DEF_CMP_SAME(cmp_f32, float)
DEF_CMP_SAME(cmp_f64, double)
DEF_CMP_SAME(cmp_i32, int32_t)
DEF_CMP_SAME(cmp_u8, uint8_t)
DEF_CMP_SAME(cmp_i64, int64_t)

static int cmp_ints(ln_cmpop op, int64_t x, int64_t y)
{
    switch (op) {
    case LN_CMP_EQ: return x == y;
    case LN_CMP_NE: return x != y;
    case LN_CMP_LT: return x < y;
    case LN_CMP_LE: return x <= y;
    case LN_CMP_GT: return x > y;
    case LN_CMP_GE: return x >= y;
    }
    return 0;
}

/* two integer dtypes: exactly, as int64 */
static void cmp_mixed_int(int64_t n, char **p, const int64_t *s, void *ctx)
{
    const cmp_ctx *c = (const cmp_ctx *)ctx;
    uint8_t *o = (uint8_t *)p[0];
    const char *pa = p[1], *pb = p[2];
    for (int64_t i = 0; i < n; i++, o += s[0], pa += s[1], pb += s[2])
        *o = (uint8_t)cmp_ints(c->op, ln_load_i64(pa, c->da), ln_load_i64(pb, c->db));
}

static void cmp_mixed(int64_t n, char **p, const int64_t *s, void *ctx)
{
    const cmp_ctx *c = (const cmp_ctx *)ctx;
    uint8_t *o = (uint8_t *)p[0];
    const char *pa = p[1], *pb = p[2];
    for (int64_t i = 0; i < n; i++, o += s[0], pa += s[1], pb += s[2])
        *o = (uint8_t)cmp_doubles(c->op, ln_load(pa, c->da), ln_load(pb, c->db));
}

void ln_compare(ln_cmpop op, ln_tensor *out, const ln_tensor *a, const ln_tensor *b)
{
    static const ln_loop_fn same[LN_NDTYPES] = {cmp_f32, cmp_f64, cmp_i32, cmp_u8, cmp_i64};
    cmp_ctx c = {op, a->dtype, b->dtype};
    const ln_tensor *ops[3] = {out, a, b};
    ln_loop_fn fn = a->dtype == b->dtype ? same[a->dtype]
                    : !ln_dtype_is_float(a->dtype) && !ln_dtype_is_float(b->dtype) ? cmp_mixed_int
                                                                                   : cmp_mixed;
    ln_foreach(3, ops, fn, &c);
}

/* ---- where ------------------------------------------------------------- */

typedef struct where_ctx {
    ln_dtype dc;
    size_t es;
} where_ctx;

static void where_loop(int64_t n, char **p, const int64_t *s, void *ctx)
{
    const where_ctx *c = (const where_ctx *)ctx;
    char *po = p[0];
    const char *pc = p[1], *pa = p[2], *pb = p[3];
    for (int64_t i = 0; i < n; i++, po += s[0], pc += s[1], pa += s[2], pb += s[3]) {
        int take_a;
        switch (c->dc) {
        case LN_F32: take_a = *(const float *)pc != 0; break;
        case LN_F64: take_a = *(const double *)pc != 0; break;
        case LN_I32: take_a = *(const int32_t *)pc != 0; break;
        case LN_I64: take_a = *(const int64_t *)pc != 0; break;
        default: take_a = *(const uint8_t *)pc != 0; break;
        }
        memcpy(po, take_a ? pa : pb, c->es);
    }
}

void ln_where(ln_tensor *out, const ln_tensor *cond, const ln_tensor *a, const ln_tensor *b)
{
    where_ctx c = {cond->dtype, ln_dtype_size(out->dtype)};
    const ln_tensor *ops[4] = {out, cond, a, b};
    ln_foreach(4, ops, where_loop, &c);
}

/* ---- copy / convert ---------------------------------------------------- */

#define DEF_CONVERT(NAME, TO, TI)                                                                  \
    static void NAME(int64_t n, char **p, const int64_t *s, void *ctx)                             \
    {                                                                                              \
        (void)ctx;                                                                                 \
        if (s[0] == (int64_t)sizeof(TO) && s[1] == (int64_t)sizeof(TI)) {                          \
            TO *o = (TO *)p[0];                                                                    \
            const TI *a = (const TI *)p[1];                                                        \
            for (int64_t i = 0; i < n; i++) o[i] = (TO)a[i];                                       \
        } else {                                                                                   \
            char *po = p[0];                                                                       \
            const char *pa = p[1];                                                                 \
            for (int64_t i = 0; i < n; i++, po += s[0], pa += s[1])                                \
                *(TO *)po = (TO) * (const TI *)pa;                                                 \
        }                                                                                          \
    }

/* the loops converting every source dtype into TO, named cv_<to>_<from> */
#define DEF_CONVERT_ROW(TN, TO)                                                                    \
    DEF_CONVERT(cv_##TN##_f32, TO, float)                                                          \
    DEF_CONVERT(cv_##TN##_f64, TO, double)                                                         \
    DEF_CONVERT(cv_##TN##_i32, TO, int32_t)                                                        \
    DEF_CONVERT(cv_##TN##_u8, TO, uint8_t)                                                         \
    DEF_CONVERT(cv_##TN##_i64, TO, int64_t)
#define CONVERT_ROW(TN) {cv_##TN##_f32, cv_##TN##_f64, cv_##TN##_i32, cv_##TN##_u8, cv_##TN##_i64}

DEF_CONVERT_ROW(f32, float)
DEF_CONVERT_ROW(f64, double)
DEF_CONVERT_ROW(i32, int32_t)
DEF_CONVERT_ROW(u8, uint8_t)
DEF_CONVERT_ROW(i64, int64_t)

/* [to][from], in ln_dtype order */
static const ln_loop_fn convert_loops[LN_NDTYPES][LN_NDTYPES] = {
    CONVERT_ROW(f32), CONVERT_ROW(f64), CONVERT_ROW(i32), CONVERT_ROW(u8), CONVERT_ROW(i64),
};

void ln_copy(ln_tensor *dst, const ln_tensor *src)
{
    if (dst->dtype == src->dtype && ln_is_contiguous(dst) && ln_is_contiguous(src) &&
        ln_same_shape(dst, src)) {
        memmove(dst->data, src->data, (size_t)ln_numel(dst) * ln_dtype_size(dst->dtype));
        return;
    }
    const ln_tensor *ops[2] = {dst, src};
    ln_foreach(2, ops, convert_loops[dst->dtype][src->dtype], NULL);
}

typedef struct check_ctx {
    ln_dtype from;
    double lo, hi; /* the target's range: lo included, hi excluded */
    int bad;
    double bad_value;
} check_ctx;

static void check_loop(int64_t n, char **p, const int64_t *s, void *ctx)
{
    check_ctx *c = (check_ctx *)ctx;
    if (c->bad) return;
    const char *pa = p[0];
    for (int64_t i = 0; i < n; i++, pa += s[0]) {
        double v = ln_load(pa, c->from);
        double t = trunc(v);
        if (!(t >= c->lo && t < c->hi)) { /* also catches NaN */
            c->bad = 1;
            c->bad_value = v;
            return;
        }
    }
}

ln_status ln_check_convert(const ln_tensor *src, ln_dtype to, double *bad)
{
    check_ctx c = {src->dtype, 0, 0, 0, 0};
    ln_dtype from = src->dtype;
    /* every value of `from` fits `to` */
    if (ln_dtype_is_float(to) || from == to || from == LN_U8) return LN_OK;
    if (to == LN_I64 && from == LN_I32) return LN_OK;
    switch (to) {
    case LN_I32:
        c.lo = -2147483648.0;
        c.hi = 2147483648.0;
        break;
    case LN_I64:
        c.lo = -9223372036854775808.0;
        c.hi = 9223372036854775808.0;
        break;
    default:
        c.lo = 0;
        c.hi = 256;
        break;
    }
    /* (an int64 source is loaded as a double: exact near the int32 and
     * uint8 bounds, which are all that is checked for it) */
    const ln_tensor *ops[1] = {src};
    ln_foreach(1, ops, check_loop, &c);
    if (c.bad) {
        *bad = c.bad_value;
        return LN_ERANGE;
    }
    return LN_OK;
}

typedef struct fill_ctx {
    union {
        float f32;
        double f64;
        int32_t i32;
        uint8_t u8;
        int64_t i64;
    } v;
    ln_dtype dt;
} fill_ctx;

static void fill_loop(int64_t n, char **p, const int64_t *s, void *ctx)
{
    const fill_ctx *c = (const fill_ctx *)ctx;
    char *po = p[0];
    size_t es = ln_dtype_size(c->dt);
    if (s[0] == (int64_t)es) {
        switch (c->dt) {
        case LN_F32:
            for (int64_t i = 0; i < n; i++) ((float *)po)[i] = c->v.f32;
            break;
        case LN_F64:
            for (int64_t i = 0; i < n; i++) ((double *)po)[i] = c->v.f64;
            break;
        case LN_I32:
            for (int64_t i = 0; i < n; i++) ((int32_t *)po)[i] = c->v.i32;
            break;
        case LN_U8: memset(po, c->v.u8, (size_t)n); break;
        case LN_I64:
            for (int64_t i = 0; i < n; i++) ((int64_t *)po)[i] = c->v.i64;
            break;
        }
        return;
    }
    for (int64_t i = 0; i < n; i++, po += s[0]) memcpy(po, &c->v, es);
}

void ln_fill(ln_tensor *t, double v)
{
    fill_ctx c;
    c.dt = t->dtype;
    ln_store(&c.v, t->dtype, v);
    const ln_tensor *ops[1] = {t};
    ln_foreach(1, ops, fill_loop, &c);
}

void ln_fill_i64(ln_tensor *t, int64_t v)
{
    fill_ctx c;
    c.dt = t->dtype;
    ln_store_i64(&c.v, t->dtype, v);
    const ln_tensor *ops[1] = {t};
    ln_foreach(1, ops, fill_loop, &c);
}
